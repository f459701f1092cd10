//! `/api/services`: create, list, read, rename and delete services, rotate their routing
//! keys, and list a service's change events. Every change is recorded in the audit log in
//! the same batch as the change. Routing keys are stored sealed and opened only for an
//! answer to a role that may read them.

use shared::api::{
    ChangeList, CreateServiceRequest, RotateRoutingKeyRequest, Service, ServiceList,
    ServiceResponse, UpdateServiceRequest,
};
use shared::audit::AuditEvent;
use shared::limits::{DEFAULT_CHANGES_LIST, MAX_CHANGES_LIST, MAX_DESCRIPTION_CHARS};
use shared::roles::{Permission, Role};
use shared::service::{parse_grace_hours, parse_service_name, validate_service};
use shared::time::format_rfc3339;
use shared::validation::optional_text;
use shared::view::{View, Viewed};
use shared::FieldError;
use worker::{console_error, Request, Response};

use crate::app::App;
use crate::domain::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_response, no_content, query_limit, read_json, read_optional_json};
use crate::ids::{new_id, new_routing_key};
use crate::sealed::{self, Keyring};
use crate::store::audit::Change;
use crate::store::changes;
use crate::store::services::{self, audit_snapshot, Rotation, ServiceRow, StoredRoutingKey};

/// `POST /api/services`.
pub async fn create_service(
    mut req: Request,
    app: &App,
    caller: &Principal,
) -> ApiResult<Response> {
    let body: CreateServiceRequest = read_json(&mut req).await?;
    let (name, description) =
        validate_service(&body.name, body.description.as_deref()).map_err(ApiError::Validation)?;
    let id = new_id("svc");
    let routing_key = new_routing_key();
    let row = ServiceRow {
        routing_key: StoredRoutingKey::seal(&sealed::keyring(app)?, &id, &routing_key)?,
        id,
        name,
        description,
        created_at: app.now_ms,
    };
    let change = Change {
        actor: caller,
        event: AuditEvent::ServiceCreated,
        target_id: &row.id,
        service_id: Some(&row.id),
        before: None,
        after: Some(audit_snapshot(&row)),
        at: app.now_ms,
    };
    services::insert(&app.db()?, &row, &routing_key, &change).await?;
    // Creating services needs a role above those that may read routing keys.
    Ok(json_response(
        &ServiceResponse {
            service: row.into_wire(Some(routing_key)).view(caller.role),
        },
        201,
    )?)
}

/// `GET /api/services`.
pub async fn list_services(app: &App, caller: &Principal) -> ApiResult<Response> {
    let rows = services::list(&app.db()?).await?;
    let keyring = keyring_for(app, caller.role)?;
    let services = rows
        .into_iter()
        .map(|row| view(row, caller.role, keyring.as_ref()))
        .collect();
    Ok(json_response(&ServiceList { services }, 200)?)
}

/// `GET /api/services/{id}`.
pub async fn get_service(app: &App, caller: &Principal, id: &str) -> ApiResult<Response> {
    let row = services::get(&app.db()?, id)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    let keyring = keyring_for(app, caller.role)?;
    Ok(json_response(
        &ServiceResponse {
            service: view(row, caller.role, keyring.as_ref()),
        },
        200,
    )?)
}

/// `GET /api/services/{id}/changes?limit=`: its change events, newest first (`limit`
/// 1..=100, default 25).
pub async fn list_changes(req: &Request, app: &App, id: &str) -> ApiResult<Response> {
    let limit = query_limit(req, DEFAULT_CHANGES_LIST, MAX_CHANGES_LIST)?;
    let db = app.db()?;
    services::get(&db, id)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    let changes = changes::wire(changes::list_for_service(&db, id, limit).await?)?;
    Ok(json_response(&ChangeList { changes }, 200)?)
}

