//! Action runs (D1): claimed as `running` before the POST, finished with the verdict and
//! the timeline entry in one batch after it.
//!
//! Claiming first is what makes `Idempotency-Key` safe: the unique index on
//! (incident, action, key) lets exactly one of two concurrent identical requests send.

use serde::Deserialize;
use shared::api::{ActionRun, RunOutcome, RunStatus, SentHeader};
use shared::limits::IDEMPOTENCY_WINDOW_HOURS;
use shared::time::format_rfc3339;
use worker::D1Database;

use super::sql::{changes, statement};
use crate::delivery::Verdict;
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;

/// An `action_runs` row.
#[derive(Debug, Clone, Deserialize)]
pub struct RunRow {
    id: String,
    incident_id: String,
    action_id: String,
    action_name: String,
    status: String,
    outcome: Option<String>,
    http_status: Option<u16>,
    duration_ms: Option<u64>,
    response_excerpt: Option<String>,
    /// JSON array of [`SentHeader`], secret values already redacted.
    request_headers: Option<String>,
    requested_by: String,
    started_at: i64,
    finished_at: Option<i64>,
}

impl RunRow {
    /// Whether the POST is still in flight.
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }

    /// The API shape.
    pub fn into_wire(self) -> ApiResult<ActionRun> {
        let status = parse_enum::<RunStatus>(&self.status)
            .ok_or_else(|| ApiError::Internal(format!("run {}: bad status", self.id)))?;
        let outcome = self.outcome.as_deref().and_then(parse_enum::<RunOutcome>);
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
            started_at: format_rfc3339(self.started_at),
            finished_at: self.finished_at.map(format_rfc3339),
        })
    }
}

/// Parses a snake_case enum from its stored spelling.
fn parse_enum<T: serde::de::DeserializeOwned>(raw: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
}

/// The stored spelling of a snake_case enum.
fn spelling<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

const COLUMNS: &str = "id, incident_id, action_id, action_name, status, outcome, http_status, \
    duration_ms, response_excerpt, request_headers, requested_by, started_at, finished_at";

/// A run about to start. Owned, because it outlives the request (see `routes::runs`).
pub struct NewRun {
    /// `run_…`, also the `webhook-id`.
    pub id: String,
    /// The incident.
    pub incident_id: String,
    /// The action.
    pub action_id: String,
    /// Its label now.
    pub action_name: String,
    /// Who pressed the button.
    pub requested_by: String,
    /// The client's `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// Now (ms).
    pub started_at: i64,
}

/// How a run ended, ready to store.
pub struct Completion {
    /// Status, outcome, code and excerpt.
    pub verdict: Verdict,
    /// From sending to the end of the answer; `None` when nothing was sent (blocked).
    pub duration_ms: Option<i64>,
    /// Now (ms).
    pub finished_at: i64,
    /// The headers sent, secret values redacted; `None` when nothing was sent.
    pub request_headers: Option<Vec<SentHeader>>,
}

impl NewRun {
    /// The run as stored by [`finish`], without reading it back.
    pub fn finished(&self, completion: &Completion) -> ActionRun {
        let Completion {
            verdict,
            duration_ms,
            finished_at,
            request_headers,
        } = completion;
        ActionRun {
            id: self.id.clone(),
            incident_id: self.incident_id.clone(),
            action_id: self.action_id.clone(),
            action_name: self.action_name.clone(),
            status: verdict.status,
            outcome: Some(verdict.outcome),
            http_status: verdict.http_status,
            duration_ms: duration_ms.and_then(|ms| u64::try_from(ms).ok()),
            response_excerpt: verdict.excerpt.clone(),
            request_headers: request_headers.clone(),
            requested_by: self.requested_by.clone(),
            started_at: format_rfc3339(self.started_at),
            finished_at: Some(format_rfc3339(*finished_at)),
        }
    }
}

/// The result of trying to start a run.
pub enum Claim {
    /// This request owns the run and must send it.
    Claimed,
    /// An earlier request with the same key owns it; nothing must be sent.
    Existing(Box<RunRow>),
}

