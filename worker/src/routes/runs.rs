//! Running an action from an incident, and reading runs back.
//!
//! The worker, never the browser, sends the POST: the endpoint's secrets and signing
//! key stay here, and the run is recorded whatever the browser does.
//!
//! A run is latency the responder waits through, and each sequential D1 round trip from
//! an edge location costs tens of milliseconds, so the path is counted (`Server-Timing`
//! on the answer):
//! 1. one batch: the caller's credential, the incident, its recent changes, the action's
//!    index row, an earlier run with the same `Idempotency-Key` (a replay is answered
//!    from it, before any refusal), the rate limit, and the claim with its "Running" timeline entry,
//!    made as the caller (`store::caller::CallerSql`) and only where the role may run actions,
//!    the action belongs to the incident's service and is enabled, and the caller is
//!    within the limit;
//! 2. one KV read of exactly the revision the row names (none when this isolate has read
//!    that immutable value before); a run that cannot be sent after all is taken back;
//! 3. the POST, then one batch: the result (retried with backoff; it only moves a run
//!    out of `running`).

use std::time::Duration;

use futures_channel::oneshot;
use shared::api::{
    ActionRun, ConfigHealth, Incident, RedeliverRequest, RunHistory, RunList, RunRequest,
    RunResponse,
};
use shared::errors::ErrorCode;
use shared::inputs::validate_values;
use shared::limits::{CONFIG_PROPAGATION_WAIT_MS, RUN_BODY_KEPT_DAYS};
use shared::paging::PagedList;
use shared::roles::{Permission, Role};
use shared::run_history::run_stats;
use shared::run_rules::check_confirmation;
use shared::view::View;
use worker::{console_error, Context, Delay, Request, Response};

use crate::app::{now_ms, App, Fault};
use crate::auth::{batch_with_lookup, Credential};
use crate::delivery::{
    blocked_verdict, build_delivery, build_redelivery, classify, reply_of, send, template_verdict,
    BuildError, Delivery, RunFacts, SendResult,
};
use crate::domain::OpenedAction;
use crate::domain::Principal;
use crate::domain::Verdict;
use crate::error::{ApiError, ApiResult};
use crate::http::{idempotency_key, json_response, page_request, read_optional_json};
use crate::ids::new_id;
use crate::kept_request::{Kept, KeptRequest};
use crate::rate_limit::{runs_bucket, Window};
use crate::sealed::{self, Keyring};
use crate::store::actions::{self, ActionRow, ActionView, Config, WithActionRow};
use crate::store::batch::Batch;
use crate::store::caller::CallerSql;
use crate::store::changes::{self, ChangeRow};
use crate::store::incidents::{self, IncidentRow};
use crate::store::kv::Kv;
use crate::store::runs::{
    self, Claim, ClaimRequest, Completion, FinishedRow, KeptBody, NewRun, RateLimit,
    RedeliveryClaim, RunRow,
};

/// Pauses between attempts to write a run's result (D1 does not retry writes), all
/// well inside the `wait_until` budget.
const FINISH_RETRY_DELAYS_MS: [u64; 4] = [100, 400, 1_500, 4_000];
/// Pauses between reads of a revision that has not reached this location yet.
const PROPAGATION_POLL_MS: u64 = 250;

