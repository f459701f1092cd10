//! An action's run history: the figures drawn from its latest finished runs (endpoint health, success rate, median
//! duration). Pure, so every boundary is tested natively; the worker reads the rows and
//! the app draws the figures.

use crate::api::{EndpointHealth, RunOutcome, RunStats, RunStatus};
use crate::limits::RUN_STATS_WINDOW;
use crate::time::format_rfc3339;

/// One finished run, as the figures need it (its latest attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinishedRun {
    /// Succeeded or failed (never running).
    pub status: RunStatus,
    /// How it ended.
    pub outcome: Option<RunOutcome>,
    /// The endpoint's code, if it answered.
    pub http_status: Option<u16>,
    /// How long the endpoint took; `None` when nothing was sent.
    pub duration_ms: Option<u64>,
    /// When it finished (ms since the epoch).
    pub finished_at: i64,
}

/// The endpoint's health from the newest finished runs (newest first): how many in a row
/// failed, and how the newest ended.
pub fn endpoint_health(newest_first: &[FinishedRun]) -> EndpointHealth {
    let recent_failures = newest_first
        .iter()
        .take(RUN_STATS_WINDOW)
        .take_while(|run| run.status == RunStatus::Failed)
        .count();
    let last = newest_first.first();
    EndpointHealth {
        recent_failures: u32::try_from(recent_failures).unwrap_or(u32::MAX),
        last_outcome: last.and_then(|run| run.outcome),
        last_http_status: last.and_then(|run| run.http_status),
        last_duration_ms: last.and_then(|run| run.duration_ms),
        last_run_at: last.map(|run| format_rfc3339(run.finished_at)),
    }
}

/// The success rate and median duration over the newest [`RUN_STATS_WINDOW`] finished
/// runs (newest first). The median is the lower middle value of the runs that reached
/// the endpoint.
pub fn run_stats(newest_first: &[FinishedRun]) -> RunStats {
    let window = &newest_first[..newest_first.len().min(RUN_STATS_WINDOW)];
    let mut durations: Vec<u64> = window.iter().filter_map(|run| run.duration_ms).collect();
    durations.sort_unstable();
    let count = |runs: usize| u32::try_from(runs).unwrap_or(u32::MAX);
    RunStats {
        finished: count(window.len()),
        succeeded: count(
            window
                .iter()
                .filter(|run| run.status == RunStatus::Succeeded)
                .count(),
        ),
        p50_duration_ms: durations
            .get(durations.len().saturating_sub(1) / 2)
            .copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: RunStatus, code: Option<u16>, duration_ms: Option<u64>, at: i64) -> FinishedRun {
        FinishedRun {
            status,
            outcome: Some(match status {
                RunStatus::Succeeded => RunOutcome::Success,
                RunStatus::Failed | RunStatus::Running => RunOutcome::HttpError,
            }),
            http_status: code,
            duration_ms,
            finished_at: at,
        }
    }

    fn failed(at: i64) -> FinishedRun {
        run(RunStatus::Failed, Some(503), Some(20), at)
    }

    fn succeeded(at: i64) -> FinishedRun {
        run(RunStatus::Succeeded, Some(200), Some(10), at)
    }

    #[test]
    fn two_failures_in_a_row_do_not_warn_and_three_do() {
        let two = [failed(3), failed(2), succeeded(1)];
        assert_eq!(endpoint_health(&two).recent_failures, 2);
        assert!(!endpoint_health(&two).is_failing());
        let three = [failed(4), failed(3), failed(2), succeeded(1)];
        let health = endpoint_health(&three);
        assert_eq!(health.recent_failures, 3);
        assert!(health.is_failing());
        assert_eq!(health.last_http_status, Some(503));
        assert_eq!(health.last_outcome, Some(RunOutcome::HttpError));
        assert_eq!(
            health.last_run_at.as_deref(),
            Some("1970-01-01T00:00:00.004Z")
        );
    }

    #[test]
    fn a_success_ends_the_streak_and_no_runs_mean_no_figures() {
        let recovered = [succeeded(5), failed(4), failed(3), failed(2)];
        assert_eq!(endpoint_health(&recovered).recent_failures, 0);
        assert_eq!(endpoint_health(&[]), EndpointHealth::default());
        assert_eq!(
            run_stats(&[]),
            RunStats {
                finished: 0,
                succeeded: 0,
                p50_duration_ms: None
            }
        );
    }

    #[test]
    fn stats_count_the_newest_50_finished_runs_only() {
        // 50 newest succeeded, then 10 older failures that must not count.
        let mut runs: Vec<FinishedRun> = (0..50).map(|i| succeeded(100 - i)).collect();
        runs.extend((0..10).map(|i| failed(40 - i)));
        let stats = run_stats(&runs);
        assert_eq!((stats.finished, stats.succeeded), (50, 50));
        // The 51st newest is a failure: with 49 successes and it, 49 of 50.
        let mut shifted = runs.clone();
        shifted.remove(0);
        let stats = run_stats(&shifted);
        assert_eq!((stats.finished, stats.succeeded), (50, 49));
        // A streak is counted over the same window.
        let all_failed: Vec<FinishedRun> = (0..60).map(|i| failed(100 - i)).collect();
        assert_eq!(endpoint_health(&all_failed).recent_failures, 50);
    }

    #[test]
    fn the_median_is_the_lower_middle_of_runs_that_reached_the_endpoint() {
        let durations = [40, 10, 30, 20];
        let runs: Vec<FinishedRun> = durations
            .iter()
            .enumerate()
            .map(|(i, ms)| run(RunStatus::Succeeded, Some(200), Some(*ms), i as i64))
            .chain([run(RunStatus::Failed, None, None, 9)])
            .collect();
        assert_eq!(run_stats(&runs).p50_duration_ms, Some(20));
        assert_eq!(run_stats(&runs[..3]).p50_duration_ms, Some(30));
        assert_eq!(run_stats(&runs).finished, 5);
    }
}
