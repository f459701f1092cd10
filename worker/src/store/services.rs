//! Services (D1). A service's routing key is how `/v2/enqueue` finds it.

use serde::Deserialize;
use shared::api::Service;
use shared::time::format_rfc3339;

use super::audit::{self, Change};
use super::intake;
use super::sql::{changes, statement, Db, Statement};
use crate::error::ApiResult;

/// A `services` row.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceRow {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Integration key.
    pub routing_key: String,
    /// Created (ms).
    pub created_at: i64,
}

impl ServiceRow {
    /// The API shape.
    pub fn into_wire(self) -> Service {
        Service {
            id: self.id,
            name: self.name,
            description: self.description,
            routing_key: Some(self.routing_key),
            created_at: format_rfc3339(self.created_at),
        }
    }
}

const COLUMNS: &str = "id, name, description, routing_key, created_at";

/// Stores a new service, with its audit record.
pub async fn insert(db: &Db, row: &ServiceRow, change: &Change<'_>) -> ApiResult<()> {
    let insert = statement(
        db,
        "INSERT INTO services (id, name, description, routing_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            (&row.id).into(),
            (&row.name).into(),
            (&row.description).into(),
            (&row.routing_key).into(),
            row.created_at.into(),
        ],
    )?;
    let key = intake::insert_key_statement(db, &row.id, &row.routing_key)?;
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

/// Gives a service the new routing key `row.routing_key`: the key it had keeps working
/// until `old_key_expires_at` (its grace period), and the audit record, all in one batch
/// that changes nothing if the service is gone. `false` then.
pub async fn rotate_routing_key(
    db: &Db,
    row: &ServiceRow,
    old_key_expires_at: i64,
    change: &Change<'_>,
) -> ApiResult<bool> {
    let exists = "EXISTS (SELECT 1 FROM services WHERE id = ?11)";
    let results = db
        .batch(vec![
            statement(
                db,
                "UPDATE services SET routing_key = ?2 WHERE id = ?1",
                &[(&row.id).into(), (&row.routing_key).into()],
            )?,
            // The current key gets its end; a key still in an earlier grace keeps its own.
            statement(
                db,
                "UPDATE routing_keys SET expires_at = ?2 WHERE service_id = ?1 AND expires_at IS NULL",
                &[(&row.id).into(), old_key_expires_at.into()],
            )?,
            statement(
                db,
                "INSERT INTO routing_keys (key_hash, service_id) SELECT ?1, ?2 \
                 WHERE EXISTS (SELECT 1 FROM services WHERE id = ?2)",
                &[
                    intake::routing_key_hash(&row.routing_key).as_str().into(),
                    (&row.id).into(),
                ],
            )?,
            audit::insert_when(db, change, exists, &[(&row.id).into()])?,
        ])
        .await?;
    Ok(results.first().is_some_and(|update| changes(update) == 1))
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
    let results = db
        .batch(vec![
            statement(
                db,
                "SELECT action_id FROM action_slots WHERE service_id = ?1",
                &[id.into()],
            )?,
            statement(db, "DELETE FROM services WHERE id = ?1", &[id.into()])?,
            audit::insert(db, change)?,
        ])
        .await?;
    let [slots, deleted, _audit] = results.as_slice() else {
        return Ok(None);
    };
    if changes(deleted) == 0 {
        return Ok(None);
    }
    let slots: Vec<Slot> = slots.results()?;
    Ok(Some(slots.into_iter().map(|slot| slot.action_id).collect()))
}
