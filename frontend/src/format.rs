//! How values read on screen: times, durations, run outcomes, action health and edit
//! conflicts, what an action asks before it runs, the curl example.
//!
//! Plain functions, so the words people see are covered by native tests.

use serde_json::{Map, Value};
use shared::api::{ActionRun, EndpointHealth, LogEntryType, RunOutcome, RunStats, RunStatus};
use shared::audit::AuditEvent;
use shared::incident::IncidentStatus;
use shared::inputs::InputDefinition;
use shared::limits::MAX_ACTIONS_PER_SERVICE;
use shared::run_rules::{AvailableWhen, Confirm};
use shared::run_words::outcome_label;

/// A time as the viewer reads it: in the browser, in their own time zone and locale
/// (`Intl.DateTimeFormat`, e.g. `2 Dec 2026, 07:12:01`); where no browser is at hand
/// (native tests), [`utc_time`].
pub fn display_time(rfc3339: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    if let Some(local) = local_time(rfc3339) {
        return local;
    }
    utc_time(rfc3339)
}

/// The viewer's locale and zone, through the browser's `Intl.DateTimeFormat` (made once);
/// `None` for text that is not a time.
#[cfg(target_arch = "wasm32")]
fn local_time(rfc3339: &str) -> Option<String> {
    use wasm_bindgen::JsValue;
    thread_local! {
        static FORMAT: js_sys::Intl::DateTimeFormat = {
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
            let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"medium".into());
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options)
        };
    }
    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return None;
    }
    FORMAT.with(|format| format.format().call1(format, &date).ok()?.as_string())
}

/// A recent time relative to `now_ms`, in the viewer's language ("4 minutes ago", "now")
/// through the browser's `Intl.RelativeTimeFormat`; `None` for a time a day or more away,
/// which reads better as a date ([`display_time`]), or text that is not a time.
pub fn relative_time(rfc3339: &str, now_ms: f64) -> Option<String> {
    let at = shared::time::parse_rfc3339(rfc3339)?;
    #[allow(clippy::cast_possible_truncation)]
    let (value, unit) = relative_unit(at - now_ms as i64)?;
    #[cfg(target_arch = "wasm32")]
    {
        thread_local! {
            static FORMAT: js_sys::Intl::RelativeTimeFormat = {
                let options = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&options, &"numeric".into(), &"auto".into());
                js_sys::Intl::RelativeTimeFormat::new(&js_sys::Array::new(), &options)
            };
        }
        #[allow(clippy::cast_precision_loss)]
        FORMAT.with(|format| format.format(value as f64, unit).as_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    Some(match value {
        0 => "now".to_owned(),
        past if past < 0 => format!("{} {unit}s ago", -past),
        future => format!("in {future} {unit}s"),
    })
}

/// How far `delta_ms` (the time minus now) reads best: whole seconds under a minute,
/// minutes under an hour, hours under a day; `None` from a day on. Negative is past.
pub fn relative_unit(delta_ms: i64) -> Option<(i64, &'static str)> {
    let seconds = delta_ms as f64 / 1000.0;
    #[allow(clippy::cast_possible_truncation)]
    let round = |value: f64| value.round() as i64;
    match seconds.abs() {
        s if s < 60.0 => Some((round(seconds), "second")),
        s if s < 3_600.0 => Some((round(seconds / 60.0), "minute")),
        s if s < 86_400.0 => Some((round(seconds / 3_600.0), "hour")),
        _ => None,
    }
}

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

/// `2026-11-22T17:36:01.123Z` as `2026-11-22 17:36:01 UTC`; anything else unchanged.
pub fn utc_time(rfc3339: &str) -> String {
    let utc = rfc3339.ends_with('Z') || rfc3339.ends_with('z');
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(date), Some(time)) if utc && rfc3339.as_bytes()[10] == b'T' => {
            format!("{date} {time} UTC")
        }
        _ => rfc3339.to_owned(),
    }
}

/// `850 ms`, `1.2 s`, `16 s`.
pub fn display_duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 10_000 {
        format!("{}.{} s", ms / 1000, ms % 1000 / 100)
    } else {
        format!("{} s", ms / 1000)
    }
}

