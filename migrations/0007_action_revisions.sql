-- Action configuration becomes a chain of immutable revisions in KV, and `action_slots`
-- the one consistent index of actions: listing, counting, naming and running all go
-- through it, and it changes only by statements conditional on the revision the editor
-- read, so it is the compare-and-swap point (see worker/src/store/actions.rs).
--
-- `config_key` names the KV value of the current revision. Rows from before this
-- migration have revision 0 and no config_key: their configuration is still the one
-- value under `action:{id}`, and its own `name` and `enabled` stand until the first edit
-- writes revision 1.
ALTER TABLE action_slots ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE action_slots ADD COLUMN config_key TEXT;
ALTER TABLE action_slots ADD COLUMN name TEXT;
ALTER TABLE action_slots ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE action_slots ADD COLUMN updated_at INTEGER;

-- The revision a run sent (NULL for runs from before revisions).
ALTER TABLE action_runs ADD COLUMN action_revision INTEGER;

-- The scheduled handler looks for runs left `running` and for expired sessions.
CREATE INDEX action_runs_running ON action_runs (started_at) WHERE status = 'running';
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
-- One timeline entry per run, found by its run when the run finishes.
CREATE INDEX log_entries_by_run ON log_entries (run_id) WHERE run_id IS NOT NULL;
