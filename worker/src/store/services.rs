//! Services (D1). A service's routing key is how `/v2/enqueue` finds it: by its hash, in
//! `routing_keys` (`store::intake`). The key itself is a credential that managers read
//! back, so `services.routing_key` holds it sealed (`sealed`, for the service and the
//! field `routing_key`), never in clear. Keys stored in clear before this (any value not
//! in the sealed format) are sealed by the scheduled handler (`intake::seal_clear_keys`);
//! SQL cannot seal, so no migration could.

use serde::Deserialize;
use shared::api::Service;
use shared::time::format_rfc3339;

use super::audit::{self, Change};
use super::batch::Batch;
use super::intake::{self, KeyRow};
use super::sql::{statement, Db, Statement};
use crate::error::{ApiError, ApiResult};
use crate::sealed::{Keyring, SealContext, SEALED_PREFIX};

/// A `services` row.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceRow {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The current integration key, as stored.
    pub routing_key: StoredRoutingKey,
    /// Created (ms).
    pub created_at: i64,
}

/// A service's current routing key as `services.routing_key` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum StoredRoutingKey {
    /// Sealed: every key written by this version.
    Sealed(String),
    /// In clear: a key stored before keys were sealed, until the scheduled handler seals
    /// it (its hash may not be in `routing_keys` yet either).
    Clear(String),
}

impl From<String> for StoredRoutingKey {
    fn from(stored: String) -> Self {
        if stored.starts_with(SEALED_PREFIX) {
            Self::Sealed(stored)
        } else {
            Self::Clear(stored)
        }
    }
}

impl StoredRoutingKey {
    /// Seals `service_id`'s new routing key for storing.
    pub fn seal(keyring: &Keyring, service_id: &str, routing_key: &str) -> ApiResult<Self> {
        keyring
            .seal(routing_key, SealContext::routing_key(service_id))
            .map(Self::Sealed)
            .map_err(|e| ApiError::Internal(format!("sealing a routing key: {e}")))
    }

    /// The key itself.
    pub fn open(&self, keyring: &Keyring, service_id: &str) -> ApiResult<String> {
        match self {
            Self::Sealed(sealed) => keyring
                .open(sealed, SealContext::routing_key(service_id))
                .map_err(|e| {
                    ApiError::Internal(format!("routing key of service {service_id}: {e}"))
                }),
            Self::Clear(key) => Ok(key.clone()),
        }
    }

    /// The value the column holds.
    pub fn as_stored(&self) -> &str {
        match self {
            Self::Sealed(value) | Self::Clear(value) => value,
        }
    }
}

/// The SQL condition "this `services` row's key is still in clear", as
/// [`StoredRoutingKey::from`] decides it.
pub fn clear_key_sql() -> String {
    format!(
        "substr(routing_key, 1, {}) != '{SEALED_PREFIX}'",
        SEALED_PREFIX.len()
    )
}

impl ServiceRow {
    /// The API shape, with `routing_key` (opened) when the viewer may read it.
    pub fn into_wire(self, routing_key: Option<String>) -> Service {
        Service {
            id: self.id,
            name: self.name,
            description: self.description,
            routing_key,
            created_at: format_rfc3339(self.created_at),
        }
    }
}

const COLUMNS: &str = "id, name, description, routing_key, created_at";

/// Stores a new service whose key is `routing_key` (`row` holds it sealed), the key's
/// hash, and the audit record.
pub async fn insert(
    db: &Db,
    row: &ServiceRow,
    routing_key: &str,
    change: &Change<'_>,
) -> ApiResult<()> {
    let insert = statement(
        db,
        "INSERT INTO services (id, name, description, routing_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            (&row.id).into(),
            (&row.name).into(),
            (&row.description).into(),
            row.routing_key.as_stored().into(),
            row.created_at.into(),
        ],
    )?;
    let key = intake::key_row_statement(db, KeyRow::New, &row.id, routing_key)?;
    db.batch(vec![insert, key, audit::insert(db, change)?])
        .await?;
    Ok(())
}

