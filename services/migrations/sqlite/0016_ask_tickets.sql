-- The Ask page's question travels in a POST body, never in a URL (issue 29):
-- the POST leaves it here under a single-use ticket for a minute, and the
-- stream (an EventSource, which can only GET) takes it, in whichever process
-- serves it. /forgetme removes a person's; expired ones go at the next issue.
-- Twin of migrations/postgres/0016_ask_tickets.sql; keep them in step.
CREATE TABLE ask_tickets (
    ticket      TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL,
    question    TEXT NOT NULL,
    database_id TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX ask_tickets_created ON ask_tickets (created_at);
