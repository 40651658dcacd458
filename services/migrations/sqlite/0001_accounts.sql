-- Accounts, organizations and sessions (SQLite). Times are Unix seconds, UTC.
-- The PostgreSQL twin is migrations/postgres/0001_accounts.sql; keep them in step.

CREATE TABLE telegram_users (
    user_id              BIGINT PRIMARY KEY,          -- Telegram user id
    username             TEXT,
    first_name           TEXT NOT NULL DEFAULT '',
    last_name            TEXT,
    email                TEXT,
    active_connection_id TEXT,
    created_at           BIGINT NOT NULL,
    last_seen_at         BIGINT NOT NULL
);

CREATE TABLE organizations (
    org_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    owner_id    BIGINT NOT NULL REFERENCES telegram_users (user_id),
    description TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX organizations_owner ON organizations (owner_id);
CREATE INDEX organizations_created ON organizations (created_at);

CREATE TABLE organization_members (
    org_id    TEXT NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    user_id   BIGINT NOT NULL REFERENCES telegram_users (user_id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
-- A user belongs to at most one organization (DESIGN.md §2).
CREATE UNIQUE INDEX organization_members_user ON organization_members (user_id);

-- Credentials only; the role comes from organization_members.
CREATE TABLE dashboard_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT REFERENCES telegram_users (user_id),  -- NULL: made on the command line
    username      TEXT NOT NULL UNIQUE,                       -- stored lower-case
    password_hash TEXT NOT NULL,                              -- PBKDF2-SHA256 PHC string
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL
);
CREATE INDEX dashboard_users_user ON dashboard_users (user_id);

-- Only the SHA-256 of a session token is stored, never the token.
CREATE TABLE sessions (
    token_hash        TEXT PRIMARY KEY,
    dashboard_user_id BIGINT NOT NULL REFERENCES dashboard_users (id) ON DELETE CASCADE,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (dashboard_user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
