//! The PagerDuty Events API v2 contract of `POST /v2/enqueue`, and of its Change Events
//! API, `POST /v2/change/enqueue`.
//!
//! Monitoring tools (Prometheus Alertmanager, PagerDuty client libraries) already speak
//! this; pointing them at this host is the whole migration. Unknown fields are ignored,
//! as PagerDuty ignores them, and every problem is reported at once in PagerDuty's words.
//!
//! What an event sends is kept on rows that are read again and again (an incident on every
//! run of an action), so each field is bounded here: `links` too, which PagerDuty takes as
//! a list of `{"href", "text"}` and this host takes as at most 10 web links ([`EventLink`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::incident::Severity;
use crate::limits::{
    MAX_CUSTOM_DETAILS_BYTES, MAX_DEDUP_KEY_CHARS, MAX_EVENT_FIELD_CHARS, MAX_EVENT_LINKS,
    MAX_EVENT_SUMMARY_CHARS, MAX_LINK_HREF_CHARS, MAX_LINK_TEXT_CHARS,
};
use crate::time::parse_rfc3339;
use crate::whatwg_url;

/// What the event asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventAction {
    /// Open an incident, or add to the open one with the same `dedup_key`.
    Trigger,
    /// Acknowledge the open incident with this `dedup_key`.
    Acknowledge,
    /// Resolve the open incident with this `dedup_key`.
    Resolve,
}

/// The `payload` of a trigger event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPayload {
    /// One-line description; becomes the incident title.
    pub summary: String,
    /// The affected system, e.g. a host name.
    pub source: String,
    /// How bad it is.
    pub severity: Severity,
    /// When the monitor saw it, as milliseconds since the epoch.
    pub timestamp_ms: Option<i64>,
    /// Part of the source that is affected.
    pub component: Option<String>,
    /// Logical grouping of components.
    pub group: Option<String>,
    /// Class or type of the event.
    pub class: Option<String>,
    /// Free-form details, any JSON.
    pub custom_details: Value,
}

/// An event that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvent {
    /// The service's integration key.
    pub routing_key: String,
    /// Trigger, acknowledge or resolve.
    pub event_action: EventAction,
    /// The key that ties events to one incident; `None` on a trigger that sent none.
    pub dedup_key: Option<String>,
    /// Present on triggers.
    pub payload: Option<EventPayload>,
    /// `links`: at most 10, in the order sent.
    pub links: Vec<EventLink>,
    /// `images`, kept as sent.
    pub images: Value,
}

/// A link an event carries, in PagerDuty's shape (`{"href": ..., "text": ...}`, `text`
/// left out when not sent), which is also how it is stored and answered. Only the event
/// parsers make one, so a link kept is always an absolute `http` or `https` URL of at most
/// 2048 characters with at most 1024 characters of text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLink {
    href: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

impl EventLink {
    /// The URL as sent: absolute `http` or `https`, at most 2048 characters.
    pub fn href(&self) -> &str {
        &self.href
    }

    /// What to show for it, trimmed, at most 1024 characters; `None` when not sent (or
    /// blank), and then the URL is shown.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Reads the link at `field` (`links[3]`), naming that field in each problem.
    fn parse(value: &Value, field: &str, errors: &mut Vec<String>) -> Option<Self> {
        let Some(link) = value.as_object() else {
            errors.push(format!("'{field}' must be an object"));
            return None;
        };
        let href = href_field(link.get("href"), &format!("{field}.href"), errors);
        let text_field = format!("{field}.text");
        let text = optional_string(link.get("text"), &text_field, errors);
        if text
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_LINK_TEXT_CHARS)
        {
            errors.push(format!(
                "'{text_field}' must be at most {MAX_LINK_TEXT_CHARS} characters"
            ));
        }
        Some(Self { href: href?, text })
    }
}