/// `POST /api/incidents/{id}/actions/{action_id}/runs`: sends the action's POST and
/// answers once the endpoint has answered or the deadline has passed.
pub async fn create_run(
    mut req: Request,
    app: &App,
    ctx: &Context,
    credential: Credential,
    permission: Permission,
    incident_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let idempotency_key = idempotency_key(&req)?;
    let body: RunRequest = read_optional_json(&mut req).await?;
    let db = app.db()?;
    let run_id = new_id("run");
    let rate = RateLimit {
        window: Window::at(app.now_ms),
        limit: app.runs_per_minute_per_user(),
    };
    // Round trip 1: who is calling, everything the run needs to know, and the claim
    // itself, made as the caller and only if they may.
    let mut batch = Batch::new("run reads");
    let found = batch.read_both::<IncidentRow, WithActionRow>(
        incidents::get_with_action_statement(&db, incident_id, action_id)?,
    );
    let recent_changes = batch.read::<ChangeRow>(changes::recent_for_incident(&db, incident_id)?);
    let earlier = match &idempotency_key {
        Some(key) => Some(batch.read::<RunRow>(runs::find_by_key(
            &db,
            incident_id,
            action_id,
            key,
            app.now_ms,
        )?)),
        None => None,
    };
    let claim = ClaimRequest {
        run_id: &run_id,
        incident_id,
        action_id,
        idempotency_key: idempotency_key.as_ref(),
        started_at: app.now_ms,
    };
    let caller_sql = credential.caller_sql(app);
    let allowed = CallerSql::allowed(permission);
    let claimed = batch.span(runs::claim_statements(
        &db,
        &claim,
        &caller_sql,
        &allowed,
        &rate,
    )?);
    let (caller, answers) = batch_with_lookup(credential, app, &db, batch).await?;
    let caller = caller.principal;
    caller.require(permission)?;
    // A replay is answered before any refusal: the earlier run was read before the claim.
    if let Some(earlier) = earlier {
        if let Some(earlier) = answers.first(&earlier)? {
            return replay(earlier, caller.role);
        }
    }
    let (incident, with_action) = answers
        .first_both(&found)?
        .ok_or(ApiError::NotFound("Incident"))?;
    let row: ActionRow = with_action.action()?.ok_or(ApiError::NotFound("Action"))?;
    let bucket = runs_bucket(&caller.id);
    // A disabled action is the better answer than the limit: pressing it again later
    // would not help either.
    let enabled = row.enabled == 1 || row.revision == 0;
    match runs::claim_outcome(answers.span(claimed)?, rate.limit)? {
        Claim::Claimed => {}
        Claim::RateLimited if enabled => {
            return Err(ApiError::RateLimited {
                what: "runs started by you",
                retry_after_secs: rate.window.retry_after_secs,
            })
        }
        Claim::RateLimited | Claim::NotClaimed => {
            return Err(disabled(row.name.as_deref().unwrap_or_default()))
        }
    }
    // The one KV read (none when this isolate has read the revision before): exactly
    // the revision the row names, never an older one. A run that cannot be sent after
    // all is taken back, so a refusal leaves no trace.
    let undo = || async {
        if let Err(error) = runs::undo_claim(&db, &run_id, &bucket, rate.window).await {
            console_error!("taking back run {run_id}: {error:?}; the scheduled handler settles it");
        }
    };
    let mut incident = incident.into_wire()?;
    incident.recent_changes = Some(changes::wire(answers.all(&recent_changes)?)?);
    let opened = match sealed::keyring(app) {
        Ok(keyring) => open_action(app, &keyring, row)
            .await
            .map(|action| (action, keyring)),
        Err(error) => Err(error),
    };
    let checked = opened.and_then(|(action, keyring)| {
        check_run_rules(&action, &incident, &body).map(|inputs| (action, inputs, keyring))
    });
    let (action, inputs, keyring) = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            undo().await;
            return Err(refusal);
        }
    };
    let run = NewRun {
        id: run_id.clone(),
        incident_id: incident_id.to_owned(),
        action_id: action_id.to_owned(),
        action_name: action.spec.name.clone(),
        requested_by: caller.id.clone(),
        requested_by_name: caller.name.clone(),
        action_revision: action.revision,
        inputs,
        started_at: app.now_ms,
        earlier_attempts: Vec::new(),
        body_kept: false,
    };
    let facts = RunFacts {
        run_id: &run.id,
        now_ms: app.now_ms,
        agent: &caller,
        incident: &incident,
        inputs: &run.inputs,
    };
    // A template that does not render fails the run here: it is recorded with the
    // reason, and nothing is sent.
    let prepared = match ready_to_send(build_delivery(&facts, &action), &action) {
        Ok(prepared) => prepared,
        Err(error) => {
            undo().await;
            return Err(error);
        }
    };
    // The body is kept, sealed with where it went, so that the run can be redelivered.
    let sealed_body = match &prepared {
        Ok(delivery) => KeptRequest::of(&action, &delivery.body).seal(
            &keyring,
            &incident.service.id,
            &run.id,
            &run.action_id,
        ),
        Err(_) => None,
    };
    let before_send = app.round_trips();

    let Delivered { run, recorded } =
        deliver_in_background(app, ctx, run, prepared, sealed_body).await?;
    let after = app.round_trips();
    let status = if recorded { 201 } else { 202 };
    let response = json_response(
        &RunResponse {
            run: run.view(caller.role),
            outcome_recorded: recorded,
        },
        status,
    )?;
    response
        .headers()
        .set("Server-Timing", &server_timing(before_send, after))?;
    Ok(response)
}

