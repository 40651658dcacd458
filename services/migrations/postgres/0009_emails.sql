-- Email results (issue 13): a question that asks for its answer by email
-- gets a draft (recipients, subject, body written by the Email Generation
-- stage, the rows as CSV); nothing is sent until the person confirms.
-- status: draft -> queued -> sending -> sent, or failed after the last
-- attempt (a confirm re-queues it), or cancelled. A sender claims a due row
-- by moving it to 'sending' with next_attempt_at pushed on, so several
-- processes sharing the store never send one email twice at once, and a
-- process that dies mid-send leaves a row another takes over later.
-- queued_at counts towards the person's daily limit.
-- Twin of migrations/sqlite/0009_emails.sql; keep them in step.
CREATE TABLE emails (
    email_id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT NOT NULL,
    org_id          TEXT NOT NULL DEFAULT '',
    conversation_id BIGINT,
    recipients      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    attachment_csv  TEXT,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    queued_at       BIGINT,
    sent_at         BIGINT
);

CREATE INDEX emails_by_person ON emails (user_id, queued_at);
CREATE INDEX emails_due ON emails (status, next_attempt_at);
