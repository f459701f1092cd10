//! One saved action in the list: what it does, and edit, enable/disable, rotate secret
//! and delete (the last two after an explicit confirmation).

use leptos::prelude::*;
use shared::api::{Action as CustomAction, UpdateActionRequest};
use shared::roles::Permission;

use crate::api::{self, ApiError};
use crate::components::{ConfirmStep, ErrorNotice};
use crate::session::Session;

/// Which destructive step is waiting for confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirm {
    None,
    Delete,
    Rotate,
}

/// What a card asks the API to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    SetEnabled(bool),
    Delete,
    Rotate,
}

/// A saved action.
#[component]
pub fn ActionCard(
    /// The action.
    action: CustomAction,
    /// Open the edit form for it.
    on_edit: Callback<CustomAction>,
    /// It changed; the message says how.
    on_changed: Callback<String>,
    /// It was deleted: its id and name.
    on_deleted: Callback<(String, String)>,
    /// A new signing secret to show once: the action's name and the secret.
    on_secret: Callback<(String, String)>,
) -> impl IntoView {
    let confirm = RwSignal::new(Confirm::None);
    let stored = StoredValue::new(action.clone());

    let change = Action::new_local(move |change: &Change| {
        let change = *change;
        let action = stored.get_value();
        async move {
            let (service_id, id, name) = (&action.service_id, &action.id, action.name.clone());
            match change {
                Change::SetEnabled(enabled) => {
                    let request = UpdateActionRequest {
                        enabled: Some(enabled),
                        ..UpdateActionRequest::default()
                    };
                    api::update_action(service_id, id, request).await?;
                    let state = if enabled { "enabled" } else { "disabled" };
                    on_changed.try_run(format!("Action “{name}” {state}."));
                }
                Change::Delete => {
                    api::delete_action(service_id, id).await?;
                    on_deleted.try_run((action.id.clone(), name));
                }
                Change::Rotate => {
                    let rotated = api::rotate_secret(service_id, id).await?;
                    confirm.try_set(Confirm::None);
                    on_secret.try_run((name, rotated.signing_secret));
                }
            }
            Ok::<(), ApiError>(())
        }
    });
    let session = Session::expect();
    let denied = move || session.denial(Permission::ManageActions, "Changing actions");
    let off = move || change.pending().get() || denied().is_some();
    let busy = move || change.pending().get();
    let denied_id = format!("action-{}-change-denied", action.id);
    let described_by = {
        let denied_id = denied_id.clone();
        move || denied().map(|_| denied_id.clone())
    };

    let name = action.name.clone();
    let enabled = action.enabled;
    let edit_action = action.clone();
    view! {
        <li class="card action">
            <div class="card-head">
                <h3>{action.name.clone()}</h3>
                <span class=if enabled { "badge on" } else { "badge off" }>
                    {if enabled { "Enabled" } else { "Disabled" }}
                </span>
            </div>
            {action.description.clone().map(|text| view! { <p>{text}</p> })}
            {match (action.endpoint_url.clone(), action.headers) {
                (Some(endpoint_url), Some(headers)) => view! {
            <dl class="facts">
                <dt>"Endpoint"</dt>
                <dd><code class="url">{endpoint_url}</code></dd>
                <dt>"Headers"</dt>
                <dd>
                    {if headers.is_empty() {
                        view! { <span>"None"</span> }.into_any()
                    } else {
                        view! {
                            <ul class="plain">
                                {headers.iter().map(|header| {
                                    let value = if header.secret {
                                        "•••••• (secret)".to_owned()
                                    } else {
                                        header.value.clone().unwrap_or_default()
                                    };
                                    view! { <li><code>{header.name.clone()} ": " {value}</code></li> }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </dd>
            </dl>
                }.into_any(),
                // The worker leaves configuration out for roles below manager.
                _ => view! {
                    <p class="hint">"Endpoint and headers are shown to managers and above."</p>
                }.into_any(),
            }}
            <div class="card-actions">
                <button
                    type="button"
                    class="button small secondary"
                    disabled=off
                    aria-describedby=described_by.clone()
                    on:click=move |_| on_edit.run(edit_action.clone())
                >
                    "Edit" <span class="visually-hidden">" " {name.clone()}</span>
                </button>
                <button
                    type="button"
                    class="button small secondary"
                    disabled=off
                    aria-describedby=described_by.clone()
                    on:click=move |_| {
                        change.dispatch(Change::SetEnabled(!enabled));
                    }
                >
                    {if enabled { "Disable" } else { "Enable" }}
                    <span class="visually-hidden">" " {name.clone()}</span>
                </button>
                <button
                    type="button"
                    class="button small secondary"
                    disabled=off
                    aria-describedby=described_by.clone()
                    on:click=move |_| confirm.set(Confirm::Rotate)
                >
                    "Rotate signing secret" <span class="visually-hidden">" of " {name.clone()}</span>
                </button>
                <button
                    type="button"
                    class="button small danger"
                    disabled=off
                    aria-describedby=described_by
                    on:click=move |_| confirm.set(Confirm::Delete)
                >
                    "Delete" <span class="visually-hidden">" " {name}</span>
                </button>
            </div>
            {move || denied().map(|reason| view! { <p class="hint denied" id=denied_id.clone()>{reason}</p> })}
            {move || {
                let (question, consequence, label, step) = match confirm.get() {
                    Confirm::None => return None,
                    Confirm::Delete => (
                        format!("Delete “{}”?", stored.with_value(|a| a.name.clone())),
                        "Incidents stop showing this button. Runs already on timelines stay.",
                        "Delete action",
                        Change::Delete,
                    ),
                    Confirm::Rotate => (
                        format!("Rotate the signing secret of “{}”?", stored.with_value(|a| a.name.clone())),
                        "The current secret stops working at once; your endpoint must use the new one.",
                        "Rotate secret",
                        Change::Rotate,
                    ),
                };
                Some(view! {
                    <ConfirmStep
                        label
                        question
                        consequence
                        danger=step == Change::Delete
                        busy=Signal::derive(busy)
                        on_confirm=Callback::new(move |()| {
                            change.dispatch(step);
                        })
                        on_cancel=Callback::new(move |()| confirm.set(Confirm::None))
                    />
                })
            }}
            {move || busy().then(|| view! { <p role="status">"Working…"</p> })}
            {move || match change.value().get() {
                Some(Err(error)) => Some(view! { <ErrorNotice error /> }),
                _ => None,
            }}
        </li>
    }
}
