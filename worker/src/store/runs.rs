//! Action runs (D1): claimed as `running` before the POST, finished by one statement
//! after it. Each attempt of a run is its own line on the incident's timeline ([`attempt_line`]):
//! "Running …" while it runs, then its result, so the two can never disagree.
//!
//! Claiming first is what makes `Idempotency-Key` safe: the unique index on
//! (incident, action, key) lets exactly one of two concurrent identical requests send.
//! The claim acts as the caller in the very batch that looks the caller's credential up,
//! and counts the rate limit there too, so a run costs one D1 round trip before its POST
//! leaves. Finishing only moves a run out of `running`, so it can be retried
//! safely; a run nobody finished is settled as `unknown` by the scheduled handler.
//!
//! A finished run can be redelivered ([`redelivery_claim`]): its kept body is sent again
//! as a new attempt of the same run. The claim moves the run back to `running` and the
//! latest attempt into `attempts`, so the same [`finish`] records every attempt. An
//! action's history ([`history_page`]) and the figures of its latest finished runs
//! ([`recent_finished_of_service`], [`recent_finished_of_action`]) are read here too.

use serde::Deserialize;
use shared::api::{ActionRun, RunAttempt, RunOutcome, RunStatus, SentHeader};
use shared::idempotency::IdempotencyKey;
use shared::limits::{IDEMPOTENCY_WINDOW_HOURS, RUN_BODY_KEPT_DAYS, RUN_STATS_WINDOW};
use shared::reply::Reply;
use shared::run_history::FinishedRun;
use shared::run_words;
use shared::time::format_rfc3339;
use worker::D1Result;

use super::actions::{ActionRow, ROW_AS_JSON};
use super::batch::Batch;
use super::rate_limits;
use super::sql::{changes, statement, Db, SqlValue, Statement};
use crate::auth::CallerSql;
use crate::delivery::Verdict;
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::rate_limit::{Window, RUNS_BUCKET_PREFIX};

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
const COLUMNS: &str = "id, incident_id, action_id, action_name, status, outcome, http_status, \
    duration_ms, response_excerpt, request_headers, requested_by, action_revision, started_at, \
    finished_at, requested_by_name, inputs, reply_summary, reply_error";

/// The columns a [`RunRow`] is read from.
const READ_COLUMNS: &str = "id, incident_id, action_id, action_name, status, outcome, \
    http_status, duration_ms, response_excerpt, request_headers, requested_by, action_revision, \
    started_at, finished_at, requested_by_name, inputs, reply_summary, reply_error, attempts, \
    body_expires_at, rowid AS position";

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
    /// Their display name.
    pub requested_by_name: String,
    /// The input values sent, checked.
    pub inputs: serde_json::Map<String, serde_json::Value>,
    /// The revision of the action's configuration being sent.
    pub action_revision: u64,
    /// Now (ms).
    pub started_at: i64,
    /// For a redelivery, the run's attempts so far (oldest first); empty for a first send.
    pub earlier_attempts: Vec<RunAttempt>,
    /// Whether the run's body is already kept (a redelivery's is).
    pub body_kept: bool,
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
    /// What the answer writes back, when the action accepts replies and it is one.
    pub reply: Option<Reply>,
    /// The body sent, sealed, to keep for redelivery: set on a first send that sent
    /// something, `None` otherwise (a redelivery keeps the stored one).
    pub sealed_body: Option<String>,
}

