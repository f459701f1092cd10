-- Users, their API tokens, and sessions bound to them.
--
-- The ADMIN_TOKEN is not a row here: it is the bootstrap credential of a built-in owner
-- (id `admin`) that exists only while the secret is set, so that a deployment can be
-- reached before any user exists and can retire the bootstrap path by unsetting the
-- secret. Its sessions have user_id NULL. The "last owner" rule counts owner rows only.

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'responder', 'observer', 'stakeholder')),
    created_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    -- SHA-256 of the secret: a leaked table does not yield working tokens
    token_hash TEXT NOT NULL UNIQUE,
    last4      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at);

-- Sessions are disposable (everyone signs in again), so the table is recreated rather
-- than migrated: deleting a user or a token now deletes its sessions.
DROP TABLE sessions;
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    -- NULL: a session of the built-in ADMIN_TOKEN owner
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    -- the API token signed in with, if any
    token_id   TEXT REFERENCES api_tokens (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_token ON sessions (token_id);
