//! Rate-limit counters in D1 (migrations/0004_rate_limits.sql): one row per bucket and
//! window. Counting is one upsert that returns the new count, which D1 runs atomically.

use serde::Deserialize;
use worker::D1Database;

use super::sql::statement;
use crate::error::{ApiError, ApiResult};
use crate::rate_limit::{Window, WINDOW_MS};

#[derive(Deserialize)]
struct CountRow {
    count: i64,
}

/// Counts one event in `bucket`'s current window and returns the window's count
/// including it. Windows that ended more than one window ago are swept in the same batch.
pub async fn hit(db: &D1Database, bucket: &str, window: Window) -> ApiResult<i64> {
    let sweep = statement(
        db,
        "DELETE FROM rate_limits WHERE window_start < ?1",
        &[(window.start_ms - WINDOW_MS).into()],
    )?;
    let upsert = statement(
        db,
        "INSERT INTO rate_limits (bucket, window_start, count) VALUES (?1, ?2, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + 1 \
         RETURNING count",
        &[bucket.into(), window.start_ms.into()],
    )?;
    let results = db.batch(vec![sweep, upsert]).await?;
    let rows: Vec<CountRow> = results
        .get(1)
        .ok_or_else(|| ApiError::Internal("rate limit upsert returned no result".into()))?
        .results()?;
    rows.first()
        .map(|row| row.count)
        .ok_or_else(|| ApiError::Internal("rate limit upsert returned no count".into()))
}

/// Takes back one event counted by `hit` (a sign-in that turned out to succeed).
pub async fn release(db: &D1Database, bucket: &str, window: Window) -> ApiResult<()> {
    statement(
        db,
        "UPDATE rate_limits SET count = count - 1 \
         WHERE bucket = ?1 AND window_start = ?2 AND count > 0",
        &[bucket.into(), window.start_ms.into()],
    )?
    .run()
    .await?;
    Ok(())
}
