-- Triggers merged into an open incident within a minute share one timeline row (issue
-- "Nothing leaks, nothing piles up" §5), so a storm on one dedup key adds a row a minute,
-- not a row an event. `merged_events` is how many merged triggers an 'alert' row stands
-- for, and its `summary` is then the latest one's payload summary (the line is worded when
-- read). NULL on every other row, and on alert rows written before this, whose summary is
-- already the whole line.
ALTER TABLE log_entries ADD COLUMN merged_events INTEGER;
