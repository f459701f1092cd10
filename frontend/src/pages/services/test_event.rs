//! A service's "Send a test event" form: an Events API v2 event, built from a few fields
//! and sent to `/v2/enqueue` with the service's routing key exactly as a monitor would, so
//! a new user sees the intake work before wiring up Alertmanager. The worker alone checks
//! it, so the messages under the fields are the Events API's own answer (each line lands
//! on the field it names; see `ApiError::from_response`). A trigger's answered dedup key
//! fills the form, so acknowledging or resolving the same incident is one more press.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use serde_json::{json, Map, Value};
use shared::FieldError;

use crate::api::{self, encode_component};
use crate::components::{select_box, ErrorNotice, TextBox};
use crate::forms::{error_id, field_errors_of, FormErrors};

/// The form for the service `service_id`, whose routing key is `routing_key` (a signal:
/// a rotation changes it).
#[component]
pub fn TestEventForm(service_id: String, routing_key: RwSignal<String>) -> impl IntoView {
    let form_id = format!("test-event-{service_id}");
    let summary = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let severity = RwSignal::new("critical".to_owned());
    let event_action = RwSignal::new("trigger".to_owned());
    let dedup_key = RwSignal::new(String::new());
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let event = move || {
        routing_key.with(|routing_key| {
            event_body(
                routing_key,
                &event_action.get(),
                &dedup_key.get(),
                &summary.get(),
                &source.get(),
                &severity.get(),
            )
        })
    };
    let errors = FormErrors::server_only(server_errors);

    let send = Action::new_local(move |event: &Value| {
        let event = event.clone();
        async move {
            let answer = api::send_event(&event).await;
            match &answer {
                Ok(key) => dedup_key.set(key.clone()),
                Err(error) => server_errors.set(field_errors_of(error)),
            }
            answer
        }
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if send.pending().get_untracked() {
            return;
        }
        server_errors.set(Vec::new());
        send.dispatch(untrack(event));
    };

    let incidents_href = format!("/incidents?service_id={}", encode_component(&service_id));
    let id = |field: &str| format!("{form_id}-{field}");
    let message = |field: &'static str| (error_id(&form_id, field), errors.signal(field));
    let options = |values: &[&str]| {
        values
            .iter()
            .map(|value| ((*value).to_owned(), (*value).to_owned()))
            .collect::<Vec<_>>()
    };
    let (summary_id, summary_message) = message("payload.summary");
    let (source_id, source_message) = message("payload.source");
    let (dedup_id, dedup_message) = message("dedup_key");
    view! {
        <form class="form" on:submit=submit novalidate>
            {select_box(
                id("action"),
                "Event action",
                event_action,
                options(&["trigger", "acknowledge", "resolve"]),
                Some(message("event_action")),
            )}
            {TextBox::new(id("summary"), "Summary", summary)
                .placeholder("Disk almost full on web-1")
                .hint("Becomes the incident's title. Needed for a trigger.")
                .message(summary_id, summary_message)
                .view()}
            {TextBox::new(id("source"), "Source", source)
                .placeholder("web-1")
                .hint("The host or system the event is about. Needed for a trigger.")
                .message(source_id, source_message)
                .view()}
            {select_box(
                id("severity"),
                "Severity",
                severity,
                options(&["critical", "error", "warning", "info"]),
                Some(message("payload.severity")),
            )}
            {TextBox::new(id("dedup-key"), "Dedup key", dedup_key)
                .code()
                .optional()
                .hint("Ties events to one incident: a trigger answers with it, and acknowledge and resolve need it.")
                .message(dedup_id, dedup_message)
                .view()}
            <div class="form-actions">
                <button type="submit" class="button" disabled=move || send.pending().get()>
                    "Send event"
                </button>
                {move || send.pending().get().then(|| view! { <span role="status">"Sending…"</span> })}
            </div>
            {move || match send.value().get() {
                Some(Ok(key)) => view! {
                    <p class="notice success" role="status">
                        {format!("Event accepted under dedup key {key}. ")}
                        <a href=incidents_href.clone()>"See this service's incidents"</a>
                    </p>
                }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                None => ().into_any(),
            }}
        </form>
    }
}

/// The event the fields describe; blank optional fields are left out, as a monitor would.
fn event_body(
    routing_key: &str,
    event_action: &str,
    dedup_key: &str,
    summary: &str,
    source: &str,
    severity: &str,
) -> Value {
    let mut event = Map::new();
    event.insert("routing_key".into(), routing_key.into());
    event.insert("event_action".into(), event_action.into());
    if !dedup_key.trim().is_empty() {
        event.insert("dedup_key".into(), dedup_key.trim().into());
    }
    if event_action == "trigger" {
        event.insert(
            "payload".into(),
            json!({"summary": summary.trim(), "source": source.trim(), "severity": severity}),
        );
    }
    Value::Object(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_carries_its_payload_and_the_fields_a_monitor_sends() {
        let event = event_body("key", "trigger", "", " Disk full ", "web-1", "critical");
        assert_eq!(
            event,
            json!({"routing_key": "key", "event_action": "trigger",
                "payload": {"summary": "Disk full", "source": "web-1", "severity": "critical"}})
        );
        assert!(shared::events::parse_event(&event).is_ok());
    }

    #[test]
    fn an_acknowledge_carries_only_its_key() {
        let event = event_body("key", "acknowledge", "abc", "ignored", "", "info");
        assert_eq!(
            event,
            json!({"routing_key": "key", "event_action": "acknowledge", "dedup_key": "abc"})
        );
        assert!(shared::events::parse_event(&event).is_ok());
    }
}