/// A built request; or, when a template did not render, the run's verdict saying why
/// (recorded, nothing sent); or an error when the stored signing secret cannot sign (our
/// fault, not the template's).
fn ready_to_send(
    built: Result<Delivery, BuildError>,
    action: &OpenedAction,
) -> ApiResult<Result<Delivery, Verdict>> {
    match built {
        Ok(delivery) => Ok(Ok(delivery)),
        Err(BuildError::Template(failures)) => {
            let secrets: Vec<String> = action
                .secret_values()
                .into_iter()
                .map(str::to_owned)
                .collect();
            Ok(Err(template_verdict(&failures, &secrets)))
        }
        Err(BuildError::SigningSecret(_)) => Err(ApiError::Internal(format!(
            "action {}: unusable signing secret",
            action.id
        ))),
    }
}

/// The storage round trips of a run, for `scripts/bench`: D1 and KV before the POST
/// left, and D1 after it.
fn server_timing(before_send: (u32, u32), after: (u32, u32)) -> String {
    format!(
        "d1-before-send;desc=\"{}\", kv-before-send;desc=\"{}\", d1-after-send;desc=\"{}\"",
        before_send.0,
        before_send.1,
        after.0.saturating_sub(before_send.0)
    )
}

fn disabled(name: &str) -> ApiError {
    ApiError::Refused(
        ErrorCode::ActionDisabled,
        format!("The action \"{name}\" is disabled; enable it on the service's Custom Incident Actions page"),
    )
}

/// The answer to a repeated `Idempotency-Key`: the first run, or 409 while it is still
/// in flight. Nothing is sent.
fn replay(earlier: RunRow, viewer: Role) -> ApiResult<Response> {
    if earlier.is_running() {
        return Err(ApiError::Refused(
            ErrorCode::RunInProgress,
            "A run with this Idempotency-Key is still in progress".to_owned(),
        ));
    }
    let mut response = json_response(
        &RunResponse {
            run: earlier.into_wire()?.view(viewer),
            outcome_recorded: true,
        },
        200,
    )?;
    response.headers_mut().set("Idempotent-Replayed", "true")?;
    Ok(response)
}

/// The rules a run must meet before anything is sent, in this order: the incident is one
/// the action applies to (409 `action_not_available`), the inputs fit (422
/// `invalid_inputs`, one message per field), and a confirmation the action asks for was
/// given (428 `confirmation_required`). Answers the checked input values.
fn check_run_rules(
    action: &OpenedAction,
    incident: &Incident,
    body: &RunRequest,
) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    check_available(action, incident)?;
    let inputs = validate_values(&action.spec.settings.inputs, &body.inputs)
        .map_err(ApiError::InvalidInputs)?;
    check_confirmation(action.spec.settings.confirm.as_ref(), body.confirmed)
        .map_err(ApiError::ConfirmationRequired)?;
    Ok(inputs)
}

