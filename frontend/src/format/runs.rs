//! A run in words: its result line, its history line, an action's figures and health.

use serde_json::{Map, Value};
use shared::api::{ActionRun, EndpointHealth, RunOutcome, RunStats, RunStatus};
use shared::run_words::outcome_label;

use super::json::json_text;
use super::time::{display_duration, display_time, relative_time};

/// The quiet warning on an action whose last runs all failed, e.g. `Last 3 runs failed;
/// last: HTTP 503, 4 minutes ago`; `None` while it is not failing. The action stays
/// usable: people are told instead.
pub fn health_warning(health: &EndpointHealth, now_ms: f64) -> Option<String> {
    if !health.is_failing() {
        return None;
    }
    let last = match (health.last_http_status, health.last_outcome) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(outcome)) => outcome_label(outcome, health.last_duration_ms),
        (None, None) => "failed".to_owned(),
    };
    let when = health
        .last_run_at
        .as_deref()
        .map(|at| relative_time(at, now_ms).unwrap_or_else(|| display_time(at)))
        .map(|when| format!(", {when}"))
        .unwrap_or_default();
    Some(format!(
        "Last {} runs failed; last: {last}{when}",
        health.recent_failures
    ))
}

/// An action's figures: `Last 50 runs: 49 succeeded (98%) · median 120 ms`.
pub fn run_stats_line(stats: &RunStats) -> String {
    if stats.finished == 0 {
        return "No finished runs yet.".to_owned();
    }
    let percent = u64::from(stats.succeeded) * 100 / u64::from(stats.finished);
    let median = stats
        .p50_duration_ms
        .map(|ms| format!(" · median {}", display_duration(ms)))
        .unwrap_or_default();
    let runs = if stats.finished == 1 { "run" } else { "runs" };
    format!(
        "Last {} {runs}: {} succeeded ({percent}%){median}",
        stats.finished, stats.succeeded
    )
}

/// How long a run waited, when its line shows it apart: a timeout's wait is its deadline,
/// which the outcome already names.
fn waited_beside_outcome(run: &ActionRun) -> Option<u64> {
    run.duration_ms
        .filter(|_| run.outcome != Some(shared::api::RunOutcome::Timeout))
}

/// One run in an action's history: `Failed · HTTP 503 · 12 ms · by Ada`, with the
/// endpoint's own summary in place of the code when it gave one, and the attempt when the
/// run was redelivered.
pub fn history_line(run: &ActionRun) -> String {
    let mut parts = vec![run_status_label(run.status).to_owned()];
    match (&run.summary, run.http_status, run.outcome) {
        (Some(summary), _, _) => parts.push(summary.clone()),
        (None, Some(code), _) => parts.push(format!("HTTP {code}")),
        (None, None, Some(outcome)) => parts.push(outcome_label(outcome, run.duration_ms)),
        (None, None, None) => {}
    }
    if let Some(ms) = waited_beside_outcome(run) {
        parts.push(display_duration(ms));
    }
    if run.attempt > 1 {
        parts.push(format!("attempt {}", run.attempt));
    }
    let who = run
        .requested_by_name
        .as_deref()
        .unwrap_or(&run.requested_by);
    parts.push(format!("by {who}"));
    parts.join(" · ")
}

/// The run status as a word.
pub fn run_status_label(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "Running",
        RunStatus::Succeeded => "Succeeded",
        RunStatus::Failed => "Failed",
    }
}

/// Which configuration a run sent, said quietly under its result: `revision 3`.
pub fn run_revision(run: &ActionRun) -> Option<String> {
    run.action_revision
        .map(|revision| format!("Action revision {revision}"))
}

/// What the run result says when the endpoint was called but the worker could not record
/// its answer (a 202 with `outcome_recorded: false`): what the worker saw, and why not to
/// press again.
pub fn unrecorded_message(run: &ActionRun) -> String {
    let seen = match (run.http_status, run.outcome) {
        (Some(code), _) => format!("it answered HTTP {code}"),
        (None, Some(outcome)) => outcome_label(outcome, run.duration_ms),
        (None, None) => "no answer seen yet".to_owned(),
    };
    format!(
        "The endpoint was called ({seen}), but the result could not be recorded yet. Do not run \
         it again: the endpoint may already have acted. The run ({}) will appear on the \
         timeline, or as 'outcome unknown' within two minutes.",
        run.id
    )
}

/// The question a run button asks before running again after an unrecorded outcome.
pub const RUN_AGAIN_QUESTION: &str = "The last run's outcome is not recorded. Run it again anyway?";

/// The heading over a run's excerpt: the endpoint's answer, or for a blocked run the rule
/// that stopped it (nothing was sent, so there is no answer).
pub fn excerpt_label(run: &ActionRun) -> &'static str {
    if matches!(
        run.outcome,
        Some(RunOutcome::Blocked | RunOutcome::TemplateError)
    ) {
        "Why it was not sent"
    } else {
        "Response from the endpoint"
    }
}

/// One line for a finished run: `Succeeded · endpoint answered 2xx · HTTP 200 · 85 ms`,
/// or with the endpoint's own one-line reply in place of the outcome and code:
/// `Succeeded · Diagnostics attached · 85 ms`. What of a reply was ignored follows.
pub fn run_summary(run: &ActionRun) -> String {
    let mut parts = vec![run_status_label(run.status).to_owned()];
    match &run.summary {
        Some(summary) => parts.push(summary.clone()),
        None => {
            if let Some(outcome) = run.outcome {
                parts.push(outcome_label(outcome, run.duration_ms));
            }
            if let Some(code) = run.http_status {
                parts.push(format!("HTTP {code}"));
            }
        }
    }
    if let Some(ms) = waited_beside_outcome(run) {
        parts.push(display_duration(ms));
    }
    if let Some(ignored) = &run.reply_error {
        parts.push(format!("reply partly ignored ({ignored})"));
    }
    parts.join(" · ")
}

/// One input value of a run as text: a string as typed, anything else as JSON.
pub fn input_value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => json_text(other),
    }
}

/// A run's input values as `(key, text)` pairs, for the result and the timeline; empty
/// when it sent none.
pub fn run_input_pairs(inputs: Option<&Map<String, Value>>) -> Vec<(String, String)> {
    inputs
        .into_iter()
        .flatten()
        .map(|(key, value)| (key.clone(), input_value_text(value)))
        .collect()
}
