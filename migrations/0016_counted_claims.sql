-- A run's rate-limit hit marks its window with the id of the claim it counted for, and the
-- claim inserts only where its own mark is found (issue "Nothing leaks, nothing piles up"
-- §3). So a press refused for any reason (not allowed, disabled, over the limit, a replay)
-- counts nothing, and only runs that are claimed use the caller's quota.
ALTER TABLE rate_limits ADD COLUMN claimed_by TEXT;
