//! Action runs (D1): claimed as `running` with a "started" timeline entry in one batch
//! before the POST, finished in one batch after it.
//!
//! Claiming first is what makes `Idempotency-Key` safe: the unique index on
//! (incident, action, key) lets exactly one of two concurrent identical requests send.
//! The claim also counts the caller's rate limit and checks that the action is still at
//! the revision being sent, in the same batch, so a run costs two D1 round trips before
//! its POST leaves. Finishing only moves a run out of `running`, so it can be retried
//! safely; a run nobody finished is settled as `unknown` by the scheduled handler.

use serde::Deserialize;
use shared::api::{ActionRun, RunOutcome, RunStatus, SentHeader};
use shared::limits::{IDEMPOTENCY_WINDOW_HOURS, RUN_DEADLINE_SECS};
use shared::time::format_rfc3339;

use super::rate_limits;
use super::sql::{changes, first_row, statement, Db, Statement};
use crate::delivery::Verdict;
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::rate_limit::{self, Window};

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
    action_revision: Option<i64>,
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
            action_revision: self.action_revision.and_then(|r| u64::try_from(r).ok()),
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
    duration_ms, response_excerpt, request_headers, requested_by, action_revision, started_at, \
    finished_at";

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
    /// The revision of the action's configuration being sent.
    pub action_revision: u64,
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
            action_revision: Some(self.action_revision),
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
    /// The caller started too many runs this window; nothing was recorded.
    RateLimited,
    /// The action was deleted, disabled or edited since it was read; nothing was
    /// recorded. Carries the row as it is now (`None`: deleted).
    ActionChanged(Option<ActionState>),
}

/// An action's row as the claim found it.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ActionState {
    /// 1 when enabled.
    pub enabled: i64,
}

/// The read of the earlier run with `key` for this incident and action within the
/// idempotency window, to batch with a run's first reads: a replay is answered before
/// anything else is checked.
pub fn find_by_key(
    db: &Db,
    incident_id: &str,
    action_id: &str,
    key: &str,
    now_ms: i64,
) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {COLUMNS} FROM action_runs \
             WHERE incident_id = ?1 AND action_id = ?2 AND idempotency_key = ?3 AND started_at >= ?4"
        ),
        &[
            incident_id.into(),
            action_id.into(),
            key.into(),
            idempotency_window_start(now_ms).into(),
        ],
    )
}

fn idempotency_window_start(now_ms: i64) -> i64 {
    now_ms - IDEMPOTENCY_WINDOW_HOURS * 3_600_000
}

/// The "started" line of a run's timeline entry; [`finish`] replaces it with the result.
pub fn started_summary(action_name: &str) -> String {
    format!("Running \"{action_name}\"… waiting for the endpoint")
}

/// What [`claim`] counts against: the caller's bucket, the window, and the limit.
pub struct RateLimit<'a> {
    /// The caller's bucket.
    pub bucket: &'a str,
    /// The current window.
    pub window: Window,
    /// Runs allowed per window.
    pub limit: i64,
}

/// Records a `running` run and its "started" timeline entry in one batch, counting the
/// caller's rate limit and checking the action is still enabled at the revision being
/// sent, unless the idempotency key was used for this incident and action within the
/// window (the earlier run is returned).
pub async fn claim(
    db: &Db,
    run: &NewRun,
    agent_name: &str,
    rate: &RateLimit<'_>,
) -> ApiResult<Claim> {
    let key = run.idempotency_key.as_deref();
    let revision = i64::try_from(run.action_revision).unwrap_or(i64::MAX);
    let mut batch = vec![rate_limits::hit_statement(db, rate.bucket, rate.window)?];
    if let Some(key) = key {
        // A key older than the window is forgotten first, so it may start a new run.
        batch.push(statement(
            db,
            "UPDATE action_runs SET idempotency_key = NULL \
             WHERE incident_id = ?1 AND action_id = ?2 AND idempotency_key = ?3 AND started_at < ?4",
            &[
                (&run.incident_id).into(),
                (&run.action_id).into(),
                key.into(),
                idempotency_window_start(run.started_at).into(),
            ],
        )?);
    }
    let insert_at = batch.len();
    batch.push(statement(
        db,
        &format!(
            "INSERT INTO action_runs ({COLUMNS}, idempotency_key) \
             SELECT ?1, ?2, ?3, ?4, 'running', NULL, NULL, NULL, NULL, NULL, ?5, ?6, ?7, NULL, ?8 \
             WHERE (SELECT count FROM rate_limits WHERE bucket = ?9 AND window_start = ?10) <= ?11 \
               AND EXISTS (SELECT 1 FROM action_slots WHERE action_id = ?3 AND revision = ?6 \
                           AND (enabled = 1 OR revision = 0)) \
             ON CONFLICT (incident_id, action_id, idempotency_key) \
             WHERE idempotency_key IS NOT NULL DO NOTHING"
        ),
        &[
            (&run.id).into(),
            (&run.incident_id).into(),
            (&run.action_id).into(),
            (&run.action_name).into(),
            (&run.requested_by).into(),
            revision.into(),
            run.started_at.into(),
            key.into(),
            rate.bucket.into(),
            rate.window.start_ms.into(),
            rate.limit.into(),
        ],
    )?);
    batch.push(statement(
        db,
        "INSERT INTO log_entries (id, incident_id, type, agent, summary, run_id, created_at) \
         SELECT ?1, incident_id, 'action_run', ?2, ?3, id, started_at FROM action_runs WHERE id = ?4",
        &[
            new_id("log").as_str().into(),
            agent_name.into(),
            started_summary(&run.action_name).as_str().into(),
            (&run.id).into(),
        ],
    )?);
    let existing_at = batch.len();
    if let Some(key) = key {
        batch.push(find_by_key(
            db,
            &run.incident_id,
            &run.action_id,
            key,
            run.started_at,
        )?);
    }
    let state_at = batch.len();
    batch.push(statement(
        db,
        "SELECT enabled FROM action_slots WHERE action_id = ?1",
        &[(&run.action_id).into()],
    )?);
    let results = db.batch(batch).await?;
    if results
        .get(insert_at)
        .is_some_and(|insert| changes(insert) == 1)
    {
        return Ok(Claim::Claimed);
    }
    if key.is_some() {
        let existing: Option<RunRow> = first_row(&results, existing_at, "claim")?;
        if let Some(existing) = existing.filter(|row| row.id != run.id) {
            return Ok(Claim::Existing(Box::new(existing)));
        }
    }
    if rate_limit::exceeds(rate_limits::counted(results.first())?, rate.limit) {
        return Ok(Claim::RateLimited);
    }
    Ok(Claim::ActionChanged(first_row(
        &results, state_at, "claim",
    )?))
}

