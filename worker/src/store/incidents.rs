//! Incidents and their timelines (D1).
//!
//! Every change to an incident and its timeline entry are written in one D1 batch (a
//! transaction). The change stamps `last_change_id`; the entry is inserted by selecting
//! the incident with that stamp, so the entry exists exactly when the change happened,
//! and a no-op (acknowledging twice, resolving nothing) writes nothing.

use serde::Deserialize;
use shared::api::{Incident, LogEntry, LogEntryType, ServiceRef};
use shared::events::EventPayload;
use shared::incident::{IncidentStatus, Severity, Urgency, ValidNewIncident};
use shared::time::format_rfc3339;

use super::actions::ROW_AS_JSON;
use super::sql::{changes, first_row, rows, statement, Db, SqlValue, Statement};
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;

/// An `incidents` row joined with its service's name.
#[derive(Debug, Clone, Deserialize)]
pub struct IncidentRow {
    id: String,
    number: i64,
    service_id: String,
    service_name: String,
    title: String,
    status: String,
    urgency: String,
    severity: String,
    source: String,
    component: Option<String>,
    grp: Option<String>,
    class: Option<String>,
    custom_details: String,
    details: Option<String>,
    links: String,
    dedup_key: String,
    event_count: i64,
    created_at: i64,
    updated_at: i64,
}

impl IncidentRow {
    /// The service it belongs to.
    pub fn service_id(&self) -> &str {
        &self.service_id
    }

    /// The API shape, without `actions`.
    pub fn into_wire(self) -> ApiResult<Incident> {
        let corrupt = |what: &str| ApiError::Internal(format!("incident {}: bad {what}", self.id));
        let status = IncidentStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?;
        let severity = Severity::parse(&self.severity).ok_or_else(|| corrupt("severity"))?;
        let urgency = Urgency::parse(&self.urgency).ok_or_else(|| corrupt("urgency"))?;
        Ok(Incident {
            number: self.number,
            title: self.title,
            status,
            urgency,
            severity,
            source: self.source,
            component: self.component,
            group: self.grp,
            class: self.class,
            custom_details: serde_json::from_str(&self.custom_details)?,
            details: self.details,
            links: serde_json::from_str(&self.links)?,
            dedup_key: self.dedup_key,
            event_count: self.event_count,
            service: ServiceRef {
                id: self.service_id,
                name: self.service_name,
            },
            created_at: format_rfc3339(self.created_at),
            updated_at: format_rfc3339(self.updated_at),
            id: self.id,
            recent_changes: None,
            actions: None,
        })
    }
}

const INCIDENT_COLUMNS: &str = "i.id, i.number, i.service_id, s.name AS service_name, i.title, \
     i.status, i.urgency, i.severity, i.source, i.component, i.grp, i.class, i.custom_details, \
     i.details, i.links, i.dedup_key, i.event_count, i.created_at, i.updated_at";
const INCIDENT_FROM: &str = "FROM incidents i JOIN services s ON s.id = i.service_id";

/// How many incidents a list returns at most.
pub const LIST_LIMIT: i64 = 500;

/// Incidents newest first, optionally of one service and/or in one status.
pub async fn list(
    db: &Db,
    service_id: Option<&str>,
    status: Option<IncidentStatus>,
) -> ApiResult<Vec<IncidentRow>> {
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} {INCIDENT_FROM} WHERE (?1 IS NULL OR i.service_id = ?1) AND (?2 IS NULL OR i.status = ?2) \
         ORDER BY i.created_at DESC, i.number DESC LIMIT ?3"
    );
    let status = status.map(IncidentStatus::as_str);
    Ok(statement(
        db,
        &sql,
        &[service_id.into(), status.into(), LIST_LIMIT.into()],
    )?
    .all()
    .await?
    .results()?)
}

/// The read of one incident, to run alone or in a batch.
pub fn get_statement(db: &Db, id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!("SELECT {INCIDENT_COLUMNS} {INCIDENT_FROM} WHERE i.id = ?1"),
        &[id.into()],
    )
}

/// The read of the incident a run belongs to, to run in a batch.
pub fn get_of_run_statement(db: &Db, run_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {INCIDENT_COLUMNS} {INCIDENT_FROM} \
             WHERE i.id = (SELECT incident_id FROM action_runs WHERE id = ?1)"
        ),
        &[run_id.into()],
    )
}

