-- The cost ledger (SQLite): conversations, one row per LLM call, and the daily rollup.
-- The PostgreSQL twin is migrations/postgres/0003_costs.sql; keep them in step.
-- Money columns are integers of 1e-8 USD. Days are days since 1970-01-01 (UTC).

CREATE TABLE conversations (
    conversation_id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id         BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    username        TEXT,
    user_question   TEXT NOT NULL,
    org_id          TEXT NOT NULL DEFAULT '',   -- '' for a user without an organization
    database_id     TEXT,
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT,
    day             BIGINT NOT NULL,
    timestamp       BIGINT NOT NULL
);
CREATE INDEX conversations_org_day ON conversations (org_id, day);
CREATE INDEX conversations_user_day ON conversations (user_id, day);

CREATE TABLE conversation_stages (
    stage_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id BIGINT NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    chat_id         BIGINT NOT NULL,
    stage_number    INTEGER NOT NULL,
    stage_name      TEXT NOT NULL,
    model_name      TEXT NOT NULL,
    input_tokens    BIGINT NOT NULL,  -- the whole prompt, cached tokens included
    cached_tokens   BIGINT NOT NULL,
    output_tokens   BIGINT NOT NULL,  -- candidates + thoughts
    total_tokens    BIGINT NOT NULL,
    input_cost      BIGINT NOT NULL,
    output_cost     BIGINT NOT NULL,
    total_cost      BIGINT NOT NULL,
    latency_ms      BIGINT NOT NULL,
    generated_sql   TEXT,
    error           TEXT
);
CREATE INDEX conversation_stages_conversation ON conversation_stages (conversation_id);

-- One row per (organization, day, user, model, stage), upserted in the same
-- transaction as the stage rows. `conversations` counts each conversation once,
-- on the row of its first stage.
CREATE TABLE usage_daily (
    org_id        TEXT NOT NULL,
    day           BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    model_name    TEXT NOT NULL,
    stage_name    TEXT NOT NULL,
    conversations BIGINT NOT NULL,
    calls         BIGINT NOT NULL,
    input_tokens  BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    input_cost    BIGINT NOT NULL,
    output_cost   BIGINT NOT NULL,
    total_cost    BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, user_id, model_name, stage_name)
) WITHOUT ROWID;

-- Two narrower rollups with the same sums, written in the same transaction:
-- without the user (overview, by model, by stage, by day) and without model
-- and stage (per user, a user's own totals). A year of one organization is a
-- few thousand rows in each, so dashboards stay fast at any history size.
CREATE TABLE usage_daily_org (
    org_id        TEXT NOT NULL,
    day           BIGINT NOT NULL,
    model_name    TEXT NOT NULL,
    stage_name    TEXT NOT NULL,
    conversations BIGINT NOT NULL,
    calls         BIGINT NOT NULL,
    input_tokens  BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    input_cost    BIGINT NOT NULL,
    output_cost   BIGINT NOT NULL,
    total_cost    BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, model_name, stage_name)
) WITHOUT ROWID;

CREATE TABLE usage_daily_user (
    org_id        TEXT NOT NULL,
    day           BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    conversations BIGINT NOT NULL,
    calls         BIGINT NOT NULL,
    input_tokens  BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    input_cost    BIGINT NOT NULL,
    output_cost   BIGINT NOT NULL,
    total_cost    BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, user_id)
) WITHOUT ROWID;
CREATE INDEX usage_daily_user_user ON usage_daily_user (user_id, day);

CREATE TABLE org_budgets (
    org_id         TEXT PRIMARY KEY REFERENCES organizations (org_id) ON DELETE CASCADE,
    monthly_budget BIGINT NOT NULL CHECK (monthly_budget > 0),
    updated_at     BIGINT NOT NULL
);

-- The seed's aggregate tables, as views (never maintained separately).
CREATE VIEW model_usage AS
    SELECT chat_id, model_name, COUNT(*) AS times_used, SUM(input_tokens) AS input_tokens,
           SUM(output_tokens) AS output_tokens, SUM(total_tokens) AS total_tokens,
           SUM(input_cost) AS input_cost, SUM(output_cost) AS output_cost, SUM(total_cost) AS total_cost
    FROM conversation_stages GROUP BY chat_id, model_name;
CREATE VIEW stages_usage AS
    SELECT chat_id, stage_name, COUNT(*) AS times_used, SUM(input_tokens) AS input_tokens,
           SUM(output_tokens) AS output_tokens, SUM(total_tokens) AS total_tokens,
           SUM(input_cost) AS input_cost, SUM(output_cost) AS output_cost, SUM(total_cost) AS total_cost
    FROM conversation_stages GROUP BY chat_id, stage_name;
CREATE VIEW org_model_usage AS
    SELECT org_id, model_name, SUM(calls) AS times_used, SUM(input_tokens) AS input_tokens,
           SUM(output_tokens) AS output_tokens, SUM(input_tokens + output_tokens) AS total_tokens,
           SUM(input_cost) AS input_cost, SUM(output_cost) AS output_cost, SUM(total_cost) AS total_cost
    FROM usage_daily_org GROUP BY org_id, model_name;
CREATE VIEW org_stages_usage AS
    SELECT org_id, stage_name, SUM(calls) AS times_used, SUM(input_tokens) AS input_tokens,
           SUM(output_tokens) AS output_tokens, SUM(input_tokens + output_tokens) AS total_tokens,
           SUM(input_cost) AS input_cost, SUM(output_cost) AS output_cost, SUM(total_cost) AS total_cost
    FROM usage_daily_org GROUP BY org_id, stage_name;
CREATE VIEW conversation_summary AS
    SELECT c.conversation_id, c.chat_id, c.timestamp,
           (SELECT COUNT(*) FROM conversation_stages s WHERE s.conversation_id = c.conversation_id) AS total_stages,
           (SELECT SUM(input_tokens) FROM conversation_stages s WHERE s.conversation_id = c.conversation_id) AS input_tokens,
           (SELECT SUM(output_tokens) FROM conversation_stages s WHERE s.conversation_id = c.conversation_id) AS output_tokens,
           (SELECT SUM(total_cost) FROM conversation_stages s WHERE s.conversation_id = c.conversation_id) AS total_cost,
           (SELECT stage_name FROM conversation_stages s WHERE s.conversation_id = c.conversation_id
             ORDER BY total_cost DESC, stage_number LIMIT 1) AS most_expensive_stage_name
    FROM conversations c;
