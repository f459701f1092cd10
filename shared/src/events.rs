//! The PagerDuty Events API v2 contract of `POST /v2/enqueue`, and of its Change Events
//! API, `POST /v2/change/enqueue`.
//!
//! Monitoring tools (Prometheus Alertmanager, PagerDuty client libraries) already speak
//! this; pointing them at this host is the whole migration. Unknown fields are ignored,
//! as PagerDuty ignores them, and every problem is reported at once in PagerDuty's words.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::incident::Severity;
use crate::limits::{
    MAX_CUSTOM_DETAILS_BYTES, MAX_DEDUP_KEY_CHARS, MAX_EVENT_FIELD_CHARS, MAX_EVENT_SUMMARY_CHARS,
};
use crate::time::parse_rfc3339;

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
    /// `links`, kept as sent.
    pub links: Value,
    /// `images`, kept as sent.
    pub images: Value,
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
    let links = list_field(object.get("links"), "links", &mut errors);
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
    /// `links`, kept as sent.
    pub links: Value,
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
    let links = list_field(object.get("links"), "links", &mut errors);
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
        assert_eq!(event.links[0]["text"], "a1b2c3");
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
        assert_eq!(event.links.as_array().unwrap().len(), 1);
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
