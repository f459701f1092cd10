//! `/api/services/{id}/actions`: configure a service's custom incident actions.

use shared::action::{validate_action, ActionFields, ValidAction};
use shared::api::{
    ActionList, ActionResponse, CreateActionRequest, HeaderInput, RotatedSecret,
    UpdateActionRequest,
};
use shared::FieldError;
use worker::{Request, Response};

use crate::app::App;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_response, no_content, read_json};
use crate::ids::{new_id, new_signing_secret};
use crate::redact;
use crate::sealed;
use crate::store::actions::{self, StoredAction, StoredHeader};
use crate::store::audit::{self, Change};
use crate::store::services;

/// `GET /api/services/{id}/actions`.
pub async fn list_actions(app: &App, caller: &Principal, service_id: &str) -> ApiResult<Response> {
    let db = app.db()?;
    services::get(&db, service_id)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    let actions = actions::list_for_service(&db, &app.kv()?, &sealed::keyring(app)?, service_id)
        .await?
        .iter()
        .map(|action| redact::action(action.to_wire(false), caller.role))
        .collect();
    Ok(json_response(&ActionList { actions }, 200)?)
}

/// `POST /api/services/{id}/actions`: the answer is the only time the signing secret is
/// shown.
pub async fn create_action(
    mut req: Request,
    app: &App,
    caller: &Principal,
    service_id: &str,
) -> ApiResult<Response> {
    let body: CreateActionRequest = read_json(&mut req).await?;
    let db = app.db()?;
    services::get(&db, service_id)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    let headers = body.headers.unwrap_or_default();
    let fields = ActionFields {
        name: &body.name,
        description: body.description.as_deref(),
        endpoint_url: &body.endpoint_url,
        headers: &headers,
    };
    let valid = validate_action(fields, &app.endpoint_policy(), false)?;
    let action_id = new_id("act");
    actions::claim_slot(
        &db,
        service_id,
        &action_id,
        &valid.name.unique_key(),
        app.now_ms,
    )
    .await??;
    let action = StoredAction {
        id: action_id,
        service_id: service_id.to_owned(),
        headers: stored_headers(&valid, &[])?,
        name: valid.name.as_str().to_owned(),
        description: valid.description,
        endpoint_url: valid.endpoint_url.as_str().to_owned(),
        enabled: body.enabled.unwrap_or(true),
        signing_secret: new_signing_secret(),
        created_at: app.now_ms,
        updated_at: app.now_ms,
    };
    if let Err(error) = actions::put(&app.kv()?, &sealed::keyring(app)?, &action).await {
        // Give the slot back so a failed write does not count toward the limit.
        actions::release_slot(&db, service_id, &action.id).await?;
        return Err(error);
    }
    record_action_change(app, caller, "action.created", &action, None, Some(&action)).await?;
    Ok(json_response(
        &ActionResponse {
            action: action.to_wire(true),
        },
        201,
    )?)
}

/// `GET /api/services/{id}/actions/{action_id}`.
pub async fn get_action(
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let action = actions::get_in_service(&app.kv()?, &sealed::keyring(app)?, service_id, action_id)
        .await?
        .ok_or(ApiError::NotFound("Action"))?;
    Ok(json_response(
        &ActionResponse {
            action: redact::action(action.to_wire(false), caller.role),
        },
        200,
    )?)
}

/// `PATCH /api/services/{id}/actions/{action_id}`: fields left out stay; a secret header
/// sent without a value keeps its stored value.
pub async fn update_action(
    mut req: Request,
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let patch: UpdateActionRequest = read_json(&mut req).await?;
    let kv = app.kv()?;
    let keyring = sealed::keyring(app)?;
    let mut action = actions::get_in_service(&kv, &keyring, service_id, action_id)
        .await?
        .ok_or(ApiError::NotFound("Action"))?;
    let before = action.clone();
    let headers = patch.headers.unwrap_or_else(|| {
        action
            .headers
            .iter()
            .map(|h| HeaderInput {
                name: h.name.clone(),
                value: Some(h.value.clone()),
                secret: Some(h.secret),
            })
            .collect()
    });
    let fields = ActionFields {
        name: patch.name.as_deref().unwrap_or(&action.name),
        description: match &patch.description {
            Some(text) => Some(text),
            None => action.description.as_deref(),
        },
        endpoint_url: patch
            .endpoint_url
            .as_deref()
            .unwrap_or(&action.endpoint_url),
        headers: &headers,
    };
    let valid = validate_action(fields, &app.endpoint_policy(), true)?;
    let new_headers = stored_headers(&valid, &action.headers)?;
    if valid.name.unique_key() != action.name.to_lowercase() {
        actions::rename_slot(&app.db()?, service_id, action_id, &valid.name.unique_key()).await??;
    }
    action.name = valid.name.as_str().to_owned();
    action.description = valid.description;
    action.endpoint_url = valid.endpoint_url.as_str().to_owned();
    action.headers = new_headers;
    action.enabled = patch.enabled.unwrap_or(action.enabled);
    action.updated_at = app.now_ms;
    actions::put(&kv, &keyring, &action).await?;
    record_action_change(
        app,
        caller,
        "action.updated",
        &action,
        Some(&before),
        Some(&action),
    )
    .await?;
    Ok(json_response(
        &ActionResponse {
            action: redact::action(action.to_wire(false), caller.role),
        },
        200,
    )?)
}

