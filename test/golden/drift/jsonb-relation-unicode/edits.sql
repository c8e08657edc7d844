-- A console session in production, none of it through Canon.
UPDATE agents SET model_config = jsonb_set(model_config, '{temperature}', '0.7') WHERE unique_id = 'analyst';
DELETE FROM agent_tools
WHERE agent_id = (SELECT id FROM agents WHERE unique_id = 'analyst')
  AND tool_id = (SELECT id FROM tools WHERE unique_id = 'trials');
UPDATE prompts
SET content = E'Résume la publication ci-dessous — 要約してください。\nDo not speculate beyond the data.\n'
WHERE unique_id = 'summary';
