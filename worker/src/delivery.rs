//! The POST to a customer endpoint: build the signed request (pure), send it with the
//! action's deadline (`timeout_ms`, at most 16 s) and no redirects, and classify what
//! came back (pure).
//!
//! Nothing here retries: a request that may have reached the endpoint is never sent
//! twice, because the endpoint may restart a server or revert a deploy.

use std::cell::OnceCell;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use serde_json::json;
use shared::api::{
    Incident, PreviewedRequest, RunOutcome, RunStatus, SentHeader, PREVIEW_SIGNATURE, REDACTED,
};
use shared::endpoint::{EndpointPolicy, EndpointUrl};
use shared::limits::{
    MAX_DEFAULT_PAYLOAD_BYTES, MAX_RESPONSE_EXCERPT_BYTES, MAX_RESPONSE_READ_BYTES,
};
use shared::reply::{read_reply, Reply};
use shared::template::is_template;
use shared::time::format_rfc3339;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

use crate::domain::{OpenedAction, Principal, Verdict};
use crate::signature::{sign, BadSigningSecret};
use crate::template::{self, AgentRef, NamedRef, RunRef, TemplateContext, TemplateFailure};
use shared::action::{ActionSpec, Redacted, SentText};

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
    /// Every secret value of the action: replaced by `[redacted]` wherever the request
    /// or its answer is recorded (a templated header may carry one).
    pub secret_values: Vec<String>,
    /// Whether the answer may write back (the reply contract, `shared::reply`).
    pub accept_reply: bool,
    /// How long to wait for the answer.
    pub deadline_ms: u64,
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
    /// The headers as a run record keeps them: in sending order, a secret header's value
    /// replaced by `[redacted]`, and so is any secret value a templated header carries.
    pub fn recorded_headers(&self) -> Vec<SentHeader> {
        self.headers
            .iter()
            .map(|header| SentHeader {
                name: header.name.clone(),
                value: if header.secret {
                    REDACTED.to_owned()
                } else {
                    redact_secrets(&header.value, &self.secret_values)
                },
            })
            .collect()
    }

    /// The request as a preview shows it.
    pub fn previewed(&self) -> PreviewedRequest {
        PreviewedRequest {
            method: "POST".to_owned(),
            url: Some(self.url.clone()),
            headers: self.recorded_headers(),
            body: self.body.clone(),
        }
    }
}

/// What a request is built for.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    /// The run's id: `event.id`, `run.id` and the `webhook-id`.
    pub run_id: &'a str,
    /// When it is sent (ms).
    pub now_ms: i64,
    /// Who pressed the button.
    pub agent: &'a Principal,
    /// The incident, without `actions`.
    pub incident: &'a Incident,
    /// The checked input values.
    pub inputs: &'a serde_json::Map<String, serde_json::Value>,
}

/// Why a request could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// A template did not render into a valid request; one failure per field.
    Template(Vec<TemplateFailure>),
    /// The stored signing secret cannot sign (our fault, not the template's).
    SigningSecret(BadSigningSecret),
}

/// How the `webhook-signature` header is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing<'a> {
    /// Signed with the action's opened signing secret: a real delivery.
    Signed(&'a str),
    /// [`PREVIEW_SIGNATURE`]: a preview, which has no secret opened.
    Placeholder,
}

/// The action a request is built for: its id and its specification, whose header values
/// are opened (a delivery) or redacted (a preview).
struct Sender<'a, V> {
    id: &'a str,
    spec: &'a ActionSpec<V>,
}

// By hand: a derive would ask `V: Copy`, and only references are copied.
impl<V> Clone for Sender<'_, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Sender<'_, V> {}

/// Where a request's body comes from.
#[derive(Debug, Clone, Copy)]
enum Body<'a> {
    /// Rendered now: the action's template, or the default payload.
    Render,
    /// Sent before and kept: a redelivery sends exactly these bytes again.
    Kept(&'a str),
}

/// Builds the request a run sends, signed over the exact body.
pub fn build_delivery(facts: &RunFacts<'_>, action: &OpenedAction) -> Result<Delivery, BuildError> {
    assemble(
        facts,
        opened(action),
        Body::Render,
        Signing::Signed(&action.signing_secret),
    )
}

