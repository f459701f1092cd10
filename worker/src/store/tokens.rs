//! API tokens (D1). Only a SHA-256 hash of each secret is stored, with its last four
//! characters so people can tell their tokens apart.

use serde::Deserialize;
use shared::api::ApiToken;
use shared::audit::AuditEvent;
use shared::time::format_rfc3339;

use super::audit::{self, Change};
use super::batch::Batch;
use super::sql::{statement, Db, Statement};
use super::users::{self, UserRow};
use crate::domain::Principal;
use crate::error::ApiResult;

/// A row of `api_tokens`, without its hash.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenRow {
    /// Identifier, `tok_…`.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// What it is for.
    pub label: String,
    /// The secret's last four characters.
    pub last4: String,
    /// Created (ms).
    pub created_at: i64,
}

impl TokenRow {
    /// The API shape; `secret` only in the answer to create.
    pub fn to_wire(&self, secret: Option<String>) -> ApiToken {
        ApiToken {
            id: self.id.clone(),
            label: self.label.clone(),
            secret,
            last4: self.last4.clone(),
            created_at: format_rfc3339(self.created_at),
        }
    }

    /// What the audit log records: never the secret nor its hash.
    pub fn audit_snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "user_id": self.user_id,
            "label": self.label,
            "last4": self.last4,
            "created_at": format_rfc3339(self.created_at),
        })
    }
}

/// The insert of a new token under the hash of its secret, minted by `minted_by`, only
/// while its user is still at `user_version` (the version whose role the minting was
/// allowed under). Run first in a batch; later statements check
/// `users::at_version_sql` with the same version.
pub fn insert_statement(
    db: &Db,
    row: &TokenRow,
    token_hash: &str,
    minted_by: &str,
    user_version: i64,
) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "INSERT INTO api_tokens (id, user_id, label, token_hash, last4, created_at, minted_by) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE {}",
            users::at_version_sql(2, 8)
        ),
        &[
            (&row.id).into(),
            (&row.user_id).into(),
            (&row.label).into(),
            token_hash.into(),
            (&row.last4).into(),
            row.created_at.into(),
            minted_by.into(),
            user_version.into(),
        ],
    )
}

/// The tokens of user `?1` someone else minted (or whose minter is not recorded).
const MINTED_BY_OTHERS: &str = "t.user_id = ?1 AND (t.minted_by IS NULL OR t.minted_by != ?1)";

/// The statements that revoke, after the promotion `change_id` of `user_id`, the tokens
/// someone else minted for them, in the promotion's batch (each only when the promotion
/// was written): the tokens as they were (to answer), their `token.revoked` audit
/// records (by `actor`, saying why), and the delete (their sessions go with them).
pub fn revoke_minted_by_others(
    db: &Db,
    user_id: &str,
    change_id: &str,
    actor: &Principal,
    at: i64,
) -> ApiResult<[Statement; 3]> {
    let written = users::changed_by_sql(1, 2);
    let listed = statement(
        db,
        &format!(
            "SELECT t.id, t.user_id, t.label, t.last4, t.created_at FROM api_tokens t \
             WHERE {MINTED_BY_OTHERS} AND {written} ORDER BY t.created_at, t.id"
        ),
        &[user_id.into(), change_id.into()],
    )?;
    let audited = statement(
        db,
        &format!(
            "INSERT INTO audit_log (id, created_at, actor_id, actor_name, event, target_type, \
                 target_id, service_id, before, after) \
             SELECT 'aud_' || lower(hex(randomblob(16))), ?3, ?4, ?5, ?7, ?8, \
                 t.id, NULL, json_object('id', t.id, 'user_id', t.user_id, 'label', t.label, \
                 'last4', t.last4, 'created_at', \
                 strftime('%Y-%m-%dT%H:%M:%S', t.created_at / 1000, 'unixepoch') || '.' || \
                     printf('%03d', t.created_at % 1000) || 'Z', \
                 'revoked_because', ?6), NULL \
             FROM api_tokens t WHERE {MINTED_BY_OTHERS} AND {written}"
        ),
        &[
            user_id.into(),
            change_id.into(),
            at.into(),
            (&actor.id).into(),
            (&actor.name).into(),
            PROMOTION_REVOKES.into(),
            AuditEvent::TokenRevoked.as_str().into(),
            AuditEvent::TokenRevoked.target().as_str().into(),
        ],
    )?;
    let deleted = statement(
        db,
        &format!("DELETE FROM api_tokens AS t WHERE {MINTED_BY_OTHERS} AND {written}"),
        &[user_id.into(), change_id.into()],
    )?;
    Ok([listed, audited, deleted])
}