/// The incident is one the action applies to (its `available_when`), or 409
/// `action_not_available`. A press and a redelivery both obey it.
fn check_available(action: &OpenedAction, incident: &Incident) -> ApiResult<()> {
    let Some(rule) = &action.spec.settings.available_when else {
        return Ok(());
    };
    rule.allows(incident.status, incident.urgency)
        .map_err(|rule| {
            ApiError::Refused(
                ErrorCode::ActionNotAvailable,
                format!("\"{}\" runs {rule}; nothing was sent", action.spec.name),
            )
        })
}

/// The action of `row`, its secrets opened for sending; or why it cannot be sent: its
/// revision is not here (503), it is disabled (a row from before revisions keeps that in
/// its record), or it cannot be opened (409 `action_unreadable`).
async fn open_action(app: &App, keyring: &Keyring, row: ActionRow) -> ApiResult<OpenedAction> {
    let view = ActionView {
        config: read_exact_revision(&app.kv()?, &row).await?,
        row,
    };
    if !view.enabled() {
        return Err(disabled(&view.name()));
    }
    let unreadable = |why: String| {
        ApiError::Refused(
            ErrorCode::ActionUnreadable,
            format!("{why}. Nothing was sent"),
        )
    };
    let (health, problem) = view.health(keyring);
    let (Config::Readable(record), ConfigHealth::Ok) = (&view.config, health) else {
        return Err(unreadable(
            problem.unwrap_or_else(|| "Its configuration cannot be opened".into()),
        ));
    };
    record.open(keyring).map_err(|error| {
        console_error!("opening action {}: {error}", view.row.action_id);
        unreadable(
            "Its secrets cannot be opened with the configured keys; re-enter them or delete \
             the action"
                .into(),
        )
    })
}

/// Reads exactly the revision `row` names. One read when it is here (the usual case); a
/// revision written moments ago elsewhere is polled briefly, then answered 503
/// `config_propagating`. An older revision is never used instead.
async fn read_exact_revision(kv: &Kv, row: &ActionRow) -> ApiResult<Config> {
    let mut waited = 0;
    loop {
        match actions::read_config_for_run(kv, row).await {
            Config::Propagating if waited < CONFIG_PROPAGATION_WAIT_MS => {
                Delay::from(Duration::from_millis(PROPAGATION_POLL_MS)).await;
                waited += PROPAGATION_POLL_MS;
            }
            Config::Propagating => return Err(ApiError::ConfigPropagating),
            config @ (Config::Readable(_) | Config::Unreadable(_)) => return Ok(config),
        }
    }
}

/// Sends and records a delivery under `wait_until`, so that a responder who closes the
/// tab mid-run neither cancels a request that may already have reached the endpoint nor
/// leaves the run unrecorded; the request only waits for the outcome.
async fn deliver_in_background(
    app: &App,
    ctx: &Context,
    run: NewRun,
    prepared: Result<Delivery, Verdict>,
    sealed_body: Option<String>,
) -> ApiResult<Delivered> {
    let (outcome_tx, outcome_rx) = oneshot::channel();
    let task_app = app.clone();
    ctx.wait_until(async move {
        let outcome = deliver_and_record(&task_app, &run, prepared, sealed_body).await;
        // Nobody may be waiting any more; the run is recorded (or settled) either way.
        let _ = outcome_tx.send(outcome);
    });
    outcome_rx
        .await
        .map_err(|_| ApiError::Internal("the delivery task ended without an outcome".into()))
}

/// What the waiting request learns: the run as the worker saw it, and whether that is
/// what is stored.
struct Delivered {
    run: ActionRun,
    recorded: bool,
}

