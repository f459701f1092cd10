-- The input values a run sent (a JSON object by input key), kept on the run record and
-- shown with its result. NULL for runs without inputs and runs from before inputs.
ALTER TABLE action_runs ADD COLUMN inputs TEXT;
