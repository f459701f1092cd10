//! The scheduled handler (a Cron Trigger every minute, `[triggers]` in wrangler.toml):
//! the housekeeping that keeps every run settled and the stores tidy.
//!
//! - A run still `running` a minute past its deadline was orphaned (its isolate died, or
//!   every write of its result failed): it becomes `failed` with outcome `unknown` and a
//!   timeline entry that says the endpoint may have received it. Its `Idempotency-Key`
//!   then replays that.
//! - Run bodies kept for redelivery are cleared once their keeping time has passed.
//! - Expired sessions and finished rate-limit windows are deleted.
//! - Routing keys stored in clear (before keys were sealed) are sealed and hashed, a few
//!   per run (`store::services::seal_clear_keys`); rotated-out keys past their grace go.
//! - Action revisions no action points at, and actions whose configuration never
//!   arrived, are removed once older than five minutes (`store::actions::sweep`). That
//!   sweep lists KV, which the free plan allows 1,000 times a day, so it runs at most once
//!   in `KV_SWEEP_INTERVAL_SECS` (an hour): the run that claims the hour in D1
//!   (`store::claims`) lists, the others in that hour skip it. It logs each listing.
//! - Change events that happened more than 7 days ago are deleted.
//!
//! - Hourly (`HOURLY_CRON`), a service holding more incidents than
//!   `MAX_INCIDENTS_PER_SERVICE` loses its oldest resolved ones, a bounded number per run,
//!   and one holding more change events than `MAX_CHANGE_EVENTS_PER_SERVICE` its oldest
//!   ones. Hourly because counting every service's rows reads them all (up to the cap).
//!
//! Each step runs on its own, so one failing does not stop the others; failures are
//! logged and the next minute tries again.

use shared::limits::{KV_SWEEP_INTERVAL_SECS, RUN_DEADLINE_SECS, RUN_UNKNOWN_GRACE_SECS};
use worker::{console_error, console_log};

use crate::app::App;
use crate::error::ApiResult;
use crate::sealed;
use crate::store::claims::{self, Task};
use crate::store::{actions, changes, incidents, intake, rate_limits, runs, services, sessions};

/// How long after its start a `running` run is settled as `unknown`.
pub const SETTLE_AFTER_MS: i64 = ((RUN_DEADLINE_SECS + RUN_UNKNOWN_GRACE_SECS) * 1000) as i64;

/// The hourly Cron Trigger's schedule (wrangler.toml declares it next to the minutely one).
pub const HOURLY_CRON: &str = "17 * * * *";

/// Runs the steps of the cron that fired once.
pub async fn run(app: &App, cron: &str) {
    if cron == HOURLY_CRON {
        report(
            "prune incidents past the per-service cap",
            async { incidents::prune_past_cap(&app.db()?, app.max_incidents_per_service()).await }
                .await,
        );
        report(
            "prune change events past the per-service cap",
            async {
                changes::prune_past_cap(&app.db()?, app.max_change_events_per_service()).await
            }
            .await,
        );
        return;
    }
    let now = app.now_ms;
    report("settle abandoned runs", settle(app, now).await);
    report(
        "forget run bodies past their keeping time",
        async { runs::forget_expired_bodies(&app.db()?, now).await }.await,
    );
    report(
        "forget change events past their keeping time",
        async { changes::prune_expired(&app.db()?, now).await }.await,
    );
    report(
        "sweep expired sessions",
        async { sessions::sweep_expired(&app.db()?, now).await }.await,
    );
    report(
        "sweep old rate-limit windows",
        async { rate_limits::sweep_old(&app.db()?, now).await }.await,
    );
    report(
        "seal (and hash) routing keys stored in clear",
        async { services::seal_clear_keys(&app.db()?, &sealed::keyring(app)?).await }.await,
    );
    report(
        "sweep routing keys past their grace period",
        async { intake::sweep_expired_keys(&app.db()?, now).await }.await,
    );
    report("sweep action revisions", sweep_revisions(app, now).await);
}

/// The revision sweep, when this run claims it: at most once in `KV_SWEEP_INTERVAL_SECS`.
async fn sweep_revisions(app: &App, now: i64) -> ApiResult<usize> {
    let db = app.db()?;
    if !claims::claim(&db, Task::KvSweep, now, KV_SWEEP_INTERVAL_SECS * 1000).await? {
        return Ok(0);
    }
    let swept = actions::sweep(&db, &app.kv()?, now).await?;
    // One line per listing, so the lists spent are visible in the logs.
    console_log!(
        "scheduled: revision sweep listed KV ({} list call(s)); next listing in {} s at the \
         earliest",
        swept.lists,
        KV_SWEEP_INTERVAL_SECS
    );
    Ok(swept.revisions + swept.orphan_rows)
}

async fn settle(app: &App, now: i64) -> ApiResult<usize> {
    runs::settle_abandoned(&app.db()?, now - SETTLE_AFTER_MS, now).await
}

fn report(step: &str, outcome: ApiResult<usize>) {
    match outcome {
        Ok(0) => {}
        Ok(count) => console_log!("scheduled: {step}: {count}"),
        Err(error) => console_error!("scheduled: {step} failed: {error:?}"),
    }
}