/// Sends one delivery, unless the endpoint guard now refuses its URL, and stores the
/// verdict (retrying the write). A run whose request could not be built arrives as its
/// verdict and is only recorded. Secret values are removed from the excerpt first.
async fn deliver_and_record(
    app: &App,
    run: &NewRun,
    prepared: Result<Delivery, Verdict>,
    sealed_body: Option<String>,
) -> Delivered {
    let unsent = |verdict: Verdict| Completion {
        verdict,
        duration_ms: None,
        finished_at: now_ms(),
        request_headers: None,
        reply: None,
        sealed_body: sealed_body.clone(),
    };
    let completion = match prepared {
        Err(refused) => unsent(refused),
        // The URL passed the guard when it was saved, but the rules may have changed
        // since (OWN_HOSTS, the allowlist, this code); what counts is the policy in force
        // now.
        Ok(delivery) => match blocked_verdict(&delivery.url, &app.endpoint_policy()) {
            Some(blocked) => unsent(blocked),
            None => {
                let sent_at = now_ms();
                let result = send(&delivery).await;
                let finished_at = now_ms();
                // A timeout waited exactly its deadline for an answer; the few
                // milliseconds around it are the worker's, and the run's words name the
                // deadline from this wait.
                let waited = match result {
                    SendResult::TimedOut { deadline_ms } => {
                        i64::try_from(deadline_ms).unwrap_or(i64::MAX)
                    }
                    SendResult::Answered { .. } | SendResult::NetworkError(_) => {
                        finished_at - sent_at
                    }
                };
                Completion {
                    verdict: classify(&result, &delivery.secret_values),
                    duration_ms: Some(waited),
                    finished_at,
                    request_headers: Some(delivery.recorded_headers()),
                    reply: reply_of(&result, &delivery),
                    sealed_body: sealed_body.clone(),
                }
            }
        },
    };
    let recorded = record_result(app, run, &completion).await;
    Delivered {
        run: run.finished(&completion),
        recorded,
    }
}

/// Writes a run's result, retrying with backoff; whether it is stored. A write that
/// landed but whose answer was lost is safe to repeat: it only moves a `running` run.
async fn record_result(app: &App, run: &NewRun, completion: &Completion) -> bool {
    let mut delays = FINISH_RETRY_DELAYS_MS.iter();
    let mut first = true;
    loop {
        let attempt = if app.fault(Fault::RunRecordFails) {
            Err(ApiError::Internal(
                "FAULT_INJECTION run_record_fails".into(),
            ))
        } else {
            match app.db() {
                Ok(db) => runs::finish(&db, run, completion).await.and_then(|_| {
                    if first && app.fault(Fault::RunRecordAnswerLost) {
                        Err(ApiError::Internal(
                            "FAULT_INJECTION run_record_answer_lost".into(),
                        ))
                    } else {
                        Ok(())
                    }
                }),
                Err(error) => Err(error),
            }
        };
        first = false;
        match (attempt, delays.next()) {
            (Ok(()), _) => return true,
            (Err(error), Some(delay)) => {
                console_error!(
                    "recording run {}: {error:?}; retrying in {delay} ms",
                    run.id
                );
                Delay::from(Duration::from_millis(*delay)).await;
            }
            (Err(error), None) => {
                console_error!(
                    "recording run {} failed for good: {error:?}; the scheduled handler will settle it",
                    run.id
                );
                return false;
            }
        }
    }
}

