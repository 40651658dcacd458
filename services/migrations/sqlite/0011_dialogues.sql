-- The bot's guided dialogues (issue 14), one per chat: where a person is in
-- /adddb, kept in the store so a restart in the middle loses nothing, and
-- shared by every bot process. `state` is the dialogue as JSON (no secrets:
-- a connection string is never kept here, only the name and the kind).
-- Twin of migrations/postgres/0011_dialogues.sql; keep them in step.
CREATE TABLE bot_dialogues (
    chat_id    BIGINT PRIMARY KEY,
    state      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
