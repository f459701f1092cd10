//! API tokens (D1). Only a SHA-256 hash of each secret is stored, with its last four
//! characters so people can tell their tokens apart.

use serde::Deserialize;
use shared::api::ApiToken;
use shared::time::format_rfc3339;
use worker::D1Database;

use super::sql::{changes, statement};
use super::users::UserRow;
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

/// Stores a new token under the hash of its secret.
pub async fn insert(db: &D1Database, row: &TokenRow, token_hash: &str) -> ApiResult<()> {
    statement(
        db,
        "INSERT INTO api_tokens (id, user_id, label, token_hash, last4, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            (&row.id).into(),
            (&row.user_id).into(),
            (&row.label).into(),
            token_hash.into(),
            (&row.last4).into(),
            row.created_at.into(),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, user_id, label, last4, created_at";

/// A user's tokens, oldest first.
pub async fn list(db: &D1Database, user_id: &str) -> ApiResult<Vec<TokenRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM api_tokens WHERE user_id = ?1 ORDER BY created_at, id");
    Ok(statement(db, &sql, &[user_id.into()])?
        .all()
        .await?
        .results()?)
}

/// One of a user's tokens.
pub async fn get(db: &D1Database, user_id: &str, id: &str) -> ApiResult<Option<TokenRow>> {
    let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?1 AND user_id = ?2");
    Ok(statement(db, &sql, &[id.into(), user_id.into()])?
        .first(None)
        .await?)
}

/// Revokes a token, and with it (ON DELETE CASCADE) the sessions signed in with it.
pub async fn delete(db: &D1Database, user_id: &str, id: &str) -> ApiResult<bool> {
    let result = statement(
        db,
        "DELETE FROM api_tokens WHERE id = ?1 AND user_id = ?2",
        &[id.into(), user_id.into()],
    )?
    .run()
    .await?;
    // D1 counts the sessions the cascade removed too, so "some" rather than "one".
    Ok(changes(&result) > 0)
}

/// The token with a given secret hash and the user holding it. (Spelled out rather than
/// `#[serde(flatten)]`ed: flatten buffers D1's numbers as floats, which `i64` refuses.)
#[derive(Debug, Deserialize)]
struct TokenOwnerRow {
    token_id: String,
    id: String,
    name: String,
    email: String,
    role: String,
    created_at: i64,
}

/// Looks a presented secret up by its hash: the token's id and its user.
pub async fn find_by_hash(
    db: &D1Database,
    token_hash: &str,
) -> ApiResult<Option<(String, UserRow)>> {
    let row: Option<TokenOwnerRow> = statement(
        db,
        "SELECT t.id AS token_id, u.id, u.name, u.email, u.role, u.created_at \
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1",
        &[token_hash.into()],
    )?
    .first(None)
    .await?;
    Ok(row.map(|row| {
        (
            row.token_id,
            UserRow {
                id: row.id,
                name: row.name,
                email: row.email,
                role: row.role,
                created_at: row.created_at,
            },
        )
    }))
}