fn opened(action: &OpenedAction) -> Sender<'_, shared::action::Opened> {
    Sender {
        id: &action.id,
        spec: &action.spec,
    }
}

/// Builds a redelivery: the kept `body` exactly as first sent, under the same
/// `webhook-id` (the run's id) with a fresh timestamp and signature, to the action's
/// current URL with its current headers (templated values rendered for `facts`).
pub fn build_redelivery(
    facts: &RunFacts<'_>,
    action: &OpenedAction,
    body: &str,
) -> Result<Delivery, BuildError> {
    assemble(
        facts,
        opened(action),
        Body::Kept(body),
        Signing::Signed(&action.signing_secret),
    )
}

/// Builds the request exactly as [`build_delivery`] would, for the action `action_id`
/// as `spec` shows it (secret values `[redacted]`), with a placeholder signature. Opens
/// and sends nothing.
pub fn preview(
    facts: &RunFacts<'_>,
    action_id: &str,
    spec: &ActionSpec<Redacted>,
) -> Result<PreviewedRequest, Vec<TemplateFailure>> {
    let sender = Sender {
        id: action_id,
        spec,
    };
    match assemble(facts, sender, Body::Render, Signing::Placeholder) {
        Ok(delivery) => Ok(delivery.previewed()),
        Err(BuildError::Template(failures)) => Err(failures),
        // A placeholder signature signs nothing.
        Err(BuildError::SigningSecret(_)) => Err(Vec::new()),
    }
}

fn assemble<V: SentText>(
    facts: &RunFacts<'_>,
    action: Sender<'_, V>,
    body: Body<'_>,
    signing: Signing<'_>,
) -> Result<Delivery, BuildError> {
    let (custom_headers, body) = render(facts, action, body).map_err(BuildError::Template)?;
    let timestamp = facts.now_ms.div_euclid(1000);
    let (signature, signing_secret) = match signing {
        Signing::Signed(secret) => (
            sign(secret, facts.run_id, timestamp, &body).map_err(BuildError::SigningSecret)?,
            Some(secret),
        ),
        Signing::Placeholder => (PREVIEW_SIGNATURE.to_owned(), None),
    };
    // Every value that holds a secret: the action's, and each header value made from one
    // (a filter may have changed it past recognition, so it is redacted whole).
    let secret_values = action
        .spec
        .headers
        .iter()
        .filter(|header| header.secret)
        .map(|header| header.value.sent_text())
        .chain(signing_secret)
        .map(str::to_owned)
        .chain(
            custom_headers
                .iter()
                .filter(|header| header.secret)
                .map(|header| header.value.clone()),
        )
        .filter(|value| !value.is_empty())
        .collect();
    let mut headers = custom_headers;
    headers.extend([
        OutgoingHeader::public("Content-Type", "application/json".to_owned()),
        OutgoingHeader::public("User-Agent", USER_AGENT.to_owned()),
        OutgoingHeader::public("webhook-id", facts.run_id.to_owned()),
        OutgoingHeader::public("webhook-timestamp", timestamp.to_string()),
        OutgoingHeader::public("webhook-signature", signature),
    ]);
    Ok(Delivery {
        url: action.spec.endpoint_url.clone(),
        headers,
        body,
        secret_values,
        accept_reply: action.spec.settings.accept_reply,
        deadline_ms: u64::from(action.spec.settings.timeout_ms),
    })
}

