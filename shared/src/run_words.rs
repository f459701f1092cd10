//! How a run is put into words, once, for every surface: the worker's timeline lines, the
//! line a role without run details is shown (`shared::view`), and the SPA's labels. The
//! longest deadline comes from [`RUN_DEADLINE_SECS`], never written by hand; a run that
//! timed out is worded with how long it waited, which is the deadline it was sent with.

use crate::api::{RunAttempt, RunOutcome, RunStatus};
use crate::limits::RUN_DEADLINE_SECS;

/// The deadline in words: `16 s`.
pub fn deadline() -> String {
    format!("{RUN_DEADLINE_SECS} s")
}

/// What a run left `running` past its deadline is settled with (its stored excerpt): its
/// endpoint may or may not have received it, and no one knows how it answered.
pub const UNKNOWN_OUTCOME: &str = "outcome unknown: Incident Actions stopped before it could \
    record the endpoint's answer, so the endpoint may have received it. Check there before \
    running it again";

/// The excerpt a run that timed out keeps: `The endpoint did not answer within 16
/// seconds`, for the deadline it was sent with.
pub fn timeout_excerpt(deadline_ms: u64) -> String {
    let seconds = seconds(deadline_ms);
    let unit = if seconds == "1" { "second" } else { "seconds" };
    format!("The endpoint did not answer within {seconds} {unit}")
}

/// Milliseconds as seconds, to a tenth where it is not whole: `5`, `2.5`.
fn seconds(ms: u64) -> String {
    let tenths = (ms + 50) / 100;
    match tenths % 10 {
        0 => format!("{}", tenths / 10),
        tenth => format!("{}.{tenth}", tenths / 10),
    }
}

/// The wait before a run timed out: `5 s`. A run recorded without its wait (none are,
/// but the field is optional) waited at most the longest deadline; runs recorded before
/// a timeout's wait was its deadline kept the worker's few milliseconds past it, which
/// are not part of any deadline.
fn waited(duration_ms: Option<u64>) -> String {
    duration_ms.map_or_else(deadline, |ms| {
        format!("{} s", seconds(ms.min(RUN_DEADLINE_SECS * 1000)))
    })
}

/// An outcome as a short phrase a responder understands: `no answer within 16 s`.
/// `duration_ms` is how long the run waited, which for a timeout is its deadline.
pub fn outcome_label(outcome: RunOutcome, duration_ms: Option<u64>) -> String {
    match outcome {
        RunOutcome::Success => "endpoint answered 2xx".to_owned(),
        RunOutcome::HttpError => "endpoint answered with an error".to_owned(),
        RunOutcome::Timeout => format!("no answer within {}", waited(duration_ms)),
        RunOutcome::NetworkError => "could not connect".to_owned(),
        RunOutcome::Redirect => "endpoint redirected (not followed)".to_owned(),
        RunOutcome::Blocked => "blocked by the endpoint rules, nothing sent".to_owned(),
        RunOutcome::TemplateError => "the template failed, nothing sent".to_owned(),
        RunOutcome::Unknown => "outcome unknown: the worker stopped before recording the \
             endpoint's answer; it may have received it"
            .to_owned(),
    }
}

/// The timeline line of a run for a role that may not see run details: `Ran "Restart":
/// failed`, by its status alone.
pub fn status_line(action_name: &str, status: RunStatus) -> String {
    format!("Ran \"{action_name}\": {}", status.as_str())
}

