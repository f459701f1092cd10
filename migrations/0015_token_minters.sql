-- Trust that can't be inherited (issue "Ready for production" §2).
--
-- A token records who minted it (a user id, or 'admin' for the built-in ADMIN_TOKEN
-- owner; NULL for tokens minted before this was recorded). Promoting a user to admin or
-- owner revokes the tokens someone else minted for them, in the batch of the promotion:
-- a copy kept by the minter must not gain the new powers.
ALTER TABLE api_tokens ADD COLUMN minted_by TEXT;

-- Every write to a user is conditional on the version it read; a concurrent edit that
-- got there first makes the later one a 409 that changes nothing.
-- `last_change_id` stamps each write, so the statements after it in its batch (revoked
-- tokens, audit records) run exactly when that write happened, not when another one
-- reached the same version.
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN last_change_id TEXT;