/// The read of one incident with, as JSON in `action_row`, the row of one of its
/// service's actions (`null` when the action is not of that service): a run's two reads
/// as one statement.
pub fn get_with_action_statement(db: &Db, id: &str, action_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {INCIDENT_COLUMNS}, \
                 (SELECT {ROW_AS_JSON} \
                  FROM action_slots a WHERE a.action_id = ?2 AND a.service_id = i.service_id) \
                 AS action_row \
             {INCIDENT_FROM} WHERE i.id = ?1"
        ),
        &[id.into(), action_id.into()],
    )
}

/// The filters and order of PagerDuty's `GET /incidents`; an empty list filters nothing.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// `statuses[]`.
    pub statuses: Vec<IncidentStatus>,
    /// `service_ids[]`.
    pub service_ids: Vec<String>,
    /// `urgencies[]`.
    pub urgencies: Vec<Urgency>,
    /// `incident_key`.
    pub incident_key: Option<String>,
    /// `sort_by=created_at:asc`.
    pub oldest_first: bool,
}

impl IncidentFilter {
    /// The filter as four parameters: JSON arrays (or NULL) and the key.
    fn args(&self) -> [Option<String>; 4] {
        fn list<T: AsRef<str>>(items: &[T]) -> Option<String> {
            (!items.is_empty()).then(|| {
                serde_json::Value::from(items.iter().map(AsRef::as_ref).collect::<Vec<_>>())
                    .to_string()
            })
        }
        let statuses: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
        let urgencies: Vec<&str> = self.urgencies.iter().map(|u| u.as_str()).collect();
        [
            list(&statuses),
            list(&self.service_ids),
            list(&urgencies),
            self.incident_key.clone(),
        ]
    }
}

const FILTERED: &str = "WHERE (?1 IS NULL OR i.status IN (SELECT value FROM json_each(?1))) \
     AND (?2 IS NULL OR i.service_id IN (SELECT value FROM json_each(?2))) \
     AND (?3 IS NULL OR i.urgency IN (SELECT value FROM json_each(?3))) \
     AND (?4 IS NULL OR i.dedup_key = ?4)";

/// One page of incidents matching `filter`: at most `limit` from `offset`.
pub async fn page(
    db: &Db,
    filter: &IncidentFilter,
    limit: i64,
    offset: i64,
) -> ApiResult<Vec<IncidentRow>> {
    let order = if filter.oldest_first { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} {INCIDENT_FROM} {FILTERED} \
         ORDER BY i.created_at {order}, i.number {order} LIMIT ?5 OFFSET ?6"
    );
    let [statuses, services, urgencies, key] = filter.args();
    Ok(statement(
        db,
        &sql,
        &[
            (&statuses).into(),
            (&services).into(),
            (&urgencies).into(),
            (&key).into(),
            limit.into(),
            offset.into(),
        ],
    )?
    .all()
    .await?
    .results()?)
}

/// How many incidents match `filter`.
pub async fn count(db: &Db, filter: &IncidentFilter) -> ApiResult<i64> {
    #[derive(Deserialize)]
    struct Count {
        total: i64,
    }
    let [statuses, services, urgencies, key] = filter.args();
    let counted: Option<Count> = statement(
        db,
        &format!("SELECT COUNT(*) AS total FROM incidents i {FILTERED}"),
        &[
            (&statuses).into(),
            (&services).into(),
            (&urgencies).into(),
            (&key).into(),
        ],
    )?
    .first(None)
    .await?;
    Ok(counted.map_or(0, |count| count.total))
}

/// Changes an incident's title and/or urgency (PagerDuty's `PUT /incidents/{id}`).
/// Returns whether the incident exists.
pub async fn update_title_urgency(
    db: &Db,
    id: &str,
    title: Option<&str>,
    urgency: Option<Urgency>,
    now_ms: i64,
) -> ApiResult<bool> {
    let updated = statement(
        db,
        "UPDATE incidents SET title = COALESCE(?2, title), urgency = COALESCE(?3, urgency), \
             updated_at = ?4 WHERE id = ?1",
        &[
            id.into(),
            title.into(),
            urgency.map(Urgency::as_str).into(),
            now_ms.into(),
        ],
    )?
    .run()
    .await?;
    Ok(changes(&updated) > 0)
}