/// The line of one attempt of a run on its incident's timeline: `Running "<name>"…`
/// while it runs, then its result (`Ran "Restart web": succeeded (HTTP 200, 84 ms)`); a
/// redelivery reads `Redelivered "<name>" (attempt 2): …`. `summary` is the endpoint's
/// own one-line reply, shown in place of "HTTP 200" (only the latest attempt has one).
pub fn attempt_line(action_name: &str, attempt: &RunAttempt, summary: Option<&str>) -> String {
    let redelivery = (attempt.number > 1).then_some(attempt.number);
    match (attempt.status, attempt.outcome, redelivery) {
        (RunStatus::Running, _, None) | (_, None, None) => {
            format!("Running \"{action_name}\"… waiting for the endpoint")
        }
        (RunStatus::Running, _, Some(number)) | (_, None, Some(number)) => {
            format!("Redelivering \"{action_name}\" (attempt {number})… waiting for the endpoint")
        }
        (status, Some(outcome), redelivery) => {
            let duration_ms = attempt.duration_ms.unwrap_or_default();
            let result = match summary.filter(|_| status == RunStatus::Succeeded) {
                Some(summary) => format!("{summary} ({duration_ms} ms)"),
                None => attempt_result(attempt, status, outcome),
            };
            match (redelivery, outcome) {
                (None, RunOutcome::Blocked | RunOutcome::TemplateError) => {
                    format!("Did not run \"{action_name}\": {result}")
                }
                (None, _) => format!("Ran \"{action_name}\": {result}"),
                (Some(number), _) => {
                    format!("Redelivered \"{action_name}\" (attempt {number}): {result}")
                }
            }
        }
    }
}

