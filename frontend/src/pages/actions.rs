//! A service's Custom Incident Actions page: what custom actions are, the (at most three)
//! actions of the service with their recent runs and endpoint health, and the form that
//! creates or edits one.

mod card;
mod draft;
mod form;
mod inputs_editor;
mod recent_runs;
mod settings_editor;
mod template_editor;

use std::time::Duration;

use leptos::prelude::*;
use shared::api::{Action as CustomAction, ConfigHealth};
use shared::limits::{MAX_ACTIONS_PER_SERVICE, RUNS_ON_ACTION_CARD};
use shared::roles::Permission;
use shared::run_words;
use shared::view::Viewed;

use crate::api::{self, ApiError};
use crate::components::{ErrorNotice, Loading, OneTimeSecret};
use crate::format::actions_used;
use crate::router::{Page, Router};
use crate::session::Session;

use card::ActionCard;
use form::ActionForm;

/// Which form is open.
#[derive(Debug, Clone, PartialEq)]
enum Editor {
    Closed,
    New,
    Edit(Box<CustomAction>),
}

/// A signing secret to show once: the action's name and the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShownSecret {
    action_name: String,
    secret: String,
}

/// What the list area shows.
#[derive(Debug, Clone, PartialEq)]
enum ListState {
    Loading,
    Failed(ApiError),
    Empty,
    Ready,
}

/// Whether another action may be added, and if not, why (shown next to the button).
pub fn limit_reason(count: usize) -> Option<String> {
    (count >= MAX_ACTIONS_PER_SERVICE).then(|| {
        format!(
            "A service can have at most {MAX_ACTIONS_PER_SERVICE} custom actions. Delete one to add another."
        )
    })
}

/// `/services/:id/actions`.
#[component]
pub fn ActionsPage() -> impl IntoView {
    let service_id = Router::expect().id_of(Page::Actions);

    let service = LocalResource::new(move || {
        let id = service_id.get();
        async move { api::get_service(&id).await }
    });
    let session = Session::expect();
    // The actions, and for those who may run them, each one's recent runs: read together,
    // so the page draws once.
    let actions = LocalResource::new(move || {
        let id = service_id.get();
        let with_runs = session.may(Permission::RunActions);
        async move {
            let list = api::list_actions(&id).await?;
            let mut listed = Vec::with_capacity(list.actions.len());
            for action in list.actions.into_iter().map(Viewed::into_inner) {
                let runs = match with_runs {
                    true => Some(api::action_runs(&id, &action.id, RUNS_ON_ACTION_CARD).await),
                    false => None,
                };
                listed.push((action, runs));
            }
            Ok::<_, ApiError>(listed)
        }
    });

    let editor = RwSignal::new(Editor::Closed);
    let shown_secret = RwSignal::new(None::<ShownSecret>);
    let notice = RwSignal::new(None::<String>);

    // A reload that changes nothing redraws nothing, so keyboard focus stays put.
    let action_list = Memo::new(move |_| actions.get().and_then(Result::ok).unwrap_or_default());
    let count = Memo::new(move |_| action_list.with(Vec::len));

    // A just-saved configuration takes up to a minute to reach every location; look again
    // now and then until none is on its way, so the card's note does not outlive it.
    Effect::new(move |_| {
        let spreading = actions.with(|answer| {
            answer
                .as_ref()
                .and_then(|answer| answer.as_ref().ok())
                .is_some_and(|listed| {
                    listed
                        .iter()
                        .any(|(action, _)| action.config_health == ConfigHealth::Propagating)
                })
        });
        if spreading {
            let timer = set_timeout_with_handle(move || actions.refetch(), PROPAGATION_RECHECK);
            if let Ok(timer) = timer {
                on_cleanup(move || timer.clear());
            }
        }
    });
    // Below manager the toolbar's button says why it is off; a limit reason comes second.
    let new_reason = move || {
        session
            .denial(Permission::ManageActions, "Adding and changing actions")
            .or_else(|| limit_reason(count.get()))
    };

    let list_state = Memo::new(move |_| match (service.get(), actions.get()) {
        (Some(Err(error)), _) | (_, Some(Err(error))) => ListState::Failed(error),
        (_, None) => ListState::Loading,
        (_, Some(Ok(listed))) if listed.is_empty() => ListState::Empty,
        (_, Some(Ok(_))) => ListState::Ready,
    });
    let loaded = move || matches!(list_state.get(), ListState::Empty | ListState::Ready);

    let on_saved = Callback::new(move |saved: CustomAction| {
        notice.set(Some(format!("Action “{}” saved.", saved.name)));
        if let Some(secret) = saved.signing_secret.clone() {
            shown_secret.set(Some(ShownSecret {
                action_name: saved.name,
                secret,
            }));
        }
        editor.set(Editor::Closed);
        actions.refetch();
    });
    let on_cancel = Callback::new(move |()| editor.set(Editor::Closed));
    let on_changed = Callback::new(move |message: String| {
        notice.set(Some(message));
        actions.refetch();
    });
    let on_deleted = Callback::new(move |(id, name): (String, String)| {
        if matches!(editor.get_untracked(), Editor::Edit(ref a) if a.id == id) {
            editor.set(Editor::Closed);
        }
        notice.set(Some(format!("Action “{name}” deleted.")));
        actions.refetch();
    });
    let on_ran = Callback::new(move |()| actions.refetch());
    let on_edit = Callback::new(move |action: CustomAction| {
        notice.set(None);
        editor.set(Editor::Edit(Box::new(action)));
    });
    let on_secret = Callback::new(move |(action_name, secret): (String, String)| {
        shown_secret.set(Some(ShownSecret {
            action_name,
            secret,
        }));
        // A rotation is a new revision: the card must name it before its next change.
        actions.refetch();
    });

    view! {
        <div class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/services">"Services"</a>
                " › "
                <span aria-current="page">
                    {move || match service.get() {
                        Some(Ok(found)) => found.service.into_inner().name,
                        _ => String::from("…"),
                    }}
                </span>
            </nav>
            <h1>"Custom Incident Actions"</h1>
            <p class="lead">
                {move || match service.get() {
                    Some(Ok(found)) => format!("Buttons on every incident of {}.", found.service.name),
                    _ => String::new(),
                }}
            </p>

            {move || shown_secret.get().map(|shown| view! { <SecretPanel shown on_dismiss=Callback::new(move |()| shown_secret.set(None)) /> })}
            {move || notice.get().map(|text| view! { <p class="notice success" role="status">{text}</p> })}

            <div class="toolbar" hidden=move || !loaded()>
                <p class="usage">
                    <strong>{move || actions_used(count.get())}</strong>
                </p>
                <button
                    type="button"
                    class="button"
                    disabled=move || new_reason().is_some()
                    aria-describedby=move || new_reason().map(|_| "action-limit-reason")
                    on:click=move |_| {
                        notice.set(None);
                        editor.set(Editor::New);
                    }
                >
                    "New action"
                </button>
                <p class="hint" id="action-limit-reason" hidden=move || new_reason().is_none()>
                    {new_reason}
                </p>
            </div>

            {move || {
                let id = service_id.get();
                match editor.get() {
                    Editor::Closed => None,
                    Editor::New => Some(view! { <ActionForm service_id=id editing=None on_saved on_cancel /> }),
                    Editor::Edit(action) => Some(view! { <ActionForm service_id=id editing=Some(*action) on_saved on_cancel /> }),
                }
            }}

            <section aria-labelledby="actions-heading">
                <h2 id="actions-heading" class="visually-hidden">"Actions"</h2>
                {move || match list_state.get() {
                    ListState::Loading => view! { <Loading what="Loading actions…" /> }.into_any(),
                    ListState::Failed(error) => view! { <ErrorNotice error /> }.into_any(),
                    ListState::Empty => view! {
                        <div class="empty card">
                            <h3>"No custom actions yet"</h3>
                            <p>
                                {format!("Custom incident actions are buttons on this service's incidents. When a responder presses one, Incident Actions sends an HTTP POST with the incident's details to your endpoint, waits up to {} for the answer, shows the result and records it on the incident's timeline.", run_words::deadline())}
                            </p>
                            <p>
                                "Use them to restart a server, collect diagnostics, roll back the last deploy or update a status page. A service can have up to three."
                            </p>
                            <EndpointContract open=true />
                        </div>
                    }
                    .into_any(),
                    ListState::Ready => view! {
                        <ul class="card-list">
                            // Redrawn only when the list changes (a `Memo`), and then whole: a
                            // change to a card redraws that card anyway, and with at most three
                            // cards a keyed list would only add to the bundle.
                            {move || action_list.get().into_iter().map(|(action, runs)| view! {
                                <ActionCard action runs on_edit on_changed on_deleted on_secret on_ran />
                            }.into_any()).collect_view()}
                        </ul>
                        <EndpointContract open=false />
                    }
                    .into_any(),
                }}
            </section>
        </div>
    }
}

