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

-- A run is its own timeline entry: the line is derived from the run when the timeline is
-- read ("Running …" while it runs, then its result), so a run's record and its line can
-- never disagree and a run costs no writes to log_entries. The run keeps who pressed the
-- button by name, as the entries did; the entries written for runs before this go.
ALTER TABLE action_runs ADD COLUMN requested_by_name TEXT;
UPDATE action_runs SET requested_by_name = (
    SELECT agent FROM log_entries WHERE log_entries.run_id = action_runs.id LIMIT 1);
DELETE FROM log_entries WHERE type = 'action_run';

-- The scheduled handler looks for runs left `running` and for expired sessions.
CREATE INDEX action_runs_running ON action_runs (started_at) WHERE status = 'running';
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
