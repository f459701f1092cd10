//! A run as D1 keeps it ([`RunRow`]) and as the API shows it: its attempts, and the reads
//! of runs by id and by incident.

use serde::Deserialize;
use shared::api::{ActionRun, RunAttempt, RunOutcome, RunStatus, SentHeader};
use shared::time::format_rfc3339;

use crate::error::{ApiError, ApiResult};
use crate::store::sql::{statement, Db, SqlValue, Statement};

/// An `action_runs` row.
#[derive(Debug, Clone, Deserialize)]
pub struct RunRow {
    id: String,
    incident_id: String,
    action_id: String,
    action_name: String,
    status: RunStatus,
    outcome: Option<RunOutcome>,
    http_status: Option<u16>,
    duration_ms: Option<u64>,
    response_excerpt: Option<String>,
    /// JSON array of [`SentHeader`], secret values already redacted.
    request_headers: Option<String>,
    requested_by: String,
    requested_by_name: Option<String>,
    /// JSON object of the input values sent.
    inputs: Option<String>,
    action_revision: Option<i64>,
    started_at: i64,
    finished_at: Option<i64>,
    reply_summary: Option<String>,
    reply_error: Option<String>,
    /// JSON array of [`StoredAttempt`]: the attempts before the latest, oldest first.
    attempts: Option<String>,
    /// Until when the sealed body is kept (ms); `null` once it is gone.
    body_expires_at: Option<i64>,
    /// The row's place in creation order (`rowid`): the history's order and cursor.
    position: i64,
}

/// An earlier attempt as `attempts` stores it (built in SQL by [`redelivery_claim`]).
#[derive(Debug, Clone, Deserialize)]
struct StoredAttempt {
    number: u32,
    status: RunStatus,
    outcome: Option<RunOutcome>,
    http_status: Option<u16>,
    duration_ms: Option<u64>,
    response_excerpt: Option<String>,
    requested_by: String,
    requested_by_name: Option<String>,
    started_at: i64,
    finished_at: Option<i64>,
}

impl StoredAttempt {
    fn into_wire(self) -> RunAttempt {
        RunAttempt {
            number: self.number,
            status: self.status,
            outcome: self.outcome,
            http_status: self.http_status,
            duration_ms: self.duration_ms,
            response_excerpt: self.response_excerpt,
            requested_by: self.requested_by,
            requested_by_name: self.requested_by_name,
            started_at: format_rfc3339(self.started_at),
            finished_at: self.finished_at.map(format_rfc3339),
        }
    }
}

/// The latest attempt of a run: its own fields.
pub fn latest_attempt(run: &ActionRun, number: u32) -> RunAttempt {
    RunAttempt {
        number,
        status: run.status,
        outcome: run.outcome,
        http_status: run.http_status,
        duration_ms: run.duration_ms,
        response_excerpt: run.response_excerpt.clone(),
        requested_by: run.requested_by.clone(),
        requested_by_name: run.requested_by_name.clone(),
        started_at: run.started_at.clone(),
        finished_at: run.finished_at.clone(),
    }
}

impl RunRow {
    /// Whether the POST is still in flight.
    pub fn is_running(&self) -> bool {
        self.status == RunStatus::Running
    }

    /// The action revision its latest attempt sent (0 for runs from before revisions).
    pub fn action_revision(&self) -> u64 {
        self.action_revision
            .and_then(|revision| u64::try_from(revision).ok())
            .unwrap_or(0)
    }

    /// The row's place in creation order, for the history's cursor.
    pub fn position(&self) -> i64 {
        self.position
    }

    /// The attempts before the latest, oldest first (an unreadable list reads as none).
    fn earlier_attempts(&self) -> Vec<RunAttempt> {
        self.attempts
            .as_deref()
            .and_then(|json| serde_json::from_str::<Vec<StoredAttempt>>(json).ok())
            .unwrap_or_default()
            .into_iter()
            .map(StoredAttempt::into_wire)
            .collect()
    }

