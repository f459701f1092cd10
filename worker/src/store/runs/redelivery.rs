//! A finished run sent again: its kept body, claimed as a new attempt of the same run;
//! and forgetting bodies past their keeping time.

use serde::Deserialize;
use shared::idempotency::IdempotencyKey;
use shared::limits::RUN_BODY_KEPT_DAYS;

use super::claim::{window_count, RateLimit, UNDER_LIMIT};
use super::rows::READ_COLUMNS;
use crate::error::ApiResult;
use crate::rate_limit::RUNS_BUCKET_PREFIX;
use crate::store::actions::{ActionRow, ROW_AS_JSON};
use crate::store::caller::CallerSql;
use crate::store::sql::{changes, statement, Db, SqlValue, Statement};

/// When a body sealed for a run that started at `started_at` stops being kept.
pub(super) fn body_expiry(started_at: i64) -> i64 {
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
        crate::store::actions::row_from_json(self.action_row.as_deref())
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