impl NewRun {
    /// The run as stored by [`finish`], without reading it back.
    pub fn finished(&self, completion: &Completion) -> ActionRun {
        let Completion {
            verdict,
            duration_ms,
            finished_at,
            request_headers,
            reply,
            sealed_body,
        } = completion;
        let mut run = ActionRun {
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
            requested_by_name: Some(self.requested_by_name.clone()),
            inputs: (!self.inputs.is_empty()).then(|| self.inputs.clone()),
            action_revision: Some(self.action_revision),
            summary: reply.as_ref().and_then(|reply| reply.summary.clone()),
            reply_error: reply.as_ref().and_then(Reply::reply_error),
            attempts: Vec::new(),
            attempt: 1,
            redeliverable: self.body_kept || sealed_body.is_some(),
            started_at: format_rfc3339(self.started_at),
            finished_at: Some(format_rfc3339(*finished_at)),
        };
        let mut attempts = self.earlier_attempts.clone();
        let number = u32::try_from(attempts.len() + 1).unwrap_or(u32::MAX);
        attempts.push(latest_attempt(&run, number));
        run.attempts = attempts;
        run.attempt = number;
        run
    }
}

/// A run about to be claimed, before anything about it is read.
pub struct ClaimRequest<'a> {
    /// The new run's id.
    pub run_id: &'a str,
    /// The incident.
    pub incident_id: &'a str,
    /// The action.
    pub action_id: &'a str,
    /// The client's `Idempotency-Key`, if any.
    pub idempotency_key: Option<&'a IdempotencyKey>,
    /// Now (ms).
    pub started_at: i64,
}

/// What [`claim_statements`] count against: the caller's bucket prefix, the window and
/// the limit.
pub struct RateLimit {
    /// The window now.
    pub window: Window,
    /// Runs allowed per window.
    pub limit: i64,
}

/// The read of the earlier run with `key` for this incident and action within the
/// idempotency window: a replay is answered before anything else is checked.
pub fn find_by_key(
    db: &Db,
    incident_id: &str,
    action_id: &str,
    key: &IdempotencyKey,
    now_ms: i64,
) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {READ_COLUMNS} FROM action_runs \
             WHERE incident_id = ?1 AND action_id = ?2 AND idempotency_key = ?3 AND started_at >= ?4"
        ),
        &[
            incident_id.into(),
            action_id.into(),
            key.as_str().into(),
            idempotency_window_start(now_ms).into(),
        ],
    )
}

fn idempotency_window_start(now_ms: i64) -> i64 {
    now_ms - IDEMPOTENCY_WINDOW_HOURS * 3_600_000
}