/// Records a `running` run, unless the idempotency key was used for this incident and
/// action within the window, in which case the earlier run is returned.
pub async fn claim(db: &D1Database, run: &NewRun) -> ApiResult<Claim> {
    let insert = statement(
        db,
        &format!(
            "INSERT INTO action_runs ({COLUMNS}, idempotency_key) \
             VALUES (?1, ?2, ?3, ?4, 'running', NULL, NULL, NULL, NULL, NULL, ?5, ?6, NULL, ?7) \
             ON CONFLICT (incident_id, action_id, idempotency_key) \
             WHERE idempotency_key IS NOT NULL DO NOTHING"
        ),
        &[
            (&run.id).into(),
            (&run.incident_id).into(),
            (&run.action_id).into(),
            (&run.action_name).into(),
            (&run.requested_by).into(),
            run.started_at.into(),
            run.idempotency_key.as_deref().into(),
        ],
    )?;
    let Some(key) = run.idempotency_key.as_deref() else {
        insert.run().await?;
        return Ok(Claim::Claimed);
    };
    // A key older than the window is forgotten first, so it may start a new run.
    let window_start = run.started_at - IDEMPOTENCY_WINDOW_HOURS * 3_600_000;
    let expire = statement(
        db,
        "UPDATE action_runs SET idempotency_key = NULL \
         WHERE incident_id = ?1 AND action_id = ?2 AND idempotency_key = ?3 AND started_at < ?4",
        &[
            (&run.incident_id).into(),
            (&run.action_id).into(),
            key.into(),
            window_start.into(),
        ],
    )?;
    let results = db.batch(vec![expire, insert]).await?;
    if results.get(1).is_some_and(|insert| changes(insert) == 1) {
        return Ok(Claim::Claimed);
    }
    let existing: Option<RunRow> = statement(
        db,
        &format!(
            "SELECT {COLUMNS} FROM action_runs \
             WHERE incident_id = ?1 AND action_id = ?2 AND idempotency_key = ?3"
        ),
        &[
            (&run.incident_id).into(),
            (&run.action_id).into(),
            key.into(),
        ],
    )?
    .first(None)
    .await?;
    existing
        .map(|row| Claim::Existing(Box::new(row)))
        .ok_or_else(|| ApiError::Internal("idempotency conflict without a run".into()))
}

/// Stores how the run ended and its timeline entry together.
pub async fn finish(
    db: &D1Database,
    run: &NewRun,
    completion: &Completion,
    agent_name: &str,
) -> ApiResult<()> {
    let Completion {
        verdict,
        duration_ms,
        finished_at,
        request_headers,
    } = completion;
    let status = spelling(verdict.status);
    let outcome = spelling(verdict.outcome);
    let request_headers = request_headers
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| ApiError::Internal(format!("run {}: {e}", run.id)))?;
    let update = statement(
        db,
        "UPDATE action_runs SET status = ?2, outcome = ?3, http_status = ?4, duration_ms = ?5, \
         response_excerpt = ?6, request_headers = ?7, finished_at = ?8 WHERE id = ?1",
        &[
            (&run.id).into(),
            (&status).into(),
            (&outcome).into(),
            verdict.http_status.map(i64::from).into(),
            (*duration_ms).into(),
            (&verdict.excerpt).into(),
            request_headers.as_deref().into(),
            (*finished_at).into(),
        ],
    )?;
    let summary = run_summary(&run.action_name, verdict, *duration_ms);
    let entry = statement(
        db,
        "INSERT INTO log_entries (id, incident_id, type, agent, summary, run_id, created_at) \
         VALUES (?1, ?2, 'action_run', ?3, ?4, ?5, ?6)",
        &[
            new_id("log").as_str().into(),
            (&run.incident_id).into(),
            agent_name.into(),
            (&summary).into(),
            (&run.id).into(),
            (*finished_at).into(),
        ],
    )?;
    db.batch(vec![update, entry]).await?;
    Ok(())
}

