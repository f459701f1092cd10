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
use crate::store::incidents::{self, Target};

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
    // The routing key is looked up inside the same batch that applies the event, so an
    // event costs one round trip to D1.
    let (service_known, dedup_key) = match (event.event_action, &event.dedup_key, &event.payload) {
        (EventAction::Trigger, key, Some(payload)) => {
            let key = key.clone().unwrap_or_else(|| hex(&random_bytes(16)));
            let known = incidents::apply_trigger(
                &db,
                &event.routing_key,
                &key,
                payload,
                &event.links,
                app.now_ms,
            )
            .await?;
            (known, key)
        }
        (action, Some(key), _) => {
            let to = if action == EventAction::Acknowledge {
                IncidentStatus::Acknowledged
            } else {
                IncidentStatus::Resolved
            };
            let target = Target::OpenWithDedupKey {
                routing_key: &event.routing_key,
                dedup_key: key,
            };
            // No open incident with this key: accepted and nothing changes, as PagerDuty does.
            let transition =
                incidents::apply_transition(&db, target, to, EVENTS_AGENT, app.now_ms).await?;
            (transition.target_known, key.clone())
        }
        // parse_event guarantees a payload on triggers and a key otherwise.
        _ => return reject(400, "Event object is invalid".to_owned()),
    };
    if !service_known {
        return unknown_routing_key();
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
    if !changes::insert(&app.db()?, &event, app.now_ms).await? {
        return unknown_routing_key();
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
    };
    Ok(match serde_json::from_slice(&bytes) {
        Ok(body) => Ok(body),
        Err(error) => Err(reject(400, format!("Malformed JSON: {error}"))?),
    })
}

fn unknown_routing_key() -> ApiResult<Response> {
    reject(
        400,
        "'routing_key' does not match any service's integration key".to_owned(),
    )
}

fn reject(status: u16, error: String) -> ApiResult<Response> {
    Ok(json_response(&EnqueueRejected::new(vec![error]), status)?)
}
