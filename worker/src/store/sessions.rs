//! Sign-in sessions (D1, strongly consistent, so a sign-out takes effect at once).
//! Only a hash of each cookie value is stored. A session belongs to a user (and to the
//! API token signed in with), so deleting either ends it by ON DELETE CASCADE; the
//! built-in `ADMIN_TOKEN` owner's sessions have no user row and are bound to a hash of
//! the `ADMIN_TOKEN` they signed in with instead.

use serde::Deserialize;

use super::sql::{statement, Db, Statement};
use super::users::UserRow;
use crate::error::ApiResult;

/// Who a new session is for.
#[derive(Debug, Clone, Copy)]
pub enum SessionOwner<'a> {
    /// The holder of `ADMIN_TOKEN`.
    BuiltIn {
        /// SHA-256 of the `ADMIN_TOKEN` signed in with.
        admin_token_hash: &'a str,
    },
    /// A user, signed in with one of their API tokens.
    User {
        /// `users.id`.
        user_id: &'a str,
        /// `api_tokens.id`.
        token_id: &'a str,
    },
}

/// Stores a new session.
pub async fn insert(
    db: &Db,
    token_hash: &str,
    owner: SessionOwner<'_>,
    now_ms: i64,
    expires_ms: i64,
) -> ApiResult<()> {
    let (user_id, token_id, admin_token_hash) = match owner {
        SessionOwner::BuiltIn { admin_token_hash } => (None, None, Some(admin_token_hash)),
        SessionOwner::User { user_id, token_id } => (Some(user_id), Some(token_id), None),
    };
    statement(
        db,
        "INSERT INTO sessions (token_hash, user_id, token_id, admin_token_hash, created_at, \
         expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            token_hash.into(),
            user_id.into(),
            token_id.into(),
            admin_token_hash.into(),
            now_ms.into(),
            expires_ms.into(),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// A live session and its user (`None` for the built-in owner).
#[derive(Debug)]
pub struct LiveSession {
    /// The user, as of now (a role change applies to open sessions at once).
    pub user: Option<UserRow>,
    /// For the built-in owner: SHA-256 of the `ADMIN_TOKEN` signed in with.
    pub admin_token_hash: Option<String>,
    /// When it ends (ms).
    pub expires_at: i64,
}

/// The row [`live_statement`] selects.
#[derive(Deserialize)]
pub struct SessionUserRow {
    expires_at: i64,
    admin_token_hash: Option<String>,
    user_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    role: Option<String>,
    created_at: Option<i64>,
}

/// The lookup of the live session with this hash and its user, to run alone or in the
/// first batch of a request (see `auth`).
pub fn live_statement(db: &Db, token_hash: &str, now_ms: i64) -> ApiResult<Statement> {
    statement(
        db,
        "SELECT s.expires_at, s.admin_token_hash, s.user_id, u.name, u.email, u.role, u.created_at \
         FROM sessions s LEFT JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = ?1 AND s.expires_at > ?2",
        &[token_hash.into(), now_ms.into()],
    )
}

/// The session found by [`live_statement`], if any.
pub fn live_session(row: Option<SessionUserRow>) -> Option<LiveSession> {
    let row = row?;
    let user = match (row.user_id, row.name, row.email, row.role, row.created_at) {
        (None, ..) => None,
        (Some(id), Some(name), Some(email), Some(role), Some(created_at)) => Some(UserRow {
            id,
            name,
            email,
            role,
            created_at,
            // A principal, never written back: writes read the user afresh.
            version: 0,
        }),
        // A user id without its user: the cascade should have removed the session, so
        // never let it fall back to the built-in owner.
        _ => return None,
    };
    Some(LiveSession {
        user,
        admin_token_hash: row.admin_token_hash,
        expires_at: row.expires_at,
    })
}

/// Removes sessions that have expired (the scheduled handler); returns how many.
pub async fn sweep_expired(db: &Db, now_ms: i64) -> ApiResult<usize> {
    let result = statement(
        db,
        "DELETE FROM sessions WHERE expires_at <= ?1",
        &[now_ms.into()],
    )?
    .run()
    .await?;
    Ok(super::sql::changes(&result))
}

/// Ends a session, and clears out expired ones while at it.
pub async fn delete(db: &Db, token_hash: &str, now_ms: i64) -> ApiResult<()> {
    statement(
        db,
        "DELETE FROM sessions WHERE token_hash = ?1 OR expires_at <= ?2",
        &[token_hash.into(), now_ms.into()],
    )?
    .run()
    .await?;
    Ok(())
}
