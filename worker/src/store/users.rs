//! Users (D1). The rules that must hold under concurrent requests (e-mails unique
//! regardless of case, at least one owner left, a write made on the version read) are
//! enforced by the SQL itself, not by a read followed by a write; and every change is
//! recorded in the audit log in the change's own batch, so the two stand or fall together.

use serde::Deserialize;
use shared::api::User;
use shared::audit::AuditEvent;
use shared::roles::Role;
use shared::time::format_rfc3339;

use super::audit::{self, Change};
use super::batch::Batch;
use super::sql::{statement, Db, Statement};
use crate::domain::{Member, Principal};
use crate::error::{ApiError, ApiResult};

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserRow {
    /// Identifier, `usr_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Role, as stored (`owner`, …).
    pub role: String,
    /// Created (ms).
    pub created_at: i64,
    /// Bumped by every write; a write names the version it read.
    #[serde(default = "first_version")]
    pub version: i64,
}

fn first_version() -> i64 {
    1
}

impl UserRow {
    /// The user as the one acting.
    pub fn into_principal(self) -> ApiResult<Principal> {
        Ok(Principal {
            role: self.role()?,
            id: self.id,
            name: self.name,
            member: Some(Member {
                email: self.email,
                created_at: self.created_at,
            }),
        })
    }

    /// The stored role; a row the CHECK constraint let through always parses.
    pub fn role(&self) -> ApiResult<Role> {
        Role::parse_field(&self.role)
            .map_err(|_| ApiError::Internal(format!("user {} has role {:?}", self.id, self.role)))
    }

    /// The API shape.
    pub fn to_wire(&self) -> ApiResult<User> {
        Ok(User {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role()?,
            created_at: format_rfc3339(self.created_at),
            version: u64::try_from(self.version).map_err(|_| {
                ApiError::Internal(format!("user {} has version {}", self.id, self.version))
            })?,
        })
    }

    /// What the audit log records: the API shape (users hold no secrets).
    pub fn audit_snapshot(&self) -> ApiResult<serde_json::Value> {
        Ok(serde_json::to_value(self.to_wire()?)?)
    }
}

const COLUMNS: &str = "id, name, email, role, created_at, version";

/// The condition under which a row may stop being an owner: it is not one, or another
/// owner remains. Written into the UPDATE/DELETE so two concurrent demotions cannot
/// both pass.
pub const NOT_LAST_OWNER_SQL: &str =
    "(role != 'owner' OR (SELECT COUNT(*) FROM users WHERE role = 'owner') > 1)";

/// Stores a new user with its `user.created` audit record by `actor`, in one batch;
/// `false` (and nothing recorded) when the e-mail is taken (any case).
pub async fn insert(db: &Db, row: &UserRow, actor: &Principal) -> ApiResult<bool> {
    let change = Change {
        actor,
        event: AuditEvent::UserCreated,
        target_id: &row.id,
        service_id: None,
        before: None,
        after: Some(row.audit_snapshot()?),
        at: row.created_at,
    };
    let insert = statement(
        db,
        "INSERT INTO users (id, name, email, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (email) DO NOTHING",
        &[
            (&row.id).into(),
            (&row.name).into(),
            (&row.email).into(),
            (&row.role).into(),
            row.created_at.into(),
        ],
    )?;
    // The id is new, so the row exists exactly when the insert wrote it.
    let audited = audit::insert_when(
        db,
        &change,
        "EXISTS (SELECT 1 FROM users WHERE id = ?11)",
        &[(&row.id).into()],
    )?;
    let mut batch = Batch::new("user insert");
    let inserted = batch.write(insert);
    batch.write(audited);
    Ok(batch.send(db).await?.changes(inserted)? == 1)
}

/// Every user, by name.
pub async fn list(db: &Db) -> ApiResult<Vec<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY name COLLATE NOCASE, created_at");
    Ok(statement(db, &sql, &[])?.all().await?.results()?)
}

/// One user.
pub async fn get(db: &Db, id: &str) -> ApiResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?1");
    statement(db, &sql, &[id.into()])?.first(None).await
}

