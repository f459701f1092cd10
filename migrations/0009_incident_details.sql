-- Incidents opened by hand (POST /api/incidents, and PagerDuty's REST API) carry the
-- details their author typed, shown as plain text. Incidents from events keep NULL.
ALTER TABLE incidents ADD COLUMN details TEXT;
