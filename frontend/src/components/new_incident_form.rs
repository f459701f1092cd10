//! The New incident form: opens an incident by hand (`POST /api/incidents`), on a service
//! chosen from a list (the incidents page) or on the one it belongs to (a service's card).
//! It is checked with the worker's own rules (`shared::incident::validate_new_incident`)
//! before sending; once created, the incident's page opens, its timeline starting
//! "Created by <name>". A dedup key already used by an open incident answers with a link
//! to that incident rather than a second one.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::CreateIncidentRequest;
use shared::incident::{validate_new_incident, Urgency};
use shared::roles::Permission;
use shared::FieldError;

use crate::api::{self, encode_component};
use crate::components::{select_box, ErrorNotice, TextBox, TextKind};
use crate::forms::{error_id, field_errors_of, FormErrors};
use crate::router::Router;
use crate::session::Session;

/// The form; `form_id` prefixes its element ids (unique on the page). With one service in
/// `services` (`(id, name)`), no choice is offered.
#[component]
pub fn NewIncidentForm(form_id: String, services: Vec<(String, String)>) -> impl IntoView {
    let router = Router::expect();
    let session = Session::expect();
    let denied = move || session.denial(Permission::CreateIncidents, "Opening incidents");
    let fixed_service = (services.len() == 1).then(|| services[0].0.clone());
    let service_id = RwSignal::new(fixed_service.clone().unwrap_or_default());
    let title = RwSignal::new(String::new());
    let urgency = RwSignal::new(Urgency::High.as_str().to_owned());
    let details = RwSignal::new(String::new());
    let dedup_key = RwSignal::new(String::new());
    let attempted = RwSignal::new(false);
    let server_errors = RwSignal::new(Vec::<FieldError>::new());

    let request = move || CreateIncidentRequest {
        service_id: service_id.get(),
        title: title.get(),
        urgency: Urgency::parse(&urgency.get()),
        details: Some(details.get()),
        dedup_key: Some(dedup_key.get()),
    };
    let client_errors = Memo::new(move |_| {
        if !attempted.get() {
            return Vec::new();
        }
        validate_new_incident(&request()).err().unwrap_or_default()
    });
    let errors = FormErrors {
        client: client_errors,
        server: server_errors,
    };

    let create = Action::new_local(move |body: &CreateIncidentRequest| {
        let body = body.clone();
        async move {
            let answer = api::create_incident(body).await;
            match &answer {
                Ok(created) => router.navigate(&format!(
                    "/incidents/{}",
                    encode_component(&created.incident.id)
                )),
                Err(error) => server_errors.set(field_errors_of(error)),
            }
            answer.map(drop)
        }
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if untrack(denied).is_some() || create.pending().get_untracked() {
            return;
        }
        attempted.set(true);
        server_errors.set(Vec::new());
        let body = untrack(request);
        if validate_new_incident(&body).is_ok() {
            create.dispatch(body);
        }
    };

    let id = |field: &str| format!("{form_id}-{field}");
    let message = |field: &'static str| Some((error_id(&form_id, field), errors.signal(field)));
    let denied_id = id("denied");
    let service_choice = fixed_service.is_none().then(|| {
        let mut options = vec![(String::new(), "Choose a service".to_owned())];
        options.extend(services);
        select_box(
            id("service"),
            "Service",
            service_id,
            options,
            message("service_id"),
        )
    });
    view! {
        <form class="form" on:submit=submit novalidate>
            {service_choice}
            {TextBox::new(id("title"), "Title", title)
                .placeholder("Checkout is failing for EU customers")
                .message(error_id(&form_id, "title"), errors.signal("title"))
                .view()}
            {select_box(
                id("urgency"),
                "Urgency",
                urgency,
                vec![
                    (Urgency::High.as_str().to_owned(), "High: page someone now".to_owned()),
                    (Urgency::Low.as_str().to_owned(), "Low: working hours".to_owned()),
                ],
                None,
            )}
            {TextBox::new(id("details"), "Details", details)
                .kind(TextKind::Lines(4))
                .optional()
                .hint("What you see, shown as plain text on the incident.")
                .message(error_id(&form_id, "details"), errors.signal("details"))
                .view()}
            {TextBox::new(id("dedup-key"), "Dedup key", dedup_key)
                .optional()
                .code()
                .hint("Events a monitor sends with this key add to this incident instead of opening another.")
                .message(error_id(&form_id, "dedup_key"), errors.signal("dedup_key"))
                .view()}
            <div class="form-actions">
                <button
                    type="submit"
                    class="button"
                    disabled=move || create.pending().get() || denied().is_some()
                    aria-describedby={
                        let denied_id = denied_id.clone();
                        move || denied().map(|_| denied_id.clone())
                    }
                >
                    "Open incident"
                </button>
                {move || denied().map(|reason| view! { <p class="hint denied" id=denied_id.clone()>{reason}</p> })}
                {move || create.pending().get().then(|| view! { <span role="status">"Opening…"</span> })}
            </div>
            {move || match create.value().get() {
                Some(Err(error)) => {
                    let existing = error.existing_incident.clone().map(|id| view! {
                        <p>
                            <a href=format!("/incidents/{}", encode_component(&id))>
                                "Go to the open incident with this key"
                            </a>
                        </p>
                    });
                    Some(view! { <ErrorNotice error />{existing} })
                }
                _ => None,
            }}
        </form>
    }
}
