-- Processes that are alive (issue 15): each process writes its random id
-- here every few seconds and marks the questions it answers with it, so a
-- question left in flight by a process that died (kill -9, a crash) can be
-- taken over within seconds instead of after the stale limit (45 minutes).
-- Twin of migrations/sqlite/0014_process_heartbeats.sql; keep them in step.
ALTER TABLE questions_in_flight ADD COLUMN process_id TEXT;
CREATE TABLE process_heartbeats (
    process_id TEXT PRIMARY KEY,
    seen_at    BIGINT NOT NULL
);
