//! Change events (D1): what changed on a service (a deploy, a commit), as PagerDuty's
//! Change Events API reports it. Read back per service, and per incident as the changes
//! of the day before it opened.

use serde::Deserialize;
use shared::api::ChangeEvent;
use shared::events::ValidChangeEvent;
use shared::limits::{MAX_RECENT_CHANGES, RECENT_CHANGES_HOURS};
use shared::time::format_rfc3339;

use super::intake::{admitted_service, Admission, Verdict};
use super::sql::{statement, Db, Statement};
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
