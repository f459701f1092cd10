//! Claiming a run before its POST (idempotency key, rate limit, the caller's lookup, all
//! in one batch) and finishing it after, by one statement that only moves a run out of
//! `running`; and settling the runs nobody finished.

use shared::api::{ActionRun, RunAttempt, SentHeader};
use shared::idempotency::IdempotencyKey;
use shared::limits::IDEMPOTENCY_WINDOW_HOURS;
use shared::reply::Reply;
use shared::run_words;
use shared::time::format_rfc3339;
use worker::D1Result;

use super::redelivery::body_expiry;
use super::rows::{latest_attempt, COLUMNS, READ_COLUMNS};
use crate::domain::Verdict;
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::rate_limit::{Window, RUNS_BUCKET_PREFIX};
use crate::store::batch::Batch;
use crate::store::caller::CallerSql;
use crate::store::rate_limits;
use crate::store::sql::{changes, statement, Db, SqlValue, Statement};

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
pub(super) const UNDER_LIMIT: &str = "COALESCE((SELECT count FROM rate_limits \
     WHERE bucket = ?1 || p.pid AND window_start = ?2), 0) < ?7";

/// The caller's count in the window after a claim, which tells a refusal by the limit
/// from the others.
pub(super) fn window_count(db: &Db, caller: &CallerSql, rate: &RateLimit) -> ApiResult<Statement> {
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
/// incident's bound ([`crate::store::incidents::merged_links_sql`]), so pressing the action
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
        let merged = crate::store::incidents::merged_links_sql("incidents.links", "?3");
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
