-- The reply contract (issue "Actions that answer back"): a run of an action with
-- accept_reply keeps the one-line summary its endpoint's answer gave, and what of the
-- answer was ignored and why. Its note goes on the timeline (log_entries, linked by
-- run_id) and its links onto the incident (incidents.links), in the run's final batch.
ALTER TABLE action_runs ADD COLUMN reply_summary TEXT;
ALTER TABLE action_runs ADD COLUMN reply_error TEXT;