/// The user with this e-mail (any case).
pub async fn find_by_email(db: &Db, email: &str) -> ApiResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = ?1 COLLATE NOCASE");
    statement(db, &sql, &[email.into()])?.first(None).await
}

/// Whether another user than `except_id` has this e-mail (any case).
pub async fn email_taken(db: &Db, email: &str, except_id: &str) -> ApiResult<bool> {
    #[derive(Deserialize)]
    struct Found {
        #[expect(dead_code, reason = "only its presence matters")]
        found: i64,
    }
    let found: Option<Found> = statement(
        db,
        "SELECT 1 AS found FROM users WHERE email = ?1 COLLATE NOCASE AND id != ?2",
        &[email.into(), except_id.into()],
    )?
    .first(None)
    .await?;
    Ok(found.is_some())
}

/// The write of a user's name, e-mail and role over the version `read`, as version
/// `read + 1` stamped `change_id`, to run first in a batch. It changes nothing when the
/// user is gone, was changed since `read`, the e-mail was taken meanwhile, or the change
/// would demote the last owner: the batch's later statements check [`changed_by_sql`].
pub fn update_statement(
    db: &Db,
    row: &UserRow,
    read: i64,
    change_id: &str,
) -> ApiResult<Statement> {
    let sql = format!(
        "UPDATE OR IGNORE users SET name = ?2, email = ?3, role = ?4, version = ?5 + 1, \
             last_change_id = ?6 \
         WHERE id = ?1 AND version = ?5 AND (?4 = 'owner' OR {NOT_LAST_OWNER_SQL})"
    );
    statement(
        db,
        &sql,
        &[
            (&row.id).into(),
            (&row.name).into(),
            (&row.email).into(),
            (&row.role).into(),
            read.into(),
            change_id.into(),
        ],
    )
}

/// The condition "user `?{id}` was last written by change `?{change}`": true in a batch
/// exactly after [`update_statement`] with that change id wrote.
pub fn changed_by_sql(id: usize, change: usize) -> String {
    format!("EXISTS (SELECT 1 FROM users WHERE id = ?{id} AND last_change_id = ?{change})")
}

/// The condition "user `?{id}` is still at version `?{version}`": a write made on what
/// was read, such as minting a token under the role read.
pub fn at_version_sql(id: usize, version: usize) -> String {
    format!("EXISTS (SELECT 1 FROM users WHERE id = ?{id} AND version = ?{version})")
}

/// Deletes a user as read at version `read`, and with it (ON DELETE CASCADE) their
/// tokens and sessions, with the audit record of `change`, in one batch. `false` when
/// nothing was deleted and nothing recorded: the user is gone, was changed since `read`,
/// or is the last owner.
pub async fn delete(db: &Db, id: &str, read: i64, change: &Change<'_>) -> ApiResult<bool> {
    let deletable = |id: usize, version: usize| {
        format!("id = ?{id} AND version = ?{version} AND {NOT_LAST_OWNER_SQL}")
    };
    // The record comes first, on the very condition of the delete after it: a row
    // deleted cannot be asked afterwards whether this statement deleted it, and D1 runs a
    // batch as one transaction, so nothing can change the row between the two.
    let audited = audit::insert_when(
        db,
        change,
        &format!("EXISTS (SELECT 1 FROM users WHERE {})", deletable(11, 12)),
        &[id.into(), read.into()],
    )?;
    let delete = statement(
        db,
        &format!("DELETE FROM users WHERE {}", deletable(1, 2)),
        &[id.into(), read.into()],
    )?;
    let mut batch = Batch::new("user delete");
    batch.write(audited);
    let deleted = batch.write(delete);
    // D1 counts the rows the cascade removed too, so "some" rather than "one".
    Ok(batch.send(db).await?.changes(deleted)? > 0)
}

/// How many owners there are.
pub async fn owner_count(db: &Db) -> ApiResult<i64> {
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let count: Option<Count> = statement(
        db,
        "SELECT COUNT(*) AS n FROM users WHERE role = 'owner'",
        &[],
    )?
    .first(None)
    .await?;
    Ok(count.map_or(0, |c| c.n))
}
