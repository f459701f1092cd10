//! Event intake (D1, migrations/0013_event_intake.sql): finding the service an Events API
//! request names by its routing key's hash, and the per-service event throttle. Both run
//! inside the event's own batch, so an event still costs one round trip to D1.
//!
//! The batch of an event is `[take_token, <the event's statements>, verdict]`. The event's
//! statements name their service as [`admitted_service`] does: through the bucket whose
//! `admitted` is this event's id. A throttled event or an unknown key leaves no such
//! bucket, so those statements change nothing, and `verdict` says which it was.
//!
//! Keys are only ever found by hash. A key stored before keys were hashed (and sealed)
//! may still be in clear in `services.routing_key` with no hash yet: such a key is
//! adopted (hashed) by the first event that names it, and sealed by the scheduled handler
//! (`services::seal_clear_keys`).

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;

use super::batch::Batch;
use super::services::clear_key_sql;
use super::sql::{statement, Db, Statement};
use crate::error::ApiResult;
use crate::ids::hash_token;
use crate::ids::new_id;
use crate::rate_limit::EventRate;

/// One Events API request on its way in.
pub struct Admission {
    /// This event's id: the bucket's `admitted` while the batch runs.
    pub event_id: String,
    routing_key: String,
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

/// Set once this isolate has seen no service left with its key in clear: every key is then
/// sealed, and hashed, and keys written since are both when written, so an unknown key
/// never needs another look.
static NO_CLEAR_KEYS: AtomicBool = AtomicBool::new(false);

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
            routing_key: routing_key.to_owned(),
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
    /// (migration 0013) that is still in clear, unhashed: the first minute after a deploy,
    /// before the scheduled handler has sealed it. Then it is hashed here
    /// ([`adopt_clear_key`]) and the event is tried once more, so no event is refused in
    /// that window. Nothing was applied the first time (no bucket was admitted), so the
    /// second try cannot apply it twice. Once an isolate finds no key left in clear it
    /// stops looking: an unknown key then costs no extra round trip.
    pub async fn apply(&self, db: &Db, statements: Vec<Statement>) -> ApiResult<Verdict> {
        if NO_CLEAR_KEYS.load(Ordering::Relaxed) {
            return self.apply_once(db, statements).await;
        }
        let verdict = self.apply_once(db, statements.clone()).await?;
        if verdict != Verdict::UnknownKey {
            return Ok(verdict);
        }
        match adopt_clear_key(db, &self.routing_key).await? {
            Adoption::Adopted => self.apply_once(db, statements).await,
            Adoption::NotHeld => Ok(verdict),
            Adoption::NoneInClear => {
                NO_CLEAR_KEYS.store(true, Ordering::Relaxed);
                Ok(verdict)
            }
        }
    }

    async fn apply_once(&self, db: &Db, statements: Vec<Statement>) -> ApiResult<Verdict> {
        let mut batch = Batch::new("event");
        batch.write(self.take_token(db)?);
        batch.span(statements);
        let verdict = batch.read::<VerdictRow>(self.verdict_statement(db)?);
        let row = batch.send(db).await?.first(&verdict)?;
        self.verdict(row)
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
    fn verdict(&self, row: Option<VerdictRow>) -> ApiResult<Verdict> {
        let Some(row) = row else {
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

/// How a routing key's row is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRow {
    /// A key just made: its hash is new (a clash fails the batch, as it should).
    New,
    /// A key that may have its row already (a key from before hashing, which an event may
    /// have hashed meanwhile): that row is kept as it is.
    IfMissing,
}

/// The statement that stores `routing_key`'s hash for service `service_id`, while the
/// service exists (in a batch that may find it deleted, it then changes nothing).
pub fn key_row_statement(
    db: &Db,
    row: KeyRow,
    service_id: &str,
    routing_key: &str,
) -> ApiResult<Statement> {
    let insert = match row {
        KeyRow::New => "INSERT",
        KeyRow::IfMissing => "INSERT OR IGNORE",
    };
    statement(
        db,
        &format!(
            "{insert} INTO routing_keys (key_hash, service_id) SELECT ?1, ?2 \
             WHERE EXISTS (SELECT 1 FROM services WHERE id = ?2)"
        ),
        &[
            routing_key_hash(routing_key).as_str().into(),
            service_id.into(),
        ],
    )
}

/// The statement that hashes `routing_key` if a service still holds it in clear (stored
/// before keys were hashed and sealed): the one place a key is compared by its value,
/// and only against keys that were never sealed. `OR IGNORE`: an event and the scheduled
/// handler may hash the same key at once.
pub fn adopt_clear_key_statement(db: &Db, routing_key: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "INSERT OR IGNORE INTO routing_keys (key_hash, service_id) \
             SELECT ?1, id FROM services WHERE routing_key = ?2 AND {}",
            clear_key_sql()
        ),
        &[
            routing_key_hash(routing_key).as_str().into(),
            routing_key.into(),
        ],
    )
}

/// What [`adopt_clear_key`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adoption {
    /// A service holds the key in clear: it is hashed now.
    Adopted,
    /// No service holds this key in clear, but some still hold theirs so.
    NotHeld,
    /// No service holds any key in clear.
    NoneInClear,
}

/// What [`Admission::verdict_statement`] reads: the bucket after this event, and whether
/// the event was admitted.
#[derive(Deserialize)]
struct VerdictRow {
    tokens: Option<f64>,
    refilled_at: Option<i64>,
    admitted: i64,
}

/// Hashes `routing_key` if a service still holds it in clear, and says whether any key is
/// left in clear: one round trip.
pub async fn adopt_clear_key(db: &Db, routing_key: &str) -> ApiResult<Adoption> {
    #[derive(Deserialize)]
    struct Found {
        held: i64,
        clear_left: i64,
    }
    let clear = clear_key_sql();
    let mut batch = Batch::new("clear routing keys");
    batch.write(adopt_clear_key_statement(db, routing_key)?);
    let found = batch.read::<Found>(statement(
        db,
        &format!(
            "SELECT EXISTS (SELECT 1 FROM services WHERE routing_key = ?1 AND {clear}) \
                         AS held, \
                     EXISTS (SELECT 1 FROM services WHERE {clear}) AS clear_left"
        ),
        &[routing_key.into()],
    )?);
    let found = batch.send(db).await?.first(&found)?;
    Ok(match found {
        Some(Found { held: 1, .. }) => Adoption::Adopted,
        Some(Found { clear_left: 1, .. }) => Adoption::NotHeld,
        Some(_) | None => Adoption::NoneInClear,
    })
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