/// How a finished attempt ended, in words: `succeeded (HTTP 200, 84 ms)`, `blocked,
/// nothing was sent. <rule>`, `failed: no answer within 16 s`…
fn attempt_result(attempt: &RunAttempt, status: RunStatus, outcome: RunOutcome) -> String {
    let duration_ms = attempt.duration_ms.unwrap_or_default();
    match (status, outcome, attempt.http_status) {
        (_, RunOutcome::Blocked, _) => {
            let reason = attempt
                .response_excerpt
                .as_deref()
                .unwrap_or("the endpoint is not allowed");
            format!("blocked, nothing was sent. {reason}")
        }
        (_, RunOutcome::TemplateError, _) => "its template failed, nothing was sent".to_owned(),
        (RunStatus::Succeeded, _, Some(code)) => {
            format!("succeeded (HTTP {code}, {duration_ms} ms)")
        }
        (_, RunOutcome::Redirect, Some(code)) => {
            format!("failed: the endpoint redirected (HTTP {code}); redirects are not followed")
        }
        (_, _, Some(code)) => format!("failed (HTTP {code}, {duration_ms} ms)"),
        (_, RunOutcome::Timeout, None) => {
            format!("failed: no answer within {}", waited(attempt.duration_ms))
        }
        (_, RunOutcome::Unknown, None) => UNKNOWN_OUTCOME.to_owned(),
        (
            _,
            RunOutcome::Success
            | RunOutcome::HttpError
            | RunOutcome::NetworkError
            | RunOutcome::Redirect,
            None,
        ) => "failed: could not reach the endpoint".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(
        number: u32,
        status: RunStatus,
        outcome: Option<RunOutcome>,
        http_status: Option<u16>,
        excerpt: Option<&str>,
    ) -> RunAttempt {
        RunAttempt {
            number,
            status,
            outcome,
            http_status,
            duration_ms: Some(84),
            response_excerpt: excerpt.map(str::to_owned),
            requested_by: String::new(),
            requested_by_name: None,
            started_at: String::new(),
            finished_at: None,
        }
    }

    #[test]
    fn the_deadline_is_written_from_the_limit() {
        assert_eq!(deadline(), format!("{RUN_DEADLINE_SECS} s"));
        assert_eq!(
            outcome_label(RunOutcome::Timeout, Some(RUN_DEADLINE_SECS * 1000 + 4)),
            format!("no answer within {RUN_DEADLINE_SECS} s")
        );
        assert_eq!(
            outcome_label(RunOutcome::Timeout, None),
            format!("no answer within {RUN_DEADLINE_SECS} s"),
            "without its wait, the longest deadline"
        );
        assert!(timeout_excerpt(RUN_DEADLINE_SECS * 1000)
            .ends_with(&format!("{RUN_DEADLINE_SECS} seconds")));
    }

    #[test]
    fn a_timeout_is_worded_with_the_deadline_it_was_sent_with() {
        assert_eq!(
            outcome_label(RunOutcome::Timeout, Some(5_003)),
            "no answer within 5 s"
        );
        assert_eq!(
            outcome_label(RunOutcome::Timeout, Some(2_498)),
            "no answer within 2.5 s"
        );
        assert_eq!(
            outcome_label(RunOutcome::Timeout, Some(16_072)),
            "no answer within 16 s",
            "an older run's wait past the longest deadline"
        );
        assert_eq!(
            timeout_excerpt(1_000),
            "The endpoint did not answer within 1 second"
        );
        assert_eq!(
            timeout_excerpt(5_000),
            "The endpoint did not answer within 5 seconds"
        );
    }

    #[test]
    fn each_finished_attempt_reads_as_its_result() {
        let line = |status, outcome, code, excerpt| {
            attempt_line(
                "Restart",
                &attempt(1, status, Some(outcome), code, excerpt),
                None,
            )
        };
        use RunOutcome as O;
        use RunStatus as S;
        assert_eq!(
            line(S::Succeeded, O::Success, Some(200), None),
            "Ran \"Restart\": succeeded (HTTP 200, 84 ms)"
        );
        assert_eq!(
            line(S::Failed, O::HttpError, Some(503), None),
            "Ran \"Restart\": failed (HTTP 503, 84 ms)"
        );
        let mut timed_out = attempt(1, S::Failed, Some(O::Timeout), None, None);
        timed_out.duration_ms = Some(RUN_DEADLINE_SECS * 1000 + 2);
        assert_eq!(
            attempt_line("Restart", &timed_out, None),
            format!("Ran \"Restart\": failed: no answer within {RUN_DEADLINE_SECS} s")
        );
        assert_eq!(
            line(S::Failed, O::Redirect, Some(302), None),
            "Ran \"Restart\": failed: the endpoint redirected (HTTP 302); redirects are not followed"
        );
        assert_eq!(
            line(S::Failed, O::NetworkError, None, None),
            "Ran \"Restart\": failed: could not reach the endpoint"
        );
        assert_eq!(
            line(S::Failed, O::Unknown, None, None),
            format!("Ran \"Restart\": {UNKNOWN_OUTCOME}")
        );
        assert_eq!(
            line(
                S::Failed,
                O::Blocked,
                None,
                Some("10.0.0.1 is a private address")
            ),
            "Did not run \"Restart\": blocked, nothing was sent. 10.0.0.1 is a private address"
        );
        assert_eq!(
            line(S::Failed, O::TemplateError, None, None),
            "Did not run \"Restart\": its template failed, nothing was sent"
        );
    }

    #[test]
    fn a_reply_summary_stands_in_for_the_code_only_on_success() {
        let ok = attempt(
            1,
            RunStatus::Succeeded,
            Some(RunOutcome::Success),
            Some(200),
            None,
        );
        assert_eq!(
            attempt_line("Diag", &ok, Some("Attached")),
            "Ran \"Diag\": Attached (84 ms)"
        );
        let failed = attempt(
            1,
            RunStatus::Failed,
            Some(RunOutcome::HttpError),
            Some(500),
            None,
        );
        assert_eq!(
            attempt_line("Diag", &failed, Some("Attached")),
            "Ran \"Diag\": failed (HTTP 500, 84 ms)"
        );
    }

    #[test]
    fn running_and_redelivered_attempts_say_so() {
        let running = attempt(1, RunStatus::Running, None, None, None);
        assert_eq!(
            attempt_line("Restart", &running, None),
            "Running \"Restart\"… waiting for the endpoint"
        );
        let again = attempt(2, RunStatus::Running, None, None, None);
        assert_eq!(
            attempt_line("Restart", &again, None),
            "Redelivering \"Restart\" (attempt 2)… waiting for the endpoint"
        );
        let done = attempt(
            3,
            RunStatus::Succeeded,
            Some(RunOutcome::Success),
            Some(200),
            None,
        );
        assert_eq!(
            attempt_line("Restart", &done, None),
            "Redelivered \"Restart\" (attempt 3): succeeded (HTTP 200, 84 ms)"
        );
        assert_eq!(
            status_line("Restart", RunStatus::Failed),
            "Ran \"Restart\": failed"
        );
    }
}