/// The custom headers (templated values rendered) and the body: the template's, or the
/// default payload. Every failing field is reported, not just the first.
fn render<V: SentText>(
    facts: &RunFacts<'_>,
    action: Sender<'_, V>,
    body: Body<'_>,
) -> Result<(Vec<OutgoingHeader>, String), Vec<TemplateFailure>> {
    // Built on first use: an action with nothing templated never pays for it.
    let context = OnceCell::new();
    let context = || {
        context.get_or_init(|| {
            let data = serde_json::to_value(facts.incident).unwrap_or_default();
            let secrets = action
                .spec
                .headers
                .iter()
                .filter(|header| header.secret)
                .map(|header| (header.name.clone(), header.value.sent_text().into()))
                .collect();
            template::context_value(&TemplateContext {
                incident: &data,
                inputs: facts.inputs,
                action: NamedRef {
                    id: action.id,
                    name: &action.spec.name,
                },
                agent: AgentRef {
                    id: &facts.agent.id,
                    name: &facts.agent.name,
                    email: facts
                        .agent
                        .member
                        .as_ref()
                        .map(|member| member.email.as_str()),
                },
                run: RunRef { id: facts.run_id },
                secrets: &secrets,
            })
        })
    };
    let mut failures = Vec::new();
    let mut headers = Vec::with_capacity(action.spec.headers.len() + 5);
    for (index, header) in action.spec.headers.iter().enumerate() {
        let written = header.value.sent_text();
        // A secret value is sent as written: it never passes through the engine, whose
        // error messages could quote it.
        let value = if !header.secret && is_template(written) {
            match template::render_header_value(index, &header.name, written, context()) {
                Ok(value) => value,
                Err(failure) => {
                    failures.push(failure);
                    continue;
                }
            }
        } else {
            written.to_owned()
        };
        headers.push(OutgoingHeader {
            name: header.name.clone(),
            value,
            // A value made from a secret may carry it in any form a filter gave it, so it
            // is recorded as `[redacted]` as a whole, like a secret header.
            secret: header.secret
                || (is_template(written) && template::references_secrets(written)),
        });
    }
    let body = match (body, &action.spec.settings.body_template) {
        (Body::Kept(kept), _) => kept.to_owned(),
        (Body::Render, Some(source)) => template::render_body(source, context())
            .map_err(|failure| failures.push(failure))
            .unwrap_or_default(),
        (Body::Render, None) => default_payload(facts, action),
    };
    if failures.is_empty() {
        Ok((headers, body))
    } else {
        Err(failures)
    }
}

/// The payload without a template: `event` with its id, type, time, agent, action,
/// inputs and the incident as `data`. At most [`MAX_DEFAULT_PAYLOAD_BYTES`]: past that,
/// the oldest of the incident's `recent_changes` are left out until it fits (the newest
/// are what an endpoint looks for), and `data.recent_changes_truncated` says so. An
/// incident too large even without its changes is sent as it is: nothing else in it can
/// be dropped without the endpoint misreading it.
fn default_payload<V>(facts: &RunFacts<'_>, action: Sender<'_, V>) -> String {
    let payload = |incident: &Incident| {
        json!({
            "event": {
                "id": facts.run_id,
                "event_type": "incident.custom_action",
                "occurred_at": format_rfc3339(facts.now_ms),
                "agent": {"type": "user", "id": facts.agent.id, "name": facts.agent.name},
                "action": {
                    "id": action.id,
                    "name": action.spec.name,
                    "timeout_ms": action.spec.settings.timeout_ms,
                },
                "inputs": facts.inputs,
                "data": incident,
            }
        })
        .to_string()
    };
    let whole = payload(facts.incident);
    let changes = facts.incident.recent_changes.as_deref().unwrap_or_default();
    if whole.len() <= MAX_DEFAULT_PAYLOAD_BYTES || changes.is_empty() {
        return whole;
    }
    // Each change's share of the payload (its JSON and a comma), so that the changes to
    // leave out are found with one more serialization, not one per change: a run's CPU
    // time is short, and a payload here is hundreds of KiB.
    let shares: Vec<usize> = changes
        .iter()
        .map(|change| serde_json::to_string(change).map_or(0, |json| json.len() + 1))
        .collect();
    let mut excess = (whole.len() + TRUNCATED_FLAG_BYTES).saturating_sub(MAX_DEFAULT_PAYLOAD_BYTES);
    let mut kept = changes.len();
    while kept > 0 && excess > 0 {
        kept -= 1;
        excess = excess.saturating_sub(shares[kept]);
    }
    let mut incident = facts.incident.clone();
    incident.recent_changes_truncated = true;
    loop {
        incident.recent_changes = Some(changes[..kept].to_vec());
        let truncated = payload(&incident);
        // The estimate is exact for serde_json's compact output; should it ever fall
        // short, one more change goes.
        if truncated.len() <= MAX_DEFAULT_PAYLOAD_BYTES || kept == 0 {
            return truncated;
        }
        kept -= 1;
    }
}

/// Bytes the flag adds to a payload's `data`.
const TRUNCATED_FLAG_BYTES: usize = r#","recent_changes_truncated":true"#.len();