/// The timeline line for a run, e.g. `Ran "Restart web": succeeded (HTTP 200, 84 ms)`.
pub fn run_summary(action_name: &str, verdict: &Verdict, duration_ms: Option<i64>) -> String {
    if verdict.outcome == RunOutcome::Blocked {
        let reason = verdict
            .excerpt
            .as_deref()
            .unwrap_or("the endpoint is not allowed");
        return format!("Did not run \"{action_name}\": blocked, nothing was sent. {reason}");
    }
    let duration_ms = duration_ms.unwrap_or_default();
    let result = match (verdict.status, verdict.outcome, verdict.http_status) {
        (RunStatus::Succeeded, _, Some(code)) => {
            format!("succeeded (HTTP {code}, {duration_ms} ms)")
        }
        (_, RunOutcome::Redirect, Some(code)) => {
            format!("failed: the endpoint redirected (HTTP {code}); redirects are not followed")
        }
        (_, _, Some(code)) => format!("failed (HTTP {code}, {duration_ms} ms)"),
        (_, RunOutcome::Timeout, None) => "failed: no answer within 16 s".to_owned(),
        _ => "failed: could not reach the endpoint".to_owned(),
    };
    format!("Ran \"{action_name}\": {result}")
}

/// An incident's runs, newest first.
pub async fn list_for_incident(db: &D1Database, incident_id: &str) -> ApiResult<Vec<ActionRun>> {
    let rows: Vec<RunRow> = statement(
        db,
        &format!("SELECT {COLUMNS} FROM action_runs WHERE incident_id = ?1 ORDER BY started_at DESC, rowid DESC"),
        &[incident_id.into()],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter().map(RunRow::into_wire).collect()
}

/// One run.
pub async fn get(db: &D1Database, run_id: &str) -> ApiResult<Option<RunRow>> {
    Ok(statement(
        db,
        &format!("SELECT {COLUMNS} FROM action_runs WHERE id = ?1"),
        &[run_id.into()],
    )?
    .first(None)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(status: RunStatus, outcome: RunOutcome, http_status: Option<u16>) -> Verdict {
        Verdict {
            status,
            outcome,
            http_status,
            excerpt: None,
        }
    }

    #[test]
    fn a_successful_run_reads_as_success_with_code_and_time() {
        let line = run_summary(
            "Restart",
            &verdict(RunStatus::Succeeded, RunOutcome::Success, Some(200)),
            Some(84),
        );
        assert_eq!(line, "Ran \"Restart\": succeeded (HTTP 200, 84 ms)");
    }

    #[test]
    fn failures_say_what_happened() {
        let timeout = run_summary(
            "R",
            &verdict(RunStatus::Failed, RunOutcome::Timeout, None),
            Some(16_000),
        );
        assert!(timeout.contains("no answer within 16 s"));
        let redirect = run_summary(
            "R",
            &verdict(RunStatus::Failed, RunOutcome::Redirect, Some(302)),
            Some(5),
        );
        assert!(redirect.contains("redirects are not followed"));
        let error = run_summary(
            "R",
            &verdict(RunStatus::Failed, RunOutcome::HttpError, Some(500)),
            Some(5),
        );
        assert!(error.contains("failed (HTTP 500"));
    }

    #[test]
    fn a_blocked_run_says_nothing_was_sent_and_why() {
        let blocked = Verdict {
            excerpt: Some("Endpoint host 10.0.0.5 is a private address (10.0.0.0/8)".into()),
            ..verdict(RunStatus::Failed, RunOutcome::Blocked, None)
        };
        assert_eq!(
            run_summary("Restart", &blocked, None),
            "Did not run \"Restart\": blocked, nothing was sent. \
             Endpoint host 10.0.0.5 is a private address (10.0.0.0/8)"
        );
    }

    #[test]
    fn enum_spellings_round_trip() {
        assert_eq!(spelling(RunOutcome::NetworkError), "network_error");
        assert_eq!(
            parse_enum::<RunOutcome>("network_error"),
            Some(RunOutcome::NetworkError)
        );
    }
}