/// The statements that claim a run as the caller, to go into the same batch as the
/// caller's credential lookup (after a [`find_by_key`] when there is a key): forget the
/// key if it is older than the window, count the caller's rate limit, insert the run as
/// `running` (only while the caller's role may run actions, the action belongs to the
/// incident's service and is enabled, and the caller is within the limit; its timeline
/// line is derived from it). Read the outcome with [`claim_outcome`].
pub fn claim_statements(
    db: &Db,
    claim: &ClaimRequest<'_>,
    caller: &CallerSql,
    allowed: &str,
    rate: &RateLimit,
) -> ApiResult<Vec<Statement>> {
    let mut batch = Vec::new();
    if let Some(key) = claim.idempotency_key.map(IdempotencyKey::as_str) {
        // A key older than the window is forgotten first, so it may start a new run.
        batch.push(statement(
            db,
            "UPDATE action_runs SET idempotency_key = NULL \
             WHERE incident_id = ?1 AND action_id = ?2 AND idempotency_key = ?3 AND started_at < ?4",
            &[
                claim.incident_id.into(),
                claim.action_id.into(),
                key.into(),
                idempotency_window_start(claim.started_at).into(),
            ],
        )?);
    }
    // Each statement's own parameters come first; the caller's follow.
    fn with_caller<'a>(args: &[SqlValue<'a>], caller: &'a CallerSql) -> Vec<SqlValue<'a>> {
        let mut all = args.to_vec();
        all.extend(caller.args());
        all
    }
    // Counted only where the run will be claimed: the caller may run actions, the action
    // is enabled on the incident's service, it is no replay (a replay sends nothing), and
    // the caller is under the limit. The window is marked with the run's id, so the
    // insert below claims only if this very hit counted it: a refused press counts
    // nothing.
    let hit = statement(
        db,
        &format!(
            "INSERT INTO rate_limits (bucket, window_start, count, claimed_by) \
             SELECT ?1 || p.pid, ?2, 1, ?6 FROM ({}) p \
             WHERE {allowed} \
               AND EXISTS (SELECT 1 FROM incidents i \
                   JOIN action_slots a ON a.service_id = i.service_id \
                   WHERE i.id = ?3 AND a.action_id = ?4 AND (a.enabled = 1 OR a.revision = 0)) \
               AND NOT EXISTS (SELECT 1 FROM action_runs \
                   WHERE incident_id = ?3 AND action_id = ?4 AND idempotency_key = ?5) \
               AND {UNDER_LIMIT} \
             ON CONFLICT (bucket, window_start) DO UPDATE \
                 SET count = count + 1, claimed_by = excluded.claimed_by \
             RETURNING count",
            caller.source(8)
        ),
        &with_caller(
            &[
                RUNS_BUCKET_PREFIX.into(),
                rate.window.start_ms.into(),
                claim.incident_id.into(),
                claim.action_id.into(),
                claim.idempotency_key.map(IdempotencyKey::as_str).into(),
                claim.run_id.into(),
                rate.limit.into(),
            ],
            caller,
        ),
    )?;
    let insert = statement(
        db,
        &format!(
            "INSERT INTO action_runs ({COLUMNS}, idempotency_key) \
             SELECT ?1, i.id, a.action_id, COALESCE(a.name, ''), 'running', NULL, NULL, NULL, \
                 NULL, NULL, p.pid, a.revision, ?4, NULL, p.pname, NULL, NULL, NULL, ?5 \
             FROM incidents i JOIN action_slots a ON a.service_id = i.service_id, ({}) p \
             WHERE i.id = ?2 AND a.action_id = ?3 AND {allowed} \
               AND (a.enabled = 1 OR a.revision = 0) \
               AND EXISTS (SELECT 1 FROM rate_limits \
                    WHERE bucket = ?6 || p.pid AND window_start = ?7 AND claimed_by = ?1) \
             ON CONFLICT (incident_id, action_id, idempotency_key) \
             WHERE idempotency_key IS NOT NULL DO NOTHING",
            caller.source(8)
        ),
        &with_caller(
            &[
                claim.run_id.into(),
                claim.incident_id.into(),
                claim.action_id.into(),
                claim.started_at.into(),
                claim.idempotency_key.map(IdempotencyKey::as_str).into(),
                RUNS_BUCKET_PREFIX.into(),
                rate.window.start_ms.into(),
            ],
            caller,
        ),
    )?;
    // The run's entry on the timeline: only when the run was inserted (its id is new).
    let entry = statement(
        db,
        "INSERT INTO log_entries (id, incident_id, type, agent, summary, run_id, attempt, created_at) \
         SELECT 'log_' || id, incident_id, 'action_run', COALESCE(requested_by_name, requested_by), \
             '', id, 1, started_at \
         FROM action_runs WHERE id = ?1",
        &[claim.run_id.into()],
    )?;
    batch.extend([hit, insert, entry, window_count(db, caller, rate)?]);
    Ok(batch)
}

/// The condition of a claim's rate-limit hit (its `?1` is the bucket prefix, `?2` the
/// window, `?7` the limit, `p` the caller): the caller is under the limit.
const UNDER_LIMIT: &str = "COALESCE((SELECT count FROM rate_limits \
     WHERE bucket = ?1 || p.pid AND window_start = ?2), 0) < ?7";

/// The caller's count in the window after a claim, which tells a refusal by the limit
/// from the others.
fn window_count(db: &Db, caller: &CallerSql, rate: &RateLimit) -> ApiResult<Statement> {
    let mut args: Vec<SqlValue<'_>> = vec![RUNS_BUCKET_PREFIX.into(), rate.window.start_ms.into()];
    args.extend(caller.args());
    statement(
        db,
        &format!(
            "SELECT COALESCE((SELECT count FROM rate_limits \
                 WHERE bucket = ?1 || p.pid AND window_start = ?2), 0) AS count FROM ({}) p",
            caller.source(3)
        ),
        &args,
    )
}

