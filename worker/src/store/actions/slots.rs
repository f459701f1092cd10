//! The D1 side of actions: one `action_slots` row per action, naming its current
//! revision. Every change moves the row by one statement conditional on the revision the
//! editor read (the compare-and-swap point), and the row's claim on its name and on one
//! of the service's three slots is checked in the same statement.

use serde::Deserialize;
use shared::errors::ErrorCode;
use shared::limits::MAX_ACTIONS_PER_SERVICE;

use super::record::ActionRecord;
use super::revisions::legacy_key;
use crate::error::{ApiError, ApiResult};
use crate::store::audit::{self, Change};
use crate::store::batch::Batch;
use crate::store::sql::{statement, Db, Statement};

/// An `action_slots` row: the action as D1 knows it.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionRow {
    /// Identifier.
    pub action_id: String,
    /// Owning service.
    pub service_id: String,
    /// Button label (`NULL` for rows from before revisions: the record's stands).
    pub name: Option<String>,
    /// 1 when shown on incidents.
    pub enabled: i64,
    /// The current revision (0: from before revisions).
    pub revision: i64,
    /// KV key of the current revision (`NULL`: [`legacy_key`]).
    pub config_key: Option<String>,
    /// Created (ms).
    pub created_at: i64,
    /// Current revision written (ms).
    pub updated_at: Option<i64>,
}

/// The columns of [`ActionRow`], for queries that select it (alias `a`).
pub const ROW_COLUMNS: &str = "a.action_id, a.service_id, a.name, a.enabled, a.revision, \
     a.config_key, a.created_at, a.updated_at";

/// An `action_slots` row (alias `a`) as one JSON value, so that another table's read can
/// carry it in one column (`action_row`, read with [`WithActionRow`]).
pub const ROW_AS_JSON: &str = "json_object('action_id', a.action_id, 'service_id', \
     a.service_id, 'name', a.name, 'enabled', a.enabled, 'revision', a.revision, \
     'config_key', a.config_key, 'created_at', a.created_at, 'updated_at', a.updated_at)";

/// The `action_row` column of a read that carries an action's row as [`ROW_AS_JSON`]
/// (`null` when there is no such action).
#[derive(Debug, Deserialize)]
pub struct WithActionRow {
    action_row: Option<String>,
}

impl WithActionRow {
    /// The action's row, if there is one.
    pub fn action(&self) -> ApiResult<Option<ActionRow>> {
        row_from_json(self.action_row.as_deref())
    }
}

/// An `action_row` column ([`ROW_AS_JSON`]) read back: the row, or `None` for `null`.
pub fn row_from_json(action_row: Option<&str>) -> ApiResult<Option<ActionRow>> {
    action_row
        .map(serde_json::from_str)
        .transpose()
        .map_err(Into::into)
}

impl ActionRow {
    /// The KV key of the current revision.
    pub fn config_key(&self) -> String {
        self.config_key
            .clone()
            .unwrap_or_else(|| legacy_key(&self.action_id))
    }

    /// The current revision.
    pub fn revision(&self) -> u64 {
        u64::try_from(self.revision).unwrap_or_default()
    }
}

/// The service's action rows, in creation order.
pub fn rows_of_service(db: &Db, service_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {ROW_COLUMNS} FROM action_slots a WHERE a.service_id = ?1 \
             ORDER BY a.created_at, a.action_id"
        ),
        &[service_id.into()],
    )
}

/// The action rows of an incident's service, to batch with the incident's own read.
pub fn rows_of_incident(db: &Db, incident_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {ROW_COLUMNS} FROM action_slots a \
             WHERE a.service_id = (SELECT service_id FROM incidents WHERE id = ?1) \
             ORDER BY a.created_at, a.action_id"
        ),
        &[incident_id.into()],
    )
}

/// One action's row.
pub fn row_of(db: &Db, action_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!("SELECT {ROW_COLUMNS} FROM action_slots a WHERE a.action_id = ?1"),
        &[action_id.into()],
    )
}

/// Why a slot could not be claimed or renamed.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotRefusal {
    /// The service already has three actions.
    LimitReached,
    /// Another action of the service has this name.
    NameTaken,
}

impl From<SlotRefusal> for ApiError {
    fn from(refusal: SlotRefusal) -> Self {
        match refusal {
            SlotRefusal::LimitReached => Self::Refused(
                ErrorCode::ActionLimit,
                format!(
                    "A service can have at most {MAX_ACTIONS_PER_SERVICE} custom incident actions; \
                     delete one before adding another"
                ),
            ),
            SlotRefusal::NameTaken => Self::Refused(
                ErrorCode::NameTaken,
                "Another action of this service already has this name".to_owned(),
            ),
        }
    }
}

/// The unique form of a name: names are unique per service after NFKC normalization and
/// case folding (`shared::validation::name_key`).
pub fn name_key(name: &str) -> String {
    shared::validation::name_key(name)
}

