//! The services page: create a service, and for each one its routing key, a New incident
//! form, a form that sends a test event through the Events API, and a curl example.

mod test_event;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::{CreateServiceRequest, Service};
use shared::roles::Permission;
use shared::service::validate_service;
use shared::FieldError;

use crate::api::{self, encode_component};
use crate::browser::origin;
use crate::components::{
    CopyButton, ErrorNotice, Loading, NewIncidentForm, TextBox, TextKind, Time,
};
use crate::format::enqueue_curl;
use crate::forms::{error_id, field_errors_of, FormErrors};
use crate::session::Session;
use test_event::TestEventForm;

/// Lists services and holds the create form.
#[component]
pub fn ServicesPage() -> impl IntoView {
    let services = LocalResource::new(api::list_services);
    let created = RwSignal::new(None::<String>);
    let on_created = Callback::new(move |service: Service| {
        created.set(Some(service.name));
        services.refetch();
    });

    view! {
        <div class="page">
            <h1>"Services"</h1>
            <p class="lead">
                "A service is what incidents belong to. Monitoring tools send events to it with its routing key; its custom actions appear on its incidents."
            </p>
            <CreateServiceForm on_created />
            {move || created.get().map(|name| view! {
                <p class="notice success" role="status">{format!("Service “{name}” created.")}</p>
            })}
            <section aria-labelledby="service-list-heading">
                <h2 id="service-list-heading">"Your services"</h2>
                {move || match services.get() {
                    None => view! { <Loading what="Loading services…" /> }.into_any(),
                    Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                    Some(Ok(list)) if list.services.is_empty() => view! {
                        <p class="empty">"No services yet. Create one above to get a routing key."</p>
                    }
                    .into_any(),
                    Some(Ok(list)) => view! {
                        <ul class="card-list">
                            {list.services.into_iter().map(|service| view! { <ServiceCard service=service.into_inner() /> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                }}
            </section>
        </div>
    }
}

/// Name and description, checked with the same rules as the worker before sending.
#[component]
fn CreateServiceForm(on_created: Callback<Service>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let attempted = RwSignal::new(false);
    let server_errors = RwSignal::new(Vec::<FieldError>::new());

    let client_errors = Memo::new(move |_| {
        if !attempted.get() {
            return Vec::new();
        }
        validate_service(&name.get(), Some(&description.get()))
            .err()
            .unwrap_or_default()
    });
    let errors = FormErrors {
        client: client_errors,
        server: server_errors,
    };

    let create = Action::new_local(move |request: &CreateServiceRequest| {
        let request = request.clone();
        async move {
            let answer = api::create_service(request).await;
            match &answer {
                Ok(created) => {
                    name.set(String::new());
                    description.set(String::new());
                    attempted.set(false);
                    on_created.try_run(created.service.clone().into_inner());
                }
                Err(error) => server_errors.set(field_errors_of(error)),
            }
            answer.map(drop)
        }
    });

    let session = Session::expect();
    let denied = move || session.denial(Permission::ManageServices, "Creating services");

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if untrack(denied).is_some() {
            return;
        }
        attempted.set(true);
        server_errors.set(Vec::new());
        if create.pending().get_untracked() {
            return;
        }
        let description = description.get_untracked();
        if let Ok((name, description)) = validate_service(&name.get_untracked(), Some(&description))
        {
            create.dispatch(CreateServiceRequest { name, description });
        }
    };

    let name_message = errors.signal("name");
    let description_message = errors.signal("description");
    view! {
        <form class="card form" on:submit=submit novalidate aria-labelledby="new-service-heading">
            <h2 id="new-service-heading">"New service"</h2>
            {TextBox::new("service-name", "Name", name)
                .message(error_id("service", "name"), name_message)
                .view()}
            {TextBox::new("service-description", "Description", description)
                .kind(TextKind::Lines(2))
                .message(error_id("service", "description"), description_message)
                .view()}
            <div class="form-actions">
                <button
                    type="submit"
                    class="button"
                    disabled=move || create.pending().get() || denied().is_some()
                    aria-describedby=move || denied().map(|_| "service-create-denied")
                >
                    "Create service"
                </button>
                {move || denied().map(|reason| view! { <p class="hint denied" id="service-create-denied">{reason}</p> })}
                {move || create.pending().get().then(|| view! { <span role="status">"Creating…"</span> })}
            </div>
            {move || match create.value().get() {
                Some(Err(error)) => Some(view! { <ErrorNotice error=error /> }),
                _ => None,
            }}
        </form>
    }
}

/// One service: routing key, New incident, test event and curl example, and links to its
/// actions and incidents.
#[component]
fn ServiceCard(service: Service) -> impl IntoView {
    let routing_key = service.routing_key.clone();
    let new_incident = view! {
        <details>
            <summary>"New incident"</summary>
            <NewIncidentForm
                form_id=format!("new-incident-{}", service.id)
                services=vec![(service.id.clone(), service.name.clone())]
            />
        </details>
    };
    let key_id = format!("routing-key-{}", service.id);
    let actions_href = format!("/services/{}/actions", encode_component(&service.id));
    let incidents_href = format!("/incidents?service_id={}", encode_component(&service.id));
    view! {
        <li class="card service">
            <h3>{service.name.clone()}</h3>
            {service.description.clone().map(|text| view! { <p>{text}</p> })}
            <p class="meta">"Created " <Time at=service.created_at.clone() /></p>
            {match routing_key {
                Some(routing_key) => {
                    // A signal: rotating the key shows and copies the new one everywhere.
                    let key = RwSignal::new(routing_key);
                    let curl = Signal::derive(move || enqueue_curl(&origin(), &key.get()));
                    view! {
                        <div class="key-row">
                            <span class="key-label" id=key_id.clone()>"Routing key"</span>
                            <code class="key" aria-labelledby=key_id>{key}</code>
                            <CopyButton text=key what="routing key" />
                        </div>
                        <details>
                            <summary>"Send a test event"</summary>
                            <TestEventForm service_id=service.id.clone() routing_key=key />
                        </details>
                        <details class="curl">
                            <summary>"Send a test incident with curl"</summary>
                            <p class="hint">
                                "Any PagerDuty Events API v2 client works: point it at this server and use the routing key."
                            </p>
                            <pre class="code">{curl}</pre>
                            <CopyButton text=curl what="curl command" />
                        </details>
                        <RotateRoutingKey service_id=service.id.clone() key />
                    }.into_any()
                }
                // The worker sends null to roles below manager.
                None => view! {
                    <p class="hint">"The routing key is shown to managers and above."</p>
                }.into_any(),
            }}
            {new_incident}
            <p class="links">
                <a class="button secondary" href=actions_href>
                    "Custom actions"
                    <span class="visually-hidden">" of " {service.name.clone()}</span>
                </a>
                <a class="button secondary" href=incidents_href>
                    "Incidents"
                    <span class="visually-hidden">" of " {service.name}</span>
                </a>
            </p>
        </li>
    }
}

/// "Rotate routing key": a new key at once, and the old one either kept for a day so
/// monitors can be moved over, or stopped at once (a leaked key). The API takes any grace
/// from 0 to 168 hours; these are the two a person needs at 3 a.m.
#[component]
fn RotateRoutingKey(service_id: String, key: RwSignal<String>) -> impl IntoView {
    let busy = RwSignal::new(false);
    // What the last press did, or why it failed: one line, read out when it changes.
    let said = RwSignal::new(String::new());
    let rotate = move |grace: u32| {
        let service_id = service_id.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            said.set(match api::rotate_routing_key(&service_id, grace).await {
                Ok(answer) => {
                    if let Some(fresh) = answer.service.into_inner().routing_key {
                        key.set(fresh);
                    }
                    format!("New key in use; the old one works for {grace} h more.")
                }
                Err(error) => error.message,
            });
            busy.set(false);
        });
    };
    let rotate_now = rotate.clone();
    view! {
        <details>
            <summary>"Rotate routing key"</summary>
            <p class="hint">"The new key works at once. Keep the old one for a day while you move your monitors to the new key, or stop it now if it leaked."</p>
            <div class="button-row">
                <button type="button" class="button secondary" disabled=move || busy.get() on:click=move |_| rotate(24)>
                    "Rotate, keep the old key 24 h"
                </button>
                <button type="button" class="button danger" disabled=move || busy.get() on:click=move |_| rotate_now(0)>
                    "Rotate, stop the old key now"
                </button>
            </div>
            <p role="status">{move || said.get()}</p>
        </details>
    }
}