/// What the statements of [`claim_statements`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The run is recorded as `running` and counted: send it.
    Claimed,
    /// The caller has used the window's runs; nothing was recorded or counted.
    RateLimited,
    /// Nothing was recorded or counted for another reason the first reads explain (the
    /// action is disabled, gone, or not of this incident's service).
    NotClaimed,
}

/// Reads the results of [`claim_statements`] or [`redelivery_claim`] (and only those, in
/// order: the rate-limit hit, the claim, its timeline entry, the window's count).
pub fn claim_outcome(results: &[D1Result], limit: i64) -> ApiResult<Claim> {
    let [.., _hit, claim, _entry, count] = results else {
        return Err(ApiError::Internal("claim: missing results".into()));
    };
    if changes(claim) == 1 {
        return Ok(Claim::Claimed);
    }
    let count = rate_limits::counted(Some(count))?;
    Ok(if count >= limit {
        Claim::RateLimited
    } else {
        Claim::NotClaimed
    })
}

/// Takes a claim back when the run turns out not to be sendable after all (its
/// configuration is not here yet, cannot be opened, or the press breaks one of the
/// action's rules): the run, its timeline line and its count go, so a refused run leaves
/// no trace and its `Idempotency-Key` is free again. One batch.
pub async fn undo_claim(db: &Db, run_id: &str, bucket: &str, window: Window) -> ApiResult<()> {
    let entry = statement(
        db,
        "DELETE FROM log_entries WHERE run_id = ?1 AND type = 'action_run' \
         AND EXISTS (SELECT 1 FROM action_runs WHERE id = ?1 AND status = 'running')",
        &[run_id.into()],
    )?;
    let run = statement(
        db,
        "DELETE FROM action_runs WHERE id = ?1 AND status = 'running'",
        &[run_id.into()],
    )?;
    let count = rate_limits::release_statement(db, bucket, window)?;
    db.batch(vec![entry, run, count]).await?;
    Ok(())
}

/// Stores how the run ended, with what its reply writes back, in one batch: the reply's
/// note on the timeline and its links on the incident, each only while the run is still
/// `running`, then the run's record, which moves it out of `running`. A retry after a
/// batch that did land therefore changes nothing, and a reply is applied exactly once.
/// Returns whether this call moved the run.
pub async fn finish(db: &Db, run: &NewRun, completion: &Completion) -> ApiResult<bool> {
    let Completion {
        verdict,
        duration_ms,
        finished_at,
        request_headers,
        reply,
        sealed_body,
    } = completion;
    let status = verdict.status.as_str();
    let outcome = verdict.outcome.as_str();
    let request_headers = request_headers
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| ApiError::Internal(format!("run {}: {e}", run.id)))?;
    let inputs = (!run.inputs.is_empty())
        .then(|| serde_json::to_string(&run.inputs))
        .transpose()?;
    let summary = reply.as_ref().and_then(|reply| reply.summary.as_deref());
    let reply_error = reply.as_ref().and_then(Reply::reply_error);
    let mut batch = Batch::new("run finish");
    if let Some(reply) = reply {
        batch.span(reply_statements(db, run, reply, *finished_at)?);
    }
    let finished = batch.write(statement(
        db,
        "UPDATE action_runs SET status = ?2, outcome = ?3, http_status = ?4, duration_ms = ?5, \
         response_excerpt = ?6, request_headers = ?7, finished_at = ?8, action_name = ?9, \
         inputs = ?10, reply_summary = ?11, reply_error = ?12, \
         request_body_sealed = COALESCE(?13, request_body_sealed), \
         body_expires_at = COALESCE(?14, body_expires_at) \
         WHERE id = ?1 AND status = 'running'",
        &[
            (&run.id).into(),
            status.into(),
            outcome.into(),
            verdict.http_status.map(i64::from).into(),
            (*duration_ms).into(),
            (&verdict.excerpt).into(),
            request_headers.as_deref().into(),
            (*finished_at).into(),
            // Runs of actions from before revisions learn their name from the record.
            (&run.action_name).into(),
            inputs.as_deref().into(),
            summary.into(),
            (&reply_error).into(),
            sealed_body.as_deref().into(),
            sealed_body
                .as_ref()
                .map(|_| body_expiry(run.started_at))
                .into(),
        ],
    )?);
    Ok(batch.send(db).await?.changes(finished)? == 1)
}

