-- Audit log: every change to services, actions and secrets, who made it and when, with
-- the state before and after (secrets are never written here: values are the API's
-- redacted shapes). No foreign keys: the record outlives what it describes.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    -- what happened, e.g. service.created, action.updated, action.secret_rotated
    event       TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    service_id  TEXT,
    before      TEXT,
    after       TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (created_at DESC);
