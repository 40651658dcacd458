-- Notifications for the bot to send (DESIGN.md §7). The server and the CLI never
-- talk to Telegram: they add a row here and the bot drains the table, retrying on
-- failure, so nothing is lost while the bot is down. Never a password or a token.
-- Twin of migrations/postgres/0005_outbox.sql; keep them in step.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_user_id BIGINT NOT NULL,             -- the recipient (a private chat)
    kind             TEXT NOT NULL,               -- e.g. 'member_added'
    text             TEXT NOT NULL,               -- the message, as sent
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT,                      -- NULL until sent
    attempts         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (sent_at, id);
