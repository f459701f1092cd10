//! Running an action from an incident, and reading runs back.
//!
//! The worker, never the browser, sends the POST: the endpoint's secrets and signing
//! key stay here, and the run is recorded whatever the browser does.

use futures_channel::oneshot;
use futures_util::future::join;
use shared::api::{ActionRun, RunList, RunResponse};
use shared::limits::MAX_IDEMPOTENCY_KEY_CHARS;
use worker::{Context, Request, Response};

use crate::app::{now_ms, App};
use crate::auth::Principal;
use crate::delivery::{blocked_verdict, build_delivery, classify, send, Delivery};
use crate::error::{ApiError, ApiResult};
use crate::http::{header, json_response};
use crate::ids::new_id;
use crate::rate_limit::{exceeds, runs_bucket, Window};
use crate::redact;
use crate::sealed;
use crate::store::runs::{self, Claim, Completion, NewRun};
use crate::store::{actions, incidents, rate_limits};

/// `POST /api/incidents/{id}/actions/{action_id}/runs`: sends the action's POST and
/// answers once the endpoint has answered or the deadline has passed.
pub async fn create_run(
    req: &Request,
    app: &App,
    ctx: &Context,
    caller: &Principal,
    incident_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let idempotency_key = header(req, "Idempotency-Key");
    if let Some(key) = &idempotency_key {
        check_idempotency_key(key)?;
    }
    let db = app.db()?;
    // Counted before anything is read, claimed or sent: a refused run leaves no trace.
    let window = Window::at(app.now_ms);
    if exceeds(
        rate_limits::hit(&db, &runs_bucket(&caller.id), window).await?,
        app.runs_per_minute_per_user(),
    ) {
        return Err(ApiError::RateLimited {
            what: "runs started by you",
            retry_after_secs: window.retry_after_secs,
        });
    }
    let kv = app.kv()?;
    // Both reads at once: a run is latency the responder waits through.
    let (incident, action) = join(
        incidents::get(&db, incident_id),
        actions::get(&kv, &sealed::keyring(app)?, action_id),
    )
    .await;
    let incident = incident?.ok_or(ApiError::NotFound("Incident"))?;
    let action = action?
        .filter(|action| action.service_id == incident.service_id())
        .ok_or(ApiError::NotFound("Action"))?;
    if !action.enabled {
        return Err(ApiError::Conflict(
            "action_disabled",
            format!(
                "The action \"{}\" is disabled; enable it on the service's Custom Incident Actions page",
                action.name
            ),
        ));
    }
    let run = NewRun {
        id: new_id("run"),
        incident_id: incident_id.to_owned(),
        action_id: action_id.to_owned(),
        action_name: action.name.clone(),
        requested_by: caller.id.clone(),
        idempotency_key,
        started_at: app.now_ms,
    };
    if let Claim::Existing(earlier) = runs::claim(&db, &run).await? {
        if earlier.is_running() {
            return Err(ApiError::Conflict(
                "run_in_progress",
                "A run with this Idempotency-Key is still in progress".to_owned(),
            ));
        }
        let mut response = json_response(
            &RunResponse {
                run: earlier.into_wire()?,
            },
            200,
        )?;
        response.headers_mut().set("Idempotent-Replayed", "true")?;
        return Ok(response);
    }
    let delivery = build_delivery(&run.id, app.now_ms, caller, &action, &incident.into_wire()?)
        .map_err(|_| ApiError::Internal(format!("action {action_id}: unusable signing secret")))?;

    // The POST and its record run under wait_until, so a responder who closes the tab
    // mid-run neither cancels a request that may already have reached the endpoint nor
    // leaves the run unrecorded. This request only waits for the outcome.
    let (outcome_tx, outcome_rx) = oneshot::channel();
    let task_app = app.clone();
    let agent_name = caller.name.clone();
    ctx.wait_until(async move {
        let outcome = deliver_and_record(&task_app, &run, &delivery, &agent_name).await;
        // Nobody may be waiting any more; the run is recorded either way.
        let _ = outcome_tx.send(outcome);
    });
    let run = outcome_rx
        .await
        .map_err(|_| ApiError::Internal("the run task ended without an outcome".into()))??;
    Ok(json_response(&RunResponse { run }, 201)?)
}

/// Sends one delivery, unless the endpoint guard now refuses its URL, and stores the
/// verdict and timeline entry.
async fn deliver_and_record(
    app: &App,
    run: &NewRun,
    delivery: &Delivery,
    agent_name: &str,
) -> ApiResult<ActionRun> {
    // The URL passed the guard when it was saved, but the rules may have changed since
    // (OWN_HOSTS, the allowlist, this code); what counts is the policy in force now.
    let completion = if let Some(blocked) = blocked_verdict(&delivery.url, &app.endpoint_policy()) {
        Completion {
            verdict: blocked,
            duration_ms: None,
            finished_at: now_ms(),
            request_headers: None,
        }
    } else {
        let sent_at = now_ms();
        let result = send(delivery).await;
        let finished_at = now_ms();
        Completion {
            verdict: classify(&result),
            duration_ms: Some(finished_at - sent_at),
            finished_at,
            request_headers: Some(delivery.recorded_headers()),
        }
    };
    runs::finish(&app.db()?, run, &completion, agent_name).await?;
    Ok(run.finished(&completion))
}

/// `GET /api/incidents/{id}/runs`, newest first.
pub async fn list_runs(app: &App, caller: &Principal, incident_id: &str) -> ApiResult<Response> {
    let db = app.db()?;
    incidents::get(&db, incident_id)
        .await?
        .ok_or(ApiError::NotFound("Incident"))?;
    let runs = runs::list_for_incident(&db, incident_id)
        .await?
        .into_iter()
        .map(|run| redact::run(run, caller.role))
        .collect();
    Ok(json_response(&RunList { runs }, 200)?)
}

/// `GET /api/runs/{id}`.
pub async fn get_run(app: &App, caller: &Principal, run_id: &str) -> ApiResult<Response> {
    let run = runs::get(&app.db()?, run_id)
        .await?
        .ok_or(ApiError::NotFound("Run"))?;
    Ok(json_response(
        &RunResponse {
            run: redact::run(run.into_wire()?, caller.role),
        },
        200,
    )?)
}

/// An `Idempotency-Key` is 1..=255 visible ASCII characters.
pub fn check_idempotency_key(key: &str) -> ApiResult<()> {
    let valid = !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY_CHARS
        && key.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "invalid_idempotency_key",
            format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_of_1_and_255_characters_are_accepted() {
        assert!(check_idempotency_key("k").is_ok());
        assert!(check_idempotency_key(&"k".repeat(255)).is_ok());
    }

    #[test]
    fn idempotency_keys_that_are_empty_long_or_spaced_are_refused() {
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key(&"k".repeat(256)).is_err());
        assert!(check_idempotency_key("a b").is_err());
    }
}