/// `links`: absent, `null`, or a list of at most 10 links. Past 10 the links are not read
/// one by one, so the answer to a huge list stays one line.
fn links_field(value: Option<&Value>, errors: &mut Vec<String>) -> Vec<EventLink> {
    let list = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(list)) => list,
        Some(Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Object(_)) => {
            errors.push("'links' must be an array".to_owned());
            return Vec::new();
        }
    };
    if list.len() > MAX_EVENT_LINKS {
        errors.push(format!(
            "'links' must have at most {MAX_EVENT_LINKS} entries"
        ));
        return Vec::new();
    }
    list.iter()
        .enumerate()
        .filter_map(|(index, link)| EventLink::parse(link, &format!("links[{index}]"), errors))
        .collect()
}

/// A link's `href`: an absolute `http` or `https` URL with a host, at most 2048
/// characters, written without spaces or control characters (a URL parser drops some of
/// those quietly, and the link shown must be the link sent).
fn href_field(value: Option<&Value>, field: &str, errors: &mut Vec<String>) -> Option<String> {
    let Some(href) = value
        .and_then(Value::as_str)
        .filter(|href| !href.trim().is_empty())
    else {
        errors.push(format!("'{field}' is missing or blank"));
        return None;
    };
    if href.chars().count() > MAX_LINK_HREF_CHARS {
        errors.push(format!(
            "'{field}' must be at most {MAX_LINK_HREF_CHARS} characters"
        ));
        return None;
    }
    let is_web_url = !href.chars().any(|c| c.is_whitespace() || c.is_control())
        && whatwg_url::parse(href).is_some_and(|url| {
            (url.scheme == "http" || url.scheme == "https") && url.host.is_some()
        });
    if !is_web_url {
        errors.push(format!(
            "'{field}' must be an absolute http or https URL, without spaces"
        ));
        return None;
    }
    Some(href.to_owned())
}

/// The 202 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnqueueAccepted {
    /// Always `success`.
    pub status: String,
    /// Always `Event processed`.
    pub message: String,
    /// The key the event was filed under (generated on a trigger that sent none).
    pub dedup_key: String,
}

/// The 400 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnqueueRejected {
    /// `invalid event`, or `throttle exceeded` on a 429.
    pub status: String,
    /// `Event object is invalid`, or PagerDuty's throttle message.
    pub message: String,
    /// One line per problem.
    pub errors: Vec<String>,
}

impl EnqueueRejected {
    /// The rejection PagerDuty sends for these problems.
    pub fn new(errors: Vec<String>) -> Self {
        Self {
            status: "invalid event".to_owned(),
            message: "Event object is invalid".to_owned(),
            errors,
        }
    }

    /// PagerDuty's answer to an integration key sending too fast (HTTP 429): its clients
    /// recognise the status and retry later.
    pub fn throttled(error: String) -> Self {
        Self {
            status: "throttle exceeded".to_owned(),
            message: "Requests for this service are arriving too quickly. Please retry later."
                .to_owned(),
            errors: vec![error],
        }
    }
}

/// Parses an Events API v2 body, reporting every problem.
pub fn parse_event(body: &Value) -> Result<ValidEvent, Vec<String>> {
    let mut errors = Vec::new();
    let Some(object) = body.as_object() else {
        return Err(vec!["Event must be a JSON object".to_owned()]);
    };
    let routing_key = required_string(object.get("routing_key"), "routing_key", &mut errors);
    let event_action = match object.get("event_action").and_then(Value::as_str) {
        Some("trigger") => Some(EventAction::Trigger),
        Some("acknowledge") => Some(EventAction::Acknowledge),
        Some("resolve") => Some(EventAction::Resolve),
        _ => {
            errors.push(
                "'event_action' is invalid (must be one of trigger, acknowledge, resolve)"
                    .to_owned(),
            );
            None
        }
    };
    let dedup_key = match object.get("dedup_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) if key.trim().is_empty() => None,
        Some(Value::String(key)) if key.chars().count() > MAX_DEDUP_KEY_CHARS => {
            errors.push(format!(
                "'dedup_key' must be at most {MAX_DEDUP_KEY_CHARS} characters"
            ));
            None
        }
        Some(Value::String(key)) => Some(key.clone()),
        Some(_) => {
            errors.push("'dedup_key' must be a string".to_owned());
            None
        }
    };
    if matches!(
        event_action,
        Some(EventAction::Acknowledge | EventAction::Resolve)
    ) && dedup_key.is_none()
        && !errors.iter().any(|e| e.starts_with("'dedup_key'"))
    {
        errors.push("'dedup_key' is required for acknowledge and resolve events".to_owned());
    }
    let payload = if event_action == Some(EventAction::Trigger) {
        parse_payload(object.get("payload"), &mut errors)
    } else {
        None
    };
    let links = links_field(object.get("links"), &mut errors);
    let images = list_field(object.get("images"), "images", &mut errors);

    match (routing_key, event_action) {
        (Some(routing_key), Some(event_action)) if errors.is_empty() => Ok(ValidEvent {
            routing_key,
            event_action,
            dedup_key,
            payload,
            links,
            images,
        }),
        _ => Err(errors),
    }
}

