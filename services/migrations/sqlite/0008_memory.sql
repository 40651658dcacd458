-- Conversation memory (issue 13): the last turns of a person's questions to
-- one database, read back into the next Analysis prompt for five minutes,
-- so follow-ups ("and the month before?") work. Kept apart from the ledger:
-- forgetting (/clear) deletes turns, never costs. Rows older than the memory
-- are deleted as new ones are written.
-- Twin of migrations/postgres/0008_memory.sql; keep them in step.
CREATE TABLE memory_turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL,
    database_id TEXT NOT NULL,
    question    TEXT NOT NULL,
    sql_text    TEXT,
    answer      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE INDEX memory_turns_by_person ON memory_turns (user_id, database_id, created_at);
