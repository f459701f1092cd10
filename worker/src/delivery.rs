//! The POST to a customer endpoint: build the signed request (pure), send it with the
//! 16-second deadline and no redirects, and classify what came back (pure).
//!
//! Nothing here retries: a request that may have reached the endpoint is never sent
//! twice, because the endpoint may restart a server or revert a deploy.

use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use serde_json::json;
use shared::api::{Incident, RunOutcome, RunStatus, SentHeader, REDACTED};
use shared::endpoint::{EndpointPolicy, EndpointUrl};
use shared::limits::{MAX_RESPONSE_EXCERPT_BYTES, MAX_RESPONSE_READ_BYTES, RUN_DEADLINE_SECS};
use shared::time::format_rfc3339;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

use crate::auth::Principal;
use crate::signature::{sign, BadSigningSecret};
use crate::store::actions::OpenedAction;

/// The `User-Agent` every delivery carries.
pub const USER_AGENT: &str = concat!(
    "IncidentActions/",
    env!("CARGO_PKG_VERSION"),
    " (custom incident actions webhook)"
);

/// A request ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The endpoint.
    pub url: String,
    /// Every header, custom ones included, in sending order.
    pub headers: Vec<OutgoingHeader>,
    /// The JSON body, exactly as signed.
    pub body: String,
}

/// One header of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingHeader {
    /// Header name.
    pub name: String,
    /// The value sent.
    pub value: String,
    /// Whether the value is a secret, never to be recorded or shown.
    pub secret: bool,
}

impl OutgoingHeader {
    /// A header whose value may be recorded.
    fn public(name: &str, value: String) -> Self {
        Self {
            name: name.to_owned(),
            value,
            secret: false,
        }
    }
}

impl Delivery {
    /// The headers as a run record keeps them: in sending order, secret values replaced
    /// by `[redacted]`.
    pub fn recorded_headers(&self) -> Vec<SentHeader> {
        self.headers
            .iter()
            .map(|header| SentHeader {
                name: header.name.clone(),
                value: if header.secret {
                    REDACTED.to_owned()
                } else {
                    header.value.clone()
                },
            })
            .collect()
    }
}

/// Builds the body of §6 and signs it. `incident` must not carry `actions`.
pub fn build_delivery(
    run_id: &str,
    now_ms: i64,
    agent: &Principal,
    action: &OpenedAction,
    incident: &Incident,
    inputs: &serde_json::Map<String, serde_json::Value>,
) -> Result<Delivery, BadSigningSecret> {
    let body = json!({
        "event": {
            "id": run_id,
            "event_type": "incident.custom_action",
            "occurred_at": format_rfc3339(now_ms),
            "agent": {"type": "user", "id": agent.id, "name": agent.name},
            "action": {"id": action.id, "name": action.name},
            "inputs": inputs,
            "data": incident,
        }
    })
    .to_string();
    let timestamp = now_ms.div_euclid(1000);
    let signature = sign(&action.signing_secret, run_id, timestamp, &body)?;
    let mut headers: Vec<OutgoingHeader> = action
        .headers
        .iter()
        .map(|h| OutgoingHeader {
            name: h.name.clone(),
            value: h.value.clone(),
            secret: h.secret,
        })
        .collect();
    headers.extend([
        OutgoingHeader::public("Content-Type", "application/json".to_owned()),
        OutgoingHeader::public("User-Agent", USER_AGENT.to_owned()),
        OutgoingHeader::public("webhook-id", run_id.to_owned()),
        OutgoingHeader::public("webhook-timestamp", timestamp.to_string()),
        OutgoingHeader::public("webhook-signature", signature),
    ]);
    Ok(Delivery {
        url: action.endpoint_url.clone(),
        headers,
        body,
    })
}

/// What happened on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// The endpoint answered; `body` holds at most 64 KiB of it.
    Answered {
        /// HTTP status code.
        status: u16,
        /// The start of the body.
        body: Vec<u8>,
    },
    /// No full answer within the deadline.
    TimedOut,
    /// The connection failed.
    NetworkError(String),
}

/// A run's result, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Succeeded or failed.
    pub status: RunStatus,
    /// How the endpoint answered.
    pub outcome: RunOutcome,
    /// The status code, when there was an answer.
    pub http_status: Option<u16>,
    /// The start of the answer, or what went wrong, as text.
    pub excerpt: Option<String>,
}

