//! Redeliver: a failed run's kept body sent again, as the run's next attempt, with the
//! same `webhook-id` (so an endpoint that deduplicates treats it as the same message) to
//! the action's current URL and headers. Offered on a failed run's result, in the
//! timeline and in an action's history, to those who may run actions.
//!
//! It asks once before sending (the question says what will happen), which is also the
//! confirmation an action that asks first requires. The new attempt's result shows in
//! place, and the button stays while the run keeps failing.

use leptos::prelude::*;
use shared::api::{ActionRun, RunRequest, RunStatus};
use shared::roles::Permission;

use crate::api;
use crate::browser::idempotency_key;
use crate::components::{ConfirmStep, ErrorNotice};
use crate::format::run_summary;
use crate::session::Session;

/// Whether `run` can be redelivered from here: finished, failed, its body still kept.
pub fn offers_redelivery(run: &ActionRun) -> bool {
    run.status == RunStatus::Failed && run.redeliverable
}

/// The Redeliver button of one run, its question, and the new attempt's result.
#[component]
pub fn Redeliver(
    /// The run.
    run_id: String,
    /// Its action's name, for the question.
    action_name: String,
    /// Called after each attempt, so the page can reload what it shows.
    on_done: Callback<()>,
) -> impl IntoView {
    let session = Session::expect();
    let asking = RwSignal::new(false);
    // Typed as a run's action (its input unused: the run is named by `run_id`), so the
    // bundle carries one action type for both.
    let send = Action::new_local({
        move |_: &RunRequest| {
            let run_id = run_id.clone();
            let key = idempotency_key();
            async move {
                let answer = api::redeliver(&run_id, &key).await;
                on_done.try_run(());
                answer
            }
        }
    });
    let pending = send.pending();
    // The latest attempt, once this button has sent one: still failing keeps the button.
    let failing_again = move || {
        send.value()
            .with(|value| !matches!(value, Some(Ok(answer)) if !offers_redelivery(&answer.run)))
    };
    let question = format!("Redeliver “{action_name}”?");
    session.may(Permission::RunActions).then(|| {
        view! {
            <div class="redeliver">
                {move || (failing_again() && !asking.get()).then(|| view! {
                    <button
                        type="button"
                        class="button small secondary"
                        disabled=pending
                        on:click=move |_| asking.set(true)
                    >
                        "Redeliver"
                    </button>
                })}
                {move || asking.get().then(|| {
                    view! {
                        <ConfirmStep
                            label="Redeliver"
                            question=question.clone()
                            consequence="The same body is sent again with the same webhook-id, to the action's current URL and headers."
                            busy=pending
                            on_confirm=Callback::new(move |()| {
                                asking.set(false);
                                if !pending.get_untracked() {
                                    send.dispatch(RunRequest::default());
                                }
                            })
                            on_cancel=Callback::new(move |()| asking.set(false))
                        />
                    }
                })}
                <div aria-live="polite">
                    {move || {
                        if pending.get() {
                            return view! { <p class="running">"Redelivering… waiting for the endpoint."</p> }
                                .into_any();
                        }
                        match send.value().get() {
                            None => ().into_any(),
                            Some(Ok(answer)) => {
                                let class = match answer.run.status {
                                    RunStatus::Succeeded => "result-line ok",
                                    RunStatus::Failed | RunStatus::Running => "result-line failed",
                                };
                                view! {
                                    <p class=class>
                                        <strong>
                                            "Attempt " {answer.run.attempt} ": "
                                            {run_summary(&answer.run)}
                                        </strong>
                                    </p>
                                }
                                .into_any()
                            }
                            Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                        }
                    }}
                </div>
            </div>
        }
    })
}
