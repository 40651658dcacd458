-- What the dashboard shows since issue 16. Twin of
-- migrations/sqlite/0010_dashboard.sql; keep them in step.

-- The answer a conversation gave, kept with it: the conversations list
-- expands a question to its SQL and its answer.
ALTER TABLE conversations ADD COLUMN answer TEXT;

-- A database's health as last seen: why the last attempt to reach it failed
-- (cleared by the next query that runs), for the overview's attention list.
ALTER TABLE database_connections ADD COLUMN last_error TEXT;
ALTER TABLE database_connections ADD COLUMN last_error_at BIGINT;