/// 2xx succeeds; 3xx is a redirect (not followed); anything else failed. Every value in
/// `secrets` is replaced by `[redacted]` in the excerpt kept, so an endpoint that echoes
/// its request headers cannot walk them into the run record.
pub fn classify(result: &SendResult, secrets: &[String]) -> Verdict {
    match result {
        SendResult::Answered { status, body } => {
            let outcome = match status {
                200..=299 => RunOutcome::Success,
                300..=399 => RunOutcome::Redirect,
                _ => RunOutcome::HttpError,
            };
            Verdict {
                status: if outcome == RunOutcome::Success {
                    RunStatus::Succeeded
                } else {
                    RunStatus::Failed
                },
                outcome,
                http_status: Some(*status),
                excerpt: Some(excerpt(body, secrets)),
            }
        }
        SendResult::TimedOut => Verdict {
            status: RunStatus::Failed,
            outcome: RunOutcome::Timeout,
            http_status: None,
            excerpt: Some(format!(
                "The endpoint did not answer within {RUN_DEADLINE_SECS} seconds"
            )),
        },
        SendResult::NetworkError(detail) => Verdict {
            status: RunStatus::Failed,
            outcome: RunOutcome::NetworkError,
            http_status: None,
            excerpt: Some(format!("Could not reach the endpoint: {detail}")),
        },
    }
}

/// The verdict for a delivery whose URL the endpoint guard refuses under `policy`, or
/// `None` when it may be sent. A blocked run failed without sending anything; its excerpt
/// is the rule that refused it.
pub fn blocked_verdict(url: &str, policy: &EndpointPolicy) -> Option<Verdict> {
    EndpointUrl::parse(url, policy)
        .err()
        .map(|refusal| Verdict {
            status: RunStatus::Failed,
            outcome: RunOutcome::Blocked,
            http_status: None,
            excerpt: Some(refusal.to_string()),
        })
}

/// The first 4 KiB of an answer as text, every secret value replaced by `[redacted]`.
/// Bytes that are not UTF-8 become U+FFFD. The secrets are replaced in everything read
/// (64 KiB) before the cut, so no cut can leave part of one behind. It is shown as plain
/// text, never interpreted.
pub fn excerpt(body: &[u8], secrets: &[String]) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        text = text.replace(secret.as_str(), REDACTED);
        // As a JSON string would carry it (an endpoint echoing headers as JSON).
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        if escaped != secret && !escaped.is_empty() {
            text = text.replace(escaped, REDACTED);
        }
    }
    if text.len() <= MAX_RESPONSE_EXCERPT_BYTES {
        return text;
    }
    let mut cut = MAX_RESPONSE_EXCERPT_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