    /// The API shape.
    pub fn into_wire(self) -> ApiResult<ActionRun> {
        let earlier = self.earlier_attempts();
        let (status, outcome) = (self.status, self.outcome);
        let request_headers = self
            .request_headers
            .as_deref()
            .map(serde_json::from_str::<Vec<SentHeader>>)
            .transpose()
            .map_err(|_| ApiError::Internal(format!("run {}: bad request_headers", self.id)))?;
        Ok(ActionRun {
            id: self.id,
            incident_id: self.incident_id,
            action_id: self.action_id,
            action_name: self.action_name,
            status,
            outcome,
            http_status: self.http_status,
            duration_ms: self.duration_ms,
            response_excerpt: self.response_excerpt,
            request_headers,
            requested_by: self.requested_by,
            requested_by_name: self.requested_by_name,
            inputs: self
                .inputs
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok()),
            action_revision: self.action_revision.and_then(|r| u64::try_from(r).ok()),
            summary: self.reply_summary,
            reply_error: self.reply_error,
            attempts: Vec::new(),
            attempt: 1,
            redeliverable: self.body_expires_at.is_some(),
            started_at: format_rfc3339(self.started_at),
            finished_at: self.finished_at.map(format_rfc3339),
        })
        .map(|mut run| {
            let mut attempts = earlier;
            let number = u32::try_from(attempts.len() + 1).unwrap_or(u32::MAX);
            attempts.push(latest_attempt(&run, number));
            run.attempts = attempts;
            run.attempt = number;
            run
        })
    }
}

/// The columns a new run is inserted with.
pub(super) const COLUMNS: &str =
    "id, incident_id, action_id, action_name, status, outcome, http_status, \
    duration_ms, response_excerpt, request_headers, requested_by, action_revision, started_at, \
    finished_at, requested_by_name, inputs, reply_summary, reply_error";

/// The columns a [`RunRow`] is read from.
pub(super) const READ_COLUMNS: &str = "id, incident_id, action_id, action_name, status, outcome, \
    http_status, duration_ms, response_excerpt, request_headers, requested_by, action_revision, \
    started_at, finished_at, requested_by_name, inputs, reply_summary, reply_error, attempts, \
    body_expires_at, rowid AS position";

/// The read of the runs whose ids `ids_sql` selects (with its own parameters), to run in
/// a batch: the runs a page of a timeline shows.
pub fn with_ids_in(db: &Db, ids_sql: &str, params: &[SqlValue<'_>]) -> ApiResult<Statement> {
    statement(
        db,
        &format!("SELECT {READ_COLUMNS} FROM action_runs WHERE id IN ({ids_sql})"),
        params,
    )
}

/// The read of a page of an incident's runs, newest first (in creation order, so a
/// redelivery moves no run between pages): `limit + 1` runs from before the run at
/// position `before`, to run in a batch.
pub fn incident_page(
    db: &Db,
    incident_id: &str,
    before: Option<i64>,
    limit: u32,
) -> ApiResult<Statement> {
    page_of(db, RunsOf::Incident, incident_id, before, limit)
}

/// Whose runs a page lists.
#[derive(Debug, Clone, Copy)]
pub(super) enum RunsOf {
    /// An incident's.
    Incident,
    /// An action's.
    Action,
}

/// The read of a page of the runs of `id`, newest first (by creation): `limit + 1` rows
/// from before the run at position `before`, so the caller knows whether another page
/// follows.
pub(super) fn page_of(
    db: &Db,
    of: RunsOf,
    id: &str,
    before: Option<i64>,
    limit: u32,
) -> ApiResult<Statement> {
    let column = match of {
        RunsOf::Incident => "incident_id",
        RunsOf::Action => "action_id",
    };
    statement(
        db,
        &format!(
            "SELECT {READ_COLUMNS} FROM action_runs \
             WHERE {column} = ?1 AND (?2 IS NULL OR rowid < ?2) \
             ORDER BY rowid DESC LIMIT ?3"
        ),
        &[id.into(), before.into(), (i64::from(limit) + 1).into()],
    )
}

/// The API shapes of run rows.
pub fn from_rows(rows: Vec<RunRow>) -> ApiResult<Vec<ActionRun>> {
    rows.into_iter().map(RunRow::into_wire).collect()
}

/// One run.
pub async fn get(db: &Db, run_id: &str) -> ApiResult<Option<RunRow>> {
    statement(
        db,
        &format!("SELECT {READ_COLUMNS} FROM action_runs WHERE id = ?1"),
        &[run_id.into()],
    )?
    .first(None)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_stored_as_the_wire_spells_them() {
        assert_eq!(RunOutcome::TemplateError.as_str(), "template_error");
        assert_eq!(
            RunOutcome::parse("network_error"),
            Some(RunOutcome::NetworkError)
        );
    }
}
