//! The incident's timeline, oldest first: trigger, merged alerts, acknowledge, resolve and
//! every action run (with the input values it sent), each redelivery of a run as its own
//! entry, and Redeliver on a run whose latest attempt failed. It shows one page (the
//! newest 50 entries unless the incident page asked for an older one).

use leptos::prelude::*;
use shared::api::{LogEntry, RunStatus};

use crate::components::{offers_redelivery, Redeliver, Time};
use crate::format::{excerpt_label, log_type_label, log_type_slug, run_revision, run_summary};

use super::request_headers::RequestHeaders;
use super::sent_inputs::SentInputs;

/// A page of log entries as an ordered list, oldest first.
#[component]
pub fn Timeline(
    /// One page, as the API answers it (newest first).
    entries: Vec<LogEntry>,
    /// Called after a redelivery from the timeline, so it can reload.
    on_redelivered: Callback<()>,
) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="empty">"Nothing recorded yet."</p> }.into_any();
    }
    view! {
        <ol class="timeline">
            {entries.into_iter().rev().map(|entry| {
                let kind = format!("entry entry-{}", log_type_slug(entry.entry_type));
                view! {
                    <li class=kind>
                        <div class="entry-head">
                            <span class="entry-type">{log_type_label(entry.entry_type)}</span>
                            <Time at=entry.created_at />
                        </div>
                        <p class="entry-summary">{entry.summary}</p>
                        <p class="meta">"By " {entry.agent}</p>
                        // Each attempt of a run has its own entry, its line saying how it
                        // went; the run's details (and Redeliver) go with the latest.
                        {entry.run.filter(|run| {
                            entry.attempt.is_none_or(|n| n == run.attempt)
                        }).map(|run| {
                            let redeliver = offers_redelivery(&run).then(|| view! {
                                <Redeliver run_id=run.id.clone() action_name=run.action_name.clone() on_done=on_redelivered />
                            });
                            // A run whose outcome is not recorded yet is still `running`: neither
                            // green nor red.
                            let class = match run.status {
                                RunStatus::Succeeded => "result ok",
                                RunStatus::Failed => "result failed",
                                RunStatus::Running => "result",
                            };
                            let summary = run_summary(&run);
                            let label = excerpt_label(&run);
                            let revision = run_revision(&run);
                            view! {
                                <div class=class>
                                    <p class="result-line">{summary}</p>
                                    {revision.map(|text| view! { <p class="meta">{text}</p> })}
                                    <SentInputs inputs=run.inputs />
                                    {run.response_excerpt.filter(|text| !text.is_empty()).map(|text| view! {
                                        <details>
                                            <summary>{label}</summary>
                                            // Text, never markup.
                                            <pre class="code excerpt">{text}</pre>
                                        </details>
                                    })}
                                    <RequestHeaders headers=run.request_headers />
                                    {redeliver}
                                </div>
                            }
                        })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}
