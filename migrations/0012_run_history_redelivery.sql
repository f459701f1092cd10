-- Run history, redelivery and endpoint health (issue "Actions that answer back").
--
-- A run keeps its request body, sealed with the encryption key (a body template may
-- carry a secret), for RUN_BODY_KEPT_DAYS so that it can be redelivered: the same body
-- under the same webhook-id. The scheduled handler clears it once body_expires_at has
-- passed. Each redelivery is a new attempt of the same run: the run's own columns show
-- the latest attempt, and `attempts` keeps the earlier ones (a JSON array, oldest
-- first). `attempt_key` is the Idempotency-Key of the latest redelivery.
ALTER TABLE action_runs ADD COLUMN request_body_sealed TEXT;
ALTER TABLE action_runs ADD COLUMN body_expires_at INTEGER;
ALTER TABLE action_runs ADD COLUMN attempts TEXT;
ALTER TABLE action_runs ADD COLUMN attempt_key TEXT;

-- An action's history, newest first (rowid is the order runs were created in).
CREATE INDEX action_runs_by_action ON action_runs (action_id);
-- An action's latest finished runs: its health and figures.
CREATE INDEX action_runs_by_action_finished ON action_runs (action_id, finished_at)
    WHERE finished_at IS NOT NULL;
-- Bodies past their keeping time.
CREATE INDEX action_runs_body_expiry ON action_runs (body_expires_at)
    WHERE request_body_sealed IS NOT NULL;
