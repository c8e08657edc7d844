-- Another installation's layout: one wide table of "assets" with a type column, read through queries.
CREATE TABLE ai_assets (
  asset_id integer PRIMARY KEY,
  asset_type text NOT NULL,
  title text,
  body text,
  owner_org text,
  parent_id integer,
  level text,
  removed boolean DEFAULT false
);
INSERT INTO ai_assets VALUES
  (1, 'prompt', 'Summarise a paper', 'Summarise {{paper}} in five bullet points.', NULL, NULL, 'LOW', false),
  (2, 'prompt', 'Summarise a paper', 'A second copy with other text.', NULL, NULL, 'medium', false),
  (3, 'prompt', 'Empty prompt', '', NULL, NULL, NULL, false),
  (4, 'workflow', 'Review cycle', NULL, NULL, 5, 'High', false),
  (5, 'workflow', 'Review cycle, inner', NULL, NULL, 4, NULL, false),
  (6, 'workflow', 'Gone', NULL, NULL, NULL, NULL, true),
  (7, 'banner', 'Not an AI asset', NULL, NULL, NULL, NULL, false);
