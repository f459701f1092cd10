//! The audit log (D1): one row per change to a service, an action, a secret, a user, a
//! token, or a field of an incident (PagerDuty's `PUT`, whose records are inserted with
//! its edit by `store::incidents::apply_edits`).
//!
//! Every change writes its audit row in the same D1 batch as the change, so the change and
//! its record stand or fall together; there is deliberately no way to record one alone.
//! For actions, whose configuration lives in KV, the change that counts is the D1 index
//! row moving to the new revision (`store::actions`), and the audit row is inserted on the
//! condition that it did.

use serde::Deserialize;
use serde_json::Value;
use shared::api::{AuditActor, AuditEntry};
use shared::audit::AuditEvent;
use shared::time::format_rfc3339;

use super::sql::{statement, Db, SqlValue, Statement};
use crate::domain::Principal;
use crate::error::ApiResult;
use crate::ids::new_id;

/// What to record.
pub struct Change<'a> {
    /// Who did it.
    pub actor: &'a Principal,
    /// What happened (its target type follows from it; `incident` records are written
    /// by `store::incidents::apply_edits`).
    pub event: AuditEvent,
    /// The changed thing's id.
    pub target_id: &'a str,
    /// The service it belongs to (or is); `None` for users and tokens.
    pub service_id: Option<&'a str>,
    /// The state before, as the API shows it (secrets already redacted).
    pub before: Option<Value>,
    /// The state after, likewise.
    pub after: Option<Value>,
    /// When (ms).
    pub at: i64,
}

/// The insert for `change`, to run alone or inside the batch of the change itself.
pub fn insert(db: &Db, change: &Change<'_>) -> ApiResult<Statement> {
    insert_when(db, change, "1", &[])
}

/// The insert for `change`, made only when the SQL `condition` holds as the batch reaches
/// it (its parameters are `?11` onwards, from `condition_args`): the record of a
/// conditional change is written exactly when the change happened.
pub fn insert_when(
    db: &Db,
    change: &Change<'_>,
    condition: &str,
    condition_args: &[SqlValue<'_>],
) -> ApiResult<Statement> {
    let before = change.before.as_ref().map(Value::to_string);
    let after = change.after.as_ref().map(Value::to_string);
    let id = new_id("aud");
    let mut args: Vec<SqlValue<'_>> = vec![
        id.as_str().into(),
        change.at.into(),
        (&change.actor.id).into(),
        (&change.actor.name).into(),
        change.event.as_str().into(),
        change.event.target().as_str().into(),
        change.target_id.into(),
        change.service_id.into(),
        (&before).into(),
        (&after).into(),
    ];
    args.extend_from_slice(condition_args);
    statement(
        db,
        &format!(
            "INSERT INTO audit_log (id, created_at, actor_id, actor_name, event, target_type, \
             target_id, service_id, before, after) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE {condition}"
        ),
        &args,
    )
}

#[derive(Deserialize)]
struct AuditRow {
    position: i64,
    id: String,
    created_at: i64,
    actor_id: String,
    actor_name: String,
    event: String,
    target_type: String,
    target_id: String,
    service_id: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

/// The newest `rows_to_read` entries older than the one at position `before` (all when
/// `None`), each with its position for the page's cursor.
pub async fn page(
    db: &Db,
    before: Option<i64>,
    rows_to_read: i64,
) -> ApiResult<Vec<(i64, AuditEntry)>> {
    let rows: Vec<AuditRow> = statement(
        db,
        "SELECT rowid AS position, id, created_at, actor_id, actor_name, event, target_type, \
         target_id, service_id, before, after FROM audit_log \
         WHERE ?1 IS NULL OR (created_at, rowid) < \
             (SELECT created_at, rowid FROM audit_log WHERE rowid = ?1) \
         ORDER BY created_at DESC, rowid DESC LIMIT ?2",
        &[before.into(), rows_to_read.into()],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter()
        .map(|row| {
            let parse = |json: Option<String>| -> ApiResult<Value> {
                Ok(json
                    .map(|text| serde_json::from_str(&text))
                    .transpose()?
                    .unwrap_or(Value::Null))
            };
            Ok((
                row.position,
                AuditEntry {
                    id: row.id,
                    created_at: format_rfc3339(row.created_at),
                    actor: AuditActor {
                        id: row.actor_id,
                        name: row.actor_name,
                    },
                    event: row.event,
                    target_type: row.target_type,
                    target_id: row.target_id,
                    service_id: row.service_id,
                    before: parse(row.before)?,
                    after: parse(row.after)?,
                },
            ))
        })
        .collect()
}