/// Every service, by name.
pub async fn list(db: &Db) -> ApiResult<Vec<ServiceRow>> {
    let sql = format!("SELECT {COLUMNS} FROM services ORDER BY name COLLATE NOCASE, created_at");
    Ok(statement(db, &sql, &[])?.all().await?.results()?)
}

/// One service.
pub async fn get(db: &Db, id: &str) -> ApiResult<Option<ServiceRow>> {
    get_statement(db, id)?.first(None).await
}

/// The read of one service, to run in a batch.
pub fn get_statement(db: &Db, id: &str) -> ApiResult<Statement> {
    let sql = format!("SELECT {COLUMNS} FROM services WHERE id = ?1");
    statement(db, &sql, &[id.into()])
}

/// Writes a service's new name and description, with its audit record.
pub async fn update(db: &Db, row: &ServiceRow, change: &Change<'_>) -> ApiResult<()> {
    let update = statement(
        db,
        "UPDATE services SET name = ?2, description = ?3 WHERE id = ?1",
        &[
            (&row.id).into(),
            (&row.name).into(),
            (&row.description).into(),
        ],
    )?;
    db.batch(vec![update, audit::insert(db, change)?]).await?;
    Ok(())
}

/// A routing-key rotation of a service.
pub struct Rotation<'a> {
    /// The service.
    pub service_id: &'a str,
    /// Its key as read before the rotation.
    pub old: &'a StoredRoutingKey,
    /// The new key.
    pub new_key: &'a str,
    /// The new key, sealed.
    pub new_sealed: &'a StoredRoutingKey,
    /// When the old key stops working (the end of its grace period).
    pub old_key_expires_at: i64,
}

/// Gives a service its new routing key: the key it had keeps working until
/// `old_key_expires_at` (its grace period), hashed or not, and the audit record, all in
/// one batch that changes nothing if the service is gone. `false` then.
pub async fn rotate_routing_key(
    db: &Db,
    rotation: &Rotation<'_>,
    change: &Change<'_>,
) -> ApiResult<bool> {
    let id = rotation.service_id;
    let exists = "EXISTS (SELECT 1 FROM services WHERE id = ?11)";
    let mut batch = Batch::new("routing key rotation");
    let updated = batch.write(statement(
        db,
        "UPDATE services SET routing_key = ?2 WHERE id = ?1",
        &[id.into(), rotation.new_sealed.as_stored().into()],
    )?);
    // A key still in clear may predate hashing and have no row yet (no event or scheduled
    // run has hashed it): it gets one here, to be given its grace by the next statement
    // like any other. A sealed key always has its row (both are written together).
    match rotation.old {
        StoredRoutingKey::Clear(old_key) => {
            batch.write(intake::key_row_statement(
                db,
                KeyRow::IfMissing,
                id,
                old_key,
            )?);
        }
        StoredRoutingKey::Sealed(_) => {}
    }
    batch.span([
        // The current key gets its end; a key still in an earlier grace keeps its own.
        statement(
            db,
            "UPDATE routing_keys SET expires_at = ?2 WHERE service_id = ?1 AND expires_at IS NULL",
            &[id.into(), rotation.old_key_expires_at.into()],
        )?,
        intake::key_row_statement(db, KeyRow::New, id, rotation.new_key)?,
        audit::insert_when(db, change, exists, &[id.into()])?,
    ]);
    Ok(batch.send(db).await?.changes(updated)? == 1)
}

/// What the audit log records of a service: everything but the routing key, which is a
/// credential and never changes.
pub fn audit_snapshot(row: &ServiceRow) -> serde_json::Value {
    serde_json::json!({
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "created_at": format_rfc3339(row.created_at),
    })
}

