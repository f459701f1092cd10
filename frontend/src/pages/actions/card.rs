//! One saved action in the list: what it does, whether its configuration can be used,
//! whether its endpoint has been failing, its recent runs, and edit, enable/disable,
//! rotate secret and delete (the last two after an explicit confirmation).
//!
//! Enable/disable and rotate name the revision the card shows. If someone else changed the
//! action since, the worker refuses (409 `edit_conflict`) with the current version, which
//! the card then shows in place of its own, next to a message saying nothing was done.

use leptos::prelude::*;
use shared::api::{
    Action as CustomAction, ActionHeader, ConfigHealth, RunHistory, UpdateActionRequest,
};
use shared::roles::Permission;

use crate::api::{self, ApiError};
use crate::components::{Clock, ConfirmStep, ErrorNotice};
use crate::format::{
    asks_for, availability_summary, card_conflict_message, confirm_summary, health_warning,
    revision_label, unreadable_warning, PROPAGATING_NOTE,
};

use super::recent_runs::RecentRuns;
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
    /// Its recent runs (`None` for roles that may not run actions).
    runs: Option<Result<RunHistory, ApiError>>,
    /// A run of it was redelivered from the card.
    on_ran: Callback<()>,
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
    let action_id = action.id.clone();
    // What the card shows: the action as listed, or the newer version a conflict brought.
    let current = RwSignal::new(action);
    // The revision someone else saved, once a change from this card met it.
    let conflict = RwSignal::new(None::<u64>);

    let change = Action::new_local(move |change: &Change| {
        let change = *change;
        let action = current.get_untracked();
        async move {
            let (service_id, id, name) = (&action.service_id, &action.id, action.name.clone());
            let done = match change {
                Change::SetEnabled(enabled) => {
                    let request = UpdateActionRequest {
                        enabled: Some(enabled),
                        revision: Some(action.revision),
                        ..UpdateActionRequest::default()
                    };
                    api::update_action(service_id, id, request).await.map(|_| {
                        let state = if enabled { "enabled" } else { "disabled" };
                        on_changed.try_run(format!("Action “{name}” {state}."));
                    })
                }
                Change::Delete => api::delete_action(service_id, id).await.map(|()| {
                    on_deleted.try_run((action.id.clone(), name));
                }),
                Change::Rotate => api::rotate_secret(service_id, id, action.revision)
                    .await
                    .map(|rotated| {
                        confirm.try_set(Confirm::None);
                        on_secret.try_run((name, rotated.signing_secret));
                    }),
            };
            if let Some(now) = done.as_ref().err().and_then(ApiError::conflicting_action) {
                confirm.try_set(Confirm::None);
                conflict.try_set(Some(now.revision));
                current.try_set(now.clone());
            }
            done
        }
    });
    let start = move |step: Change| {
        conflict.set(None);
        change.dispatch(step);
    };
    let session = Session::expect();
    let denied = move || session.denial(Permission::ManageActions, "Changing actions");
    let off = move || change.pending().get() || denied().is_some();
    let busy = move || change.pending().get();
    let denied_id = format!("action-{action_id}-change-denied");
    let described_by = {
        let denied_id = denied_id.clone();
        move || denied().map(|_| denied_id.clone())
    };
    let name = move || current.with(|action| action.name.clone());
    let enabled = move || current.with(|action| action.enabled);

    view! {
        <li class="card action">
            {move || view! { <ActionFacts action=current.get() /> }}
            {runs.map(|history| view! { <RecentRuns history on_redelivered=on_ran /> })}
            <div class="card-actions">
                <button
                    type="button"
                    class="button small secondary"
                    disabled=off
                    aria-describedby=described_by.clone()
                    on:click=move |_| on_edit.run(current.get_untracked())
                >
                    "Edit" <span class="visually-hidden">" " {name}</span>
                </button>
                <button
                    type="button"
                    class="button small secondary"
                    disabled=off
                    aria-describedby=described_by.clone()
                    on:click=move |_| start(Change::SetEnabled(!untrack(enabled)))
                >
                    {move || if enabled() { "Disable" } else { "Enable" }}
                    <span class="visually-hidden">" " {name}</span>
                </button>
                <button
                    type="button"
                    class="button small secondary"
                    disabled=off
                    aria-describedby=described_by.clone()
                    on:click=move |_| confirm.set(Confirm::Rotate)
                >
                    "Rotate signing secret" <span class="visually-hidden">" of " {name}</span>
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
            {move || conflict.get().map(|revision| view! {
                <div class="notice edit-conflict" role="alert">
                    <p>{card_conflict_message(revision)}</p>
                </div>
            })}
            {move || {
                let (question, consequence, label, step) = match confirm.get() {
                    Confirm::None => return None,
                    Confirm::Delete => (
                        format!("Delete “{}”?", untrack(name)),
                        "Incidents stop showing this button. Runs already on timelines stay.",
                        "Delete action",
                        Change::Delete,
                    ),
                    Confirm::Rotate => (
                        format!("Rotate the signing secret of “{}”?", untrack(name)),
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
                        on_confirm=Callback::new(move |()| start(step))
                        on_cancel=Callback::new(move |()| confirm.set(Confirm::None))
                    />
                })
            }}
            {move || busy().then(|| view! { <p role="status">"Working…"</p> })}
            {move || match change.value().get() {
                // A conflict has its own message above.
                Some(Err(error)) if error.conflicting_action().is_none() => {
                    Some(view! { <ErrorNotice error /> })
                }
                _ => None,
            }}
        </li>
    }
}