/// `POST /api/runs/{id}/redeliver`: sends the run's kept body again, under the same
/// `webhook-id` with a fresh timestamp and signature, to the action's current URL and
/// headers, as a new attempt of the same run. The action's confirmation rule, the
/// caller's run rate limit and `Idempotency-Key` (per run: a repeated key answers the
/// attempt it started) apply as for runs.
///
/// Round trips: one batch (caller, run with its kept body and action row, incident), one
/// KV read of the action's revision, one batch claiming the attempt as the caller, the
/// POST, then the record as for a run.
pub async fn redeliver(
    mut req: Request,
    app: &App,
    ctx: &Context,
    credential: Credential,
    permission: Permission,
    run_id: &str,
) -> ApiResult<Response> {
    let idempotency_key = idempotency_key(&req)?;
    let body: RedeliverRequest = read_optional_json(&mut req).await?;
    let db = app.db()?;
    let caller_sql = credential.caller_sql(app);
    let mut reads = Batch::new("redelivery reads");
    let found = reads.read_both::<RunRow, KeptBody>(runs::get_for_redelivery(&db, run_id)?);
    let incident = reads.read::<IncidentRow>(incidents::get_of_run_statement(&db, run_id)?);
    let (caller, answers) = batch_with_lookup(credential, app, &db, reads).await?;
    let caller = caller.principal;
    caller.require(permission)?;
    let (row, kept) = answers
        .first_both(&found)?
        .ok_or(ApiError::NotFound("Run"))?;
    if let (Some(key), Some(latest)) = (&idempotency_key, &kept.attempt_key) {
        if key.as_str() == latest {
            return replay(row, caller.role);
        }
    }
    if row.is_running() {
        return Err(in_flight());
    }
    if !runs::body_is_kept(&kept, app.now_ms) {
        return Err(ApiError::BodyExpired(format!(
            "This run's body is kept for {RUN_BODY_KEPT_DAYS} days after it was sent, and \
             that time has passed; nothing was sent. Run the action again from the incident"
        )));
    }
    let action_row = kept.action()?.ok_or(ApiError::NotFound("Action"))?;
    let incident = answers
        .first(&incident)?
        .ok_or(ApiError::NotFound("Incident"))?;
    let incident = incident.into_wire()?;
    let keyring = sealed::keyring(app)?;
    let action = open_action(app, &keyring, action_row).await?;
    check_available(&action, &incident)?;
    check_confirmation(action.spec.settings.confirm.as_ref(), body.confirmed)
        .map_err(ApiError::ConfirmationRequired)?;
    let kept_request = kept
        .request_body_sealed
        .as_deref()
        .and_then(|sealed| Kept::open(sealed, &keyring, &kept.service_id, run_id, &action.id))
        .ok_or_else(|| {
            console_error!("the kept body of run {run_id} does not open");
            ApiError::BodyExpired(
                "This run's kept body can no longer be opened with the configured encryption \
                 keys; nothing was sent. Run the action again from the incident"
                    .into(),
            )
        })?;
    kept_request
        .check_target(&action, row.action_revision())
        .map_err(|change| {
            ApiError::Refused(
                ErrorCode::RedeliveryTargetChanged,
                change.message().to_owned(),
            )
        })?;
    let sent_body = kept_request.body();
    let earlier = row.into_wire()?;
    let run = NewRun {
        id: run_id.to_owned(),
        incident_id: earlier.incident_id.clone(),
        action_id: earlier.action_id.clone(),
        action_name: action.spec.name.clone(),
        requested_by: caller.id.clone(),
        requested_by_name: caller.name.clone(),
        inputs: earlier.inputs.clone().unwrap_or_default(),
        action_revision: action.revision,
        started_at: app.now_ms,
        earlier_attempts: earlier.attempts,
        body_kept: true,
    };
    let facts = RunFacts {
        run_id,
        now_ms: app.now_ms,
        agent: &caller,
        incident: &incident,
        inputs: &run.inputs,
    };
    let prepared = ready_to_send(build_redelivery(&facts, &action, sent_body), &action)?;
    // Claim the attempt as the caller; a concurrent redelivery of the same run loses.
    let rate = RateLimit {
        window: Window::at(app.now_ms),
        limit: app.runs_per_minute_per_user(),
    };
    let claim_id = new_id("clm");
    let claim = RedeliveryClaim {
        run_id,
        claim_id: &claim_id,
        idempotency_key: idempotency_key.as_ref(),
        action_revision: action.revision,
        started_at: app.now_ms,
    };
    let allowed = CallerSql::allowed(permission);
    let claimed = db
        .batch(runs::redelivery_claim(
            &db,
            &claim,
            &caller_sql,
            &allowed,
            &rate,
        )?)
        .await?;
    match runs::claim_outcome(&claimed, rate.limit)? {
        Claim::Claimed => {}
        Claim::RateLimited => {
            return Err(ApiError::RateLimited {
                what: "runs started by you",
                retry_after_secs: rate.window.retry_after_secs,
            })
        }
        Claim::NotClaimed => return Err(in_flight()),
    }
    let Delivered { run, recorded } = deliver_in_background(app, ctx, run, prepared, None).await?;
    let status = if recorded { 201 } else { 202 };
    Ok(json_response(
        &RunResponse {
            run: run.view(caller.role),
            outcome_recorded: recorded,
        },
        status,
    )?)
}

