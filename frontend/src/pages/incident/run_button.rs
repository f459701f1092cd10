//! One custom action's button on an incident, and the result of its last run in place.
//!
//! A run can take up to 16 seconds (the worker waits for the endpoint), so the button is
//! disabled from the click until the answer, and each click carries its own
//! `Idempotency-Key`: a retried request returns the first run instead of sending again.

use leptos::prelude::*;
use shared::api::{ActionRun, ActionSummary, RunStatus};
use shared::roles::Permission;

use crate::api;
use crate::browser::idempotency_key;
use crate::components::ErrorNotice;
use crate::format::{excerpt_label, run_summary};
use crate::session::Session;

use super::request_headers::RequestHeaders;

/// The button, labelled exactly with the action's name, and its result.
#[component]
pub fn RunButton(
    /// The incident to send.
    incident_id: String,
    /// The action to run.
    action: ActionSummary,
    /// Called after every finished attempt, so the timeline can reload.
    on_finished: Callback<()>,
) -> impl IntoView {
    let action_id = action.id.clone();
    let run = Action::new_local(move |(): &()| {
        let (incident_id, action_id) = (incident_id.clone(), action_id.clone());
        let key = idempotency_key();
        async move {
            let answer = api::run_action(&incident_id, &action_id, &key).await;
            on_finished.try_run(());
            answer.map(|answer| answer.run)
        }
    });
    let pending = run.pending();
    let session = Session::expect();
    let denied = move || session.denial(Permission::RunActions, "Running actions");
    let denied_id = format!("action-{}-denied", action.id);
    let described_by = {
        let (description_id, denied_id) = (description_id_for(&action), denied_id.clone());
        let has_description = action.description.is_some();
        move || {
            let mut ids = Vec::new();
            if has_description {
                ids.push(description_id.clone());
            }
            if denied().is_some() {
                ids.push(denied_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let description_id = description_id_for(&action);
    let result_id = format!("action-{}-result", action.id);

    view! {
        <div class="run">
            <button
                type="button"
                class="button action-button"
                disabled=move || pending.get() || denied().is_some()
                aria-busy=move || pending.get().to_string()
                aria-describedby=described_by
                on:click=move |_| {
                    // The disabled attribute lands a tick later; this guard covers a fast
                    // double click in between.
                    if !pending.get_untracked() && untrack(denied).is_none() {
                        run.dispatch(());
                    }
                }
            >
                {action.name.clone()}
            </button>
            {move || denied().map(|reason| view! { <p class="hint denied" id=denied_id.clone()>{reason}</p> })}
            {action.description.map(|text| view! { <p class="hint" id=description_id>{text}</p> })}
            <div class="run-result" id=result_id aria-live="polite">
                {move || {
                    if pending.get() {
                        return view! {
                            <p class="running">
                                <span class="spinner" aria-hidden="true"></span>
                                "Running… waiting for the endpoint (up to 16 s)."
                            </p>
                        }
                        .into_any();
                    }
                    match run.value().get() {
                        None => ().into_any(),
                        Some(Ok(run)) => view! { <RunResult run /> }.into_any(),
                        Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                    }
                }}
            </div>
        </div>
    }
}

/// The id of the paragraph describing an action's button.
fn description_id_for(action: &ActionSummary) -> String {
    format!("action-{}-description", action.id)
}

/// A finished run: status, outcome, HTTP code, duration, and the answer as plain text.
#[component]
fn RunResult(
    /// The run.
    run: ActionRun,
) -> impl IntoView {
    let class = match run.status {
        RunStatus::Succeeded => "result ok",
        RunStatus::Failed => "result failed",
        RunStatus::Running => "result",
    };
    let summary = run_summary(&run);
    let label = excerpt_label(&run);
    view! {
        <div class=class>
            <p class="result-line"><strong>{summary}</strong></p>
            {run.response_excerpt.filter(|text| !text.is_empty()).map(|text| view! {
                <p class="excerpt-label">{label}</p>
                // Text, never markup: whatever the endpoint answered is shown as typed.
                <pre class="code excerpt">{text}</pre>
            })}
            <RequestHeaders headers=run.request_headers />
        </div>
    }
}