/// The newest incident of a service, if it has any.
pub async fn latest_of_service(db: &Db, service_id: &str) -> ApiResult<Option<IncidentRow>> {
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} {INCIDENT_FROM} WHERE i.service_id = ?1 \
         ORDER BY i.created_at DESC, i.number DESC LIMIT 1"
    );
    statement(db, &sql, &[service_id.into()])?.first(None).await
}

/// One incident.
pub async fn get(db: &Db, id: &str) -> ApiResult<Option<IncidentRow>> {
    get_statement(db, id)?.first(None).await
}

/// Opens an incident for a trigger event on the service with `routing_key`, or adds the
/// event to that service's open incident with the same dedup key, with its timeline
/// entry: one batch, one round trip. Returns `false` (and writes nothing) when no service
/// has the routing key.
pub async fn apply_trigger(
    db: &Db,
    routing_key: &str,
    dedup_key: &str,
    payload: &EventPayload,
    links: &serde_json::Value,
    now_ms: i64,
) -> ApiResult<bool> {
    let change_id = new_id("chg");
    let incident_id = new_id("inc");
    let custom_details = payload.custom_details.to_string();
    let links = links.to_string();
    let upsert = statement(
        db,
        "INSERT INTO incidents (id, number, service_id, title, status, urgency, severity, source, \
             component, grp, class, custom_details, links, dedup_key, event_count, last_change_id, \
             created_at, updated_at) \
         SELECT ?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM incidents), s.id, ?3, 'triggered', \
             ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1, ?13, ?14, ?14 \
         FROM services s WHERE s.routing_key = ?2 \
         ON CONFLICT (service_id, dedup_key) WHERE status != 'resolved' DO UPDATE SET \
             event_count = event_count + 1, last_change_id = excluded.last_change_id, \
             updated_at = excluded.updated_at",
        &[
            (&incident_id).into(),
            routing_key.into(),
            (&payload.summary).into(),
            payload.severity.urgency().as_str().into(),
            payload.severity.as_str().into(),
            (&payload.source).into(),
            (&payload.component).into(),
            (&payload.group).into(),
            (&payload.class).into(),
            (&custom_details).into(),
            (&links).into(),
            dedup_key.into(),
            (&change_id).into(),
            now_ms.into(),
        ],
    )?;
    let agent = format!("Events API ({})", payload.source);
    let entry = statement(
        db,
        "INSERT INTO log_entries (id, incident_id, type, agent, summary, created_at) \
         SELECT ?1, id, CASE WHEN event_count = 1 THEN 'trigger' ELSE 'alert' END, ?2, \
             CASE WHEN event_count = 1 THEN ?3 ELSE ?4 END, ?5 \
         FROM incidents WHERE last_change_id = ?6",
        &[
            new_id("log").as_str().into(),
            (&agent).into(),
            format!("Triggered: {}", payload.summary).as_str().into(),
            format!(
                "Another trigger event was merged into this incident: {}",
                payload.summary
            )
            .as_str()
            .into(),
            now_ms.into(),
            (&change_id).into(),
        ],
    )?;
    let results = db.batch(vec![upsert, entry]).await?;
    Ok(results.first().is_some_and(|upsert| changes(upsert) > 0))
}

/// What opening an incident by hand did.
#[derive(Debug)]
pub enum ByHand {
    /// Opened, with its first timeline entry.
    Created(Box<IncidentRow>),
    /// An open incident of the service already has the dedup key: this one.
    Duplicate(String),
    /// No such service.
    NoSuchService,
}

/// The `source` of an incident opened by hand: no monitor sent it.
pub const BY_HAND_SOURCE: &str = "manual";

