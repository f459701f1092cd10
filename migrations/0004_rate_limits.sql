-- Rate limits: one counter per bucket (e.g. `sign_in_failures:ip:203.0.113.7`,
-- `runs:user:usr_…`) and fixed one-minute window. D1 is strongly consistent and runs one
-- statement at a time, so an upsert that increments and returns the count is atomic:
-- concurrent requests cannot all see "under the limit".
CREATE TABLE rate_limits (
    bucket       TEXT NOT NULL,
    -- start of the window (ms since the epoch, a multiple of the window length)
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
-- Old windows are swept by window_start.
CREATE INDEX rate_limits_by_window ON rate_limits (window_start);
