-- Invitations, login throttling, audit log, and the seed's database tables (SQLite).
-- The PostgreSQL twin is migrations/postgres/0002_domain_core.sql; keep them in step.

-- One dashboard account per Telegram user (CLI-made accounts have no Telegram user).
CREATE UNIQUE INDEX dashboard_users_one_per_user ON dashboard_users (user_id);

CREATE TABLE invitations (
    invite_code  TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    created_by   BIGINT NOT NULL REFERENCES telegram_users (user_id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    max_uses     INTEGER NOT NULL CHECK (max_uses > 0),
    current_uses INTEGER NOT NULL DEFAULT 0 CHECK (current_uses >= 0 AND current_uses <= max_uses),
    is_active    BOOLEAN NOT NULL DEFAULT TRUE,
    revoked_at   BIGINT
);
CREATE INDEX invitations_org ON invitations (org_id, created_at);

CREATE TABLE invitation_uses (
    invite_code TEXT NOT NULL REFERENCES invitations (invite_code) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES telegram_users (user_id),
    used_at     BIGINT NOT NULL,
    PRIMARY KEY (invite_code, user_id)
);
CREATE INDEX invitation_uses_user ON invitation_uses (user_id);

-- Failed and successful sign-ins, for throttling; old rows are purged.
CREATE TABLE login_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    username     TEXT NOT NULL,
    ip           TEXT,
    succeeded    BOOLEAN NOT NULL,
    attempted_at BIGINT NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, attempted_at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, attempted_at);

-- Every change to organizations, members, invitations and credentials, and every sign-in.
-- Never a password or a token.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at BIGINT NOT NULL,
    actor_id   BIGINT,            -- Telegram user id; NULL for the CLI or an unknown user
    org_id     TEXT,              -- kept after the organization is deleted
    action     TEXT NOT NULL,
    target     TEXT,
    detail     TEXT
);
CREATE INDEX audit_log_org ON audit_log (org_id, created_at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, created_at);

-- Users' databases (seed §5). Connection strings are stored encrypted.
CREATE TABLE database_connections (
    connection_id        TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    connection_encrypted TEXT NOT NULL,
    owner_type           TEXT NOT NULL CHECK (owner_type IN ('organization', 'user')),
    owner_id             TEXT NOT NULL,
    created_by           BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    is_active            BOOLEAN NOT NULL DEFAULT TRUE,
    last_used            BIGINT
);
CREATE INDEX database_connections_owner ON database_connections (owner_type, owner_id);

CREATE TABLE organization_databases (
    org_id        TEXT NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES database_connections (connection_id) ON DELETE CASCADE,
    added_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, connection_id)
);