/// The writes of a reply, each only while the run is still `running` (see [`finish`]):
/// its note as a timeline entry linked to the run, attributed "via <action>, run by
/// <clicker>", and its links added to the incident's, each `href` once and up to the
/// incident's bound ([`super::incidents::merged_links_sql`]), so pressing the action
/// again does not add the same link again.
fn reply_statements(
    db: &Db,
    run: &NewRun,
    reply: &Reply,
    now_ms: i64,
) -> ApiResult<Vec<Statement>> {
    const STILL_RUNNING: &str =
        "EXISTS (SELECT 1 FROM action_runs WHERE id = ?1 AND status = 'running')";
    let mut statements = Vec::new();
    if let Some(note) = &reply.note {
        let agent = format!("via {}, run by {}", run.action_name, run.requested_by_name);
        let entry_id = new_id("log");
        statements.push(statement(
            db,
            &format!(
                "INSERT INTO log_entries (id, incident_id, type, agent, summary, run_id, created_at) \
                 SELECT ?2, ?3, 'note', ?4, ?5, ?1, ?6 WHERE {STILL_RUNNING}"
            ),
            &[
                (&run.id).into(),
                (&entry_id).into(),
                (&run.incident_id).into(),
                (&agent).into(),
                note.as_str().into(),
                now_ms.into(),
            ],
        )?);
    }
    if !reply.links.is_empty() {
        let links = serde_json::to_string(&reply.links)?;
        let merged = super::incidents::merged_links_sql("incidents.links", "?3");
        statements.push(statement(
            db,
            &format!("UPDATE incidents SET links = {merged} WHERE id = ?2 AND {STILL_RUNNING}"),
            &[(&run.id).into(), (&run.incident_id).into(), (&links).into()],
        )?);
    }
    Ok(statements)
}

