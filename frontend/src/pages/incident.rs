//! One incident: its facts, acknowledge and resolve, a button per enabled custom action,
//! the service's changes in the 24 hours before it, and the timeline.

mod note_form;
mod recent_changes;
mod request_headers;
mod run_button;
mod run_dialog;
mod run_values;
mod sent_inputs;
mod timeline;

use leptos::prelude::*;
use shared::api::{Incident, IncidentResponse};
use shared::incident::IncidentStatus;
use shared::roles::Permission;
use shared::run_words;
use shared::view::Viewed;

use crate::api::{self, encode_component, ApiError};
use crate::components::{ErrorNotice, Loading, PageButtons, StatusBadge, Time};
use crate::format::pretty_details;
use crate::router::{Page, Router};
use crate::session::Session;

use note_form::NoteForm;
use recent_changes::{recent_changes, web_links};
use run_button::RunButton;
use timeline::Timeline;

/// `/incidents/:id`.
#[component]
pub fn IncidentPage() -> impl IntoView {
    let incident_id = Router::expect().id_of(Page::Incident);
    let loaded = LocalResource::new(move || {
        let id = incident_id.get();
        async move { api::get_incident(&id).await }
    });

    view! {
        <div class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/incidents">"Incidents"</a>
            </nav>
            {move || match loaded.get() {
                None => view! { <Loading what="Loading the incident…" /> }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                Some(Ok(IncidentResponse { incident })) => view! { <IncidentView initial=incident.into_inner() /> }.into_any(),
            }}
        </div>
    }
}

/// What a status button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transition {
    Acknowledge,
    Resolve,
}

/// Whether the incident can still be acknowledged / resolved.
pub fn can_acknowledge(status: IncidentStatus) -> bool {
    status == IncidentStatus::Triggered
}

/// Whether the incident can still be resolved.
pub fn can_resolve(status: IncidentStatus) -> bool {
    status != IncidentStatus::Resolved
}

