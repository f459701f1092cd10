//! One custom action's button on an incident, and the result of its last run in place
//! (with Redeliver when it failed). An action whose last runs all failed says so quietly
//! under its button, which stays usable.
//!
//! A run can take up to its deadline (the worker waits for the endpoint), so the button is
//! disabled from the click until the answer, and each click carries its own
//! `Idempotency-Key`: a retried request returns the first run instead of sending again.
//!
//! An action that asks first (inputs, a confirmation) opens its run dialog on a click;
//! Run there sends. Any other action runs on the click itself.
//!
//! When the endpoint was called but the worker could not record its answer (HTTP 202,
//! `outcome_recorded: false`), the endpoint may already have acted: the result says so,
//! and the next click asks before sending the incident again (then opens the dialog, for
//! an action that has one).

use leptos::prelude::*;
use shared::api::{ActionRun, ActionSummary, ConfigHealth, RunRequest, RunStatus};
use shared::roles::Permission;
use shared::run_words;
use shared::FieldError;

use crate::api;
use crate::browser::idempotency_key;
use crate::components::{offers_redelivery, Clock, ConfirmStep, ErrorNotice, Redeliver};
use crate::format::{
    excerpt_label, health_warning, run_revision, run_summary, unrecorded_message, PROPAGATING_HINT,
    RUN_AGAIN_QUESTION, UNAVAILABLE_REASON,
};
use crate::session::Session;

use super::request_headers::RequestHeaders;
use super::run_dialog::RunDialog;
use super::sent_inputs::SentInputs;

