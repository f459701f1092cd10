-- Change events (POST /v2/change/enqueue, PagerDuty's Change Events API): deploys,
-- commits and config changes per service. An incident shows those of the 24 hours
-- before it opened, and action payloads carry them as data.recent_changes.
CREATE TABLE change_events (
    id             TEXT PRIMARY KEY,
    service_id     TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    summary        TEXT NOT NULL,
    source         TEXT,
    custom_details TEXT NOT NULL DEFAULT 'null',
    links          TEXT NOT NULL DEFAULT '[]',
    -- the event's own timestamp, or when it was received
    occurred_at    INTEGER NOT NULL,
    received_at    INTEGER NOT NULL
);
CREATE INDEX change_events_by_service ON change_events (service_id, occurred_at DESC);