/// The loaded incident. Acknowledge and resolve replace the facts in place, so the action
/// buttons (and the results shown under them) stay put.
#[component]
fn IncidentView(initial: Incident) -> impl IntoView {
    let incident_id = initial.id.clone();
    let service_id = initial.service.id.clone();
    // A stakeholder's incident comes without its actions: no buttons at all, then.
    let actions = initial.actions.clone();
    let changes = initial.recent_changes.clone();
    let session = Session::expect();
    let denied = move || session.denial(Permission::RunActions, "Acknowledging and resolving");
    let current = RwSignal::new(initial);
    let status = Signal::derive(move || current.with(|incident| incident.status));

    // The timeline page shown: `None` for the newest, else the cursor "Older entries" gave.
    let log_cursor = RwSignal::new(None::<String>);
    let log = LocalResource::new({
        let id = incident_id.clone();
        move || {
            let (id, cursor) = (id.clone(), log_cursor.get());
            async move { api::incident_log(&id, cursor.as_deref()).await }
        }
    });
    // After a change, the newest page (where the change is) is shown.
    let refresh_log = Callback::new(move |()| {
        if log_cursor.with_untracked(Option::is_some) {
            log_cursor.set(None);
        } else {
            log.refetch();
        }
    });

    let transition = Action::new_local({
        let id = incident_id.clone();
        move |step: &Transition| {
            let (id, step) = (id.clone(), *step);
            async move {
                let answer = match step {
                    Transition::Acknowledge => api::acknowledge_incident(&id).await,
                    Transition::Resolve => api::resolve_incident(&id).await,
                }?;
                // The answer lists actions too; the buttons already drawn stay as they are.
                current.try_update(|shown| {
                    let actions = shown.actions.take();
                    *shown = answer.incident.into_inner();
                    shown.actions = actions;
                });
                log.refetch();
                Ok::<(), ApiError>(())
            }
        }
    });
    let busy = move || transition.pending().get();

    let field = move |read: fn(&Incident) -> Option<String>| move || current.with(read);
    let service_href = move || {
        current.with(|incident| {
            format!(
                "/incidents?service_id={}",
                encode_component(&incident.service.id)
            )
        })
    };
    let actions_href = move || {
        current.with(|incident| {
            format!(
                "/services/{}/actions",
                encode_component(&incident.service.id)
            )
        })
    };

    view! {
        <article class="incident">
            <header class="incident-head">
                <h1>
                    <span class="number">{move || current.with(|i| format!("#{}", i.number))}</span>
                    " "
                    {move || current.with(|i| i.title.clone())}
                </h1>
                <div class="meta">
                    <StatusBadge status />
                    <span class=move || current.with(|i| format!("urgency urgency-{}", i.urgency.as_str()))>
                        {move || current.with(|i| format!("{} urgency", i.urgency.as_str()))}
                    </span>
                </div>
            </header>

            <section class="card" aria-labelledby="status-heading">
                <h2 id="status-heading">"Status"</h2>
                <p>
                    "This incident is "
                    <strong>{move || status.get().as_str()}</strong>
                    "."
                </p>
                <div class="button-row">
                    <button
                        type="button"
                        class="button"
                        disabled=move || busy() || denied().is_some() || !can_acknowledge(status.get())
                        aria-describedby=move || denied().map(|_| "status-denied")
                        on:click=move |_| {
                            transition.dispatch(Transition::Acknowledge);
                        }
                    >
                        "Acknowledge"
                    </button>
                    <button
                        type="button"
                        class="button"
                        disabled=move || busy() || denied().is_some() || !can_resolve(status.get())
                        aria-describedby=move || denied().map(|_| "status-denied")
                        on:click=move |_| {
                            transition.dispatch(Transition::Resolve);
                        }
                    >
                        "Resolve"
                    </button>
                    {move || busy().then(|| view! { <span role="status">"Updating…"</span> })}
                </div>
                {move || denied().map(|reason| view! { <p class="hint denied" id="status-denied">{reason}</p> })}
                {move || match transition.value().get() {
                    Some(Err(error)) => Some(view! { <ErrorNotice error /> }),
                    _ => None,
                }}
            </section>

            {actions.map(|actions| view! {
            <section class="card" aria-labelledby="actions-heading">
                <h2 id="actions-heading">"Custom actions"</h2>
                {if actions.is_empty() {
                    view! {
                        <p class="empty">
                            "This service has no enabled custom actions. "
                            <a href=actions_href>"Set them up"</a>
                            "."
                        </p>
                    }.into_any()
                } else {
                    view! {
                        <p class="hint">
                            {format!("Each button sends this incident to the action's endpoint and shows the answer here. It can take up to {}.", run_words::deadline())}
                        </p>
                        <ul class="run-list">
                            {actions.into_iter().map(|action| view! {
                                <li><RunButton incident_id=incident_id.clone() service_id=service_id.clone() action on_finished=refresh_log /></li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            })}

            <section class="card" aria-labelledby="details-heading">
                <h2 id="details-heading">"Details"</h2>
                {move || current.with(|i| i.details.clone()).map(|text| view! {
                    <p class="incident-details">{text}</p>
                })}
                // Links from the events and from action replies: text, http(s) only.
                {move || current.with(|i| i.links.as_ref().map(web_links))}
                <dl class="facts">
                    <dt>"Status"</dt>
                    <dd>{move || crate::format::status_label(status.get())}</dd>
                    <dt>"Urgency"</dt>
                    <dd>{move || current.with(|i| i.urgency.as_str())}</dd>
                    <dt>"Severity"</dt>
                    <dd>{move || current.with(|i| i.severity.as_str())}</dd>
                    <dt>"Source"</dt>
                    <dd>{move || current.with(|i| i.source.clone())}</dd>
                    <dt>"Service"</dt>
                    <dd><a href=service_href>{move || current.with(|i| i.service.name.clone())}</a></dd>
                    {optional_fact("Component", field(|i| i.component.clone()))}
                    {optional_fact("Group", field(|i| i.group.clone()))}
                    {optional_fact("Class", field(|i| i.class.clone()))}
                    <dt>"Dedup key"</dt>
                    <dd><code>{move || current.with(|i| i.dedup_key.clone())}</code></dd>
                    <dt>"Events"</dt>
                    <dd>{move || current.with(|i| i.event_count)}</dd>
                    <dt>"Opened"</dt>
                    <dd>{move || view! { <Time at=current.with(|i| i.created_at.clone()) /> }}</dd>
                    <dt>"Updated"</dt>
                    <dd>{move || view! { <Time at=current.with(|i| i.updated_at.clone()) /> }}</dd>
                </dl>
                <h3>"Custom details"</h3>
                {move || match current.with(|i| i.custom_details.as_ref().and_then(pretty_details)) {
                    Some(text) => view! { <pre class="code">{text}</pre> }.into_any(),
                    None => view! { <p class="empty">"None sent."</p> }.into_any(),
                }}
            </section>

            {changes.map(|changes| view! {
                <section class="card" aria-labelledby="changes-heading">
                    <h2 id="changes-heading">"Changes in the 24 h before this incident"</h2>
                    {recent_changes(changes)}
                </section>
            })}

            <section class="card" aria-labelledby="timeline-heading">
                <h2 id="timeline-heading">"Timeline"</h2>
                {move || match log.get() {
                    None => view! { <Loading what="Loading the timeline…" /> }.into_any(),
                    Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                    Some(Ok(page)) => view! {
                        <Timeline entries=page.log_entries.into_iter().map(Viewed::into_inner).collect() on_redelivered=refresh_log />
                        <PageButtons cursor=log_cursor next=page.next_cursor older="Older entries" newest="Newest entries" />
                    }
                    .into_any(),
                }}
                <NoteForm incident_id on_added=refresh_log />
            </section>
        </article>
    }
}

/// A `<dt>`/`<dd>` pair that appears only when the value is set.
fn optional_fact(
    label: &'static str,
    value: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        value().map(|value| {
            view! {
                <dt>{label}</dt>
                <dd>{value}</dd>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_triggered_incident_can_be_acknowledged() {
        assert!(can_acknowledge(IncidentStatus::Triggered));
        assert!(!can_acknowledge(IncidentStatus::Acknowledged));
        assert!(!can_acknowledge(IncidentStatus::Resolved));
    }

    #[test]
    fn a_resolved_incident_cannot_be_resolved_again() {
        assert!(can_resolve(IncidentStatus::Triggered));
        assert!(can_resolve(IncidentStatus::Acknowledged));
        assert!(!can_resolve(IncidentStatus::Resolved));
    }
}