/// Opens an incident typed by a person, with the timeline entry "Created by <name>":
/// one batch, one round trip. A dedup key an open incident of the service already has
/// creates nothing and names that incident.
pub async fn create_by_hand(
    db: &Db,
    new: &ValidNewIncident,
    creator_name: &str,
    now_ms: i64,
) -> ApiResult<ByHand> {
    let change_id = new_id("chg");
    let incident_id = new_id("inc");
    let dedup_key = new.dedup_key.clone().unwrap_or_else(|| incident_id.clone());
    let insert = statement(
        db,
        "INSERT INTO incidents (id, number, service_id, title, status, urgency, severity, source, \
             custom_details, details, links, dedup_key, event_count, last_change_id, created_at, \
             updated_at) \
         SELECT ?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM incidents), s.id, ?3, 'triggered', \
             ?4, ?5, ?6, 'null', ?7, '[]', ?8, 1, ?9, ?10, ?10 \
         FROM services s WHERE s.id = ?2 \
         ON CONFLICT (service_id, dedup_key) WHERE status != 'resolved' DO NOTHING",
        &[
            (&incident_id).into(),
            (&new.service_id).into(),
            (&new.title).into(),
            new.urgency.as_str().into(),
            new.urgency.severity_by_hand().as_str().into(),
            BY_HAND_SOURCE.into(),
            (&new.details).into(),
            (&dedup_key).into(),
            (&change_id).into(),
            now_ms.into(),
        ],
    )?;
    let entry = statement(
        db,
        "INSERT INTO log_entries (id, incident_id, type, agent, summary, created_at) \
         SELECT ?1, id, 'trigger', ?2, ?3, ?4 FROM incidents WHERE last_change_id = ?5",
        &[
            new_id("log").as_str().into(),
            creator_name.into(),
            format!("Created by {creator_name}").as_str().into(),
            now_ms.into(),
            (&change_id).into(),
        ],
    )?;
    let open_with_key = statement(
        db,
        "SELECT id FROM incidents WHERE service_id = ?1 AND dedup_key = ?2 \
             AND status != 'resolved'",
        &[(&new.service_id).into(), (&dedup_key).into()],
    )?;
    let results = db
        .batch(vec![
            insert,
            entry,
            get_statement(db, &incident_id)?,
            open_with_key,
        ])
        .await?;
    if let Some(created) = first_row::<IncidentRow>(&results, 2, "incident by hand")? {
        return Ok(ByHand::Created(Box::new(created)));
    }
    Ok(match first_row::<IdRow>(&results, 3, "incident by hand")? {
        Some(open) => ByHand::Duplicate(open.id),
        None => ByHand::NoSuchService,
    })
}

#[derive(Debug, Deserialize)]
struct IdRow {
    id: String,
}

/// Which incident a transition applies to.
pub enum Target<'a> {
    /// By id (the UI and API).
    Id(&'a str),
    /// The open incident with this dedup key of the service with this routing key (the
    /// Events API).
    OpenWithDedupKey {
        /// The service's integration key.
        routing_key: &'a str,
        /// The key.
        dedup_key: &'a str,
    },
}

/// What a transition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The incident (by id) or the service (by routing key) exists.
    pub target_known: bool,
    /// The status changed (and a timeline entry was written).
    pub changed: bool,
}

/// Acknowledges or resolves, with the timeline entry, in one batch. Acknowledging only
/// moves `triggered`; resolving moves anything open; anything else is a no-op.
pub async fn apply_transition(
    db: &Db,
    target: Target<'_>,
    to: IncidentStatus,
    agent: &str,
    now_ms: i64,
) -> ApiResult<Transition> {
    let (from_condition, entry_type, verb) = match to {
        IncidentStatus::Acknowledged => ("status = 'triggered'", "acknowledge", "Acknowledged"),
        IncidentStatus::Resolved => ("status != 'resolved'", "resolve", "Resolved"),
        IncidentStatus::Triggered => {
            return Err(ApiError::Internal(
                "incidents are triggered only by events".into(),
            ))
        }
    };
    let change_id = new_id("chg");
    let (target_condition, exists_sql, a, b) = match target {
        Target::Id(id) => (
            "id = ?4 AND ?5 IS NULL",
            "SELECT 1 AS found FROM incidents WHERE id = ?1",
            SqlValue::Text(id),
            SqlValue::Null,
        ),
        Target::OpenWithDedupKey {
            routing_key,
            dedup_key,
        } => (
            "service_id = (SELECT id FROM services WHERE routing_key = ?4) AND dedup_key = ?5",
            "SELECT 1 AS found FROM services WHERE routing_key = ?1",
            SqlValue::Text(routing_key),
            SqlValue::Text(dedup_key),
        ),
    };
    let update = statement(
        db,
        &format!(
            "UPDATE incidents SET status = ?1, last_change_id = ?2, updated_at = ?3 \
             WHERE {target_condition} AND {from_condition}"
        ),
        &[to.as_str().into(), (&change_id).into(), now_ms.into(), a, b],
    )?;
    let entry = statement(
        db,
        "INSERT INTO log_entries (id, incident_id, type, agent, summary, created_at) \
         SELECT ?1, id, ?2, ?3, ?4, ?5 FROM incidents WHERE last_change_id = ?6",
        &[
            new_id("log").as_str().into(),
            entry_type.into(),
            agent.into(),
            format!("{verb} by {agent}").as_str().into(),
            now_ms.into(),
            (&change_id).into(),
        ],
    )?;
    let exists = statement(db, exists_sql, &[a])?;
    let results = db.batch(vec![update, entry, exists]).await?;
    let changed = results.first().is_some_and(|update| changes(update) > 0);
    let target_known = match results.get(2) {
        Some(found) => !found.results::<serde_json::Value>()?.is_empty(),
        None => false,
    };
    Ok(Transition {
        target_known,
        changed,
    })
}

