-- Rows a conversation's query returned (NULL when it ran none), and one counter
-- per organization bumped in every transaction that writes its rollups: the
-- dashboard keeps answers computed from the rollups while the counter is unchanged.
-- Twin of migrations/postgres/0004_answers.sql; keep them in step.
ALTER TABLE conversations ADD COLUMN row_count BIGINT;

CREATE TABLE usage_versions (
    org_id  TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