/// What happened on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// The endpoint answered; `body` holds at most 64 KiB of it.
    Answered {
        /// HTTP status code.
        status: u16,
        /// Its `Content-Type`, if it sent one.
        content_type: Option<String>,
        /// The start of the body.
        body: Vec<u8>,
    },
    /// No full answer within the deadline, which was this long.
    TimedOut {
        /// The delivery's deadline.
        deadline_ms: u64,
    },
    /// The connection failed.
    NetworkError(String),
}

/// 2xx succeeds; 3xx is a redirect (not followed); anything else failed. Every value in
/// `secrets` is replaced by `[redacted]` in the excerpt kept, so an endpoint that echoes
/// its request headers cannot walk them into the run record.
pub fn classify(result: &SendResult, secrets: &[String]) -> Verdict {
    match result {
        SendResult::Answered { status, body, .. } => {
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
        SendResult::TimedOut { deadline_ms } => Verdict {
            status: RunStatus::Failed,
            outcome: RunOutcome::Timeout,
            http_status: None,
            excerpt: Some(shared::run_words::timeout_excerpt(*deadline_ms)),
        },
        SendResult::NetworkError(detail) => Verdict {
            status: RunStatus::Failed,
            outcome: RunOutcome::NetworkError,
            http_status: None,
            excerpt: Some(format!("Could not reach the endpoint: {detail}")),
        },
    }
}

/// What the answer writes back, when the action accepts replies and the answer is one
/// (`shared::reply::read_reply`). Every secret value is redacted from what is kept, as it
/// is from the excerpt: an endpoint echoing a header cannot walk it into the timeline.
pub fn reply_of(result: &SendResult, delivery: &Delivery) -> Option<Reply> {
    if !delivery.accept_reply {
        return None;
    }
    let SendResult::Answered {
        status,
        content_type,
        body,
    } = result
    else {
        return None;
    };
    let mut reply = read_reply(*status, content_type.as_deref(), body)?;
    let secrets = &delivery.secret_values;
    let redact = |text: &mut String| *text = redact_secrets(text, secrets);
    for text in [&mut reply.note, &mut reply.summary].into_iter().flatten() {
        redact(text);
    }
    for link in &mut reply.links {
        redact(&mut link.href);
        redact(&mut link.text);
    }
    Some(reply)
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
    let mut text = redact_secrets(&String::from_utf8_lossy(body), secrets);
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

/// `text` with every secret value replaced by `[redacted]`, raw and as a JSON string
/// would carry it (an endpoint echoing headers as JSON).
pub fn redact_secrets(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        text = text.replace(secret.as_str(), REDACTED);
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        if escaped != secret && !escaped.is_empty() {
            text = text.replace(escaped, REDACTED);
        }
    }
    text
}

/// The verdict of a run whose templates did not render: failed, nothing sent, the
/// reasons (secret values redacted) as the excerpt.
pub fn template_verdict(failures: &[TemplateFailure], secrets: &[String]) -> Verdict {
    let reasons: Vec<&str> = failures.iter().map(|f| f.message.as_str()).collect();
    Verdict {
        status: RunStatus::Failed,
        outcome: RunOutcome::TemplateError,
        http_status: None,
        excerpt: Some(excerpt(reasons.join("\n").as_bytes(), secrets)),
    }
}

/// Sends a delivery: one attempt, redirects not followed, the whole exchange (connect,
/// headers, reading up to 64 KiB of body) bounded by the delivery's deadline (`deadline_ms`).
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
        let content_type = response.headers().get("Content-Type").ok().flatten();
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
        Ok::<_, String>((status, content_type, body))
    };
    let deadline = Delay::from(Duration::from_millis(delivery.deadline_ms));
    let result = match select(Box::pin(exchange), deadline).await {
        Either::Left((Ok((status, content_type, body)), _)) => SendResult::Answered {
            status,
            content_type,
            body,
        },
        Either::Left((Err(detail), _)) => SendResult::NetworkError(simplify_network_error(&detail)),
        Either::Right(_) => SendResult::TimedOut {
            deadline_ms: delivery.deadline_ms,
        },
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
    use shared::api::ChangeEvent;

    use super::*;
    use shared::action::{Header, Opened};

    fn action() -> OpenedAction {
        OpenedAction {
            id: "act_1".into(),
            revision: 1,
            spec: ActionSpec {
                name: "Restart web".into(),
                description: None,
                endpoint_url: "https://hooks.example.com/restart".into(),
                headers: vec![header("X-Api-Key", "k3y", true)],
                settings: shared::action::RunSettings {
                    body_template: None,
                    ..Default::default()
                },
            },
            signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        }
    }

    fn header(name: &str, value: &str, secret: bool) -> Header<Opened> {
        Header {
            name: name.into(),
            value: Opened(value.into()),
            secret,
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

    /// Run `run_1` of `action` on `incident()`, with no inputs, at `now_ms`.
    fn deliver(now_ms: i64, action: &OpenedAction) -> Delivery {
        let (agent, incident, inputs) = (agent(), incident(), serde_json::Map::new());
        let facts = RunFacts {
            run_id: "run_1",
            now_ms,
            agent: &agent,
            incident: &incident,
            inputs: &inputs,
        };
        build_delivery(&facts, action).unwrap()
    }

    #[test]
    fn a_run_waits_as_long_as_its_action_says_and_the_payload_tells_the_endpoint() {
        let mut quick = action();
        quick.spec.settings.timeout_ms = 5_000;
        let delivery = deliver(0, &quick);
        assert_eq!(delivery.deadline_ms, 5_000);
        let body: Value = serde_json::from_str(&delivery.body).unwrap();
        assert_eq!(body["event"]["action"]["timeout_ms"], 5_000);
        let verdict = classify(&SendResult::TimedOut { deadline_ms: 5_000 }, &[]);
        assert_eq!(
            verdict.excerpt.as_deref(),
            Some("The endpoint did not answer within 5 seconds")
        );
    }

    #[test]
    fn the_body_names_the_event_action_agent_and_incident() {
        let delivery = deliver(1_795_000_000_000, &action());
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
            serde_json::json!({"id": "act_1", "name": "Restart web", "timeout_ms": 16_000})
        );
        assert_eq!(event["data"]["title"], "Disk full");
        assert_eq!(
            event["inputs"],
            serde_json::json!({}),
            "no inputs: an empty object"
        );
        assert!(event["data"].get("actions").is_none());
    }

    /// `incident()` with `count` change events, newest first, the newest one's summary
    /// `padding` bytes long.
    fn incident_with_changes(count: usize, padding: usize) -> Incident {
        let mut incident = incident();
        incident.recent_changes = Some(
            (0..count)
                .map(|age| ChangeEvent {
                    id: format!("chg_{age}"),
                    service_id: "svc_1".into(),
                    summary: if age == 0 {
                        "p".repeat(padding)
                    } else {
                        format!("Deployed v{}", 100 - age)
                    },
                    source: Some("github.com/shop/checkout".into()),
                    custom_details: serde_json::json!({"commit": format!("c0ffee{age}")}),
                    links: serde_json::json!([]),
                    timestamp: format_rfc3339(1_795_000_000_000 - age as i64 * 60_000),
                })
                .collect(),
        );
        incident
    }

    /// The default payload of run `run_1` of `action()` on `incident`.
    fn default_body(incident: &Incident) -> String {
        let (agent, inputs) = (agent(), serde_json::Map::new());
        let facts = RunFacts {
            run_id: "run_1",
            now_ms: 1_795_000_000_000,
            agent: &agent,
            incident,
            inputs: &inputs,
        };
        build_delivery(&facts, &action()).unwrap().body
    }

    /// The change ids a payload carries, and its `recent_changes_truncated`.
    fn changes_sent(body: &str) -> (Vec<String>, Option<bool>) {
        let body: Value = serde_json::from_str(body).unwrap();
        let data = &body["event"]["data"];
        let ids = data["recent_changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|change| change["id"].as_str().unwrap().to_owned())
            .collect();
        (
            ids,
            data.get("recent_changes_truncated")
                .map(|flag| flag.as_bool().unwrap()),
        )
    }

    /// The padding that makes the default payload of 3 changes exactly `size` bytes.
    fn padding_for(size: usize) -> usize {
        size - default_body(&incident_with_changes(3, 0)).len()
    }

    #[test]
    fn a_default_payload_of_exactly_256_kib_is_sent_whole() {
        let incident = incident_with_changes(3, padding_for(MAX_DEFAULT_PAYLOAD_BYTES));
        let body = default_body(&incident);
        assert_eq!(body.len(), 256 * 1024);
        assert_eq!(
            changes_sent(&body),
            (vec!["chg_0".into(), "chg_1".into(), "chg_2".into()], None),
            "every change, and no flag"
        );
    }

    #[test]
    fn one_byte_more_leaves_out_the_oldest_change_and_says_so() {
        let incident = incident_with_changes(3, padding_for(MAX_DEFAULT_PAYLOAD_BYTES + 1));
        let body = default_body(&incident);
        assert!(body.len() <= MAX_DEFAULT_PAYLOAD_BYTES, "{}", body.len());
        assert_eq!(
            changes_sent(&body),
            (vec!["chg_0".into(), "chg_1".into()], Some(true))
        );
        let mut expected = incident;
        expected.recent_changes.as_mut().unwrap().pop();
        expected.recent_changes_truncated = true;
        assert_eq!(body, default_body(&expected), "the same payload otherwise");
    }

    #[test]
    fn a_payload_far_past_the_limit_keeps_the_newest_changes_that_fit() {
        let mut incident = incident_with_changes(10, 10);
        for change in incident.recent_changes.as_mut().unwrap() {
            change.custom_details = serde_json::json!({"diff": "d".repeat(60 * 1024)});
        }
        let body = default_body(&incident);
        let (ids, truncated) = changes_sent(&body);
        assert_eq!(
            ids,
            ["chg_0", "chg_1", "chg_2", "chg_3"],
            "the newest, in order"
        );
        assert_eq!(truncated, Some(true));
        assert!(body.len() <= MAX_DEFAULT_PAYLOAD_BYTES);
        let mut five = incident;
        five.recent_changes.as_mut().unwrap().truncate(5);
        assert_eq!(
            changes_sent(&default_body(&five)).0.len(),
            4,
            "a fifth change would not have fitted"
        );
    }

    #[test]
    fn a_payload_under_the_limit_carries_every_change_and_no_flag() {
        let body = default_body(&incident_with_changes(10, 10));
        let (ids, truncated) = changes_sent(&body);
        assert_eq!((ids.len(), truncated), (10, None));
    }

    #[test]
    fn the_signature_covers_the_exact_body_sent() {
        let now_ms = 1_795_000_000_999;
        let delivery = deliver(now_ms, &action());
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
        let delivery = deliver(0, &action());
        let sent = sent(&delivery);
        assert!(sent.contains(&("X-Api-Key", "k3y")));
        assert!(sent.contains(&("User-Agent", USER_AGENT)));
        assert!(sent.contains(&("Content-Type", "application/json")));
    }

    #[test]
    fn the_recorded_headers_are_those_sent_with_secret_values_redacted() {
        let mut action = action();
        action.spec.headers.push(header("X-Team", "sre", false));
        let delivery = deliver(0, &action);
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

    fn templated_action() -> OpenedAction {
        let mut action = action();
        action.spec.settings.body_template = Some(
            r#"{"text": "{{ incident.title }} on {{ incident.custom_details.disk }}",
                "key": "{{ secrets["X-Api-Key"] }}", "by": "{{ agent.name }}"}"#
                .into(),
        );
        action.spec.headers.push(header(
            "Authorization",
            "Bearer {{ secrets[\"X-Api-Key\"] }}",
            false,
        ));
        action
    }

    #[test]
    fn a_body_template_decides_the_body_and_the_signature_covers_it() {
        let delivery = deliver(1_795_000_000_000, &templated_action());
        let body: Value = serde_json::from_str(&delivery.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"text": "Disk full on /var", "key": "k3y", "by": "Administrator"})
        );
        let signature = delivery
            .headers
            .iter()
            .find(|h| h.name == "webhook-signature")
            .unwrap();
        let expected = sign(
            &action().signing_secret,
            "run_1",
            1_795_000_000,
            &delivery.body,
        )
        .unwrap();
        assert_eq!(signature.value, expected);
    }

    #[test]
    fn a_secret_rendered_into_a_public_header_is_sent_but_recorded_as_redacted_whole() {
        let delivery = deliver(0, &templated_action());
        assert!(sent(&delivery).contains(&("Authorization", "Bearer k3y")));
        let recorded = delivery.recorded_headers();
        let authorization = recorded.iter().find(|h| h.name == "Authorization").unwrap();
        assert_eq!(authorization.value, "[redacted]");
        assert!(!format!("{recorded:?}").contains("k3y"));
    }

    #[test]
    fn a_secret_a_filter_changed_is_never_recorded() {
        let mut action = templated_action();
        action.spec.headers.push(header(
            "X-Dbg",
            "{{ secrets[\"X-Api-Key\"] | reverse }}",
            false,
        ));
        let delivery = deliver(0, &action);
        assert!(sent(&delivery).contains(&("X-Dbg", "y3k")));
        let recorded = delivery.recorded_headers();
        assert!(!format!("{recorded:?}").contains("y3k"), "{recorded:?}");
        let previewed = delivery.previewed();
        assert!(!format!("{previewed:?}").contains("y3k"));
    }

    #[test]
    fn a_secret_header_value_is_never_rendered() {
        let mut action = action();
        action.spec.headers[0].value = Opened("{{ oops".into());
        let delivery = deliver(0, &action);
        assert!(sent(&delivery).contains(&("X-Api-Key", "{{ oops")));
    }

    #[test]
    fn the_preview_is_the_delivery_with_secrets_redacted_and_a_placeholder_signature() {
        let (agent, incident, inputs) = (agent(), incident(), serde_json::Map::new());
        let facts = RunFacts {
            run_id: "run_1",
            now_ms: 0,
            agent: &agent,
            incident: &incident,
            inputs: &inputs,
        };
        let redacted = templated_action()
            .spec
            .map_headers(|header| match header.secret {
                true => Redacted::Hidden,
                false => Redacted::Plain(header.value.0.clone()),
            });
        let previewed = preview(&facts, "act_1", &redacted).unwrap();
        let sent = build_delivery(&facts, &templated_action()).unwrap();
        let body: Value = serde_json::from_str(&previewed.body).unwrap();
        assert_eq!(body["key"], REDACTED);
        assert_eq!(
            previewed.body.replace(REDACTED, "k3y"),
            sent.body,
            "the same body but for the secret"
        );
        let names = |headers: &[SentHeader]| -> Vec<String> {
            headers.iter().map(|h| h.name.clone()).collect()
        };
        assert_eq!(names(&previewed.headers), names(&sent.recorded_headers()));
        let signature = previewed
            .headers
            .iter()
            .find(|h| h.name == "webhook-signature")
            .unwrap();
        assert_eq!(signature.value, PREVIEW_SIGNATURE);
        assert_eq!(
            (previewed.method.as_str(), previewed.url.as_deref()),
            ("POST", Some(sent.url.as_str()))
        );
    }

    #[test]
    fn every_template_that_fails_is_reported_and_nothing_is_built() {
        let mut action = templated_action();
        action.spec.settings.body_template = Some("{\n{{ incident.title ".into());
        action.spec.headers[1].value = Opened("{{ 'a' ~ '\\n' }}".into());
        let (agent, incident, inputs) = (agent(), incident(), serde_json::Map::new());
        let facts = RunFacts {
            run_id: "run_1",
            now_ms: 0,
            agent: &agent,
            incident: &incident,
            inputs: &inputs,
        };
        let Err(BuildError::Template(failures)) = build_delivery(&facts, &action) else {
            panic!("the templates should fail");
        };
        let fields: Vec<&str> = failures.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["headers[1].value", "body_template"]);
        let verdict = template_verdict(&failures, &["k3y".to_owned()]);
        assert_eq!(
            (verdict.status, verdict.outcome, verdict.http_status),
            (RunStatus::Failed, RunOutcome::TemplateError, None)
        );
        assert!(verdict.excerpt.unwrap().contains("Line 2: "));
    }

    #[test]
    fn outcomes_follow_the_status_code() {
        let answered = |status| {
            classify(
                &SendResult::Answered {
                    status,
                    content_type: None,
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
            classify(
                &SendResult::TimedOut {
                    deadline_ms: 16_000
                },
                &[]
            )
            .outcome,
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
        assert_eq!(blocked_verdict(&action().spec.endpoint_url, &policy), None);
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
