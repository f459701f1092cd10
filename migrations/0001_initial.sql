-- Incident Actions: incidents, timelines and runs live here (D1). Action configuration
-- lives in Workers KV; `action_slots` only indexes it, because KV has no transactions and
-- "three per service, names unique" must hold under concurrent creates.
-- Times are milliseconds since the Unix epoch.

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT,
    routing_key TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE action_slots (
    action_id  TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    -- lower-cased name: names are unique per service regardless of case
    name_key   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (service_id, name_key)
);

CREATE TABLE incidents (
    id             TEXT PRIMARY KEY,
    number         INTEGER NOT NULL UNIQUE,
    service_id     TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved')),
    urgency        TEXT NOT NULL CHECK (urgency IN ('high', 'low')),
    severity       TEXT NOT NULL CHECK (severity IN ('critical', 'error', 'warning', 'info')),
    source         TEXT NOT NULL,
    component      TEXT,
    grp            TEXT,
    class          TEXT,
    custom_details TEXT NOT NULL DEFAULT 'null',
    links          TEXT NOT NULL DEFAULT '[]',
    dedup_key      TEXT NOT NULL,
    event_count    INTEGER NOT NULL DEFAULT 1,
    -- id of the last change applied; the timeline entry written in the same batch finds
    -- the incident by it, so an entry exists exactly when the change happened
    last_change_id TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
-- At most one open incident per service and dedup key: a second trigger adds to it.
CREATE UNIQUE INDEX incidents_open_dedup ON incidents (service_id, dedup_key) WHERE status != 'resolved';
CREATE INDEX incidents_by_created ON incidents (created_at DESC);
CREATE INDEX incidents_by_service ON incidents (service_id, created_at DESC);
CREATE INDEX incidents_by_change ON incidents (last_change_id);

CREATE TABLE action_runs (
    id               TEXT PRIMARY KEY,
    incident_id      TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    action_id        TEXT NOT NULL,
    action_name      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    outcome          TEXT,
    http_status      INTEGER,
    duration_ms      INTEGER,
    response_excerpt TEXT,
    requested_by     TEXT NOT NULL,
    idempotency_key  TEXT,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER
);
CREATE UNIQUE INDEX action_runs_idempotency ON action_runs (incident_id, action_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX action_runs_by_incident ON action_runs (incident_id, started_at);

CREATE TABLE log_entries (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    agent       TEXT NOT NULL,
    summary     TEXT NOT NULL,
    run_id      TEXT REFERENCES action_runs (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL
);
CREATE INDEX log_entries_by_incident ON log_entries (incident_id, created_at);

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a leaked table does not yield working cookies
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