/// Settles every run still `running` that started before `cutoff_ms` as `failed` with
/// outcome `unknown` (its timeline line, derived from it, then says so). Returns how many.
pub async fn settle_abandoned(db: &Db, cutoff_ms: i64, now_ms: i64) -> ApiResult<usize> {
    let settled = statement(
        db,
        "UPDATE action_runs SET status = 'failed', outcome = 'unknown', finished_at = ?2, \
             response_excerpt = ?3 \
         WHERE status = 'running' AND started_at < ?1",
        &[
            cutoff_ms.into(),
            now_ms.into(),
            run_words::UNKNOWN_OUTCOME.into(),
        ],
    )?
    .run()
    .await?;
    Ok(changes(&settled))
}

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
    statement(
        db,
        &format!(
            "SELECT {READ_COLUMNS} FROM action_runs \
             WHERE incident_id = ?1 AND (?2 IS NULL OR rowid < ?2) \
             ORDER BY rowid DESC LIMIT ?3"
        ),
        &[
            incident_id.into(),
            before.into(),
            (i64::from(limit) + 1).into(),
        ],
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

/// When a body sealed for a run that started at `started_at` stops being kept.
fn body_expiry(started_at: i64) -> i64 {
    started_at + RUN_BODY_KEPT_DAYS * 86_400_000
}

/// A run's kept body, for a redelivery: the sealed text and until when it is kept.
#[derive(Debug, Clone, Deserialize)]
pub struct KeptBody {
    /// A `kept_request::KeptRequest`, sealed; `null` once cleared.
    pub request_body_sealed: Option<String>,
    /// Until when (ms).
    pub body_expires_at: Option<i64>,
    /// The Idempotency-Key of the latest redelivery.
    pub attempt_key: Option<String>,
    /// The run's service (for the seal's context).
    pub service_id: String,
    /// The run's action's row as `ROW_AS_JSON` (`null` when the action is gone).
    action_row: Option<String>,
}

impl KeptBody {
    /// The run's action's row, if the action is still there.
    pub fn action(&self) -> ApiResult<Option<ActionRow>> {
        super::actions::row_from_json(self.action_row.as_deref())
    }
}

/// Whether a body kept until `expires_at` may still be sent at `now_ms`.
pub fn body_is_kept(body: &KeptBody, now_ms: i64) -> bool {
    body.request_body_sealed.is_some() && body.body_expires_at.is_some_and(|until| now_ms < until)
}

/// The read of a run with its kept body and the row of its action (as `action_row`,
/// `null` when the action is gone), for a redelivery.
pub fn get_for_redelivery(db: &Db, run_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {READ_COLUMNS}, request_body_sealed, attempt_key, \
                 (SELECT service_id FROM incidents i WHERE i.id = r.incident_id) AS service_id, \
                 (SELECT {ROW_AS_JSON} FROM action_slots a WHERE a.action_id = r.action_id) \
                 AS action_row \
             FROM action_runs r WHERE r.id = ?1"
        ),
        &[run_id.into()],
    )
}

/// A redelivery: who asks, with which key, against which limit.
pub struct RedeliveryClaim<'a> {
    /// The run.
    pub run_id: &'a str,
    /// A fresh id of this attempt's claim, marking the rate-limit window it counted in.
    pub claim_id: &'a str,
    /// The client's `Idempotency-Key`, if any.
    pub idempotency_key: Option<&'a IdempotencyKey>,
    /// The action revision being sent now.
    pub action_revision: u64,
    /// Now (ms).
    pub started_at: i64,
}

