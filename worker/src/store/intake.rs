//! Event intake (D1, migrations/0013_event_intake.sql): finding the service an Events API
//! request names by its routing key's hash, and the per-service event throttle. Both run
//! inside the event's own batch, so an event still costs one round trip to D1.
//!
//! The batch of an event is `[take_token, <the event's statements>, verdict]`. The event's
//! statements name their service as [`admitted_service`] does: through the bucket whose
//! `admitted` is this event's id. A throttled event or an unknown key leaves no such
//! bucket, so those statements change nothing, and `verdict` says which it was.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;
use worker::D1Result;

use super::sql::{first_row, statement, Db, Statement};
use crate::auth::hash_token;
use crate::error::ApiResult;
use crate::ids::new_id;
use crate::rate_limit::EventRate;

/// One Events API request on its way in.
pub struct Admission {
    /// This event's id: the bucket's `admitted` while the batch runs.
    pub event_id: String,
    key_hash: String,
    rate: EventRate,
    now_ms: i64,
}

/// What became of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Let through; its statements applied.
    Admitted,
    /// Over the service's rate: nothing applied. Try again after this many seconds.
    Throttled {
        /// The `Retry-After`.
        retry_after_secs: i64,
    },
    /// No service has this routing key (or it expired after a rotation).
    UnknownKey,
}

/// The SQL of the admitted event's service id; `param` is the position of the event id.
pub fn admitted_service(param: usize) -> String {
    format!("(SELECT service_id FROM event_buckets WHERE admitted = ?{param})")
}

/// Set once this isolate has seen [`backfill`] find no service without a hashed key. Keys
/// written since are hashed when written, so it never needs to look again.
static ALL_KEYS_HASHED: AtomicBool = AtomicBool::new(false);

/// The hash a routing key is stored and found by.
pub fn routing_key_hash(routing_key: &str) -> String {
    hash_token(routing_key)
}

/// The condition under which a `routing_keys` row works at `?{now}`.
fn live(now: usize) -> String {
    format!("(expires_at IS NULL OR expires_at > ?{now})")
}

impl Admission {
    /// An event sent with `routing_key` at `now_ms`, throttled at `rate`.
    pub fn new(routing_key: &str, rate: EventRate, now_ms: i64) -> Self {
        Self {
            event_id: new_id("evt"),
            key_hash: routing_key_hash(routing_key),
            rate,
            now_ms,
        }
    }

    /// Runs the event's own `statements` in one batch, between the token it takes and the
    /// verdict: one round trip. The statements find their service through
    /// [`admitted_service`] with [`Self::event_id`], so they change nothing unless admitted.
    ///
    /// An unknown key may be one of a service created before keys were stored by hash
    /// (migration 0013) that the scheduled handler has not hashed yet: the first minute
    /// after a deploy. Then the unhashed keys are hashed here ([`backfill`]) and the event
    /// is tried once more, so no event is refused in that window. Nothing was applied the
    /// first time (no bucket was admitted), so the second try cannot apply it twice. Once
    /// an isolate finds nothing left to hash it stops looking: an unknown key then costs no
    /// extra round trip.
    pub async fn apply(&self, db: &Db, statements: Vec<Statement>) -> ApiResult<Verdict> {
        if ALL_KEYS_HASHED.load(Ordering::Relaxed) {
            return self.apply_once(db, statements).await;
        }
        let verdict = self.apply_once(db, statements.clone()).await?;
        if verdict != Verdict::UnknownKey {
            return Ok(verdict);
        }
        if backfill(db).await? == 0 {
            ALL_KEYS_HASHED.store(true, Ordering::Relaxed);
            return Ok(verdict);
        }
        self.apply_once(db, statements).await
    }

    async fn apply_once(&self, db: &Db, statements: Vec<Statement>) -> ApiResult<Verdict> {
        let mut batch = vec![self.take_token(db)?];
        batch.extend(statements);
        batch.push(self.verdict_statement(db)?);
        let results = db.batch(batch).await?;
        self.verdict(&results)
    }