/// The incident status as a word.
pub fn status_label(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Triggered => "Triggered",
        IncidentStatus::Acknowledged => "Acknowledged",
        IncidentStatus::Resolved => "Resolved",
    }
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

/// Why an action's button is off when its configuration cannot be opened.
pub const UNAVAILABLE_REASON: &str = "Unavailable: its configuration cannot be opened. A manager must re-enter its secrets or delete it.";

/// The hint under a button whose newest configuration is still spreading.
pub const PROPAGATING_HINT: &str = "Just changed; may take a moment to be ready";

/// The card's note while a saved configuration spreads to every location.
pub const PROPAGATING_NOTE: &str = "Saved; reaching every Cloudflare location (up to a minute).";

/// "This action's configuration cannot be opened", with the worker's reason when it gave
/// one.
fn cannot_be_opened(problem: Option<&str>) -> String {
    match problem.map(|text| text.trim().trim_end_matches('.')) {
        Some(reason) if !reason.is_empty() => {
            format!("This action's configuration cannot be opened: {reason}.")
        }
        _ => "This action's configuration cannot be opened.".to_owned(),
    }
}

/// The card's warning for an action whose configuration cannot be opened.
pub fn unreadable_warning(problem: Option<&str>) -> String {
    format!(
        "{} Re-enter its secrets (Edit) and rotate its signing secret, or delete it.",
        cannot_be_opened(problem)
    )
}

/// The edit form's note for such an action, whose fields may open blank.
pub fn unreadable_form_note(problem: Option<&str>) -> String {
    format!(
        "{} Fill in whatever is missing below, type every secret header value again and \
         save; then rotate its signing secret.",
        cannot_be_opened(problem)
    )
}

/// `Revision 3`, on an action's card.
pub fn revision_label(revision: u64) -> String {
    format!("Revision {revision}")
}

/// What the edit form says when its save met someone else's change (409 `edit_conflict`)
/// and it has loaded their version.
pub fn edit_conflict_message(revision: u64) -> String {
    format!(
        "Someone else changed this action while you were editing (it is now revision \
         {revision}). Their version is loaded below; make your change again and save."
    )
}

/// What an action's card says when a change from it (enable, disable, rotate) met someone
/// else's change: nothing was done, and the card now shows their version.
pub fn card_conflict_message(revision: u64) -> String {
    format!(
        "Someone else changed this action meanwhile (it is now revision {revision}), so \
         nothing was done. Its current version is shown here; check it and try again."
    )
}

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

/// The timeline's word for an entry type.
pub fn log_type_label(entry_type: LogEntryType) -> &'static str {
    match entry_type {
        LogEntryType::Trigger => "Triggered",
        LogEntryType::Alert => "Alert merged",
        LogEntryType::Acknowledge => "Acknowledged",
        LogEntryType::Resolve => "Resolved",
        LogEntryType::ActionRun => "Action run",
        LogEntryType::Note => "Note",
        LogEntryType::TitleChange => "Title changed",
        LogEntryType::UrgencyChange => "Urgency changed",
    }
}

/// The entry type's wire spelling, for styling.
pub fn log_type_slug(entry_type: LogEntryType) -> &'static str {
    entry_type.as_str()
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// An action card's line about its inputs: `Asks for: Region (select), Version (string)`;
/// `None` when it asks for nothing.
pub fn asks_for(inputs: &[InputDefinition]) -> Option<String> {
    (!inputs.is_empty()).then(|| {
        let items: Vec<String> = inputs
            .iter()
            .map(|input| format!("{} ({})", input.label.trim(), input.input_type.as_str()))
            .collect();
        format!("Asks for: {}", items.join(", "))
    })
}

/// An action card's line about its confirmation.
pub fn confirm_summary(confirm: &Confirm) -> &'static str {
    if confirm.type_to_confirm {
        "Asks to confirm by typing its name"
    } else {
        "Asks to confirm"
    }
}