/// `DELETE /api/services/{id}/actions/{action_id}`.
pub async fn delete_action(
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let kv = app.kv()?;
    let keyring = sealed::keyring(app)?;
    let config = actions::get_in_service(&kv, &keyring, service_id, action_id).await?;
    if config.is_some() {
        actions::delete_config(&kv, action_id).await?;
    }
    // The slot goes last, so a failure in between leaves an action that is listed and
    // can be deleted again, never an invisible one that still counts toward the limit.
    let had_slot = actions::release_slot(&app.db()?, service_id, action_id).await?;
    if config.is_none() && !had_slot {
        return Err(ApiError::NotFound("Action"));
    }
    if let Some(config) = &config {
        record_action_change(app, caller, "action.deleted", config, Some(config), None).await?;
    }
    Ok(no_content()?)
}

/// `POST /api/services/{id}/actions/{action_id}/rotate_secret`: the answer is the only
/// time the new secret is shown; the old one stops working at once.
pub async fn rotate_secret(
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let kv = app.kv()?;
    let keyring = sealed::keyring(app)?;
    let mut action = actions::get_in_service(&kv, &keyring, service_id, action_id)
        .await?
        .ok_or(ApiError::NotFound("Action"))?;
    action.signing_secret = new_signing_secret();
    action.updated_at = app.now_ms;
    actions::put(&kv, &keyring, &action).await?;
    // The API shapes hold no secret, so the record says that it was rotated, never to what.
    record_action_change(app, caller, "action.secret_rotated", &action, None, None).await?;
    Ok(json_response(
        &RotatedSecret {
            signing_secret: action.signing_secret,
        },
        200,
    )?)
}

/// Records a change to `action` in the audit log, as the API shows the action (secret
/// header values null, no signing secret). An edit that gave a secret header a new value
/// would then look like no change at all, so its `after` also names those headers in
/// `secret_values_changed`, never their values. The KV write cannot share a transaction
/// with D1, so this runs right after it succeeds.
async fn record_action_change(
    app: &App,
    caller: &Principal,
    event: &'static str,
    action: &StoredAction,
    before: Option<&StoredAction>,
    after: Option<&StoredAction>,
) -> ApiResult<()> {
    let snapshot = |state: Option<&StoredAction>| {
        state
            .map(|state| serde_json::to_value(state.to_wire(false)))
            .transpose()
    };
    let mut after_snapshot = snapshot(after)?;
    if let (Some(before), Some(after), Some(serde_json::Value::Object(shown))) =
        (before, after, after_snapshot.as_mut())
    {
        let changed = secret_values_changed(before, after);
        if !changed.is_empty() {
            shown.insert("secret_values_changed".to_owned(), changed.into());
        }
    }
    let change = Change {
        actor: caller,
        event,
        target_type: "action",
        target_id: &action.id,
        service_id: Some(&action.service_id),
        before: snapshot(before)?,
        after: after_snapshot,
        at: app.now_ms,
    };
    audit::record(&app.db()?, &change).await
}

/// The names of the secret headers whose value is new in `after`: added, or given a new
/// value, under the same name (compared without regard to case, as header names are).
fn secret_values_changed(before: &StoredAction, after: &StoredAction) -> Vec<String> {
    after
        .headers
        .iter()
        .filter(|header| header.secret)
        .filter(|header| {
            !before.headers.iter().any(|old| {
                old.secret
                    && old.name.eq_ignore_ascii_case(&header.name)
                    && old.value == header.value
            })
        })
        .map(|header| header.name.clone())
        .collect()
}

/// The headers to store: a secret header without a new value keeps the stored value of
/// the secret header with the same name.
fn stored_headers(valid: &ValidAction, previous: &[StoredHeader]) -> ApiResult<Vec<StoredHeader>> {
    let mut errors = Vec::new();
    let headers = valid
        .headers
        .iter()
        .enumerate()
        .filter_map(|(index, header)| {
            let value = header.value.clone().or_else(|| {
                previous
                    .iter()
                    .find(|old| old.secret && old.name.eq_ignore_ascii_case(header.name.as_str()))
                    .map(|old| old.value.clone())
            });
            match value {
                Some(value) => Some(StoredHeader {
                    name: header.name.as_str().to_owned(),
                    value,
                    secret: header.secret,
                }),
                None => {
                    errors.push(FieldError {
                        field: format!("headers[{index}].value"),
                        message: "Header value is required".to_owned(),
                    });
                    None
                }
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(headers)
    } else {
        Err(ApiError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_headers(headers: &[(&str, &str, bool)]) -> StoredAction {
        StoredAction {
            id: "act_1".into(),
            service_id: "svc_1".into(),
            name: "Restart".into(),
            description: None,
            endpoint_url: "https://e.com/hook".into(),
            enabled: true,
            headers: headers
                .iter()
                .map(|(name, value, secret)| StoredHeader {
                    name: (*name).into(),
                    value: (*value).into(),
                    secret: *secret,
                })
                .collect(),
            signing_secret: "whsec_x".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_new_or_changed_secret_value_is_named_and_a_kept_one_is_not() {
        let before = with_headers(&[("Authorization", "old", true), ("X-Team", "sre", false)]);
        let kept = with_headers(&[("authorization", "old", true), ("X-Team", "ops", false)]);
        assert_eq!(secret_values_changed(&before, &kept), Vec::<String>::new());
        let changed = with_headers(&[("Authorization", "new", true), ("X-Key", "k", true)]);
        assert_eq!(
            secret_values_changed(&before, &changed),
            ["Authorization", "X-Key"]
        );
        // A plain header turned secret has a value nobody may read any more: a change.
        let turned = with_headers(&[("X-Team", "sre", true)]);
        assert_eq!(secret_values_changed(&before, &turned), ["X-Team"]);
    }
}
