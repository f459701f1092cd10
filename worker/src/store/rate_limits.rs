//! Rate-limit counters in D1 (migrations/0004_rate_limits.sql): one row per bucket and
//! window. Counting is one upsert that returns the new count, which D1 runs atomically.
//! Old windows are swept by the scheduled handler.

use serde::Deserialize;

use super::sql::{statement, Db, Statement};
use crate::error::{ApiError, ApiResult};
use crate::rate_limit::{Window, WINDOW_MS};
use worker::D1Result;

#[derive(Deserialize)]
struct CountRow {
    count: i64,
}

/// The statement that counts one event in `bucket`'s window and returns the window's
/// count including it, to run alone or in a batch (see `store::runs::claim`).
pub fn hit_statement(db: &Db, bucket: &str, window: Window) -> ApiResult<Statement> {
    statement(
        db,
        "INSERT INTO rate_limits (bucket, window_start, count) VALUES (?1, ?2, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + 1 \
         RETURNING count",
        &[bucket.into(), window.start_ms.into()],
    )
}

/// The count [`hit_statement`] returned.
pub fn counted(result: Option<&D1Result>) -> ApiResult<i64> {
    let rows: Vec<CountRow> = result
        .ok_or_else(|| ApiError::Internal("rate limit upsert returned no result".into()))?
        .results()?;
    rows.first()
        .map(|row| row.count)
        .ok_or_else(|| ApiError::Internal("rate limit upsert returned no count".into()))
}

/// Counts one event in `bucket`'s current window and returns the window's count
/// including it.
pub async fn hit(db: &Db, bucket: &str, window: Window) -> ApiResult<i64> {
    let result = hit_statement(db, bucket, window)?.all().await?;
    counted(Some(&result))
}

/// Removes windows that ended before the current one (the scheduled handler).
pub async fn sweep_old(db: &Db, now_ms: i64) -> ApiResult<usize> {
    let result = statement(
        db,
        "DELETE FROM rate_limits WHERE window_start < ?1",
        &[(Window::at(now_ms).start_ms - WINDOW_MS).into()],
    )?
    .run()
    .await?;
    Ok(super::sql::changes(&result))
}

/// The statement that takes back one event counted by `hit`.
pub fn release_statement(db: &Db, bucket: &str, window: Window) -> ApiResult<Statement> {
    statement(
        db,
        "UPDATE rate_limits SET count = count - 1 \
         WHERE bucket = ?1 AND window_start = ?2 AND count > 0",
        &[bucket.into(), window.start_ms.into()],
    )
}

/// Takes back one event counted by `hit` (a sign-in that turned out to succeed).
pub async fn release(db: &Db, bucket: &str, window: Window) -> ApiResult<()> {
    release_statement(db, bucket, window)?.run().await?;
    Ok(())
}