fn parse_payload(payload: Option<&Value>, errors: &mut Vec<String>) -> Option<EventPayload> {
    let Some(payload) = payload.and_then(Value::as_object) else {
        errors.push("'payload' is missing or is not an object".to_owned());
        return None;
    };
    let summary = summary_field(payload.get("summary"), errors);
    let source = required_string(payload.get("source"), "payload.source", errors)
        .map(|source| capped(source, "payload.source", errors));
    let severity = payload
        .get("severity")
        .and_then(Value::as_str)
        .and_then(Severity::parse);
    if severity.is_none() {
        errors.push(
            "'payload.severity' is invalid (must be one of critical, error, warning, info)"
                .to_owned(),
        );
    }
    let timestamp_ms = timestamp_field(payload.get("timestamp"), errors);
    let mut short = |name: &str| {
        let field = format!("payload.{name}");
        optional_string(payload.get(name), &field, errors).map(|text| capped(text, &field, errors))
    };
    let component = short("component");
    let group = short("group");
    let class = short("class");
    let custom_details = custom_details_field(payload.get("custom_details"), errors);
    Some(EventPayload {
        summary: summary?,
        source: source?,
        severity: severity?,
        timestamp_ms,
        component,
        group,
        class,
        custom_details,
    })
}

/// `payload.summary`: present, not blank, at most 1024 characters.
fn summary_field(value: Option<&Value>, errors: &mut Vec<String>) -> Option<String> {
    let summary = required_string(value, "payload.summary", errors)?;
    if summary.chars().count() > MAX_EVENT_SUMMARY_CHARS {
        errors.push(format!(
            "'payload.summary' must be at most {MAX_EVENT_SUMMARY_CHARS} characters"
        ));
    }
    Some(summary)
}

/// `payload.timestamp`: absent, or ISO 8601 (as milliseconds since the epoch).
fn timestamp_field(value: Option<&Value>, errors: &mut Vec<String>) -> Option<i64> {
    match value {
        None | Some(Value::Null) => None,
        Some(value) => {
            let parsed = value.as_str().and_then(parse_rfc3339);
            if parsed.is_none() {
                errors.push("'payload.timestamp' must be an ISO 8601 timestamp".to_owned());
            }
            parsed
        }
    }
}

/// A short event field (`source`, `component`, `group`, `class`): at most 255 characters,
/// because it is copied into every timeline entry and list row of the incident.
fn capped(text: String, field: &str, errors: &mut Vec<String>) -> String {
    if text.chars().count() > MAX_EVENT_FIELD_CHARS {
        errors.push(format!(
            "'{field}' must be at most {MAX_EVENT_FIELD_CHARS} characters"
        ));
    }
    text
}

/// `payload.custom_details`: any JSON, at most 64 KiB once serialized (`Null` when absent).
fn custom_details_field(value: Option<&Value>, errors: &mut Vec<String>) -> Value {
    let Some(details) = value else {
        return Value::Null;
    };
    if serialized_len(details) > MAX_CUSTOM_DETAILS_BYTES {
        errors.push(format!(
            "'payload.custom_details' must be at most {} KiB once serialized",
            MAX_CUSTOM_DETAILS_BYTES / 1024
        ));
    }
    details.clone()
}