/// An action card's line about when it applies: `Only while triggered or acknowledged`,
/// `Only for high urgency incidents`, or both; `None` when it always applies.
pub fn availability_summary(rule: &AvailableWhen) -> Option<String> {
    let statuses = rule.statuses.as_ref().map(|statuses| {
        let names: Vec<&str> = statuses.iter().map(|status| status.as_str()).collect();
        format!("while {}", or_list(&names))
    });
    let urgencies = rule.urgencies.as_ref().map(|urgencies| {
        let names: Vec<&str> = urgencies.iter().map(|urgency| urgency.as_str()).collect();
        format!("for {} urgency incidents", or_list(&names))
    });
    match (statuses, urgencies) {
        (None, None) => None,
        (Some(one), None) | (None, Some(one)) => Some(format!("Only {one}")),
        (Some(statuses), Some(urgencies)) => Some(format!("Only {statuses}, {urgencies}")),
    }
}

/// One input value of a run as text: a string as typed, anything else as JSON.
pub fn input_value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => json_text(other),
    }
}

/// Compact JSON text. Every JSON the app writes goes through this one serializer (the one
/// request bodies use): `Value`'s `Display` and `to_string_pretty` would each bring a
/// second and third copy of it into the bundle.
fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `value` as `serde_json::to_string_pretty` writes it (two spaces a level), built on
/// [`json_text`] for the leaves.
fn write_pretty(out: &mut String, value: &Value, depth: usize) {
    let (open, close, entries): (char, char, Vec<(Option<&String>, &Value)>) = match value {
        Value::Array(items) if !items.is_empty() => {
            ('[', ']', items.iter().map(|item| (None, item)).collect())
        }
        Value::Object(map) if !map.is_empty() => (
            '{',
            '}',
            map.iter().map(|(key, item)| (Some(key), item)).collect(),
        ),
        leaf => {
            out.push_str(&json_text(leaf));
            return;
        }
    };
    out.push(open);
    for (index, (key, item)) in entries.into_iter().enumerate() {
        out.push_str(if index == 0 { "\n" } else { ",\n" });
        out.push_str(&"  ".repeat(depth + 1));
        if let Some(key) = key {
            out.push_str(&json_text(key.as_str()));
            out.push_str(": ");
        }
        write_pretty(out, item, depth + 1);
    }
    out.push('\n');
    out.push_str(&"  ".repeat(depth));
    out.push(close);
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

/// Custom details as indented JSON text; `None` when there are none.
pub fn pretty_details(details: &Value) -> Option<String> {
    match details {
        Value::Null => None,
        Value::Object(map) if map.is_empty() => None,
        other => {
            let mut text = String::new();
            write_pretty(&mut text, other, 0);
            Some(text)
        }
    }
}

/// A request body for reading: indented when it is JSON, as sent otherwise. The JSON is
/// re-laid out token by token, never parsed into numbers and printed again, so every
/// value reads exactly as it is sent (`1.0` stays `1.0`, a long integer keeps its digits).
pub fn readable_body(body: &str) -> String {
    // The parser to `Value` is in the bundle already; a validating-only one is not.
    if serde_json::from_str::<Value>(body).is_err() {
        return body.to_owned();
    }
    let mut out = String::with_capacity(body.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = body.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                (false, _) => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.next_if(|next| next.is_ascii_whitespace()).is_some() {}
                if chars.next_if(|next| matches!(next, '}' | ']')).is_some() {
                    out.push(if c == '{' { '}' } else { ']' });
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// `1 of 3 used`.
pub fn actions_used(count: usize) -> String {
    format!("{count} of {MAX_ACTIONS_PER_SERVICE} used")
}

/// Quotes text for a POSIX shell: inside single quotes nothing is special but `'` itself.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A ready-to-paste command that opens an incident on the service through the Events API.
pub fn enqueue_curl(origin: &str, routing_key: &str) -> String {
    // Written out rather than built as a `Value`: only the key varies.
    let body = format!(
        r#"{{"routing_key":{},"event_action":"trigger","payload":{{"summary":"Disk almost full on web-1","source":"web-1","severity":"critical"}}}}"#,
        json_text(routing_key)
    );
    format!(
        "curl -X POST {} \\\n  -H 'Content-Type: application/json' \\\n  -d {}",
        shell_quote(&format!(
            "{}{}",
            origin.trim_end_matches('/'),
            shared::routes::Route::Enqueue.path()
        )),
        shell_quote(&body)
    )
}

/// Hex of random bytes, for an `Idempotency-Key`.
pub fn hex_key(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where to go after signing in: the page the user was sent away from, if it is a path on
/// this site (`/x`, not `//evil.example` or `https://...`), else the incident list.
pub fn safe_next_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.starts_with("/sign-in") =>
        {
            path.to_owned()
        }
        _ => "/incidents".to_owned(),
    }
}

/// An audit event such as `action.secret_rotated` in words ("Action secret rotated",
/// `shared::audit`); one this app does not know (a newer worker's) is shown as sent.
pub fn audit_event_label(event: &str) -> String {
    AuditEvent::parse(event).map_or_else(|| event.to_owned(), AuditEvent::label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_events_read_as_words() {
        assert_eq!(
            audit_event_label("action.secret_rotated"),
            "Action secret rotated"
        );
        assert_eq!(audit_event_label("service.created"), "Service created");
        assert_eq!(audit_event_label(""), "");
        assert_eq!(
            audit_event_label("widget.made"),
            "widget.made",
            "an event this app does not know (a newer worker's) is shown as sent"
        );
    }

    fn run(status: RunStatus, outcome: Option<RunOutcome>, code: Option<u16>) -> ActionRun {
        ActionRun {
            id: "run_1".into(),
            incident_id: "inc_1".into(),
            action_id: "act_1".into(),
            action_name: "Restart".into(),
            status,
            outcome,
            http_status: code,
            duration_ms: Some(85),
            response_excerpt: None,
            request_headers: None,
            requested_by: "admin".into(),
            requested_by_name: None,
            inputs: None,
            action_revision: None,
            started_at: "t".into(),
            finished_at: None,
            summary: None,
            reply_error: None,
            attempts: Vec::new(),
            attempt: 1,
            redeliverable: false,
        }
    }

    #[test]
    fn recent_times_are_relative_in_seconds_minutes_or_hours_and_older_ones_are_not() {
        assert_eq!(relative_unit(-59_400), Some((-59, "second")));
        assert_eq!(relative_unit(-60_000), Some((-1, "minute")));
        assert_eq!(relative_unit(-240_000), Some((-4, "minute")));
        assert_eq!(relative_unit(-3_600_000), Some((-1, "hour")));
        assert_eq!(relative_unit(-86_399_000), Some((-24, "hour")));
        assert_eq!(relative_unit(-86_400_000), None);
        assert_eq!(relative_unit(120_000), Some((2, "minute")));
        let now = 1_796_000_000_000_f64;
        let four_min_ago = shared::time::format_rfc3339(1_796_000_000_000 - 240_000);
        assert_eq!(
            relative_time(&four_min_ago, now).as_deref(),
            Some("4 minutes ago")
        );
        assert_eq!(relative_time("not a time", now), None);
    }

    #[test]
    fn the_health_warning_shows_from_three_failures_in_a_row() {
        let now = 1_796_000_000_000_f64;
        let mut health = EndpointHealth {
            recent_failures: 2,
            last_outcome: Some(RunOutcome::HttpError),
            last_http_status: Some(503),
            last_duration_ms: Some(85),
            last_run_at: Some(shared::time::format_rfc3339(1_796_000_000_000 - 240_000)),
        };
        assert_eq!(health_warning(&health, now), None);
        health.recent_failures = 3;
        assert_eq!(
            health_warning(&health, now).as_deref(),
            Some("Last 3 runs failed; last: HTTP 503, 4 minutes ago")
        );
        health.last_http_status = None;
        health.last_outcome = Some(RunOutcome::Timeout);
        health.last_duration_ms = Some(16_003);
        assert!(health_warning(&health, now)
            .unwrap()
            .contains("last: no answer within 16 s"));
    }

    #[test]
    fn a_history_line_says_status_code_time_attempt_and_who() {
        let mut failed = run(RunStatus::Failed, Some(RunOutcome::HttpError), Some(503));
        failed.requested_by_name = Some("Ada".into());
        assert_eq!(history_line(&failed), "Failed · HTTP 503 · 85 ms · by Ada");
        failed.attempt = 2;
        assert_eq!(
            history_line(&failed),
            "Failed · HTTP 503 · 85 ms · attempt 2 · by Ada"
        );
        let mut timeout = run(RunStatus::Failed, Some(RunOutcome::Timeout), None);
        timeout.duration_ms = Some(16_003);
        assert_eq!(
            history_line(&timeout),
            "Failed · no answer within 16 s · by admin",
            "the wait is the deadline the outcome names"
        );
        timeout.duration_ms = Some(5_002);
        assert_eq!(
            history_line(&timeout),
            "Failed · no answer within 5 s · by admin"
        );
    }

    #[test]
    fn run_figures_read_as_a_share_and_a_median() {
        let stats = RunStats {
            finished: 50,
            succeeded: 49,
            p50_duration_ms: Some(120),
        };
        assert_eq!(
            run_stats_line(&stats),
            "Last 50 runs: 49 succeeded (98%) · median 120 ms"
        );
        assert_eq!(
            run_stats_line(&RunStats::default()),
            "No finished runs yet."
        );
    }

    #[test]
    fn utc_timestamps_read_as_date_time_and_zone() {
        assert_eq!(
            display_time("2026-11-22T17:36:01.123Z"),
            "2026-11-22 17:36:01 UTC"
        );
    }

    #[test]
    fn a_timestamp_in_another_shape_is_shown_as_given() {
        assert_eq!(display_time("yesterday"), "yesterday");
        assert_eq!(
            display_time("2026-11-22T17:36:01+02:00"),
            "2026-11-22T17:36:01+02:00"
        );
    }

    #[test]
    fn durations_switch_to_seconds_at_one_second() {
        assert_eq!(display_duration(999), "999 ms");
        assert_eq!(display_duration(1250), "1.2 s");
        assert_eq!(display_duration(16_004), "16 s");
    }

    #[test]
    fn a_successful_run_reads_status_outcome_code_and_time() {
        let line = run_summary(&run(
            RunStatus::Succeeded,
            Some(RunOutcome::Success),
            Some(200),
        ));
        assert_eq!(line, "Succeeded · endpoint answered 2xx · HTTP 200 · 85 ms");
    }

    #[test]
    fn a_reply_summary_replaces_outcome_and_code_and_what_was_ignored_follows() {
        let mut replied = run(RunStatus::Succeeded, Some(RunOutcome::Success), Some(200));
        replied.summary = Some("Diagnostics attached".into());
        assert_eq!(
            run_summary(&replied),
            "Succeeded · Diagnostics attached · 85 ms"
        );
        replied.reply_error = Some("links ignored: at most 5 links, not 6".into());
        assert_eq!(
            run_summary(&replied),
            "Succeeded · Diagnostics attached · 85 ms · reply partly ignored (links ignored: at most 5 links, not 6)"
        );
    }

    #[test]
    fn a_timed_out_run_has_no_http_code() {
        let mut timed_out = run(RunStatus::Failed, Some(RunOutcome::Timeout), None);
        timed_out.duration_ms = Some(16_004);
        assert_eq!(run_summary(&timed_out), "Failed · no answer within 16 s");
    }

    #[test]
    fn a_blocked_run_says_nothing_was_sent_and_shows_the_rule_as_the_reason() {
        let mut blocked = run(RunStatus::Failed, Some(RunOutcome::Blocked), None);
        blocked.duration_ms = None;
        assert_eq!(
            run_summary(&blocked),
            "Failed · blocked by the endpoint rules, nothing sent"
        );
        assert_eq!(excerpt_label(&blocked), "Why it was not sent");
        let answered = run(RunStatus::Failed, Some(RunOutcome::HttpError), Some(500));
        assert_eq!(excerpt_label(&answered), "Response from the endpoint");
    }

    #[test]
    fn an_unknown_outcome_says_the_endpoint_may_have_received_it() {
        let line = run_summary(&run(RunStatus::Failed, Some(RunOutcome::Unknown), None));
        assert!(line.starts_with("Failed · outcome unknown: "), "{line}");
        assert!(line.contains("may have received it"), "{line}");
    }

    #[test]
    fn a_run_names_the_revision_it_sent_when_known() {
        let mut sent = run(RunStatus::Succeeded, Some(RunOutcome::Success), Some(200));
        assert_eq!(run_revision(&sent), None);
        sent.action_revision = Some(3);
        assert_eq!(run_revision(&sent).as_deref(), Some("Action revision 3"));
    }

    #[test]
    fn an_unrecorded_run_says_what_was_seen_names_the_run_and_warns_against_a_rerun() {
        let seen = run(RunStatus::Succeeded, Some(RunOutcome::Success), Some(200));
        let text = unrecorded_message(&seen);
        assert!(
            text.starts_with("The endpoint was called (it answered HTTP 200)"),
            "{text}"
        );
        assert!(text.contains("Do not run it again"), "{text}");
        assert!(text.contains("(run_1)"), "{text}");
        let mut timed_out = run(RunStatus::Failed, Some(RunOutcome::Timeout), None);
        timed_out.duration_ms = Some(16_001);
        assert!(unrecorded_message(&timed_out).contains("(no answer within 16 s)"));
    }

    #[test]
    fn an_unreadable_action_says_why_and_what_fixes_it() {
        let text = unreadable_warning(Some("sealed under key k1, which is no longer configured."));
        assert_eq!(
            text,
            "This action's configuration cannot be opened: sealed under key k1, which is no \
             longer configured. Re-enter its secrets (Edit) and rotate its signing secret, or \
             delete it."
        );
        assert!(unreadable_warning(None)
            .starts_with("This action's configuration cannot be opened. Re-enter"));
        assert_eq!(unreadable_warning(Some("  ")), unreadable_warning(None));
        assert!(unreadable_form_note(Some("damaged"))
            .starts_with("This action's configuration cannot be opened: damaged. Fill in"));
    }

    #[test]
    fn conflict_messages_name_the_new_revision() {
        assert!(edit_conflict_message(5).contains("it is now revision 5"));
        assert!(edit_conflict_message(5).contains("make your change again and save"));
        assert!(card_conflict_message(5).contains("it is now revision 5"));
        assert_eq!(revision_label(2), "Revision 2");
    }

    fn input(label: &str, input_type: shared::inputs::InputType) -> InputDefinition {
        InputDefinition::new(&label.to_ascii_lowercase(), label, input_type)
    }

    #[test]
    fn a_card_names_each_input_with_its_type() {
        use shared::inputs::InputType;
        assert_eq!(asks_for(&[]), None);
        assert_eq!(
            asks_for(&[
                input("Region", InputType::Select),
                input("Version", InputType::String)
            ])
            .as_deref(),
            Some("Asks for: Region (select), Version (string)")
        );
    }

    #[test]
    fn a_card_says_how_the_action_asks_to_confirm() {
        let mut confirm = Confirm {
            message: "Sure?".into(),
            type_to_confirm: false,
        };
        assert_eq!(confirm_summary(&confirm), "Asks to confirm");
        confirm.type_to_confirm = true;
        assert_eq!(
            confirm_summary(&confirm),
            "Asks to confirm by typing its name"
        );
    }

    #[test]
    fn a_card_says_when_the_action_applies() {
        use shared::incident::Urgency;
        let mut rule = AvailableWhen {
            statuses: Some(vec![
                IncidentStatus::Triggered,
                IncidentStatus::Acknowledged,
            ]),
            urgencies: None,
        };
        assert_eq!(
            availability_summary(&rule).as_deref(),
            Some("Only while triggered or acknowledged")
        );
        rule.urgencies = Some(vec![Urgency::High]);
        assert_eq!(
            availability_summary(&rule).as_deref(),
            Some("Only while triggered or acknowledged, for high urgency incidents")
        );
        rule.statuses = None;
        assert_eq!(
            availability_summary(&rule).as_deref(),
            Some("Only for high urgency incidents")
        );
        assert_eq!(availability_summary(&AvailableWhen::default()), None);
    }

    #[test]
    fn run_inputs_read_as_text() {
        let inputs = serde_json::json!({"region": "eu-west", "count": 3, "dry_run": true});
        let mut pairs = run_input_pairs(inputs.as_object());
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("count".to_owned(), "3".to_owned()),
                ("dry_run".to_owned(), "true".to_owned()),
                ("region".to_owned(), "eu-west".to_owned()),
            ]
        );
        assert!(run_input_pairs(None).is_empty());
        assert_eq!(input_value_text(&serde_json::json!(2.5)), "2.5");
    }

    #[test]
    fn empty_custom_details_show_nothing() {
        assert_eq!(pretty_details(&Value::Null), None);
        assert_eq!(pretty_details(&serde_json::json!({})), None);
        assert_eq!(
            pretty_details(&serde_json::json!({"disk": "97%"})).unwrap(),
            "{\n  \"disk\": \"97%\"\n}"
        );
    }

    #[test]
    fn custom_details_are_indented_exactly_as_serde_json_does() {
        let details = serde_json::json!({
            "disk": {"used": 97.5, "mounts": ["/", "/var"], "tags": [], "meta": {}},
            "note": "line\nbreak \"quoted\" \u{e9}",
            "ok": false,
            "count": 3,
            "none": null,
            "list": [1, [2, {"a": "b"}]]
        });
        assert_eq!(
            pretty_details(&details).unwrap(),
            serde_json::to_string_pretty(&details).unwrap()
        );
        let list = serde_json::json!(["a"]);
        assert_eq!(pretty_details(&list).unwrap(), "[\n  \"a\"\n]");
    }

    #[test]
    fn the_action_count_names_the_limit() {
        assert_eq!(actions_used(0), "0 of 3 used");
        assert_eq!(actions_used(3), "3 of 3 used");
    }

    #[test]
    fn the_curl_example_posts_a_trigger_with_the_routing_key() {
        let curl = enqueue_curl("http://127.0.0.1:8787/", "0123456789abcdef0123456789abcdef");
        assert!(curl.starts_with("curl -X POST 'http://127.0.0.1:8787/v2/enqueue'"));
        assert!(curl.contains("'Content-Type: application/json'"));
        let body = curl.split(" -d ").nth(1).unwrap();
        let json: Value = serde_json::from_str(body.trim_matches('\'')).unwrap();
        assert_eq!(json["routing_key"], "0123456789abcdef0123456789abcdef");
        assert_eq!(json["event_action"], "trigger");
        assert_eq!(json["payload"]["severity"], "critical");
    }

    #[test]
    fn a_quote_in_the_curl_example_cannot_end_the_shell_string() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn idempotency_keys_are_lower_case_hex() {
        assert_eq!(hex_key(&[0, 15, 255]), "000fff");
    }

    #[test]
    fn sign_in_returns_only_to_paths_on_this_site() {
        assert_eq!(
            safe_next_path(Some("/services/svc_1/actions")),
            "/services/svc_1/actions"
        );
        assert_eq!(safe_next_path(Some("//evil.example")), "/incidents");
        assert_eq!(safe_next_path(Some("/\\evil.example")), "/incidents");
        assert_eq!(safe_next_path(Some("https://evil.example")), "/incidents");
        assert_eq!(safe_next_path(Some("/sign-in")), "/incidents");
        assert_eq!(safe_next_path(None), "/incidents");
    }

    #[test]
    fn a_json_body_is_indented_with_every_value_as_sent() {
        let body = r#"{"a":1.0,"b":[],"c":{ },"d":["x, y",12345678901234567890123],"e":"q\"}:"}"#;
        assert_eq!(
            readable_body(body),
            "{\n  \"a\": 1.0,\n  \"b\": [],\n  \"c\": {},\n  \"d\": [\n    \"x, y\",\n    12345678901234567890123\n  ],\n  \"e\": \"q\\\"}:\"\n}"
        );
    }

    #[test]
    fn a_body_that_is_not_json_is_shown_as_sent() {
        assert_eq!(readable_body("<b>hi</b> {"), "<b>hi</b> {");
        assert_eq!(readable_body("plain text"), "plain text");
    }
}
