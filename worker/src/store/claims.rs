//! Claims on periodic housekeeping (D1, migrations/0018_housekeeping_claims.sql): a task
//! that must run at most once in a period (the revision sweep's KV listing, which the free
//! plan counts) is claimed by one conditional write before it runs. D1 runs writes one at
//! a time, so of two scheduled handlers in the same period exactly one claims it, whatever
//! started them: the Cron Trigger firing twice, or someone running the handler by hand.

use super::sql::{changes, statement, Db};
use crate::error::ApiResult;

shared::spelled_enum! {
    /// The housekeeping tasks that are claimed.
    pub enum Task {
        /// The revision sweep's listing of KV (`store::actions::sweep`).
        KvSweep = "kv_sweep",
    }
}

/// Claims `task` at `now_ms` unless it was claimed less than `period_ms` ago: `true` when
/// this caller may run it now (and the period starts again from `now_ms`).
pub async fn claim(db: &Db, task: Task, now_ms: i64, period_ms: i64) -> ApiResult<bool> {
    let result = statement(
        db,
        "INSERT INTO housekeeping_claims (task, claimed_at) VALUES (?1, ?2) \
         ON CONFLICT (task) DO UPDATE SET claimed_at = excluded.claimed_at \
         WHERE housekeeping_claims.claimed_at <= ?2 - ?3",
        &[task.as_str().into(), now_ms.into(), period_ms.into()],
    )?
    .run()
    .await?;
    Ok(changes(&result) == 1)
}