/// The bytes `value` takes as compact JSON, counted without building the string.
fn serialized_len(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Value` to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

fn required_string(value: Option<&Value>, field: &str, errors: &mut Vec<String>) -> Option<String> {
    match value.and_then(Value::as_str).map(str::trim) {
        Some(text) if !text.is_empty() => Some(text.to_owned()),
        _ => {
            errors.push(format!("'{field}' is missing or blank"));
            None
        }
    }
}

fn optional_string(value: Option<&Value>, field: &str, errors: &mut Vec<String>) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(text.trim().to_owned()),
        Some(_) => {
            errors.push(format!("'{field}' must be a string"));
            None
        }
    }
}

fn list_field(value: Option<&Value>, field: &str, errors: &mut Vec<String>) -> Value {
    match value {
        None | Some(Value::Null) => Value::Array(Vec::new()),
        Some(list @ Value::Array(_)) => list.clone(),
        Some(_) => {
            errors.push(format!("'{field}' must be an array"));
            Value::Null
        }
    }
}

/// A change event that passed validation: a deploy, a config change, a commit.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidChangeEvent {
    /// The service's integration key.
    pub routing_key: String,
    /// One-line description (1–1024 characters).
    pub summary: String,
    /// When the change happened (ms); `None`: when it was received.
    pub timestamp_ms: Option<i64>,
    /// Where it happened, e.g. a repository or a deploy tool.
    pub source: Option<String>,
    /// Free-form details, any JSON (a commit, its author, the diff URL).
    pub custom_details: Value,
    /// `links`: at most 10, in the order sent.
    pub links: Vec<EventLink>,
}

/// The 202 body of `/v2/change/enqueue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeAccepted {
    /// Always `success`.
    pub status: String,
    /// Always `Change event processed`.
    pub message: String,
}

impl ChangeAccepted {
    /// PagerDuty's answer.
    pub fn new() -> Self {
        Self {
            status: "success".to_owned(),
            message: "Change event processed".to_owned(),
        }
    }
}

impl Default for ChangeAccepted {
    fn default() -> Self {
        Self::new()
    }
}

/// Parses a Change Events API body, reporting every problem in PagerDuty's words.
pub fn parse_change_event(body: &Value) -> Result<ValidChangeEvent, Vec<String>> {
    let mut errors = Vec::new();
    let Some(object) = body.as_object() else {
        return Err(vec!["Event must be a JSON object".to_owned()]);
    };
    let routing_key = required_string(object.get("routing_key"), "routing_key", &mut errors);
    let payload = object.get("payload").and_then(Value::as_object);
    if payload.is_none() {
        errors.push("'payload' is missing or is not an object".to_owned());
    }
    let field = |name: &str| payload.and_then(|payload| payload.get(name));
    let summary = summary_field(field("summary"), &mut errors);
    let timestamp_ms = timestamp_field(field("timestamp"), &mut errors);
    let source = optional_string(field("source"), "payload.source", &mut errors)
        .map(|source| capped(source, "payload.source", &mut errors));
    let custom_details = custom_details_field(field("custom_details"), &mut errors);
    let links = links_field(object.get("links"), &mut errors);
    match (routing_key, summary) {
        (Some(routing_key), Some(summary)) if errors.is_empty() => Ok(ValidChangeEvent {
            routing_key,
            summary,
            timestamp_ms,
            source,
            custom_details,
            links,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn change() -> Value {
        json!({
            "routing_key": "0123456789abcdef0123456789abcdef",
            "payload": {"summary": "Deployed checkout v41", "source": "github.com/shop/checkout",
                        "timestamp": "2026-12-02T03:00:00Z",
                        "custom_details": {"commit": "a1b2c3", "author": "ada"}},
            "links": [{"href": "https://github.com/shop/checkout/commit/a1b2c3", "text": "a1b2c3"}]
        })
    }

    #[test]
    fn a_change_event_keeps_its_summary_time_source_details_and_links() {
        let event = parse_change_event(&change()).unwrap();
        assert_eq!(event.summary, "Deployed checkout v41");
        assert_eq!(event.source.as_deref(), Some("github.com/shop/checkout"));
        assert_eq!(event.timestamp_ms, parse_rfc3339("2026-12-02T03:00:00Z"));
        assert_eq!(event.custom_details["commit"], "a1b2c3");
        assert_eq!(event.links[0].text(), Some("a1b2c3"));
    }

    #[test]
    fn a_change_summary_of_1024_characters_is_accepted_and_1025_is_not() {
        let mut body = change();
        body["payload"]["summary"] = json!("s".repeat(MAX_EVENT_SUMMARY_CHARS));
        assert!(parse_change_event(&body).is_ok());
        body["payload"]["summary"] = json!("s".repeat(MAX_EVENT_SUMMARY_CHARS + 1));
        assert_eq!(
            parse_change_event(&body).unwrap_err(),
            ["'payload.summary' must be at most 1024 characters"]
        );
    }

    #[test]
    fn every_problem_of_a_change_event_is_reported_at_once() {
        let body = json!({"payload": {"timestamp": "yesterday", "source": 7}, "links": {}});
        assert_eq!(
            parse_change_event(&body).unwrap_err(),
            [
                "'routing_key' is missing or blank",
                "'payload.summary' is missing or blank",
                "'payload.timestamp' must be an ISO 8601 timestamp",
                "'payload.source' must be a string",
                "'links' must be an array",
            ]
        );
        assert_eq!(
            parse_change_event(&json!({"routing_key": "k"})).unwrap_err()[0],
            "'payload' is missing or is not an object"
        );
    }

    fn trigger() -> Value {
        json!({
            "routing_key": "0123456789abcdef0123456789abcdef",
            "event_action": "trigger",
            "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "critical"}
        })
    }

    #[test]
    fn a_minimal_trigger_is_accepted() {
        let event = parse_event(&trigger()).unwrap();
        assert_eq!(event.event_action, EventAction::Trigger);
        assert_eq!(event.dedup_key, None);
        let payload = event.payload.unwrap();
        assert_eq!(payload.summary, "Disk full on db-1");
        assert_eq!(payload.severity, Severity::Critical);
    }

    #[test]
    fn an_alertmanager_style_event_with_extra_fields_is_accepted() {
        let mut body = trigger();
        body["client"] = json!("Alertmanager");
        body["client_url"] = json!("http://am/");
        body["links"] = json!([{"href": "http://am/", "text": "Alertmanager"}]);
        body["payload"]["custom_details"] = json!({"firing": "x"});
        body["payload"]["timestamp"] = json!("2026-11-22T10:00:00.123+01:00");
        let event = parse_event(&body).unwrap();
        assert_eq!(event.links[0].href(), "http://am/");
        assert_eq!(event.payload.unwrap().custom_details["firing"], "x");
    }

    #[test]
    fn every_missing_trigger_field_is_reported() {
        let body = json!({"event_action": "trigger", "payload": {}});
        let errors = parse_event(&body).unwrap_err();
        assert_eq!(
            errors,
            [
                "'routing_key' is missing or blank",
                "'payload.summary' is missing or blank",
                "'payload.source' is missing or blank",
                "'payload.severity' is invalid (must be one of critical, error, warning, info)",
            ]
        );
    }

    #[test]
    fn an_unknown_event_action_is_refused() {
        let mut body = trigger();
        body["event_action"] = json!("escalate");
        assert!(parse_event(&body).unwrap_err()[0].starts_with("'event_action'"));
    }

    #[test]
    fn acknowledge_needs_a_dedup_key_but_no_payload() {
        let body = json!({"routing_key": "k", "event_action": "acknowledge"});
        assert_eq!(
            parse_event(&body).unwrap_err(),
            ["'dedup_key' is required for acknowledge and resolve events"]
        );
        let body = json!({"routing_key": "k", "event_action": "resolve", "dedup_key": "d"});
        assert!(parse_event(&body).unwrap().payload.is_none());
    }

    #[test]
    fn a_summary_of_1024_characters_is_accepted_and_1025_is_not() {
        let mut body = trigger();
        body["payload"]["summary"] = json!("s".repeat(MAX_EVENT_SUMMARY_CHARS));
        assert!(parse_event(&body).is_ok());
        body["payload"]["summary"] = json!("s".repeat(MAX_EVENT_SUMMARY_CHARS + 1));
        assert!(parse_event(&body).is_err());
    }

    #[test]
    fn a_dedup_key_of_255_characters_is_accepted_and_256_is_not() {
        let mut body = trigger();
        body["dedup_key"] = json!("k".repeat(MAX_DEDUP_KEY_CHARS));
        assert!(parse_event(&body).is_ok());
        body["dedup_key"] = json!("k".repeat(MAX_DEDUP_KEY_CHARS + 1));
        assert_eq!(
            parse_event(&body).unwrap_err(),
            ["'dedup_key' must be at most 255 characters"]
        );
    }

    #[test]
    fn source_component_group_and_class_of_255_characters_are_accepted_and_256_are_not() {
        for field in ["source", "component", "group", "class"] {
            let mut body = trigger();
            body["payload"][field] = json!("é".repeat(MAX_EVENT_FIELD_CHARS));
            assert!(parse_event(&body).is_ok(), "{field} at the limit");
            body["payload"][field] = json!("é".repeat(MAX_EVENT_FIELD_CHARS + 1));
            assert_eq!(
                parse_event(&body).unwrap_err(),
                vec![format!("'payload.{field}' must be at most 255 characters")]
            );
        }
    }

    /// custom_details whose compact JSON is exactly `bytes` long: `{"x":"…"}` is 8 bytes
    /// around the string.
    fn details_of(bytes: usize) -> Value {
        let details = json!({"x": "d".repeat(bytes - 8)});
        assert_eq!(serde_json::to_string(&details).unwrap().len(), bytes);
        details
    }

    #[test]
    fn custom_details_of_64_kib_are_accepted_and_one_byte_more_is_not() {
        let mut body = trigger();
        body["payload"]["custom_details"] = details_of(MAX_CUSTOM_DETAILS_BYTES);
        assert!(parse_event(&body).is_ok());
        body["payload"]["custom_details"] = details_of(MAX_CUSTOM_DETAILS_BYTES + 1);
        assert_eq!(
            parse_event(&body).unwrap_err(),
            vec!["'payload.custom_details' must be at most 64 KiB once serialized".to_owned()]
        );
    }

    #[test]
    fn a_change_event_has_the_same_caps_on_source_and_custom_details() {
        let mut body = change();
        body["payload"]["source"] = json!("s".repeat(MAX_EVENT_FIELD_CHARS));
        body["payload"]["custom_details"] = details_of(MAX_CUSTOM_DETAILS_BYTES);
        assert!(parse_change_event(&body).is_ok());
        body["payload"]["source"] = json!("s".repeat(MAX_EVENT_FIELD_CHARS + 1));
        body["payload"]["custom_details"] = details_of(MAX_CUSTOM_DETAILS_BYTES + 1);
        assert_eq!(parse_change_event(&body).unwrap_err().len(), 2);
    }

    fn link(n: usize) -> Value {
        json!({"href": format!("https://grafana.example.com/d/{n}"), "text": format!("Dashboard {n}")})
    }

    /// What becomes of `links` sent with a trigger and with a change event: both APIs read
    /// links alike, so the two answers must agree.
    fn with_links(links: Value) -> Result<Vec<EventLink>, Vec<String>> {
        let mut event = trigger();
        event["links"] = links.clone();
        let mut change = change();
        change["links"] = links;
        let as_event = parse_event(&event).map(|event| event.links);
        let as_change = parse_change_event(&change).map(|change| change.links);
        assert_eq!(as_event, as_change, "both APIs read links alike");
        as_event
    }

    #[test]
    fn ten_links_are_accepted_and_eleven_are_refused() {
        let ten: Vec<Value> = (0..MAX_EVENT_LINKS).map(link).collect();
        assert_eq!(with_links(json!(ten)).unwrap().len(), 10);
        let eleven: Vec<Value> = (0..=MAX_EVENT_LINKS).map(link).collect();
        assert_eq!(
            with_links(json!(eleven)).unwrap_err(),
            ["'links' must have at most 10 entries"]
        );
    }

    #[test]
    fn an_href_of_2048_characters_is_accepted_and_2049_is_refused() {
        let start = "https://grafana.example.com/d/";
        let at_limit = format!("{start}{}", "p".repeat(MAX_LINK_HREF_CHARS - start.len()));
        assert_eq!(at_limit.chars().count(), 2048);
        let kept = with_links(json!([{"href": at_limit}])).unwrap();
        assert_eq!(kept[0].href(), at_limit);
        assert_eq!(
            with_links(json!([link(0), {"href": format!("{at_limit}p")}])).unwrap_err(),
            ["'links[1].href' must be at most 2048 characters"]
        );
    }

    #[test]
    fn a_link_text_of_1024_characters_is_accepted_and_1025_is_refused() {
        let href = "https://grafana.example.com/d/1";
        let at_limit = "é".repeat(MAX_LINK_TEXT_CHARS);
        let kept = with_links(json!([{"href": href, "text": format!("  {at_limit} ")}])).unwrap();
        assert_eq!(kept[0].text(), Some(at_limit.as_str()), "trimmed");
        assert_eq!(
            with_links(json!([{"href": href, "text": format!("{at_limit}é")}])).unwrap_err(),
            ["'links[0].text' must be at most 1024 characters"]
        );
    }

    #[test]
    fn an_href_that_is_not_an_absolute_web_url_is_refused_naming_the_link() {
        for href in [
            "javascript:alert(1)",
            "ftp://files.example.com/dump",
            "data:text/html,<b>x</b>",
            "mailto:oncall@example.com",
            "/relative/path",
            "grafana.example.com/d/1",
            "https://grafana.example.com/d/1 and more",
            " https://grafana.example.com/d/1",
            "https://grafana.example.com/d/\n1",
        ] {
            assert_eq!(
                with_links(json!([link(0), link(1), link(2), {"href": href}])).unwrap_err(),
                ["'links[3].href' must be an absolute http or https URL, without spaces"],
                "{href}"
            );
        }
        let kept = with_links(json!([{"href": "HTTP://ci.example:8080/run/7"}])).unwrap();
        assert_eq!(
            kept[0].href(),
            "HTTP://ci.example:8080/run/7",
            "kept as sent"
        );
    }

    #[test]
    fn a_link_that_is_not_an_object_or_has_no_href_is_refused() {
        assert_eq!(
            with_links(
                json!(["https://grafana.example.com/d/1", {"text": "no href"},
                              {"href": 7, "text": ["not text"]}])
            )
            .unwrap_err(),
            [
                "'links[0]' must be an object",
                "'links[1].href' is missing or blank",
                "'links[2].href' is missing or blank",
                "'links[2].text' must be a string",
            ]
        );
        assert_eq!(
            with_links(json!("https://grafana.example.com/d/1")).unwrap_err(),
            ["'links' must be an array"]
        );
        assert_eq!(with_links(Value::Null).unwrap(), []);
    }

    #[test]
    fn links_are_kept_in_pagerdutys_shape_with_text_only_when_sent() {
        let kept = with_links(json!([
            {"href": "https://grafana.example.com/d/1", "text": "Dashboard", "extra": true},
            {"href": "https://grafana.example.com/d/2", "text": "   "},
            {"href": "https://grafana.example.com/d/3"},
        ]))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&kept).unwrap(),
            json!([
                {"href": "https://grafana.example.com/d/1", "text": "Dashboard"},
                {"href": "https://grafana.example.com/d/2"},
                {"href": "https://grafana.example.com/d/3"},
            ])
        );
    }

    #[test]
    fn a_malformed_timestamp_is_refused() {
        let mut body = trigger();
        body["payload"]["timestamp"] = json!("last tuesday");
        assert!(parse_event(&body).is_err());
    }

    #[test]
    fn a_non_object_body_is_refused() {
        assert!(parse_event(&json!([1, 2])).is_err());
    }
}
