-- Event intake (issue "Ready for production"): routing keys by their hash, rotation with
-- a grace period, and a throttle per service.
--
-- A routing key is found by its SHA-256 (lower-case hex), never by comparing its value.
-- A service has one current key (expires_at NULL) and, after a rotation, its old key
-- until expires_at. SQLite cannot hash, so keys of services created before this
-- migration are hashed by the scheduled handler's first run (store::intake::backfill).
CREATE TABLE routing_keys (
    key_hash   TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    expires_at INTEGER
);
CREATE INDEX routing_keys_by_service ON routing_keys (service_id);
CREATE INDEX routing_keys_expiry ON routing_keys (expires_at) WHERE expires_at IS NOT NULL;

-- The event throttle: a token bucket per service (EVENTS_PER_MINUTE sustained, bursts to
-- EVENT_BURST). The first statement of an event's batch takes a token and writes the
-- event's id into `admitted`; the statements that apply the event find the service
-- through that id, so a throttled event changes nothing, in the same round trip.
CREATE TABLE event_buckets (
    service_id  TEXT PRIMARY KEY REFERENCES services (id) ON DELETE CASCADE,
    tokens      REAL NOT NULL,
    refilled_at INTEGER NOT NULL,
    admitted    TEXT NOT NULL
);
CREATE INDEX event_buckets_by_admitted ON event_buckets (admitted);