/// `PATCH /api/services/{id}`: fields left out stay as they are; an empty description
/// clears it.
pub async fn update_service(
    mut req: Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let body: UpdateServiceRequest = read_json(&mut req).await?;
    let mut errors = Vec::new();
    let name = body
        .name
        .as_deref()
        .map(parse_service_name)
        .transpose()
        .map_err(|e| errors.push(FieldError::new("name", &e)))
        .ok()
        .flatten();
    let description = body
        .description
        .as_deref()
        .map(|text| optional_text(Some(text), "Description", MAX_DESCRIPTION_CHARS))
        .transpose()
        .map_err(|e| errors.push(FieldError::new("description", &e)))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let db = app.db()?;
    let before = services::get(&db, id)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    let mut after = before.clone();
    if let Some(name) = name {
        after.name = name;
    }
    if let Some(description) = description {
        after.description = description;
    }
    let change = Change {
        actor: caller,
        event: AuditEvent::ServiceUpdated,
        target_id: id,
        service_id: Some(id),
        before: Some(audit_snapshot(&before)),
        after: Some(audit_snapshot(&after)),
        at: app.now_ms,
    };
    services::update(&db, &after, &change).await?;
    let keyring = keyring_for(app, caller.role)?;
    Ok(json_response(
        &ServiceResponse {
            service: view(after, caller.role, keyring.as_ref()),
        },
        200,
    )?)
}

/// `POST /api/services/{id}/rotate_routing_key`: a new routing key that works at once;
/// the old one keeps working for `grace_hours` (0–168, default 24), whether or not it had
/// been hashed yet. One round trip after the read; audited without either key.
pub async fn rotate_routing_key(
    mut req: Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let body: RotateRoutingKeyRequest = read_optional_json(&mut req).await?;
    let grace_hours = parse_grace_hours(body.grace_hours.as_ref())
        .map_err(|e| ApiError::Validation(vec![FieldError::new("grace_hours", &e)]))?;
    let keyring = sealed::keyring(app)?;
    let db = app.db()?;
    let row = services::get(&db, id)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    let new_key = new_routing_key();
    let new_sealed = StoredRoutingKey::seal(&keyring, id, &new_key)?;
    let old_key_expires_at = app.now_ms + i64::from(grace_hours) * 3_600_000;
    let snapshot = audit_snapshot(&row);
    let change = Change {
        actor: caller,
        event: AuditEvent::ServiceRoutingKeyRotated,
        target_id: id,
        service_id: Some(id),
        before: Some(snapshot.clone()),
        after: Some(serde_json::json!({
            "service": snapshot,
            "grace_hours": grace_hours,
            "old_key_expires_at": format_rfc3339(old_key_expires_at),
        })),
        at: app.now_ms,
    };
    let rotation = Rotation {
        service_id: id,
        old: &row.routing_key,
        new_key: &new_key,
        new_sealed: &new_sealed,
        old_key_expires_at,
    };
    if !services::rotate_routing_key(&db, &rotation, &change).await? {
        return Err(ApiError::NotFound("Service"));
    }
    // The route lets only roles that may read routing keys rotate them.
    Ok(json_response(
        &ServiceResponse {
            service: row.into_wire(Some(new_key)).view(caller.role),
        },
        200,
    )?)
}

/// `DELETE /api/services/{id}`: the service, its incidents, runs and timelines, and its
/// actions' configuration.
pub async fn delete_service(app: &App, caller: &Principal, id: &str) -> ApiResult<Response> {
    let db = app.db()?;
    let before = services::get(&db, id)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    let change = Change {
        actor: caller,
        event: AuditEvent::ServiceDeleted,
        target_id: id,
        service_id: Some(id),
        before: Some(audit_snapshot(&before)),
        after: None,
        at: app.now_ms,
    };
    // The service's action rows go with it (ON DELETE CASCADE), so its actions can no
    // longer be listed or run; the scheduled sweep removes their KV revisions.
    services::delete(&db, id, &change)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    Ok(no_content()?)
}

/// The keyring, when `role` may read routing keys; the others need none (and so no
/// `ENCRYPTION_KEY`) to read services.
fn keyring_for(app: &App, role: Role) -> ApiResult<Option<Keyring>> {
    role.can(Permission::ManageRoutingKeys)
        .then(|| sealed::keyring(app))
        .transpose()
}

/// A service as `role` sees it (`shared::view`), its routing key opened with
/// `keyring` when given. A key that does not open (its encryption key was dropped from
/// the configuration) is answered `null` and logged, rather than failing the whole
/// answer: events still find the service by the key's hash, and a rotation gives it a
/// new key.
fn view(row: ServiceRow, role: Role, keyring: Option<&Keyring>) -> Viewed<Service> {
    let routing_key = keyring.and_then(|ring| match row.routing_key.open(ring, &row.id) {
        Ok(key) => Some(key),
        Err(error) => {
            console_error!("{error:?}");
            None
        }
    });
    row.into_wire(routing_key).view(role)
}
