-- Telegram update ids the bot has taken in webhook mode (issue 14): Telegram
-- delivers an update again when it did not see a 2xx in time, or after a
-- restart; the second delivery finds its id here and is skipped. Kept for a
-- day (Telegram keeps undelivered updates at most 24 hours).
-- Twin of migrations/postgres/0013_bot_updates.sql; keep them in step.
CREATE TABLE bot_updates (
    update_id   BIGINT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE INDEX bot_updates_received ON bot_updates (received_at);