/// Stores how the run ended, and turns its "started" timeline entry into the result, in
/// one batch. Only a run still `running` is moved, so a retry after a write that did land
/// changes nothing. Returns whether this call moved it.
pub async fn finish(db: &Db, run: &NewRun, completion: &Completion) -> ApiResult<bool> {
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
    let summary = run_summary(&run.action_name, verdict, *duration_ms);
    // The entry first, while the run is still `running`: the batch is one transaction,
    // so the run is certain to move with it.
    let entry = statement(
        db,
        "UPDATE log_entries SET summary = ?2 WHERE run_id = ?1 AND type = 'action_run' \
         AND EXISTS (SELECT 1 FROM action_runs WHERE id = ?1 AND status = 'running')",
        &[(&run.id).into(), (&summary).into()],
    )?;
    let update = statement(
        db,
        "UPDATE action_runs SET status = ?2, outcome = ?3, http_status = ?4, duration_ms = ?5, \
         response_excerpt = ?6, request_headers = ?7, finished_at = ?8 \
         WHERE id = ?1 AND status = 'running'",
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
    let results = db.batch(vec![entry, update]).await?;
    Ok(results.get(1).is_some_and(|update| changes(update) == 1))
}

/// What a run left `running` past its deadline is settled as: its endpoint may or may
/// not have received it, and no one knows how it answered.
pub const UNKNOWN_OUTCOME: &str = "outcome unknown: Incident Actions stopped before it could \
    record the endpoint's answer, so the endpoint may have received it. Check there before \
    running it again";

/// Settles every run still `running` that started before `cutoff_ms` as `failed` with
/// outcome `unknown`, its timeline entry saying so (one batch). Returns how many.
pub async fn settle_abandoned(db: &Db, cutoff_ms: i64, now_ms: i64) -> ApiResult<usize> {
    let abandoned = "SELECT id FROM action_runs WHERE status = 'running' AND started_at < ?1";
    // Runs claimed before "started" entries existed have no entry yet: give them one.
    let missing = statement(
        db,
        &format!(
            "INSERT INTO log_entries (id, incident_id, type, agent, summary, run_id, created_at) \
             SELECT 'log_' || r.id, r.incident_id, 'action_run', 'Incident Actions', '', r.id, ?2 \
             FROM action_runs r WHERE r.id IN ({abandoned}) \
               AND NOT EXISTS (SELECT 1 FROM log_entries l WHERE l.run_id = r.id)"
        ),
        &[cutoff_ms.into(), now_ms.into()],
    )?;
    let entries = statement(
        db,
        &format!(
            "UPDATE log_entries SET summary = 'Ran \"' || \
                 (SELECT action_name FROM action_runs WHERE id = log_entries.run_id) || '\": ' || ?2 \
             WHERE type = 'action_run' AND run_id IN ({abandoned})"
        ),
        &[cutoff_ms.into(), UNKNOWN_OUTCOME.into()],
    )?;
    let runs = statement(
        db,
        "UPDATE action_runs SET status = 'failed', outcome = 'unknown', finished_at = ?2, \
             response_excerpt = ?3 \
         WHERE status = 'running' AND started_at < ?1",
        &[cutoff_ms.into(), now_ms.into(), UNKNOWN_OUTCOME.into()],
    )?;
    let results = db.batch(vec![missing, entries, runs]).await?;
    Ok(results.get(2).map_or(0, changes))
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
        (_, RunOutcome::Timeout, None) => {
            format!("failed: no answer within {RUN_DEADLINE_SECS} s")
        }
        (_, RunOutcome::Unknown, _) => UNKNOWN_OUTCOME.to_owned(),
        _ => "failed: could not reach the endpoint".to_owned(),
    };
    format!("Ran \"{action_name}\": {result}")
}

/// An incident's runs, newest first.
pub async fn list_for_incident(db: &Db, incident_id: &str) -> ApiResult<Vec<ActionRun>> {
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
pub async fn get(db: &Db, run_id: &str) -> ApiResult<Option<RunRow>> {
    statement(
        db,
        &format!("SELECT {COLUMNS} FROM action_runs WHERE id = ?1"),
        &[run_id.into()],
    )?
    .first(None)
    .await
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