/// Adds a note to an incident's timeline, unless the incident does not exist (`None`).
pub async fn add_note(
    db: &Db,
    incident_id: &str,
    agent: &str,
    content: &str,
    now_ms: i64,
) -> ApiResult<Option<LogEntry>> {
    let id = new_id("log");
    let insert = statement(
        db,
        "INSERT INTO log_entries (id, incident_id, type, agent, summary, created_at) \
         SELECT ?1, id, 'note', ?3, ?4, ?5 FROM incidents WHERE id = ?2",
        &[
            id.as_str().into(),
            incident_id.into(),
            agent.into(),
            content.into(),
            now_ms.into(),
        ],
    )?
    .run()
    .await?;
    if changes(&insert) == 0 {
        return Ok(None);
    }
    Ok(Some(LogEntry {
        id,
        entry_type: LogEntryType::Note,
        created_at: format_rfc3339(now_ms),
        agent: agent.to_owned(),
        summary: content.to_owned(),
        run: None,
        attempt: None,
    }))
}

/// A `log_entries` row.
#[derive(Debug, Deserialize)]
struct LogRow {
    id: String,
    #[serde(rename = "type")]
    entry_type: String,
    agent: String,
    summary: String,
    created_at: i64,
}

/// An incident's timeline, oldest first: the stored entries (trigger, alerts,
/// acknowledge, resolve, notes) and one `action_run` entry per run, derived from the run
/// itself, one per attempt (`runs::attempt_line`). One round trip.
pub async fn log_entries(db: &Db, incident_id: &str) -> ApiResult<Vec<LogEntry>> {
    let stored = statement(
        db,
        "SELECT id, type, agent, summary, created_at FROM log_entries \
         WHERE incident_id = ?1 AND type != 'action_run' ORDER BY created_at, rowid",
        &[incident_id.into()],
    )?;
    let results = db
        .batch(vec![stored, super::runs::for_incident(db, incident_id)?])
        .await?;
    let stored: Vec<LogRow> = rows(&results, 0, "timeline")?;
    let runs = super::runs::from_rows(rows(&results, 1, "timeline")?)?;
    let mut entries = stored
        .into_iter()
        .map(|row| {
            let entry_type = parse_entry_type(&row.entry_type)
                .ok_or_else(|| ApiError::Internal(format!("log {}: bad type", row.id)))?;
            Ok(LogEntry {
                id: row.id,
                entry_type,
                created_at: format_rfc3339(row.created_at),
                agent: row.agent,
                summary: row.summary,
                run: None,
                attempt: None,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    // One entry per attempt: the first send, then each redelivery, each at its own time.
    for run in runs {
        let latest = run.attempts.len();
        for (index, attempt) in run.attempts.iter().enumerate() {
            let is_latest = index + 1 == latest;
            let summary = is_latest.then_some(run.summary.as_deref()).flatten();
            entries.push(LogEntry {
                id: match attempt.number {
                    1 => format!("log_{}", run.id),
                    number => format!("log_{}_{number}", run.id),
                },
                entry_type: LogEntryType::ActionRun,
                created_at: attempt.started_at.clone(),
                agent: attempt
                    .requested_by_name
                    .clone()
                    .unwrap_or_else(|| attempt.requested_by.clone()),
                summary: super::runs::attempt_line(&run.action_name, attempt, summary),
                run: Some(run.clone()),
                attempt: Some(attempt.number),
            });
        }
    }
    // RFC 3339 in one fixed UTC format sorts as text; the sort is stable, so entries of
    // the same millisecond keep their order.
    entries.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    Ok(entries)
}

fn parse_entry_type(raw: &str) -> Option<LogEntryType> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
}
