-- The timeline as one table (issue "Ready for production": a timeline pages with a
-- cursor). Each attempt of a run now has its own log_entries row (type 'action_run',
-- run_id, attempt), written in the batch that claims the attempt; its line is drawn from
-- the run when read. So a page of the timeline is one indexed range of this table, in
-- the order (created_at, rowid).
ALTER TABLE log_entries ADD COLUMN attempt INTEGER;

-- Rows for the runs recorded before this migration: their earlier attempts...
INSERT OR IGNORE INTO log_entries (id, incident_id, type, agent, summary, run_id, attempt, created_at)
SELECT CASE json_extract(j.value, '$.number')
           WHEN 1 THEN 'log_' || r.id
           ELSE 'log_' || r.id || '_' || json_extract(j.value, '$.number') END,
       r.incident_id, 'action_run',
       COALESCE(json_extract(j.value, '$.requested_by_name'), json_extract(j.value, '$.requested_by')),
       '', r.id, json_extract(j.value, '$.number'), json_extract(j.value, '$.started_at')
FROM action_runs r, json_each(r.attempts) j
WHERE r.attempts IS NOT NULL;

-- ...and their latest attempt.
INSERT OR IGNORE INTO log_entries (id, incident_id, type, agent, summary, run_id, attempt, created_at)
SELECT CASE n WHEN 1 THEN 'log_' || id ELSE 'log_' || id || '_' || n END,
       incident_id, 'action_run', COALESCE(requested_by_name, requested_by), '', id, n, started_at
FROM (SELECT *, COALESCE(json_array_length(attempts), 0) + 1 AS n FROM action_runs);