/// How often the list is read again while an action's configuration is still spreading.
const PROPAGATION_RECHECK: Duration = Duration::from_secs(10);

/// What an endpoint receives and how it checks the signature.
#[component]
fn EndpointContract(open: bool) -> impl IntoView {
    view! {
        <details class="contract" open=open>
            <summary>"What your endpoint receives"</summary>
            <p>
                "A POST with a JSON body and the Standard Webhooks headers "
                <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code> " and "
                <code>"webhook-signature"</code>
                ". Verify the signature with any Standard Webhooks library and the action's signing secret, which is shown once when you create the action. A 2xx answer counts as success; redirects are not followed; the first 4 KiB of your answer is shown to the responder as text."
            </p>
            <pre class="code">{ENDPOINT_EXAMPLE}</pre>
        </details>
    }
}

const ENDPOINT_EXAMPLE: &str = r#"POST <your endpoint URL>
Content-Type: application/json
webhook-id: run_…
webhook-timestamp: 1763832961
webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">

{
  "event": {
    "id": "run_…",
    "event_type": "incident.custom_action",
    "occurred_at": "2026-11-22T17:36:01.000Z",
    "agent": { "type": "user", "id": "admin", "name": "Admin" },
    "action": { "id": "act_…", "name": "Restart web" },
    "data": {
      "id": "inc_…", "number": 42, "title": "Disk almost full on web-1",
      "status": "triggered", "urgency": "high", "severity": "critical",
      "source": "web-1", "custom_details": { … },
      "service": { "id": "svc_…", "name": "Checkout" }, …
    }
  }
}"#;

/// The signing secret, shown once with a copy button.
#[component]
fn SecretPanel(shown: ShownSecret, on_dismiss: Callback<()>) -> impl IntoView {
    view! {
        <OneTimeSecret
            heading=format!("Signing secret for “{}”", shown.action_name)
            purpose="Your endpoint uses it to verify the webhook-signature header."
            secret=shown.secret
            what="signing secret"
            on_dismiss
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fourth_action_is_refused_with_the_reason() {
        assert_eq!(limit_reason(2), None);
        let reason = limit_reason(3).unwrap();
        assert!(reason.contains("at most 3"), "{reason}");
    }
}
