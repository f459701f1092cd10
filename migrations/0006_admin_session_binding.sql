-- A session of the built-in ADMIN_TOKEN owner is bound to the token it signed in with:
-- the SHA-256 of that ADMIN_TOKEN, compared with the current secret on every request, so
-- changing (or unsetting) ADMIN_TOKEN ends its sessions at once, as deleting a user's API
-- token ends theirs. NULL for users' sessions. Built-in sessions from before this column
-- have no hash and stop working: their owner signs in again.
ALTER TABLE sessions ADD COLUMN admin_token_hash TEXT;