/// Sends a delivery: one attempt, redirects not followed, the whole exchange (connect,
/// headers, reading up to 64 KiB of body) bounded by the 16-second deadline.
pub async fn send(delivery: &Delivery) -> SendResult {
    let controller = AbortController::default();
    let signal = controller.signal();
    let exchange = async {
        let headers = Headers::new();
        for header in &delivery.headers {
            // The error names the header, never its value.
            headers
                .set(&header.name, &header.value)
                .map_err(|_| format!("header {} could not be set", header.name))?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_redirect(RequestRedirect::Manual)
            .with_body(Some(delivery.body.clone().into()));
        let request = Request::new_with_init(&delivery.url, &init).map_err(|e| e.to_string())?;
        let mut response = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status_code();
        let mut body = Vec::new();
        if let Ok(mut stream) = response.stream() {
            while let Some(chunk) = stream.next().await {
                let Ok(chunk) = chunk else { break };
                body.extend_from_slice(&chunk);
                if body.len() >= MAX_RESPONSE_READ_BYTES {
                    body.truncate(MAX_RESPONSE_READ_BYTES);
                    break;
                }
            }
        }
        Ok::<_, String>((status, body))
    };
    let deadline = Delay::from(Duration::from_secs(RUN_DEADLINE_SECS));
    let result = match select(Box::pin(exchange), deadline).await {
        Either::Left((Ok((status, body)), _)) => SendResult::Answered { status, body },
        Either::Left((Err(detail), _)) => SendResult::NetworkError(simplify_network_error(&detail)),
        Either::Right(_) => SendResult::TimedOut,
    };
    // Release the connection and whatever of the body was not read.
    controller.abort();
    result
}

/// Runtime errors arrive as long JS strings; keep the first line for the responder.
fn simplify_network_error(detail: &str) -> String {
    let line = detail.lines().next().unwrap_or(detail).trim();
    line.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::store::actions::OpenedHeader;

    fn action() -> OpenedAction {
        OpenedAction {
            id: "act_1".into(),
            name: "Restart web".into(),
            endpoint_url: "https://hooks.example.com/restart".into(),
            revision: 1,
            headers: vec![OpenedHeader {
                name: "X-Api-Key".into(),
                value: "k3y".into(),
                secret: true,
            }],
            signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            inputs: Vec::new(),
            confirm: None,
            available_when: None,
        }
    }

    fn incident() -> Incident {
        serde_json::from_value(serde_json::json!({
            "id": "inc_1", "number": 7, "title": "Disk full", "status": "triggered",
            "urgency": "high", "severity": "critical", "source": "db-1", "component": null,
            "group": null, "class": null, "custom_details": {"disk": "/var"}, "links": [],
            "dedup_key": "disk-db-1", "event_count": 1,
            "service": {"id": "svc_1", "name": "Database"},
            "created_at": "2026-11-22T00:00:00.000Z", "updated_at": "2026-11-22T00:00:00.000Z"
        }))
        .unwrap()
    }

    fn agent() -> Principal {
        Principal::admin()
    }

    #[test]
    fn the_body_names_the_event_action_agent_and_incident() {
        let delivery = build_delivery(
            "run_1",
            1_795_000_000_000,
            &agent(),
            &action(),
            &incident(),
            &serde_json::Map::new(),
        )
        .unwrap();
        let body: Value = serde_json::from_str(&delivery.body).unwrap();
        let event = &body["event"];
        assert_eq!(event["id"], "run_1");
        assert_eq!(event["event_type"], "incident.custom_action");
        assert_eq!(
            event["agent"],
            serde_json::json!({"type": "user", "id": "admin", "name": "Administrator"})
        );
        assert_eq!(
            event["action"],
            serde_json::json!({"id": "act_1", "name": "Restart web"})
        );
        assert_eq!(event["data"]["title"], "Disk full");
        assert_eq!(
            event["inputs"],
            serde_json::json!({}),
            "no inputs: an empty object"
        );
        assert!(event["data"].get("actions").is_none());
    }

    #[test]
    fn the_signature_covers_the_exact_body_sent() {
        let now_ms = 1_795_000_000_999;
        let delivery = build_delivery(
            "run_1",
            now_ms,
            &agent(),
            &action(),
            &incident(),
            &serde_json::Map::new(),
        )
        .unwrap();
        let header = |name: &str| {
            delivery
                .headers
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.clone())
                .unwrap()
        };
        assert_eq!(header("webhook-id"), "run_1");
        assert_eq!(header("webhook-timestamp"), "1795000000");
        let expected = sign(
            &action().signing_secret,
            "run_1",
            1_795_000_000,
            &delivery.body,
        )
        .unwrap();
        assert_eq!(header("webhook-signature"), expected);
    }

    fn sent(delivery: &Delivery) -> Vec<(&str, &str)> {
        delivery
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect()
    }

    #[test]
    fn custom_headers_and_the_product_user_agent_are_sent() {
        let delivery = build_delivery(
            "run_1",
            0,
            &agent(),
            &action(),
            &incident(),
            &serde_json::Map::new(),
        )
        .unwrap();
        let sent = sent(&delivery);
        assert!(sent.contains(&("X-Api-Key", "k3y")));
        assert!(sent.contains(&("User-Agent", USER_AGENT)));
        assert!(sent.contains(&("Content-Type", "application/json")));
    }

    #[test]
    fn the_recorded_headers_are_those_sent_with_secret_values_redacted() {
        let mut action = action();
        action.headers.push(OpenedHeader {
            name: "X-Team".into(),
            value: "sre".into(),
            secret: false,
        });
        let delivery = build_delivery(
            "run_1",
            0,
            &agent(),
            &action,
            &incident(),
            &serde_json::Map::new(),
        )
        .unwrap();
        let recorded = delivery.recorded_headers();
        let names: Vec<&str> = recorded.iter().map(|h| h.name.as_str()).collect();
        let sent_names: Vec<&str> = sent(&delivery).iter().map(|(name, _)| *name).collect();
        assert_eq!(names, sent_names, "every header, in sending order");
        let value = |name: &str| {
            recorded
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.as_str())
        };
        assert_eq!(value("X-Api-Key"), Some(REDACTED));
        assert_eq!(value("X-Team"), Some("sre"));
        assert_eq!(value("webhook-id"), Some("run_1"));
        assert!(!format!("{recorded:?}").contains("k3y"));
        assert!(!format!("{recorded:?}").contains(&action.signing_secret));
    }

    #[test]
    fn outcomes_follow_the_status_code() {
        let answered = |status| {
            classify(
                &SendResult::Answered {
                    status,
                    body: Vec::new(),
                },
                &[],
            )
        };
        assert_eq!(answered(200).outcome, RunOutcome::Success);
        assert_eq!(answered(204).status, RunStatus::Succeeded);
        assert_eq!(answered(302).outcome, RunOutcome::Redirect);
        assert_eq!(answered(302).status, RunStatus::Failed);
        assert_eq!(answered(404).outcome, RunOutcome::HttpError);
        assert_eq!(answered(500).http_status, Some(500));
        assert_eq!(
            classify(&SendResult::TimedOut, &[]).outcome,
            RunOutcome::Timeout
        );
        let refused = classify(&SendResult::NetworkError("connection refused".into()), &[]);
        assert_eq!(
            (refused.outcome, refused.http_status),
            (RunOutcome::NetworkError, None)
        );
    }

    #[test]
    fn a_url_the_policy_now_refuses_is_blocked_with_the_rule_as_excerpt() {
        let policy = EndpointPolicy::from_allowlist("").with_own_hosts("actions.example.com");
        let blocked = blocked_verdict("http://127.0.0.1:9100/hook", &policy).unwrap();
        assert_eq!(
            (blocked.status, blocked.outcome, blocked.http_status),
            (RunStatus::Failed, RunOutcome::Blocked, None)
        );
        assert!(blocked.excerpt.unwrap().contains("https://"));
        let own = blocked_verdict("https://actions.example.com/api/x", &policy).unwrap();
        assert!(own.excerpt.unwrap().contains("OWN_HOSTS"));
        assert_eq!(blocked_verdict(&action().endpoint_url, &policy), None);
    }

    #[test]
    fn an_excerpt_keeps_at_most_4096_bytes() {
        assert_eq!(
            excerpt(&vec![b'a'; 10_000], &[]).len(),
            MAX_RESPONSE_EXCERPT_BYTES
        );
        assert_eq!(excerpt(b"short", &[]), "short");
    }

    #[test]
    fn an_excerpt_never_splits_a_character() {
        let mut body = vec![b'a'; MAX_RESPONSE_EXCERPT_BYTES - 1];
        body.extend("é".as_bytes());
        assert_eq!(
            excerpt(&body, &[]),
            "a".repeat(MAX_RESPONSE_EXCERPT_BYTES - 1)
        );
    }

    #[test]
    fn binary_answers_stay_within_the_limit() {
        let text = excerpt(&vec![0xff; 10_000], &[]);
        assert!(text.len() <= MAX_RESPONSE_EXCERPT_BYTES);
        assert!(text.starts_with('\u{fffd}'));
    }

    #[test]
    fn html_is_kept_as_text() {
        assert_eq!(
            excerpt(b"<script>alert(1)</script>", &[]),
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn secret_values_echoed_by_the_endpoint_never_reach_the_excerpt() {
        let secrets = ["Bearer t0p\"s3cret".to_owned(), "whsec_abc".to_owned()];
        let echoed = br#"{"authorization": "Bearer t0p\"s3cret", "raw": Bearer t0p"s3cret, "sig": "whsec_abc"}"#;
        let kept = excerpt(echoed, &secrets);
        assert!(!kept.contains("t0p"), "{kept}");
        assert!(!kept.contains("whsec_abc"), "{kept}");
        assert_eq!(kept.matches(REDACTED).count(), 3, "{kept}");
    }

    #[test]
    fn a_secret_past_the_excerpt_cut_leaves_no_prefix_behind() {
        let secret = "s3cret-value-that-is-long".to_owned();
        let mut body = vec![b'a'; MAX_RESPONSE_EXCERPT_BYTES - 5];
        body.extend(secret.as_bytes());
        let kept = excerpt(&body, &[secret]);
        assert!(
            !kept.contains("s3cre"),
            "a cut secret would leave its first bytes"
        );
    }
}
