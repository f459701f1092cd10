//! Incidents and their timelines (D1).
//!
//! Every change to an incident and its timeline entry are written in one D1 batch (a
//! transaction). The change stamps `last_change_id`; the entry is inserted by selecting
//! the incident with that stamp, so the entry exists exactly when the change happened,
//! and a no-op (acknowledging twice, resolving nothing) writes nothing.
//!
//! A person's edits of incidents (PagerDuty's `PUT`s) are checked against the incidents as
//! read, then applied, with their timeline entries and audit records, in one batch whose
//! update holds only while every incident is still as read ([`apply_edits`]): all of them
//! or none.
//!
//! An incident's `links` grow from its triggers and its runs' replies; [`merged_links_sql`]
//! bounds them (each `href` once, at most [`MAX_INCIDENT_LINKS`]) inside the statement that
//! adds them, so the bound holds without a read before the write.
//!
//! Triggers merged into an open incident are counted, not listed: the first of a minute
//! writes an `alert` row, and the others of that minute count themselves on it (in the
//! trigger's own batch, conditional in SQL), so a storm on one dedup key adds a row a
//! minute.

use serde::Deserialize;
use shared::api::{Incident, LogEntry, LogEntryType, ServiceRef};
use shared::events::{EventLink, EventPayload};
use shared::incident::{
    FieldChange, IncidentFields, IncidentStatus, Severity, Urgency, ValidNewIncident,
};
use shared::limits::{MAX_INCIDENT_LINKS, MAX_LIST_PAGE, MERGED_TRIGGERS_ROW_SECS};
use shared::paging::PageRequest;
use shared::time::format_rfc3339;

use super::actions::ROW_AS_JSON;
use super::batch::Batch;
use super::intake::{admitted_service, Admission, Verdict};
use super::sql::{changes, statement, Db, SqlValue, Statement};
use crate::domain::Principal;
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
    /// `None` when read by a list, which leaves it out.
    custom_details: Option<String>,
    details: Option<String>,
    /// `None` when read by a list, which leaves it out.
    links: Option<String>,
    dedup_key: String,
    event_count: i64,
    created_at: i64,
    updated_at: i64,
}

impl IncidentRow {
    /// Its id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The fields a person may change, as read.
    pub fn fields(&self) -> ApiResult<IncidentFields> {
        let corrupt = |what: &str| ApiError::Internal(format!("incident {}: bad {what}", self.id));
        Ok(IncidentFields {
            status: IncidentStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            title: self.title.clone(),
            urgency: Urgency::parse(&self.urgency).ok_or_else(|| corrupt("urgency"))?,
        })
    }

    /// Its number: its place in creation order, and its position in a paged list.
    pub fn number(&self) -> i64 {
        self.number
    }

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
            custom_details: self
                .custom_details
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            details: self.details,
            links: self
                .links
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
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
            recent_changes_truncated: false,
            actions: None,
        })
    }
}

const INCIDENT_COLUMNS: &str = "i.id, i.number, i.service_id, s.name AS service_name, i.title, \
     i.status, i.urgency, i.severity, i.source, i.component, i.grp, i.class, i.custom_details, \
     i.details, i.links, i.dedup_key, i.event_count, i.created_at, i.updated_at";
/// [`INCIDENT_COLUMNS`] without `custom_details` (up to 64 KiB each) and `links` (up to
/// 50): what lists read.
const LISTED_COLUMNS: &str = "i.id, i.number, i.service_id, s.name AS service_name, i.title, \
     i.status, i.urgency, i.severity, i.source, i.component, i.grp, i.class, \
     NULL AS custom_details, i.details, NULL AS links, i.dedup_key, i.event_count, \
     i.created_at, i.updated_at";
const INCIDENT_FROM: &str = "FROM incidents i JOIN services s ON s.id = i.service_id";

