-- The bot drains the outbox (issue 14): one message per person at a time, in
-- order; a failure waits (backoff, or Telegram's retry_after) and retries;
-- after a day, or when the person has blocked the bot, the row is given up
-- and says why. A claim keeps two bot processes from sending one row twice.
-- Twin of migrations/postgres/0012_outbox_delivery.sql; keep them in step.
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
ALTER TABLE outbox ADD COLUMN failed_at BIGINT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_by_person ON outbox (telegram_user_id, id);

-- Set when Telegram says the person blocked the bot (or cannot be written
-- to); cleared when they write to the bot again.
ALTER TABLE telegram_users ADD COLUMN unreachable_at BIGINT;