/// What the card says about the action: name, state, revision, health, configuration.
#[component]
fn ActionFacts(action: CustomAction) -> impl IntoView {
    let enabled = action.enabled;
    let health = match action.config_health {
        ConfigHealth::Ok => None,
        ConfigHealth::Unreadable => Some(
            view! {
                <p class="notice warning action-unreadable" role="status">
                    {unreadable_warning(action.config_problem.as_deref())}
                </p>
            }
            .into_any(),
        ),
        ConfigHealth::Propagating => Some(
            view! {
                <p class="notice info action-propagating" role="status">{PROPAGATING_NOTE}</p>
            }
            .into_any(),
        ),
    };
    // Workers from before revisions answer 0: nothing worth showing.
    let revision = (action.revision > 0).then(|| revision_label(action.revision));
    let unreadable = action.config_health == ConfigHealth::Unreadable;
    // What a run asks first and when it applies, read-only: the form does not edit these.
    let rules: Vec<String> = asks_for(&action.settings.inputs)
        .into_iter()
        .chain(
            action
                .settings
                .confirm
                .as_ref()
                .map(|confirm| confirm_summary(confirm).to_owned()),
        )
        .chain(
            action
                .settings
                .available_when
                .as_ref()
                .and_then(availability_summary),
        )
        .collect();
    // Its endpoint has been failing: said quietly; the action is never switched off for it.
    let failing = {
        let clock = Clock::expect();
        let health = action.health;
        move || {
            health_warning(&health, clock.now()).map(
                |text| view! { <p class="notice warning action-failing" role="status">{text}</p> },
            )
        }
    };
    view! {
        <div class="card-head">
            <h3>{action.name}</h3>
            <span class=if enabled { "badge on" } else { "badge off" }>
                {if enabled { "Enabled" } else { "Disabled" }}
            </span>
            {revision.map(|text| view! { <span class="revision">{text}</span> })}
        </div>
        {health}
        {failing}
        {action.description.map(|text| view! { <p>{text}</p> })}
        {(!rules.is_empty()).then(|| view! {
            <ul class="plain run-rules">
                {rules.into_iter().map(|rule| view! { <li>{rule}</li> }).collect_view()}
            </ul>
        })}
        {match (action.endpoint_url, action.headers) {
            // The worker leaves configuration out for roles below manager.
            (None, None) if !unreadable => view! {
                <p class="hint">"Endpoint and headers are shown to managers and above."</p>
            }
            .into_any(),
            // A configuration that cannot be opened may come back in part, or not at all.
            (endpoint_url, headers) => view! {
                <dl class="facts">
                    <dt>"Endpoint"</dt>
                    <dd>
                        {match endpoint_url {
                            Some(url) => view! { <code class="url">{url}</code> }.into_any(),
                            None => view! { <span>"Unavailable"</span> }.into_any(),
                        }}
                    </dd>
                    <dt>"Headers"</dt>
                    <dd>{header_list(headers)}</dd>
                </dl>
            }
            .into_any(),
        }}
    }
}

/// The headers as `Name: value`, secret values hidden.
fn header_list(headers: Option<Vec<ActionHeader>>) -> AnyView {
    match headers {
        None => view! { <span>"Unavailable"</span> }.into_any(),
        Some(headers) if headers.is_empty() => view! { <span>"None"</span> }.into_any(),
        Some(headers) => view! {
            <ul class="plain">
                {headers.into_iter().map(|header| {
                    let value = if header.secret {
                        "•••••• (secret)".to_owned()
                    } else {
                        header.value.unwrap_or_default()
                    };
                    view! { <li><code>{header.name} ": " {value}</code></li> }
                }).collect_view()}
            </ul>
        }
        .into_any(),
    }
}