fn in_flight() -> ApiError {
    ApiError::Refused(
        ErrorCode::RunInProgress,
        "This run is being delivered right now; wait for its result before redelivering it"
            .to_owned(),
    )
}

/// `GET /api/services/{id}/actions/{action_id}/runs?limit=&cursor=`: a page of the
/// action's runs, newest first, with its figures over its latest finished runs. One
/// round trip.
pub async fn list_action_runs(
    req: &Request,
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let page = page_request(req, PagedList::RunHistory)?;
    let db = app.db()?;
    let mut batch = Batch::new("action history");
    let action = batch.read::<ActionRow>(actions::row_of(&db, action_id)?);
    let page_runs =
        batch.read::<RunRow>(runs::history_page(&db, action_id, page.before, page.limit)?);
    let finished = batch.read::<FinishedRow>(runs::recent_finished_of_action(&db, action_id)?);
    let answers = batch.send(&db).await?;
    answers
        .first(&action)?
        .filter(|row| row.service_id == service_id)
        .ok_or(ApiError::NotFound("Action"))?;
    let (page_rows, next_cursor) = page.cut(answers.all(&page_runs)?, RunRow::position);
    let finished = answers.all(&finished)?;
    let finished: Vec<_> = finished.iter().filter_map(FinishedRow::finished).collect();
    let runs = page_rows
        .into_iter()
        .map(|row| Ok(row.into_wire()?.view(caller.role)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(json_response(
        &RunHistory {
            runs,
            next_cursor,
            stats: run_stats(&finished),
        },
        200,
    )?)
}

/// `GET /api/incidents/{id}/runs?limit=&cursor=`: a page of the incident's runs, newest
/// first. One round trip.
pub async fn list_runs(
    req: &Request,
    app: &App,
    caller: &Principal,
    incident_id: &str,
) -> ApiResult<Response> {
    let page = page_request(req, PagedList::IncidentRuns)?;
    let db = app.db()?;
    let mut batch = Batch::new("incident runs");
    let incident = batch.read::<serde_json::Value>(incidents::exists_statement(&db, incident_id)?);
    let page_runs = batch.read::<RunRow>(runs::incident_page(
        &db,
        incident_id,
        page.before,
        page.limit,
    )?);
    let answers = batch.send(&db).await?;
    if answers.all(&incident)?.is_empty() {
        return Err(ApiError::NotFound("Incident"));
    }
    let (page_rows, next_cursor) = page.cut(answers.all(&page_runs)?, RunRow::position);
    let runs = page_rows
        .into_iter()
        .map(|row| Ok(row.into_wire()?.view(caller.role)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(json_response(&RunList { runs, next_cursor }, 200)?)
}

/// `GET /api/runs/{id}`.
pub async fn get_run(app: &App, caller: &Principal, run_id: &str) -> ApiResult<Response> {
    let run = runs::get(&app.db()?, run_id)
        .await?
        .ok_or(ApiError::NotFound("Run"))?;
    Ok(json_response(
        &RunResponse {
            run: run.into_wire()?.view(caller.role),
            outcome_recorded: true,
        },
        200,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_round_trips_are_told_before_and_after_the_send() {
        assert_eq!(
            server_timing((2, 1), (3, 1)),
            "d1-before-send;desc=\"2\", kv-before-send;desc=\"1\", d1-after-send;desc=\"1\""
        );
    }
}