/// One page of incidents, newest first (by number, which follows creation), optionally
/// of one service and/or in one status: `page.rows_to_read()` rows from before the cursor.
pub async fn list(
    db: &Db,
    service_id: Option<&str>,
    status: Option<IncidentStatus>,
    page: &PageRequest,
) -> ApiResult<Vec<IncidentRow>> {
    let sql = format!(
        "SELECT {LISTED_COLUMNS} {INCIDENT_FROM} \
         WHERE (?1 IS NULL OR i.service_id = ?1) AND (?2 IS NULL OR i.status = ?2) \
           AND (?3 IS NULL OR i.number < ?3) \
         ORDER BY i.number DESC LIMIT ?4"
    );
    let status = status.map(IncidentStatus::as_str);
    Ok(statement(
        db,
        &sql,
        &[
            service_id.into(),
            status.into(),
            page.before.into(),
            page.rows_to_read().into(),
        ],
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

/// The read that finds whether incident `id` exists (one row, or none), to run in a
/// batch.
pub fn exists_statement(db: &Db, id: &str) -> ApiResult<Statement> {
    statement(
        db,
        "SELECT 1 AS found FROM incidents WHERE id = ?1",
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
        "SELECT {LISTED_COLUMNS} {INCIDENT_FROM} {FILTERED} \
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

/// The SQL of the links `current` (an incident's `links`) with the links of the JSON
/// array `new` added at the end: each whose `href` is neither on the incident nor earlier
/// in `new`, in order, while the incident holds fewer than [`MAX_INCIDENT_LINKS`]. Every
/// link the incident holds is kept as it is (links stored before the bound, beyond it or
/// of another shape, too).
pub fn merged_links_sql(current: &str, new: &str) -> String {
    // `current -> fullkey` is each element's own JSON text, whatever its type, so the
    // rebuilt array holds exactly what it held. The href of an element that is not an
    // object is never read: json_extract would fail on its bare text.
    format!(
        "(SELECT json_group_array(json(link)) FROM ( \
             SELECT link, ROW_NUMBER() OVER (ORDER BY part, place) AS position FROM ( \
                 SELECT 0 AS part, held.key AS place, {current} -> held.fullkey AS link \
                 FROM json_each({current}) held \
                 UNION ALL \
                 SELECT 1, sent.key, sent.value FROM json_each({new}) sent \
                 WHERE NOT EXISTS (SELECT 1 FROM json_each({current}) held \
                         WHERE CASE held.type WHEN 'object' \
                                 THEN json_extract(held.value, '$.href') END \
                             = json_extract(sent.value, '$.href')) \
                     AND NOT EXISTS (SELECT 1 FROM json_each({new}) earlier \
                         WHERE earlier.key < sent.key \
                             AND json_extract(earlier.value, '$.href') \
                                 = json_extract(sent.value, '$.href'))) \
             ORDER BY position) \
         WHERE position <= max(json_array_length({current}), {MAX_INCIDENT_LINKS}))"
    )
}

/// The upsert of a trigger event: a new incident with the event's links (`?11`, each
/// `href` once), or, on the open incident with the same dedup key, one more event and the
/// event's links merged into the incident's ([`merged_links_sql`]).
fn trigger_upsert_sql() -> String {
    format!(
        "INSERT INTO incidents (id, number, service_id, title, status, urgency, severity, source, \
             component, grp, class, custom_details, links, dedup_key, event_count, last_change_id, \
             created_at, updated_at) \
         SELECT ?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM incidents), s.id, ?3, 'triggered', \
             ?4, ?5, ?6, ?7, ?8, ?9, ?10, {new_links}, ?12, 1, ?13, ?14, ?14 \
         FROM services s WHERE s.id = {admitted} \
         ON CONFLICT (service_id, dedup_key) WHERE status != 'resolved' DO UPDATE SET \
             event_count = event_count + 1, last_change_id = excluded.last_change_id, \
             updated_at = excluded.updated_at, links = {merged_links}",
        new_links = merged_links_sql("'[]'", "?11"),
        admitted = admitted_service(2),
        merged_links = merged_links_sql("incidents.links", "excluded.links"),
    )
}

/// Opens an incident for a trigger event on the admitted service, or adds the event to
/// that service's open incident with the same dedup key, with its timeline entry: one
/// batch, one round trip, throttle included. Writes nothing unless the verdict is
/// `Admitted`.
pub async fn apply_trigger(
    db: &Db,
    admission: &Admission,
    dedup_key: &str,
    payload: &EventPayload,
    links: &[EventLink],
    now_ms: i64,
) -> ApiResult<Verdict> {
    let change_id = new_id("chg");
    let incident_id = new_id("inc");
    let custom_details = payload.custom_details.to_string();
    let links = serde_json::to_string(links)?;
    let upsert = statement(
        db,
        &trigger_upsert_sql(),
        &[
            (&incident_id).into(),
            admission.event_id.as_str().into(),
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
    let window_start = now_ms - MERGED_TRIGGERS_ROW_SECS * 1000;
    // A merged trigger counts itself on the incident's merge row of the last minute, if
    // there is one; else the insert below writes a row. The update runs first, so the
    // insert sees the row it just counted on.
    let counted = statement(
        db,
        &format!(
            "UPDATE log_entries SET merged_events = merged_events + 1, summary = ?1 \
             WHERE rowid = (SELECT l.rowid FROM incidents i JOIN log_entries l \
                 ON {recent_merge_row} \
                 WHERE i.last_change_id = ?2 AND i.event_count > 1 \
                 ORDER BY l.created_at DESC, l.rowid DESC LIMIT 1)",
            recent_merge_row = recent_merge_row_sql("i.id", 3),
        ),
        &[
            (&payload.summary).into(),
            (&change_id).into(),
            window_start.into(),
        ],
    )?;
    let entry = statement(
        db,
        &format!(
            "INSERT INTO log_entries (id, incident_id, type, agent, summary, merged_events, \
                 created_at) \
             SELECT ?1, i.id, CASE WHEN i.event_count = 1 THEN 'trigger' ELSE 'alert' END, ?2, \
                 CASE WHEN i.event_count = 1 THEN ?3 ELSE ?4 END, \
                 CASE WHEN i.event_count = 1 THEN NULL ELSE 1 END, ?5 \
             FROM incidents i WHERE i.last_change_id = ?6 AND (i.event_count = 1 \
                 OR NOT EXISTS (SELECT 1 FROM log_entries l WHERE {recent_merge_row}))",
            recent_merge_row = recent_merge_row_sql("i.id", 7),
        ),
        &[
            new_id("log").as_str().into(),
            (&agent).into(),
            format!("Triggered: {}", payload.summary).as_str().into(),
            (&payload.summary).into(),
            now_ms.into(),
            (&change_id).into(),
            window_start.into(),
        ],
    )?;
    admission.apply(db, vec![upsert, counted, entry]).await
}

/// The condition on `l` that it is the incident's merge row still counting: an `alert`
/// row with a count (rows from before counting have none) written after the window start
/// (parameter `?{window_start}`).
fn recent_merge_row_sql(incident: &str, window_start: usize) -> String {
    format!(
        "l.incident_id = {incident} AND l.type = 'alert' AND l.merged_events IS NOT NULL \
         AND l.created_at > ?{window_start}"
    )
}

/// The line of a merge row standing for `count` merged triggers, the latest with
/// `summary`.
fn merged_triggers_line(count: i64, summary: &str) -> String {
    if count == 1 {
        format!("Another trigger event was merged into this incident: {summary}")
    } else {
        format!(
            "{count} more trigger events were merged into this incident within a minute; \
             the latest: {summary}"
        )
    }
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
    let mut batch = Batch::new("incident by hand");
    batch.write(insert);
    batch.write(entry);
    let created = batch.read::<IncidentRow>(get_statement(db, &incident_id)?);
    let open_with_key = batch.read::<IdRow>(open_with_key);
    let answers = batch.send(db).await?;
    if let Some(created) = answers.first(&created)? {
        return Ok(ByHand::Created(Box::new(created)));
    }
    Ok(match answers.first(&open_with_key)? {
        Some(open) => ByHand::Duplicate(open.id),
        None => ByHand::NoSuchService,
    })
}

#[derive(Debug, Deserialize)]
struct IdRow {
    id: String,
}

/// What a transition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The incident exists.
    pub target_known: bool,
    /// The status changed (and a timeline entry was written).
    pub changed: bool,
}

/// Acknowledges or resolves the incident `id`, with the timeline entry, in one batch.
/// Acknowledging only moves `triggered`; resolving moves anything open; anything else is
/// a no-op.
pub async fn apply_transition(
    db: &Db,
    id: &str,
    to: IncidentStatus,
    agent: &str,
    now_ms: i64,
) -> ApiResult<Transition> {
    let (update, entry) = transition_statements(db, "id = ?4", &[id.into()], to, agent, now_ms)?;
    let mut batch = Batch::new("incident transition");
    let updated = batch.write(update);
    batch.write(entry);
    let exists = batch.read::<serde_json::Value>(exists_statement(db, id)?);
    let answers = batch.send(db).await?;
    let changed = answers.changes(updated)? > 0;
    let target_known = !answers.all(&exists)?.is_empty();
    Ok(Transition {
        target_known,
        changed,
    })
}

/// Acknowledges or resolves the admitted service's open incident with `dedup_key` (the
/// Events API), throttle included, in one batch. No open incident with the key is a no-op.
pub async fn apply_event_transition(
    db: &Db,
    admission: &Admission,
    dedup_key: &str,
    to: IncidentStatus,
    agent: &str,
    now_ms: i64,
) -> ApiResult<Verdict> {
    let target = format!("service_id = {} AND dedup_key = ?5", admitted_service(4));
    let (update, entry) = transition_statements(
        db,
        &target,
        &[admission.event_id.as_str().into(), dedup_key.into()],
        to,
        agent,
        now_ms,
    )?;
    admission.apply(db, vec![update, entry]).await
}

/// The update of a transition (of the incidents matching `target`, whose parameters are
/// `?4` and on) and the timeline entry that exists exactly when it changed something.
fn transition_statements(
    db: &Db,
    target: &str,
    target_params: &[SqlValue<'_>],
    to: IncidentStatus,
    agent: &str,
    now_ms: i64,
) -> ApiResult<(Statement, Statement)> {
    let Some(from_condition) = moving_condition(to) else {
        return Err(ApiError::Internal(format!(
            "no incident moves to {} by hand",
            to.as_str()
        )));
    };
    let change_id = new_id("chg");
    let mut params: Vec<SqlValue<'_>> =
        vec![to.as_str().into(), (&change_id).into(), now_ms.into()];
    params.extend_from_slice(target_params);
    let update = statement(
        db,
        &format!(
            "UPDATE incidents SET status = ?1, last_change_id = ?2, updated_at = ?3 \
             WHERE {target} AND {from_condition}"
        ),
        &params,
    )?;
    let entry = statement(
        db,
        "INSERT INTO log_entries (id, incident_id, type, agent, summary, created_at) \
         SELECT ?1, id, ?2, ?3, ?4, ?5 FROM incidents WHERE last_change_id = ?6",
        &[
            new_id("log").as_str().into(),
            to.entry_type().as_str().into(),
            agent.into(),
            to.moved_by(agent).as_str().into(),
            now_ms.into(),
            (&change_id).into(),
        ],
    )?;
    Ok((update, entry))
}

/// The SQL condition that an incident's status is one from which asking for `to` moves
/// it (`shared::incident`'s rule); `None` when none does.
fn moving_condition(to: IncidentStatus) -> Option<String> {
    let from: Vec<String> = IncidentStatus::moving_to(to)
        .into_iter()
        .map(|status| format!("'{}'", status.as_str()))
        .collect();
    (!from.is_empty()).then(|| format!("status IN ({})", from.join(", ")))
}

/// The reads of incidents by id, in the order of `ids` (each once; an unknown id has no
/// row): one statement, whatever their number.
pub fn get_many_statement(db: &Db, ids: &[&str]) -> ApiResult<Statement> {
    let ids = serde_json::to_string(ids)?;
    statement(db, &by_ids_sql(), &[(&ids).into()])
}

/// Incidents by id, in the order of `ids`: one round trip.
pub async fn get_many(db: &Db, ids: &[&str]) -> ApiResult<Vec<IncidentRow>> {
    Ok(get_many_statement(db, ids)?.all().await?.results()?)
}

/// The SQL of [`get_many_statement`]: `?1` is a JSON array of ids.
fn by_ids_sql() -> String {
    format!(
        "SELECT {INCIDENT_COLUMNS} FROM json_each(?1) asked \
         JOIN incidents i ON i.id = asked.value JOIN services s ON s.id = i.service_id \
         ORDER BY asked.key"
    )
}

/// A person's checked edit of one incident: its field changes, each from the value read
/// (`shared::incident::field_changes`), and a note to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentEdit {
    /// The incident.
    pub id: String,
    /// What changes, from what was read.
    pub changes: Vec<FieldChange>,
    /// A note for its timeline (PagerDuty's `resolution`), checked.
    pub note: Option<String>,
}

impl IncidentEdit {
    /// It writes nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.note.is_none()
    }
}

/// What applying edits did.
#[derive(Debug)]
pub enum Edited {
    /// Every edit is applied, with its timeline entries and audit records; the incidents
    /// asked for, as they now are.
    Applied(Vec<IncidentRow>),
    /// An incident was changed, or removed, since it was read: nothing was written.
    Conflict,
}

/// Applies `edits` (none empty) by `actor`, each change with its timeline entry and audit
/// record and each note as a timeline entry, and reads back the incidents `answer_ids`:
/// one batch, one round trip, whatever the number of edits.
///
/// The update holds only while every edited incident still has each value its changes
/// were checked against (a concurrent change makes it a no-op rather than a wrong write);
/// it stamps every edited incident, and the entries and records are written only for
/// incidents with that stamp. So the batch writes all of it or nothing, and a batch that
/// wrote nothing is a [`Edited::Conflict`].
pub async fn apply_edits(
    db: &Db,
    edits: &[IncidentEdit],
    answer_ids: &[&str],
    actor: &Principal,
    now_ms: i64,
) -> ApiResult<Edited> {
    let change_id = new_id("chg");
    let edit_rows = edit_rows_json(edits);
    let entries = edit_entries_json(edits, &actor.name, new_id);
    let update = statement(
        db,
        EDIT_UPDATE_SQL,
        &[(&edit_rows).into(), (&change_id).into(), now_ms.into()],
    )?;
    let timeline = statement(
        db,
        EDIT_TIMELINE_SQL,
        &[
            (&entries).into(),
            (&actor.name).into(),
            now_ms.into(),
            (&change_id).into(),
        ],
    )?;
    let audit = statement(
        db,
        EDIT_AUDIT_SQL,
        &[
            (&entries).into(),
            now_ms.into(),
            (&actor.id).into(),
            (&actor.name).into(),
            (&change_id).into(),
        ],
    )?;
    let mut batch = Batch::new("edited incidents");
    let updated = batch.write(update);
    batch.write(timeline);
    batch.write(audit);
    let edited_rows = batch.read::<IncidentRow>(get_many_statement(db, answer_ids)?);
    let answers = batch.send(db).await?;
    let edited = answers.changes(updated)?;
    if edited == 0 {
        return Ok(Edited::Conflict);
    }
    if edited != edits.len() {
        // The guard is one condition for all of them; a part can only mean a broken
        // statement, and is not to be answered as if it were done.
        return Err(ApiError::Internal(format!(
            "an edit of {} incidents changed {edited}",
            edits.len()
        )));
    }
    Ok(Edited::Applied(answers.all(&edited_rows)?))
}

/// The edits as [`EDIT_UPDATE_SQL`] reads them: per incident its new fields, and for each
/// field it changes the value read (`null` where it keeps the field).
fn edit_rows_json(edits: &[IncidentEdit]) -> String {
    let rows: Vec<serde_json::Value> = edits
        .iter()
        .map(|edit| {
            let mut row = serde_json::json!({ "id": edit.id });
            for change in &edit.changes {
                let (field, from, to) = match change {
                    FieldChange::Title { from, to } => ("title", from.as_str(), to.as_str()),
                    FieldChange::Urgency { from, to } => ("urgency", from.as_str(), to.as_str()),
                    FieldChange::Status { from, to } => ("status", from.as_str(), to.as_str()),
                };
                row[field] = to.into();
                row[format!("{field}_was")] = from.into();
            }
            row
        })
        .collect();
    serde_json::Value::from(rows).to_string()
}

/// The timeline entries of the edits, in order (each change, then the note), as
/// [`EDIT_TIMELINE_SQL`] and [`EDIT_AUDIT_SQL`] read them; a change's entry carries its
/// audit record, a note has none (as notes added on their own have none). Ids come from
/// `new_id`.
fn edit_entries_json(
    edits: &[IncidentEdit],
    agent: &str,
    mut new_id: impl FnMut(&str) -> String,
) -> String {
    let mut entries = Vec::new();
    for edit in edits {
        for change in &edit.changes {
            let (before, after) = change.audit_states();
            entries.push(serde_json::json!({
                "incident_id": edit.id,
                "log_id": new_id("log"),
                "type": change.entry_type().as_str(),
                "summary": change.summary(agent),
                "audit_id": new_id("aud"),
                "event": change.audit_event().as_str(),
                "target_type": change.audit_event().target().as_str(),
                "before": before,
                "after": after,
            }));
        }
        if let Some(note) = &edit.note {
            entries.push(serde_json::json!({
                "incident_id": edit.id,
                "log_id": new_id("log"),
                "type": LogEntryType::Note.as_str(),
                "summary": note,
            }));
        }
    }
    serde_json::Value::from(entries).to_string()
}

/// The update of [`apply_edits`]: `?1` the rows of [`edit_rows_json`], `?2` the change id,
/// `?3` the time. Every edited incident is stamped; its time moves only when a field
/// changes (a note alone leaves it, as on `/api`). The `NOT EXISTS` is the guard: no
/// edited incident may differ from what was read in a field its edit changes, or be gone.
const EDIT_UPDATE_SQL: &str = "UPDATE incidents SET \
         status = COALESCE(edit.status, incidents.status), \
         title = COALESCE(edit.title, incidents.title), \
         urgency = COALESCE(edit.urgency, incidents.urgency), \
         last_change_id = ?2, \
         updated_at = CASE WHEN edit.changes_fields THEN ?3 ELSE incidents.updated_at END \
     FROM (SELECT value ->> 'id' AS id, value ->> 'status' AS status, \
             value ->> 'title' AS title, value ->> 'urgency' AS urgency, \
             (value ->> 'status' IS NOT NULL OR value ->> 'title' IS NOT NULL \
                 OR value ->> 'urgency' IS NOT NULL) AS changes_fields \
           FROM json_each(?1)) AS edit \
     WHERE incidents.id = edit.id \
       AND NOT EXISTS (SELECT 1 FROM json_each(?1) asked WHERE NOT EXISTS ( \
           SELECT 1 FROM incidents held WHERE held.id = asked.value ->> 'id' \
             AND (asked.value ->> 'status_was' IS NULL \
                 OR held.status = asked.value ->> 'status_was') \
             AND (asked.value ->> 'title_was' IS NULL \
                 OR held.title = asked.value ->> 'title_was') \
             AND (asked.value ->> 'urgency_was' IS NULL \
                 OR held.urgency = asked.value ->> 'urgency_was')))";

/// The timeline entries of [`apply_edits`]: `?1` the entries of [`edit_entries_json`],
/// `?2` the agent, `?3` the time, `?4` the change id; only for incidents the update
/// stamped, in the entries' order.
const EDIT_TIMELINE_SQL: &str =
    "INSERT INTO log_entries (id, incident_id, type, agent, summary, created_at) \
     SELECT entry.value ->> 'log_id', i.id, entry.value ->> 'type', ?2, \
         entry.value ->> 'summary', ?3 \
     FROM json_each(?1) entry JOIN incidents i ON i.id = entry.value ->> 'incident_id' \
     WHERE i.last_change_id = ?4 ORDER BY entry.key";

/// The audit records of [`apply_edits`]: `?1` the entries of [`edit_entries_json`] (those
/// with an `event`), `?2` the time, `?3` and `?4` the actor's id and name, `?5` the change
/// id; only for incidents the update stamped.
const EDIT_AUDIT_SQL: &str = "INSERT INTO audit_log (id, created_at, actor_id, actor_name, \
         event, target_type, target_id, service_id, before, after) \
     SELECT entry.value ->> 'audit_id', ?2, ?3, ?4, entry.value ->> 'event', \
         entry.value ->> 'target_type', \
         i.id, i.service_id, entry.value -> 'before', entry.value -> 'after' \
     FROM json_each(?1) entry JOIN incidents i ON i.id = entry.value ->> 'incident_id' \
     WHERE i.last_change_id = ?5 AND entry.value ->> 'event' IS NOT NULL \
     ORDER BY entry.key";

/// Incidents one prune removes at most, so a run stays well inside D1's time limit; the
/// next hour takes the rest.
const PRUNE_BATCH: i64 = 1000;

/// Deletes, in every service holding more than `cap` incidents, its oldest resolved
/// incidents (their timelines and runs go with them, ON DELETE CASCADE) until it holds
/// `cap`, or has no resolved incident left. Open incidents are never pruned.
pub async fn prune_past_cap(db: &Db, cap: i64) -> ApiResult<usize> {
    let result = statement(
        db,
        "WITH over AS ( \
             SELECT service_id, COUNT(*) - ?1 AS excess FROM incidents \
             GROUP BY service_id HAVING COUNT(*) > ?1 \
         ), oldest AS ( \
             SELECT i.id, o.excess, ROW_NUMBER() OVER ( \
                 PARTITION BY i.service_id ORDER BY i.created_at, i.number) AS place \
             FROM incidents i JOIN over o ON o.service_id = i.service_id \
             WHERE i.status = 'resolved' \
         ) \
         DELETE FROM incidents WHERE id IN ( \
             SELECT id FROM oldest WHERE place <= excess LIMIT ?2)",
        &[cap.into(), PRUNE_BATCH.into()],
    )?
    .run()
    .await?;
    Ok(changes(&result))
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
#[derive(Deserialize)]
struct LogRow {
    position: i64,
    id: String,
    #[serde(rename = "type")]
    entry_type: String,
    agent: String,
    summary: String,
    run_id: Option<String>,
    attempt: Option<u32>,
    /// The merged triggers a merge row stands for; absent on every other row.
    #[serde(default)]
    merged_events: Option<i64>,
    created_at: i64,
}

/// The newest notes of an incident (at most a page), oldest first: PagerDuty's notes
/// list, which has no paging of its own.
pub async fn latest_notes(db: &Db, incident_id: &str) -> ApiResult<Vec<LogEntry>> {
    let rows: Vec<LogRow> = statement(
        db,
        "SELECT * FROM (SELECT rowid AS position, id, type, agent, summary, run_id, attempt, \
             created_at FROM log_entries WHERE incident_id = ?1 AND type = 'note' \
             ORDER BY created_at DESC, rowid DESC LIMIT ?2) ORDER BY created_at, position",
        &[incident_id.into(), i64::from(MAX_LIST_PAGE).into()],
    )?
    .all()
    .await?
    .results()?;
    Ok(rows
        .into_iter()
        .map(|row| LogEntry {
            id: row.id,
            entry_type: LogEntryType::Note,
            created_at: format_rfc3339(row.created_at),
            agent: row.agent,
            summary: row.summary,
            run: None,
            attempt: None,
        })
        .collect())
}

/// Where a page of a timeline starts.
#[derive(Debug, Clone, Copy)]
pub enum LogPage {
    /// After the entry at this position (`/api`'s cursor), or from the newest.
    Before(Option<i64>),
    /// After skipping this many of the newest (PagerDuty's `offset`).
    Offset(i64),
}

/// One page of an incident's timeline, newest first: `rows` entries at most (trigger,
/// alerts, acknowledge, resolve, notes, and one entry per attempt of each run, its line
/// drawn from the run), each with its position for the next cursor. One round trip.
pub async fn log_page(
    db: &Db,
    incident_id: &str,
    from: LogPage,
    rows_to_read: i64,
) -> ApiResult<Vec<(i64, LogEntry)>> {
    let (before, offset) = match from {
        LogPage::Before(before) => (before, 0),
        LogPage::Offset(offset) => (None, offset),
    };
    let page_sql = "SELECT rowid AS position, id, type, agent, summary, run_id, attempt, \
             merged_events, created_at FROM log_entries \
         WHERE incident_id = ?1 AND (?2 IS NULL OR (created_at, rowid) < \
             (SELECT created_at, rowid FROM log_entries WHERE rowid = ?2 AND incident_id = ?1)) \
         ORDER BY created_at DESC, rowid DESC LIMIT ?3 OFFSET ?4";
    let params: [SqlValue<'_>; 4] = [
        incident_id.into(),
        before.into(),
        rows_to_read.into(),
        offset.into(),
    ];
    let mut batch = Batch::new("timeline");
    let page = batch.read::<LogRow>(statement(db, page_sql, &params)?);
    let page_runs = batch.read::<super::runs::RunRow>(super::runs::with_ids_in(
        db,
        &format!("SELECT run_id FROM ({page_sql}) WHERE type = 'action_run'"),
        &params,
    )?);
    let answers = batch.send(db).await?;
    let stored = answers.all(&page)?;
    let runs = super::runs::from_rows(answers.all(&page_runs)?)?;
    stored
        .into_iter()
        .filter_map(|row| {
            let Some(entry_type) = LogEntryType::parse(&row.entry_type) else {
                return Some(Err(ApiError::Internal(format!("log {}: bad type", row.id))));
            };
            // Only merge rows have a count; their summary is the latest trigger's. Rows
            // merged before counting began hold their whole line.
            let summary = match row.merged_events {
                Some(count) => merged_triggers_line(count, &row.summary),
                None => row.summary,
            };
            let mut entry = LogEntry {
                id: row.id,
                entry_type,
                created_at: format_rfc3339(row.created_at),
                agent: row.agent,
                summary,
                run: None,
                attempt: None,
            };
            if entry_type == LogEntryType::ActionRun {
                // An attempt's line is drawn from its run; the run's details go with it.
                let run = runs
                    .iter()
                    .find(|run| Some(&run.id) == row.run_id.as_ref())?;
                let number = row.attempt.unwrap_or(1);
                let attempt = run
                    .attempts
                    .iter()
                    .find(|attempt| attempt.number == number)?;
                let summary = (number == run.attempt)
                    .then_some(run.summary.as_deref())
                    .flatten();
                entry.summary = shared::run_words::attempt_line(&run.action_name, attempt, summary);
                entry.run = Some(run.clone());
                entry.attempt = Some(number);
            }
            Some(Ok((row.position, entry)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A merge's SQL on one line, so a test can look for a clause whatever its wrapping.
    fn merge(current: &str, new: &str) -> String {
        merged_links_sql(current, new)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_merge_keeps_every_link_held_and_adds_only_up_to_50() {
        let sql = merge("incidents.links", "?3");
        assert!(sql.contains(
            "SELECT 0 AS part, held.key AS place, incidents.links -> held.fullkey AS link \
             FROM json_each(incidents.links) held UNION ALL"
        ));
        assert!(
            sql.ends_with("WHERE position <= max(json_array_length(incidents.links), 50))"),
            "{sql}"
        );
        assert!(
            sql.contains("ROW_NUMBER() OVER (ORDER BY part, place)"),
            "held first, in order"
        );
    }

    #[test]
    fn a_merge_does_not_add_an_href_the_incident_or_an_earlier_new_link_has() {
        let sql = merge("incidents.links", "?3");
        assert!(sql.contains(
            "SELECT 1, sent.key, sent.value FROM json_each(?3) sent \
             WHERE NOT EXISTS (SELECT 1 FROM json_each(incidents.links) held \
             WHERE CASE held.type WHEN 'object' THEN json_extract(held.value, '$.href') END \
             = json_extract(sent.value, '$.href')) \
             AND NOT EXISTS (SELECT 1 FROM json_each(?3) earlier \
             WHERE earlier.key < sent.key \
             AND json_extract(earlier.value, '$.href') = json_extract(sent.value, '$.href'))"
        ));
    }

    #[test]
    fn a_merge_row_names_one_merged_trigger_as_before_and_more_by_their_count() {
        assert_eq!(
            merged_triggers_line(1, "CPU high"),
            "Another trigger event was merged into this incident: CPU high"
        );
        assert_eq!(
            merged_triggers_line(20, "CPU high"),
            "20 more trigger events were merged into this incident within a minute; \
             the latest: CPU high"
        );
    }

    #[test]
    fn a_trigger_stores_its_links_once_each_and_a_merged_trigger_adds_them_to_the_incident() {
        let sql = trigger_upsert_sql()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let insert = format!("?10, {}, ?12", merge("'[]'", "?11"));
        assert!(sql.contains(&insert), "{sql}");
        let on_merge = format!(
            "updated_at = excluded.updated_at, links = {}",
            merge("incidents.links", "excluded.links")
        );
        assert!(sql.ends_with(&on_merge), "{sql}");
    }

    #[test]
    fn a_transition_moves_only_the_statuses_the_shared_rule_moves() {
        assert_eq!(
            moving_condition(IncidentStatus::Acknowledged).as_deref(),
            Some("status IN ('triggered')")
        );
        assert_eq!(
            moving_condition(IncidentStatus::Resolved).as_deref(),
            Some("status IN ('triggered', 'acknowledged')")
        );
        assert_eq!(moving_condition(IncidentStatus::Triggered), None);
    }

    fn edits() -> Vec<IncidentEdit> {
        vec![
            IncidentEdit {
                id: "inc_1".into(),
                changes: vec![
                    FieldChange::Title {
                        from: "Disk full".into(),
                        to: "Disk full on db-1".into(),
                    },
                    FieldChange::Status {
                        from: IncidentStatus::Triggered,
                        to: IncidentStatus::Resolved,
                    },
                ],
                note: Some("Rotated the logs".into()),
            },
            IncidentEdit {
                id: "inc_2".into(),
                changes: vec![FieldChange::Urgency {
                    from: Urgency::High,
                    to: Urgency::Low,
                }],
                note: None,
            },
        ]
    }

    #[test]
    fn an_edit_row_names_each_field_it_changes_with_the_value_read() {
        let rows: serde_json::Value = serde_json::from_str(&edit_rows_json(&edits())).unwrap();
        assert_eq!(
            rows,
            serde_json::json!([
                {"id": "inc_1", "title": "Disk full on db-1", "title_was": "Disk full",
                 "status": "resolved", "status_was": "triggered"},
                {"id": "inc_2", "urgency": "low", "urgency_was": "high"},
            ])
        );
        let note_only = IncidentEdit {
            id: "inc_3".into(),
            changes: Vec::new(),
            note: Some("n".into()),
        };
        assert_eq!(
            edit_rows_json(&[note_only]),
            r#"[{"id":"inc_3"}]"#,
            "a note alone guards only that the incident is there"
        );
    }

    #[test]
    fn each_change_has_a_timeline_entry_and_an_audit_record_and_a_note_only_an_entry() {
        let mut next = 0;
        let entries = edit_entries_json(&edits(), "Ada", |prefix| {
            next += 1;
            format!("{prefix}_{next}")
        });
        let entries: serde_json::Value = serde_json::from_str(&entries).unwrap();
        assert_eq!(
            entries,
            serde_json::json!([
                {"incident_id": "inc_1", "log_id": "log_1", "type": "title_change",
                 "summary": "Title changed from \"Disk full\" to \"Disk full on db-1\" by Ada",
                 "audit_id": "aud_2", "event": "incident.title_changed", "target_type": "incident",
                 "before": {"title": "Disk full"}, "after": {"title": "Disk full on db-1"}},
                {"incident_id": "inc_1", "log_id": "log_3", "type": "resolve",
                 "summary": "Resolved by Ada", "audit_id": "aud_4", "event": "incident.resolved",
                 "target_type": "incident",
                 "before": {"status": "triggered"}, "after": {"status": "resolved"}},
                {"incident_id": "inc_1", "log_id": "log_5", "type": "note",
                 "summary": "Rotated the logs"},
                {"incident_id": "inc_2", "log_id": "log_6", "type": "urgency_change",
                 "summary": "Urgency changed from high to low by Ada", "audit_id": "aud_7",
                 "event": "incident.urgency_changed", "target_type": "incident",
                 "before": {"urgency": "high"}, "after": {"urgency": "low"}},
            ])
        );
    }

    /// SQL on one line, so a test can look for a clause whatever its wrapping.
    fn one_line(sql: &str) -> String {
        sql.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn an_edit_updates_only_while_every_incident_edited_is_as_read() {
        let sql = one_line(EDIT_UPDATE_SQL);
        assert!(
            sql.contains(
                "WHERE incidents.id = edit.id AND NOT EXISTS (SELECT 1 FROM json_each(?1) asked \
                 WHERE NOT EXISTS ( SELECT 1 FROM incidents held \
                 WHERE held.id = asked.value ->> 'id' \
                 AND (asked.value ->> 'status_was' IS NULL \
                 OR held.status = asked.value ->> 'status_was') \
                 AND (asked.value ->> 'title_was' IS NULL \
                 OR held.title = asked.value ->> 'title_was') \
                 AND (asked.value ->> 'urgency_was' IS NULL \
                 OR held.urgency = asked.value ->> 'urgency_was')))"
            ),
            "{sql}"
        );
        assert!(
            sql.contains("last_change_id = ?2,"),
            "every edited incident is stamped"
        );
        assert!(
            sql.contains(
                "updated_at = CASE WHEN edit.changes_fields THEN ?3 ELSE incidents.updated_at END"
            ),
            "{sql}"
        );
    }

    #[test]
    fn an_edits_entries_and_records_are_written_only_for_incidents_it_stamped() {
        let timeline = one_line(EDIT_TIMELINE_SQL);
        assert!(
            timeline.ends_with("WHERE i.last_change_id = ?4 ORDER BY entry.key"),
            "{timeline}"
        );
        let audit = one_line(EDIT_AUDIT_SQL);
        assert!(
            audit.ends_with(
                "WHERE i.last_change_id = ?5 AND entry.value ->> 'event' IS NOT NULL \
                 ORDER BY entry.key"
            ),
            "{audit}"
        );
        assert!(
            audit.contains(
                "entry.value ->> 'target_type', i.id, i.service_id, entry.value -> 'before'"
            ),
            "{audit}"
        );
    }

    #[test]
    fn incidents_read_by_id_come_back_in_the_order_asked() {
        let sql = one_line(&by_ids_sql());
        assert!(
            sql.ends_with(
                "FROM json_each(?1) asked JOIN incidents i ON i.id = asked.value \
                 JOIN services s ON s.id = i.service_id ORDER BY asked.key"
            ),
            "{sql}"
        );
    }
}
