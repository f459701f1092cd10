-- Housekeeping that must not run more often than a period (issue "Nothing leaks, nothing
-- piles up" §7). The revision sweep lists KV, and the free plan allows 1,000 KV lists a
-- day: a listing every minute would use 1,440. So the minutely scheduled handler lists at
-- most once an hour: it first moves its task's `claimed_at` to now with one conditional
-- write (only when the last claim is an hour old or more), and lists only if that write
-- changed the row. Two handlers running at once cannot both claim the same hour.
CREATE TABLE housekeeping_claims (
    task       TEXT PRIMARY KEY,
    claimed_at INTEGER NOT NULL
);