/// Adds the index row of a new action pointing at `key`, with its audit record, unless
/// the service is full or the name is taken: one conditional statement, which D1 runs
/// alone, so five concurrent creates leave exactly three actions.
pub async fn insert(
    db: &Db,
    record: &ActionRecord,
    key: &str,
    audit: &Change<'_>,
) -> ApiResult<Result<(), SlotRefusal>> {
    let limit = MAX_ACTIONS_PER_SERVICE as i64;
    let name_key = name_key(&record.spec.name);
    let revision = record.revision as i64;
    let insert = statement(
        db,
        "INSERT INTO action_slots (action_id, service_id, name_key, created_at, revision, \
             config_key, name, enabled, updated_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?4 \
         WHERE (SELECT COUNT(*) FROM action_slots WHERE service_id = ?2) < ?9 \
           AND NOT EXISTS (SELECT 1 FROM action_slots WHERE service_id = ?2 AND name_key = ?3)",
        &[
            (&record.id).into(),
            (&record.service_id).into(),
            (&name_key).into(),
            record.created_at.into(),
            revision.into(),
            key.into(),
            (&record.spec.name).into(),
            i64::from(record.enabled).into(),
            limit.into(),
        ],
    )?;
    let audit = audit_if_pointing_at(db, audit, key)?;
    let mut batch = Batch::new("action insert");
    let inserted = batch.write(insert);
    batch.write(audit);
    if batch.send(db).await?.changes(inserted)? == 1 {
        return Ok(Ok(()));
    }
    // Nothing inserted: say why. The name check comes first because renaming is the fix
    // the user can make even when the service is full.
    #[derive(Deserialize)]
    struct Counts {
        total: i64,
        same_name: i64,
    }
    let counts: Option<Counts> = statement(
        db,
        "SELECT COUNT(*) AS total, COALESCE(SUM(name_key = ?2), 0) AS same_name \
         FROM action_slots WHERE service_id = ?1",
        &[(&record.service_id).into(), (&name_key).into()],
    )?
    .first(None)
    .await?;
    Ok(Err(match counts {
        Some(counts) if counts.same_name > 0 => SlotRefusal::NameTaken,
        Some(counts) if counts.total >= limit => SlotRefusal::LimitReached,
        // The conflicting slot went away between the two statements; calling it a name
        // clash is the accurate past tense, and a retry will succeed.
        _ => SlotRefusal::NameTaken,
    }))
}

/// The audit record of a change that made a row point at `key`, written only if it did
/// (each write has a key of its own, so this is exactly "the change landed").
fn audit_if_pointing_at(db: &Db, audit: &Change<'_>, key: &str) -> ApiResult<Statement> {
    audit::insert_when(
        db,
        audit,
        "EXISTS (SELECT 1 FROM action_slots WHERE config_key = ?11)",
        &[key.into()],
    )
}

/// What [`advance`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    /// The row now points at the new revision.
    Done,
    /// The action no longer exists.
    Gone,
    /// Another edit moved the action past the revision read.
    Moved,
    /// Another action of the service has the new name.
    NameTaken,
}

/// Moves the row from `from_revision` to `record` (stored under `key`), with its audit
/// record, in one batch: the compare-and-swap every edit and rotation goes through.
pub async fn advance(
    db: &Db,
    record: &ActionRecord,
    key: &str,
    from_revision: u64,
    audit: &Change<'_>,
) -> ApiResult<Advance> {
    let name_key = name_key(&record.spec.name);
    let update = statement(
        db,
        "UPDATE action_slots SET revision = ?3, config_key = ?4, name = ?5, name_key = ?6, \
             enabled = ?7, updated_at = ?8 \
         WHERE action_id = ?1 AND service_id = ?2 AND revision = ?9 \
           AND NOT EXISTS (SELECT 1 FROM action_slots \
                           WHERE service_id = ?2 AND name_key = ?6 AND action_id != ?1)",
        &[
            (&record.id).into(),
            (&record.service_id).into(),
            (record.revision as i64).into(),
            key.into(),
            (&record.spec.name).into(),
            (&name_key).into(),
            i64::from(record.enabled).into(),
            record.updated_at.into(),
            (from_revision as i64).into(),
        ],
    )?;
    let audit = audit_if_pointing_at(db, audit, key)?;
    #[derive(Deserialize)]
    struct Now {
        revision: i64,
        advanced: Option<i64>,
    }
    let mut batch = Batch::new("advance action");
    batch.write(update);
    batch.write(audit);
    let now = batch.read::<Now>(statement(
        db,
        "SELECT revision, config_key = ?2 AS advanced FROM action_slots WHERE action_id = ?1",
        &[(&record.id).into(), key.into()],
    )?);
    let now = batch.send(db).await?.first(&now)?;
    Ok(match now {
        None => Advance::Gone,
        Some(now) if now.advanced == Some(1) => Advance::Done,
        Some(now) if now.revision != from_revision as i64 => Advance::Moved,
        Some(_) => Advance::NameTaken,
    })
}

/// Deletes the row, and with it the action, with its audit record. From this statement
/// on, the action is neither listed nor run. Returns whether it existed.
pub async fn remove(
    db: &Db,
    service_id: &str,
    action_id: &str,
    audit: &Change<'_>,
) -> ApiResult<bool> {
    // The record goes first, on the condition that the row is there: the batch is one
    // transaction, so the delete that follows is certain to remove it.
    let audit = audit::insert_when(
        db,
        audit,
        "EXISTS (SELECT 1 FROM action_slots WHERE action_id = ?11 AND service_id = ?12)",
        &[action_id.into(), service_id.into()],
    )?;
    let delete = statement(
        db,
        "DELETE FROM action_slots WHERE action_id = ?1 AND service_id = ?2",
        &[action_id.into(), service_id.into()],
    )?;
    let mut batch = Batch::new("action delete");
    batch.write(audit);
    let deleted = batch.write(delete);
    Ok(batch.send(db).await?.changes(deleted)? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_message_says_three_per_service() {
        let (status, body) = ApiError::from(SlotRefusal::LimitReached).body();
        assert_eq!(status, 409);
        assert_eq!(body.error.code, ErrorCode::ActionLimit);
        assert!(body.error.message.contains("at most 3"));
    }
}