/// Deletes a service with its incidents, runs and timelines (ON DELETE CASCADE) and its
/// action slots, returning the ids of the actions whose KV configuration must go too.
pub async fn delete(db: &Db, id: &str, change: &Change<'_>) -> ApiResult<Option<Vec<String>>> {
    #[derive(Deserialize)]
    struct Slot {
        action_id: String,
    }
    let mut batch = Batch::new("service delete");
    let slots = batch.read::<Slot>(statement(
        db,
        "SELECT action_id FROM action_slots WHERE service_id = ?1",
        &[id.into()],
    )?);
    let deleted = batch.write(statement(
        db,
        "DELETE FROM services WHERE id = ?1",
        &[id.into()],
    )?);
    batch.write(audit::insert(db, change)?);
    let answers = batch.send(db).await?;
    if answers.changes(deleted)? == 0 {
        return Ok(None);
    }
    let slots = answers.all(&slots)?;
    Ok(Some(slots.into_iter().map(|slot| slot.action_id).collect()))
}

/// At most this many keys are sealed per scheduled run: each costs two statements, and
/// an invocation's D1 queries are counted (50 on the free plan, with the other steps).
/// Events never wait for it: an event with a key still in clear hashes it itself.
const SEALS_PER_RUN: i64 = 10;

/// Seals routing keys still stored in clear (from before keys were sealed), hashing each
/// that has no hash yet, a bounded number per call (the scheduled handler's step). Each
/// key is replaced only while the service still holds it, so a rotation meanwhile wins.
/// Answers how many it sealed.
pub async fn seal_clear_keys(db: &Db, keyring: &Keyring) -> ApiResult<usize> {
    #[derive(Deserialize)]
    struct Clear {
        id: String,
        routing_key: String,
    }
    let clear: Vec<Clear> = statement(
        db,
        &format!(
            "SELECT id, routing_key FROM services WHERE {} LIMIT ?1",
            clear_key_sql()
        ),
        &[SEALS_PER_RUN.into()],
    )?
    .all()
    .await?
    .results()?;
    if clear.is_empty() {
        return Ok(0);
    }
    let mut batch = Batch::new("seal routing keys");
    let mut seals = Vec::with_capacity(clear.len());
    for service in &clear {
        let sealed = StoredRoutingKey::seal(keyring, &service.id, &service.routing_key)?;
        batch.write(intake::adopt_clear_key_statement(db, &service.routing_key)?);
        seals.push(batch.write(statement(
            db,
            "UPDATE services SET routing_key = ?3 WHERE id = ?1 AND routing_key = ?2",
            &[
                (&service.id).into(),
                (&service.routing_key).into(),
                sealed.as_stored().into(),
            ],
        )?));
    }
    let answers = batch.send(db).await?;
    seals
        .into_iter()
        .map(|sealed| answers.changes(sealed))
        .sum()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use super::*;

    fn keyring() -> Keyring {
        Keyring::new(&STANDARD.encode([7u8; 32]), "").unwrap()
    }

    #[test]
    fn a_key_stored_before_sealing_reads_as_clear_and_opens_as_itself() {
        let stored = StoredRoutingKey::from("5f162f55f4315eab2d085a44e05ee634".to_owned());
        assert_eq!(
            stored,
            StoredRoutingKey::Clear("5f162f55f4315eab2d085a44e05ee634".into())
        );
        assert_eq!(
            stored.open(&keyring(), "svc_1").unwrap(),
            "5f162f55f4315eab2d085a44e05ee634"
        );
    }

    #[test]
    fn a_sealed_key_reads_as_sealed_and_opens_only_for_its_service() {
        let ring = keyring();
        let sealed = StoredRoutingKey::seal(&ring, "svc_1", "0123456789abcdef").unwrap();
        assert!(!sealed.as_stored().contains("0123456789abcdef"));
        assert_eq!(
            StoredRoutingKey::from(sealed.as_stored().to_owned()),
            sealed,
            "read back from the column as sealed"
        );
        assert_eq!(sealed.open(&ring, "svc_1").unwrap(), "0123456789abcdef");
        assert!(sealed.open(&ring, "svc_2").is_err());
    }

    #[test]
    fn the_sql_finds_clear_keys_by_the_prefix_the_code_does() {
        assert_eq!(clear_key_sql(), "substr(routing_key, 1, 3) != 'v1.'");
        assert!(SEALED_PREFIX.len() == 3 && SEALED_PREFIX == "v1.");
    }
}