/// Why a promotion revokes tokens, as the answer and the audit log say it.
pub const PROMOTION_REVOKES: &str = "its user was promoted to admin or owner: a token someone \
     else minted for them would give that person the new powers";

const COLUMNS: &str = "id, user_id, label, last4, created_at";

/// A user's tokens, oldest first.
pub async fn list(db: &Db, user_id: &str) -> ApiResult<Vec<TokenRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM api_tokens WHERE user_id = ?1 ORDER BY created_at, id");
    Ok(statement(db, &sql, &[user_id.into()])?
        .all()
        .await?
        .results()?)
}

/// One of a user's tokens.
pub async fn get(db: &Db, user_id: &str, id: &str) -> ApiResult<Option<TokenRow>> {
    let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?1 AND user_id = ?2");
    statement(db, &sql, &[id.into(), user_id.into()])?
        .first(None)
        .await
}

/// Revokes a token, and with it (ON DELETE CASCADE) the sessions signed in with it, with
/// the audit record of `change`, in one batch. `false` when there was no such token (and
/// nothing was recorded).
pub async fn delete(db: &Db, user_id: &str, id: &str, change: &Change<'_>) -> ApiResult<bool> {
    // The record first, on the condition that the delete after it deletes: two revokes
    // of one token record one revocation (D1 runs each batch whole, one at a time).
    let audited = audit::insert_when(
        db,
        change,
        "EXISTS (SELECT 1 FROM api_tokens WHERE id = ?11 AND user_id = ?12)",
        &[id.into(), user_id.into()],
    )?;
    let delete = statement(
        db,
        "DELETE FROM api_tokens WHERE id = ?1 AND user_id = ?2",
        &[id.into(), user_id.into()],
    )?;
    let mut batch = Batch::new("token revoke");
    batch.write(audited);
    let deleted = batch.write(delete);
    // D1 counts the sessions the cascade removed too, so "some" rather than "one".
    Ok(batch.send(db).await?.changes(deleted)? > 0)
}

/// The token with a given secret hash and the user holding it. (Spelled out rather than
/// `#[serde(flatten)]`ed: flatten buffers D1's numbers as floats, which `i64` refuses.)
#[derive(Debug, Deserialize)]
pub struct TokenOwnerRow {
    token_id: String,
    id: String,
    name: String,
    email: String,
    role: String,
    created_at: i64,
}

/// The lookup of a presented secret by its hash, to run alone or in the first batch of
/// a request (see `auth`).
pub fn owner_statement(db: &Db, token_hash: &str) -> ApiResult<Statement> {
    statement(
        db,
        "SELECT t.id AS token_id, u.id, u.name, u.email, u.role, u.created_at \
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1",
        &[token_hash.into()],
    )
}

/// The token's id and its user, from the row [`owner_statement`] found.
pub fn token_owner(row: Option<TokenOwnerRow>) -> Option<(String, UserRow)> {
    row.map(|row| {
        (
            row.token_id,
            UserRow {
                id: row.id,
                name: row.name,
                email: row.email,
                role: row.role,
                created_at: row.created_at,
                // A principal, never written back: writes read the user afresh.
                version: 0,
            },
        )
    })
}

/// Looks a presented secret up by its hash: the token's id and its user.
pub async fn find_by_hash(db: &Db, token_hash: &str) -> ApiResult<Option<(String, UserRow)>> {
    Ok(token_owner(
        owner_statement(db, token_hash)?.first(None).await?,
    ))
}
