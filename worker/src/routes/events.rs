//! `POST /v2/enqueue`: the PagerDuty Events API v2, so monitoring tools feed this system
//! by changing only the host; and `POST /v2/change/enqueue`, its Change Events API, for
//! deploys and commits. Their answers use PagerDuty's own shapes, not `ErrorBody`.

use shared::events::{
    parse_change_event, parse_event, ChangeAccepted, EnqueueAccepted, EnqueueRejected, EventAction,
};
use shared::incident::IncidentStatus;
use shared::limits::MAX_EVENT_BODY_BYTES;
use worker::{Request, Response};

use crate::app::App;
use crate::error::ApiResult;
use crate::http::{json_response, read_body, BodyError};
use crate::ids::hex;
use crate::ids::random_bytes;
use crate::store::changes;
use crate::store::incidents;
use crate::store::intake::{Admission, Verdict};

/// The agent named on timeline entries written by acknowledge and resolve events.
const EVENTS_AGENT: &str = "Events API";

/// `POST /v2/enqueue`.
pub async fn enqueue(mut req: Request, app: &App) -> ApiResult<Response> {
    let body = match read_event_body(&mut req).await? {
        Ok(body) => body,
        Err(rejection) => return Ok(rejection),
    };
    let event = match parse_event(&body) {
        Ok(event) => event,
        Err(errors) => return Ok(json_response(&EnqueueRejected::new(errors), 400)?),
    };
    let db = app.db()?;
    // The routing key is looked up, and the throttle applied, inside the same batch that
    // applies the event, so an event costs one round trip to D1.
    let admission = Admission::new(&event.routing_key, app.event_rate(), app.now_ms);
    let (verdict, dedup_key) = match (event.event_action, &event.dedup_key, &event.payload) {
        (EventAction::Trigger, key, Some(payload)) => {
            let key = key.clone().unwrap_or_else(|| hex(&random_bytes(16)));
            let verdict =
                incidents::apply_trigger(&db, &admission, &key, payload, &event.links, app.now_ms)
                    .await?;
            (verdict, key)
        }
        (action, Some(key), _) => {
            let to = if action == EventAction::Acknowledge {
                IncidentStatus::Acknowledged
            } else {
                IncidentStatus::Resolved
            };
            // No open incident with this key: accepted and nothing changes, as PagerDuty does.
            let verdict = incidents::apply_event_transition(
                &db,
                &admission,
                key,
                to,
                EVENTS_AGENT,
                app.now_ms,
            )
            .await?;
            (verdict, key.clone())
        }
        // parse_event guarantees a payload on triggers and a key otherwise.
        _ => return reject(400, "Event object is invalid".to_owned()),
    };
    if let Some(refusal) = refusal(verdict)? {
        return Ok(refusal);
    }
    let accepted = EnqueueAccepted {
        status: "success".to_owned(),
        message: "Event processed".to_owned(),
        dedup_key,
    };
    Ok(json_response(&accepted, 202)?)
}

/// `POST /v2/change/enqueue`: stores a change event on the service with the routing key.
/// One D1 statement.
pub async fn change_enqueue(mut req: Request, app: &App) -> ApiResult<Response> {
    let body = match read_event_body(&mut req).await? {
        Ok(body) => body,
        Err(rejection) => return Ok(rejection),
    };
    let event = match parse_change_event(&body) {
        Ok(event) => event,
        Err(errors) => return Ok(json_response(&EnqueueRejected::new(errors), 400)?),
    };
    let admission = Admission::new(&event.routing_key, app.event_rate(), app.now_ms);
    let verdict = changes::insert(&app.db()?, &admission, &event, app.now_ms).await?;
    if let Some(refusal) = refusal(verdict)? {
        return Ok(refusal);
    }
    Ok(json_response(&ChangeAccepted::new(), 202)?)
}

/// The JSON body of an Events API request, or the answer refusing it (415, 413, 400),
/// with the same limits on both APIs.
async fn read_event_body(req: &mut Request) -> ApiResult<Result<serde_json::Value, Response>> {
    let bytes = match read_body(req, MAX_EVENT_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(BodyError::NotJson) => {
            return reject(
                415,
                "Send the event as Content-Type: application/json".to_owned(),
            )
            .map(Err)
        }
        Err(BodyError::TooLarge) => {
            return reject(
                413,
                format!(
                    "The event is larger than the {} KB limit",
                    MAX_EVENT_BODY_BYTES / 1024
                ),
            )
            .map(Err)
        }
        Err(BodyError::Unreadable) => {
            return reject(400, "The body broke off before its end".to_owned()).map(Err)
        }
    };
    Ok(match serde_json::from_slice(&bytes) {
        Ok(body) => Ok(body),
        Err(error) => Err(reject(400, format!("Malformed JSON: {error}"))?),
    })
}

/// The answer to an event that was not let in: none when it was.
fn refusal(verdict: Verdict) -> ApiResult<Option<Response>> {
    match verdict {
        Verdict::Admitted => Ok(None),
        Verdict::UnknownKey => reject(
            400,
            "'routing_key' does not match any service's integration key".to_owned(),
        )
        .map(Some),
        // PagerDuty's own 429 body; its clients (Alertmanager among them) retry on 429.
        Verdict::Throttled { retry_after_secs } => {
            let response = json_response(
                &EnqueueRejected::throttled(format!(
                    "Too many events for this routing key; retry after {retry_after_secs} s"
                )),
                429,
            )?;
            response
                .headers()
                .set("Retry-After", &retry_after_secs.to_string())?;
            Ok(Some(response))
        }
    }
}

fn reject(status: u16, error: String) -> ApiResult<Response> {
    Ok(json_response(&EnqueueRejected::new(vec![error]), status)?)
}