/// The button, labelled exactly with the action's name, and its result.
#[component]
pub fn RunButton(
    /// The incident to send.
    incident_id: String,
    /// The incident's service, for the run dialog's preview.
    service_id: String,
    /// The action to run.
    action: ActionSummary,
    /// Called after every finished attempt, so the timeline can reload.
    on_finished: Callback<()>,
) -> impl IntoView {
    // Whether the last run reached the endpoint without its outcome being recorded. Only
    // a recorded run clears it: an error answer means this attempt sent nothing, which
    // says nothing about the last one.
    let unrecorded = RwSignal::new(false);
    // Whether the "run it again anyway?" question is open.
    let asking = RwSignal::new(false);
    // Whether the run dialog is open, and the worker's per-field answer shown in it.
    let asks_first = !action.inputs.is_empty() || action.confirm.is_some();
    let dialog_open = RwSignal::new(false);
    let field_errors = RwSignal::new(Vec::<FieldError>::new());
    let button = NodeRef::<leptos::html::Button>::new();
    let action_id = action.id.clone();
    let dialog_ids = (service_id, incident_id.clone());
    let run = Action::new_local(move |request: &RunRequest| {
        let (incident_id, action_id) = (incident_id.clone(), action_id.clone());
        let request = request.clone();
        let key = idempotency_key();
        async move {
            let answer = api::run_action(&incident_id, &action_id, &key, &request).await;
            match &answer {
                Ok(answer) => {
                    unrecorded.try_set(!answer.outcome_recorded);
                    field_errors.try_set(Vec::new());
                    // The dialog's controls go away: keep a keyboard user on the action.
                    if dialog_open.try_get_untracked() == Some(true) {
                        dialog_open.try_set(false);
                        if let Some(button) = button.try_get_untracked().flatten() {
                            let _ = button.focus();
                        }
                    }
                }
                // `invalid_inputs` names its fields (`inputs.<key>`); the dialog shows them.
                Err(error) => {
                    field_errors.try_set(error.fields.clone());
                }
            }
            on_finished.try_run(());
            answer
        }
    });
    let pending = run.pending();
    // What a click (or "Run again") leads to: the dialog, or the run itself.
    let start = move || {
        if asks_first {
            field_errors.set(Vec::new());
            dialog_open.set(true);
        } else {
            run.dispatch(RunRequest::default());
        }
    };
    let session = Session::expect();
    let denied = move || session.denial(Permission::RunActions, "Running actions");
    let unavailable = action.config_health == ConfigHealth::Unreadable;
    let denied_id = format!("action-{}-denied", action.id);
    let health_id = format!("action-{}-health", action.id);
    let failing_id = format!("action-{}-failing", action.id);
    let dialog_id = format!("action-{}-run", action.id);
    let described_by = {
        let (description_id, denied_id) = (description_id_for(&action), denied_id.clone());
        let health_id = health_id.clone();
        let has_description = action.description.is_some();
        let has_health_note = action.config_health != ConfigHealth::Ok;
        let failing_id = failing_id.clone();
        let is_failing = action.health.is_failing();
        move || {
            let mut ids = Vec::new();
            if has_health_note {
                ids.push(health_id.clone());
            }
            if is_failing {
                ids.push(failing_id.clone());
            }
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
    let health_note = match action.config_health {
        ConfigHealth::Ok => None,
        ConfigHealth::Unreadable => Some(view! {
            <p class="hint unavailable" id=health_id>{UNAVAILABLE_REASON}</p>
        }),
        ConfigHealth::Propagating => Some(view! {
            <p class="hint" id=health_id>{PROPAGATING_HINT}</p>
        }),
    };
    // Its endpoint has been failing: said quietly; the button stays usable.
    let failing = {
        let health = action.health.clone();
        let clock = Clock::expect();
        move || {
            health_warning(&health, clock.now())
                .map(|text| view! { <p class="hint failing" id=failing_id.clone()>{text}</p> })
        }
    };
    let close_dialog = Callback::new(move |()| {
        dialog_open.set(false);
        if let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
    });
    let dialog = {
        let (action, dialog_id) = (action.clone(), dialog_id.clone());
        let (service_id, incident_id) = dialog_ids;
        move || {
            dialog_open.get().then(|| {
                view! {
                    <RunDialog
                        id=dialog_id.clone()
                        service_id=service_id.clone()
                        incident_id=incident_id.clone()
                        action=action.clone()
                        busy=pending
                        server_errors=field_errors
                        on_run=Callback::new(move |request| {
                            if !pending.get_untracked() {
                                run.dispatch(request);
                            }
                        })
                        on_cancel=close_dialog
                    />
                }
            })
        }
    };

    view! {
        <div class="run">
            <button
                type="button"
                class="button action-button"
                node_ref=button
                disabled=move || pending.get() || denied().is_some() || unavailable
                aria-busy=move || pending.get().to_string()
                aria-describedby=described_by
                aria-expanded=move || asks_first.then(|| dialog_open.get().to_string())
                aria-controls=asks_first.then_some(dialog_id)
                on:click=move |_| {
                    // The disabled attribute lands a tick later; this guard covers a fast
                    // double click in between.
                    if pending.get_untracked() || untrack(denied).is_some() || unavailable {
                        return;
                    }
                    if dialog_open.get_untracked() {
                        dialog_open.set(false);
                    } else if unrecorded.get_untracked() {
                        asking.set(true);
                    } else {
                        start();
                    }
                }
            >
                {action.name.clone()}
            </button>
            {move || denied().map(|reason| view! { <p class="hint denied" id=denied_id.clone()>{reason}</p> })}
            {health_note}
            {failing}
            {action.description.map(|text| view! { <p class="hint" id=description_id>{text}</p> })}
            {move || asking.get().then(|| view! {
                <ConfirmStep
                    label="Run again"
                    question=RUN_AGAIN_QUESTION.to_owned()
                    consequence="The endpoint may already have acted on the last run; this sends the incident to it once more."
                    danger=true
                    busy=pending
                    on_confirm=Callback::new(move |()| {
                        // The question's buttons go away: keep a keyboard user on the
                        // action, as after a plain click, not at the top of the page.
                        if let Some(button) = button.get_untracked() {
                            let _ = button.focus();
                        }
                        asking.set(false);
                        if !pending.get_untracked() {
                            start();
                        }
                    })
                    on_cancel=Callback::new(move |()| asking.set(false))
                />
            })}
            {dialog}
            <div class="run-result" id=result_id aria-live="polite">
                {move || {
                    if pending.get() {
                        return view! {
                            <p class="running">
                                <span class="spinner" aria-hidden="true"></span>
                                {format!("Running… waiting for the endpoint (up to {}).", run_words::deadline())}
                            </p>
                        }
                        .into_any();
                    }
                    match run.value().get() {
                        None => ().into_any(),
                        Some(Ok(answer)) => view! {
                            <RunResult run=answer.run.into_inner() recorded=answer.outcome_recorded on_finished />
                        }
                        .into_any(),
                        // `action_unreadable`, `config_propagating`, `action_disabled`,
                        // `invalid_inputs`, `confirmation_required`, `action_not_available`:
                        // the worker's message says what happened and that nothing was sent.
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

/// A finished run: status, outcome, HTTP code, duration, and the answer as plain text. An
/// unrecorded one leads with the warning, and its line is what the worker saw.
#[component]
fn RunResult(
    /// The run.
    run: ActionRun,
    /// Whether the worker recorded its outcome.
    recorded: bool,
    /// Called after a redelivery of it.
    on_finished: Callback<()>,
) -> impl IntoView {
    let class = match (recorded, run.status) {
        (false, _) => "result outcome-unrecorded",
        (true, RunStatus::Succeeded) => "result ok",
        (true, RunStatus::Failed) => "result failed",
        (true, RunStatus::Running) => "result",
    };
    let warning = (!recorded).then(|| unrecorded_message(&run));
    let summary = if recorded {
        run_summary(&run)
    } else {
        format!("What the worker saw: {}", run_summary(&run))
    };
    let label = excerpt_label(&run);
    let revision = run_revision(&run);
    let redeliver = (recorded && offers_redelivery(&run)).then(|| {
        view! { <Redeliver run_id=run.id.clone() action_name=run.action_name.clone() on_done=on_finished /> }
    });
    view! {
        <div class=class role=(!recorded).then_some("alert")>
            {warning.map(|text| view! { <p class="unrecorded-warning"><strong>{text}</strong></p> })}
            <p class="result-line">
                {if recorded {
                    view! { <strong>{summary}</strong> }.into_any()
                } else {
                    view! { <span>{summary}</span> }.into_any()
                }}
            </p>
            {revision.map(|text| view! { <p class="meta">{text}</p> })}
            <SentInputs inputs=run.inputs />
            {run.response_excerpt.filter(|text| !text.is_empty()).map(|text| view! {
                <p class="excerpt-label">{label}</p>
                // Text, never markup: whatever the endpoint answered is shown as typed.
                <pre class="code excerpt">{text}</pre>
            })}
            <RequestHeaders headers=run.request_headers />
            {redeliver}
        </div>
    }
}
