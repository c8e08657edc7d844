-- Quoted text, a column the author left out, a keep-chomped literal, JSONB keys changed and removed.
UPDATE tools SET name = 'Search (v2)', reliability_score = 0.9 WHERE unique_id = 'search';
UPDATE prompts
SET content = E'Dear {{name}},\n\nKind regards,\n\n',
    model_config = (model_config - 'max_tokens') || '{"temperature": 0.4}'
WHERE unique_id = 'letter';