/// The statements that claim a redelivery as the caller: count the caller's rate limit,
/// then move the run back to `running` as a new attempt (its latest attempt appended to
/// `attempts`, the caller as its requester), only while the caller's role may run
/// actions, the run is finished, its body is still kept, its action is enabled, the
/// caller is within the limit, and the key is not the one of the latest redelivery.
/// Read the outcome with [`claim_outcome`].
pub fn redelivery_claim(
    db: &Db,
    claim: &RedeliveryClaim<'_>,
    caller: &CallerSql,
    allowed: &str,
    rate: &RateLimit,
) -> ApiResult<Vec<Statement>> {
    // Counted only where the attempt will be claimed (see `claim_statements`).
    let mut hit_args: Vec<SqlValue<'_>> = vec![
        RUNS_BUCKET_PREFIX.into(),
        rate.window.start_ms.into(),
        claim.run_id.into(),
        claim.started_at.into(),
        claim.idempotency_key.map(IdempotencyKey::as_str).into(),
        claim.claim_id.into(),
        rate.limit.into(),
    ];
    hit_args.extend(caller.args());
    let hit = statement(
        db,
        &format!(
            "INSERT INTO rate_limits (bucket, window_start, count, claimed_by) \
             SELECT ?1 || p.pid, ?2, 1, ?6 FROM ({}) p \
             WHERE {allowed} \
               AND EXISTS (SELECT 1 FROM action_runs r \
                   JOIN action_slots a ON a.action_id = r.action_id \
                   WHERE r.id = ?3 AND r.status != 'running' \
                     AND r.request_body_sealed IS NOT NULL AND r.body_expires_at > ?4 \
                     AND (?5 IS NULL OR r.attempt_key IS NOT ?5) AND a.enabled = 1) \
               AND {UNDER_LIMIT} \
             ON CONFLICT (bucket, window_start) DO UPDATE \
                 SET count = count + 1, claimed_by = excluded.claimed_by \
             RETURNING count",
            caller.source(8)
        ),
        &hit_args,
    )?;
    let mut claim_args: Vec<SqlValue<'_>> = vec![
        claim.run_id.into(),
        claim.started_at.into(),
        claim.idempotency_key.map(IdempotencyKey::as_str).into(),
        claim.action_revision.try_into().unwrap_or(i64::MAX).into(),
        RUNS_BUCKET_PREFIX.into(),
        rate.window.start_ms.into(),
        claim.claim_id.into(),
    ];
    claim_args.extend(caller.args());
    let moved = statement(
        db,
        &format!(
            "UPDATE action_runs SET \
                 attempts = json_insert(COALESCE(attempts, '[]'), '$[#]', json_object( \
                     'number', json_array_length(COALESCE(attempts, '[]')) + 1, \
                     'status', status, 'outcome', outcome, 'http_status', http_status, \
                     'duration_ms', duration_ms, 'response_excerpt', response_excerpt, \
                     'requested_by', requested_by, 'requested_by_name', requested_by_name, \
                     'started_at', started_at, 'finished_at', finished_at)), \
                 status = 'running', outcome = NULL, http_status = NULL, duration_ms = NULL, \
                 response_excerpt = NULL, reply_summary = NULL, reply_error = NULL, \
                 finished_at = NULL, started_at = ?2, attempt_key = ?3, action_revision = ?4, \
                 requested_by = (SELECT p.pid FROM ({source}) p), \
                 requested_by_name = (SELECT p.pname FROM ({source}) p) \
             WHERE id = ?1 AND status != 'running' \
               AND request_body_sealed IS NOT NULL AND body_expires_at > ?2 \
               AND (?3 IS NULL OR attempt_key IS NOT ?3) \
               AND EXISTS (SELECT 1 FROM ({source}) p \
                   JOIN action_slots a ON a.action_id = action_runs.action_id \
                   WHERE {allowed} AND a.enabled = 1 \
                     AND EXISTS (SELECT 1 FROM rate_limits \
                          WHERE bucket = ?5 || p.pid AND window_start = ?6 \
                            AND claimed_by = ?7))",
            source = caller.source(8)
        ),
        &claim_args,
    )?;
    // The attempt's entry on the timeline, only when this claim moved the run.
    let entry = statement(
        db,
        "INSERT OR IGNORE INTO log_entries \
             (id, incident_id, type, agent, summary, run_id, attempt, created_at) \
         SELECT 'log_' || id || '_' || (json_array_length(attempts) + 1), incident_id, \
             'action_run', COALESCE(requested_by_name, requested_by), '', id, \
             json_array_length(attempts) + 1, started_at \
         FROM action_runs WHERE id = ?1 AND status = 'running' AND started_at = ?2 \
             AND attempts IS NOT NULL",
        &[claim.run_id.into(), claim.started_at.into()],
    )?;
    Ok(vec![hit, moved, entry, window_count(db, caller, rate)?])
}

/// Clears the bodies kept past their time; the runs stay. Returns how many.
pub async fn forget_expired_bodies(db: &Db, now_ms: i64) -> ApiResult<usize> {
    let cleared = statement(
        db,
        "UPDATE action_runs SET request_body_sealed = NULL, body_expires_at = NULL \
         WHERE request_body_sealed IS NOT NULL AND body_expires_at <= ?1",
        &[now_ms.into()],
    )?
    .run()
    .await?;
    Ok(changes(&cleared))
}

