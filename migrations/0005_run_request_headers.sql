-- What a run sent: its request headers, in order, as a JSON array of {"name", "value"},
-- each secret header's value already replaced by "[redacted]" before it reaches D1.
-- NULL while running, for blocked runs (nothing was sent) and for runs recorded before
-- this column existed.
ALTER TABLE action_runs ADD COLUMN request_headers TEXT;
