//! An action card's recent runs: its figures over the last 50 finished runs (success rate,
//! median duration), then its last 10 results, each with its incident, and Redeliver on a
//! failed one. Read with the action list, for those who may run actions.

use leptos::prelude::*;
use shared::api::{RunHistory, RunStatus};

use crate::api::{encode_component, ApiError};
use crate::components::{offers_redelivery, ErrorNotice, Redeliver, Time};
use crate::format::{history_line, run_stats_line};

/// The action's recent runs, or why they could not be read.
#[component]
pub fn RecentRuns(
    /// The newest page of the action's history.
    history: Result<RunHistory, ApiError>,
    /// Called after a redelivery from the list, so the page can reload it.
    on_redelivered: Callback<()>,
) -> impl IntoView {
    let history = match history {
        Ok(history) => history,
        Err(error) => return view! { <ErrorNotice error /> }.into_any(),
    };
    let runs = if history.runs.is_empty() {
        view! { <p class="empty">"Not run yet."</p> }.into_any()
    } else {
        view! {
            <ol class="plain run-history">
                {history.runs.into_iter().map(|run| {
                    let class = match run.status {
                        RunStatus::Succeeded => "history-run ok",
                        RunStatus::Failed => "history-run failed",
                        RunStatus::Running => "history-run",
                    };
                    let href = format!("/incidents/{}", encode_component(&run.incident_id));
                    let when = run.finished_at.clone().unwrap_or_else(|| run.started_at.clone());
                    let redeliver = offers_redelivery(&run).then(|| view! {
                        <Redeliver run_id=run.id.clone() action_name=run.action_name.clone() on_done=on_redelivered />
                    });
                    view! {
                        <li class=class>
                            <span>{history_line(&run)}</span>
                            " · " <Time at=when />
                            " · " <a href=href>"Incident"</a>
                            {redeliver}
                        </li>
                    }
                }).collect_view()}
            </ol>
        }
        .into_any()
    };
    view! {
        <section class="recent-runs">
            <h4>"Recent runs"</h4>
            <p class="meta">{run_stats_line(&history.stats)}</p>
            {runs}
        </section>
    }
    .into_any()
}