/// The read of one page of an action's runs, newest first: `limit + 1` rows, so the
/// caller knows whether another page follows.
pub fn history_page(
    db: &Db,
    action_id: &str,
    before: Option<i64>,
    limit: u32,
) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {READ_COLUMNS} FROM action_runs \
             WHERE action_id = ?1 AND (?2 IS NULL OR rowid < ?2) \
             ORDER BY rowid DESC LIMIT ?3"
        ),
        &[
            action_id.into(),
            before.into(),
            (i64::from(limit) + 1).into(),
        ],
    )
}

/// A finished run as the figures read it.
#[derive(Debug, Clone, Deserialize)]
pub struct FinishedRow {
    /// The action.
    pub action_id: String,
    status: RunStatus,
    outcome: Option<RunOutcome>,
    http_status: Option<u16>,
    duration_ms: Option<u64>,
    finished_at: i64,
}

impl FinishedRow {
    /// As [`shared::run_history`] reads it.
    pub fn finished(&self) -> Option<FinishedRun> {
        Some(FinishedRun {
            status: self.status,
            outcome: self.outcome,
            http_status: self.http_status,
            duration_ms: self.duration_ms,
            finished_at: self.finished_at,
        })
    }
}

/// The columns of a [`FinishedRow`], of `action_runs r`.
const FINISHED_COLUMNS: &str =
    "r.action_id, r.status, r.outcome, r.http_status, r.duration_ms, r.finished_at";

/// The read of the newest [`RUN_STATS_WINDOW`] finished runs of each action of a
/// service (`service` is `?1`'s SQL: the service's id, or the one of an incident's),
/// newest first within each action.
fn recent_finished(db: &Db, service: &str, id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {FINISHED_COLUMNS} FROM action_slots a JOIN action_runs r \
                 ON r.rowid IN (SELECT rowid FROM action_runs \
                     WHERE action_id = a.action_id AND finished_at IS NOT NULL \
                     ORDER BY finished_at DESC, rowid DESC LIMIT {RUN_STATS_WINDOW}) \
             WHERE a.service_id = {service} \
             ORDER BY r.action_id, r.finished_at DESC, r.rowid DESC"
        ),
        &[id.into()],
    )
}

/// [`recent_finished`] for a service.
pub fn recent_finished_of_service(db: &Db, service_id: &str) -> ApiResult<Statement> {
    recent_finished(db, "?1", service_id)
}

/// [`recent_finished`] for an incident's service.
pub fn recent_finished_of_incident(db: &Db, incident_id: &str) -> ApiResult<Statement> {
    recent_finished(
        db,
        "(SELECT service_id FROM incidents WHERE id = ?1)",
        incident_id,
    )
}

/// The newest [`RUN_STATS_WINDOW`] finished runs of one action, newest first.
pub fn recent_finished_of_action(db: &Db, action_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {FINISHED_COLUMNS} FROM action_runs r \
             WHERE r.action_id = ?1 AND r.finished_at IS NOT NULL \
             ORDER BY r.finished_at DESC, r.rowid DESC LIMIT {RUN_STATS_WINDOW}"
        ),
        &[action_id.into()],
    )
}

/// One action's endpoint health from its newest finished runs (newest first).
pub fn health(rows: &[FinishedRow]) -> shared::api::EndpointHealth {
    let runs: Vec<FinishedRun> = rows.iter().filter_map(FinishedRow::finished).collect();
    shared::run_history::endpoint_health(&runs)
}

/// The health of each action in rows read by [`recent_finished`], by action id.
pub fn health_by_action(
    rows: &[FinishedRow],
) -> std::collections::HashMap<String, shared::api::EndpointHealth> {
    let mut by_action: std::collections::HashMap<String, Vec<FinishedRun>> = Default::default();
    for row in rows {
        if let Some(run) = row.finished() {
            by_action
                .entry(row.action_id.clone())
                .or_default()
                .push(run);
        }
    }
    by_action
        .into_iter()
        .map(|(action, runs)| (action, shared::run_history::endpoint_health(&runs)))
        .collect()
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
