//! How values read on screen: times, durations, run outcomes, action health and edit
//! conflicts, what an action asks before it runs, the curl example.
//!
//! Plain functions, so the words people see are covered by native tests. By subject:
//! [`time`], [`runs`], [`actions`], [`json`]; the rest (statuses, the timeline's words, the
//! curl example, sign-in's return path) here.

mod actions;
mod json;
mod runs;
mod time;

pub use actions::*;
pub use json::*;
pub use runs::*;
pub use time::*;

use shared::api::LogEntryType;
use shared::audit::AuditEvent;
use shared::incident::IncidentStatus;

/// The incident status as a word.
pub fn status_label(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Triggered => "Triggered",
        IncidentStatus::Acknowledged => "Acknowledged",
        IncidentStatus::Resolved => "Resolved",
    }
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
    use serde_json::Value;
    use shared::api::{ActionRun, EndpointHealth, RunOutcome, RunStats, RunStatus};
    use shared::inputs::InputDefinition;
    use shared::run_rules::{AvailableWhen, Confirm};

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
