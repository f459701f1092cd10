//! Change events (D1): what changed on a service (a deploy, a commit), as PagerDuty's
//! Change Events API reports it. Read back per service, and per incident as the changes
//! of the day before it opened.
//!
//! Anyone holding a routing key can send them, so they are kept 7 days and at most
//! `MAX_CHANGE_EVENTS_PER_SERVICE` per service: the scheduled handler deletes the rest a
//! bounded batch per statement (D1 limits each query's time), a bounded number of
//! statements per run, and the next run takes what is left.

use serde::{Deserialize, Serialize};
use shared::api::ChangeEvent;
use shared::events::ValidChangeEvent;
use shared::limits::{CHANGE_EVENT_KEPT_DAYS, MAX_RECENT_CHANGES, RECENT_CHANGES_HOURS};
use shared::time::format_rfc3339;

use super::intake::{admitted_service, Admission, Verdict};
use super::sql::{changes, statement, Db, Statement};
use crate::error::ApiResult;
use crate::ids::new_id;

/// A `change_events` row.
#[derive(Debug, Clone, Deserialize)]
pub struct ChangeRow {
    id: String,
    service_id: String,
    summary: String,
    source: Option<String>,
    custom_details: String,
    links: String,
    occurred_at: i64,
}

impl ChangeRow {
    /// The API shape.
    pub fn into_wire(self) -> ApiResult<ChangeEvent> {
        Ok(ChangeEvent {
            id: self.id,
            service_id: self.service_id,
            summary: self.summary,
            source: self.source,
            custom_details: serde_json::from_str(&self.custom_details)?,
            links: serde_json::from_str(&self.links)?,
            timestamp: format_rfc3339(self.occurred_at),
        })
    }
}

const COLUMNS: &str = "c.id, c.service_id, c.summary, c.source, c.custom_details, c.links, \
     c.occurred_at";

/// Stores a change event on the admitted service: one batch, throttle included. Stores
/// nothing unless the verdict is `Admitted`.
pub async fn insert(
    db: &Db,
    admission: &Admission,
    event: &ValidChangeEvent,
    now_ms: i64,
) -> ApiResult<Verdict> {
    let insert = statement(
        db,
        &format!(
            "INSERT INTO change_events (id, service_id, summary, source, custom_details, links, \
                 occurred_at, received_at) \
             SELECT ?1, s.id, ?3, ?4, ?5, ?6, ?7, ?8 FROM services s WHERE s.id = {}",
            admitted_service(2)
        ),
        &[
            new_id("chg").as_str().into(),
            admission.event_id.as_str().into(),
            (&event.summary).into(),
            (&event.source).into(),
            event.custom_details.to_string().as_str().into(),
            serde_json::to_string(&event.links)?.as_str().into(),
            event.timestamp_ms.unwrap_or(now_ms).into(),
            now_ms.into(),
        ],
    )?;
    admission.apply(db, vec![insert]).await
}

/// A service's change events, newest first, at most `limit`.
pub async fn list_for_service(db: &Db, service_id: &str, limit: i64) -> ApiResult<Vec<ChangeRow>> {
    Ok(statement(
        db,
        &format!(
            "SELECT {COLUMNS} FROM change_events c WHERE c.service_id = ?1 \
             ORDER BY c.occurred_at DESC, c.rowid DESC LIMIT ?2"
        ),
        &[service_id.into(), limit.into()],
    )?
    .all()
    .await?
    .results()?)
}

/// The read of an incident's recent changes (its service's, in the 24 hours before it
/// opened, newest first, at most 10), to run in the batch that reads the incident.
pub fn recent_for_incident(db: &Db, incident_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {COLUMNS} FROM change_events c JOIN incidents i ON i.service_id = c.service_id \
             WHERE i.id = ?1 AND c.occurred_at <= i.created_at AND c.occurred_at >= i.created_at - ?2 \
             ORDER BY c.occurred_at DESC, c.rowid DESC LIMIT ?3"
        ),
        &[
            incident_id.into(),
            (RECENT_CHANGES_HOURS * 3_600_000).into(),
            MAX_RECENT_CHANGES.into(),
        ],
    )
}

/// Rows of [`recent_for_incident`] in the API shape.
pub fn wire(rows: Vec<ChangeRow>) -> ApiResult<Vec<ChangeEvent>> {
    rows.into_iter().map(ChangeRow::into_wire).collect()
}

/// Change events one prune statement deletes at most, so that each stays well inside D1's
/// per-query time limit.
const PRUNE_BATCH: i64 = 2_000;
/// Prune statements one scheduled run makes at most, per kind of prune.
const PRUNE_ROUNDS: usize = 10;

/// Deletes the change events that happened more than [`CHANGE_EVENT_KEPT_DAYS`] before
/// `now_ms`, each service's found through its index. Returns how many.
pub async fn prune_expired(db: &Db, now_ms: i64) -> ApiResult<usize> {
    let prune = statement(
        db,
        "DELETE FROM change_events WHERE rowid IN ( \
             SELECT c.rowid FROM services s JOIN change_events c \
                 ON c.service_id = s.id AND c.occurred_at < ?1 \
             LIMIT ?2)",
        &[
            (now_ms - CHANGE_EVENT_KEPT_DAYS * 86_400_000).into(),
            PRUNE_BATCH.into(),
        ],
    )?;
    in_rounds(&prune).await
}

/// The newest change event a service over the cap loses: its (cap + 1)-th newest, in the
/// order the list shows them (`occurred_at`, then arrival).
#[derive(Debug, Deserialize, Serialize)]
struct Cut {
    service_id: String,
    occurred_at: i64,
    position: i64,
}

/// Deletes, in every service holding more than `cap` change events, all but its newest
/// `cap`. Returns how many.
pub async fn prune_past_cap(db: &Db, cap: i64) -> ApiResult<usize> {
    // Where each service is cut is read once: deleting what lies past a cut does not
    // move it, and events arriving meanwhile are newer.
    let cuts: Vec<Cut> = statement(
        db,
        "SELECT s.id AS service_id, c.occurred_at, c.rowid AS position FROM services s \
         JOIN change_events c ON c.rowid = (SELECT k.rowid FROM change_events k \
             WHERE k.service_id = s.id ORDER BY k.occurred_at DESC, k.rowid DESC \
             LIMIT 1 OFFSET ?1)",
        &[cap.into()],
    )?
    .all()
    .await?
    .results()?;
    if cuts.is_empty() {
        return Ok(0);
    }
    let cuts = serde_json::to_string(&cuts)?;
    let prune = statement(
        db,
        "DELETE FROM change_events WHERE rowid IN ( \
             SELECT c.rowid FROM json_each(?1) cut JOIN change_events c \
                 ON c.service_id = cut.value ->> 'service_id' \
                 AND c.occurred_at <= cut.value ->> 'occurred_at' \
                 AND (c.occurred_at < cut.value ->> 'occurred_at' \
                     OR c.rowid <= cut.value ->> 'position') \
             LIMIT ?2)",
        &[cuts.as_str().into(), PRUNE_BATCH.into()],
    )?;
    in_rounds(&prune).await
}

/// Runs a prune statement until it deletes less than a full batch, at most
/// [`PRUNE_ROUNDS`] times. Returns how many rows went.
async fn in_rounds(prune: &Statement) -> ApiResult<usize> {
    let full = usize::try_from(PRUNE_BATCH).unwrap_or(usize::MAX);
    let mut total = 0;
    for _ in 0..PRUNE_ROUNDS {
        let deleted = changes(&prune.clone().run().await?);
        total += deleted;
        if deleted < full {
            break;
        }
    }
    Ok(total)
}
