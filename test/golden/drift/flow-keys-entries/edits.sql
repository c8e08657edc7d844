-- Keys added and removed, relation entries edited and added, all outside Canon.
UPDATE agents
SET name = 'Literature Analyst "II"', description = NULL, model_config = model_config || '{"top_p": 0.9}'
WHERE unique_id = 'analyst';
UPDATE agent_prompts SET usage = 'system'
WHERE agent_id = (SELECT id FROM agents WHERE unique_id = 'analyst')
  AND prompt_id = (SELECT id FROM prompts WHERE unique_id = 'summary');
INSERT INTO agent_prompts (agent_id, prompt_id, usage)
SELECT a.id, p.id, 'task' FROM agents a, prompts p WHERE a.unique_id = 'analyst' AND p.unique_id = 'critique';
INSERT INTO agent_industry_mapping (agent_id, industry_id)
SELECT a.id, i.id FROM agents a, industries i WHERE a.unique_id = 'analyst' AND i.unique_id = 'biotech';
