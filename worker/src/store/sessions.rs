//! Sign-in sessions (D1, strongly consistent, so a sign-out takes effect at once).
//! Only a hash of each cookie value is stored.

use serde::Deserialize;
use worker::D1Database;

use super::sql::statement;
use crate::error::ApiResult;

/// A live session.
#[derive(Debug, Deserialize)]
pub struct SessionRow {
    /// Who it belongs to.
    pub user_id: String,
    /// When it ends (ms).
    pub expires_at: i64,
}

/// Stores a new session.
pub async fn insert(
    db: &D1Database,
    token_hash: &str,
    user_id: &str,
    now_ms: i64,
    expires_ms: i64,
) -> ApiResult<()> {
    statement(
        db,
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        &[token_hash.into(), user_id.into(), now_ms.into(), expires_ms.into()],
    )?
    .run()
    .await?;
    Ok(())
}

/// The session with this hash, if it has not expired.
pub async fn find_live(
    db: &D1Database,
    token_hash: &str,
    now_ms: i64,
) -> ApiResult<Option<SessionRow>> {
    Ok(statement(
        db,
        "SELECT user_id, expires_at FROM sessions WHERE token_hash = ?1 AND expires_at > ?2",
        &[token_hash.into(), now_ms.into()],
    )?
    .first(None)
    .await?)
}

/// Ends a session, and clears out expired ones while at it.
pub async fn delete(db: &D1Database, token_hash: &str, now_ms: i64) -> ApiResult<()> {
    statement(
        db,
        "DELETE FROM sessions WHERE token_hash = ?1 OR expires_at <= ?2",
        &[token_hash.into(), now_ms.into()],
    )?
    .run()
    .await?;
    Ok(())
}