    /// The batch's first statement: refills the service's bucket for the time passed and
    /// takes one token, marking the bucket with this event's id; or, with no token left
    /// (or no such key), changes nothing.
    fn take_token(&self, db: &Db) -> ApiResult<Statement> {
        let refilled = "MIN(?3, tokens + MAX(0, ?4 - refilled_at) * ?2 / 60000.0)";
        statement(
            db,
            &format!(
                "INSERT INTO event_buckets (service_id, tokens, refilled_at, admitted) \
                 SELECT service_id, ?3 - 1, ?4, ?5 FROM routing_keys \
                 WHERE key_hash = ?1 AND {live} \
                 ON CONFLICT (service_id) DO UPDATE SET tokens = {refilled} - 1, \
                     refilled_at = MAX(refilled_at, ?4), admitted = excluded.admitted \
                 WHERE {refilled} >= 1",
                live = live(4),
            ),
            &[
                self.key_hash.as_str().into(),
                self.rate.per_minute.into(),
                self.rate.burst.into(),
                self.now_ms.into(),
                self.event_id.as_str().into(),
            ],
        )
    }

    /// The batch's last statement: the key's service and its bucket after the event.
    fn verdict_statement(&self, db: &Db) -> ApiResult<Statement> {
        statement(
            db,
            &format!(
                "SELECT b.tokens AS tokens, b.refilled_at AS refilled_at, \
                     COALESCE(b.admitted = ?2, 0) AS admitted \
                 FROM routing_keys k LEFT JOIN event_buckets b ON b.service_id = k.service_id \
                 WHERE k.key_hash = ?1 AND {live}",
                live = live(3).replace("expires_at", "k.expires_at"),
            ),
            &[
                self.key_hash.as_str().into(),
                self.event_id.as_str().into(),
                self.now_ms.into(),
            ],
        )
    }

    /// Reads what [`Self::verdict_statement`], the batch's last statement, returned.
    fn verdict(&self, results: &[D1Result]) -> ApiResult<Verdict> {
        #[derive(Deserialize)]
        struct Row {
            tokens: Option<f64>,
            refilled_at: Option<i64>,
            admitted: i64,
        }
        let last = results.len().saturating_sub(1);
        let Some(row) = first_row::<Row>(results, last, "event verdict")? else {
            return Ok(Verdict::UnknownKey);
        };
        if row.admitted == 1 {
            return Ok(Verdict::Admitted);
        }
        Ok(Verdict::Throttled {
            retry_after_secs: self.rate.retry_after_secs(
                row.tokens.unwrap_or(0.0),
                row.refilled_at.unwrap_or(self.now_ms),
                self.now_ms,
            ),
        })
    }
}

/// The statement that stores a new service's first routing key.
pub fn insert_key_statement(db: &Db, service_id: &str, routing_key: &str) -> ApiResult<Statement> {
    key_row_statement(db, "INSERT", service_id, routing_key)
}

/// `insert` (`INSERT`, or `INSERT OR IGNORE`) a service's routing key, by its hash.
fn key_row_statement(
    db: &Db,
    insert: &str,
    service_id: &str,
    routing_key: &str,
) -> ApiResult<Statement> {
    statement(
        db,
        &format!("{insert} INTO routing_keys (key_hash, service_id) VALUES (?1, ?2)"),
        &[
            routing_key_hash(routing_key).as_str().into(),
            service_id.into(),
        ],
    )
}

/// Hashes the routing keys of services created before keys were stored by hash (the
/// scheduled handler, and an event whose key is unknown; SQLite cannot hash, so the
/// migration could not). Answers how many it hashed.
pub async fn backfill(db: &Db) -> ApiResult<usize> {
    #[derive(Deserialize)]
    struct Unhashed {
        id: String,
        routing_key: String,
    }
    let unhashed: Vec<Unhashed> = statement(
        db,
        "SELECT id, routing_key FROM services s \
         WHERE NOT EXISTS (SELECT 1 FROM routing_keys k WHERE k.service_id = s.id) LIMIT 100",
        &[],
    )?
    .all()
    .await?
    .results()?;
    if unhashed.is_empty() {
        return Ok(0);
    }
    // OR IGNORE: the scheduled handler and an event may hash the same keys at once.
    let inserts = unhashed
        .iter()
        .map(|service| key_row_statement(db, "INSERT OR IGNORE", &service.id, &service.routing_key))
        .collect::<ApiResult<Vec<_>>>()?;
    db.batch(inserts).await?;
    Ok(unhashed.len())
}

/// Removes rotated-out keys whose grace period has ended.
pub async fn sweep_expired_keys(db: &Db, now_ms: i64) -> ApiResult<usize> {
    let result = statement(
        db,
        "DELETE FROM routing_keys WHERE expires_at IS NOT NULL AND expires_at <= ?1",
        &[now_ms.into()],
    )?
    .run()
    .await?;
    Ok(super::sql::changes(&result))
}
