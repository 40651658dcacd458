-- Per-user limits on costly actions (testing and adding users' databases,
-- re-reading a schema): one fixed window per key, moved by one atomic upsert,
-- so several processes sharing the store share the limit.
-- Twin of migrations/sqlite/0006_rate_limits.sql; keep them in step.
CREATE TABLE rate_limits (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL
);
