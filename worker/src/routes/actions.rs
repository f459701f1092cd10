//! `/api/services/{id}/actions`: configure a service's custom incident actions.
//!
//! Every change writes a new revision to KV and then moves the action's D1 row to it with
//! one conditional statement (`store::actions::advance`). An edit carries the revision it
//! was made on (`If-Match` or `"revision"`): if another change landed first, it answers
//! 409 `edit_conflict` with the current action and changes nothing. Without a revision,
//! the edit is applied to whatever is current, re-read and retried until it lands, so
//! it is still never merged into a stale copy.

use shared::action::{validate_action, EditBase, Submission};
use shared::api::{
    ActionList, ActionResponse, CreateActionRequest, RotateSecretRequest, RotatedSecret,
    UpdateActionRequest,
};
use shared::audit::AuditEvent;
use shared::errors::ErrorCode;
use shared::view::View;
use worker::{Request, Response};

use crate::app::App;
use crate::domain::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{if_match, json_response, no_content, read_json, read_optional_json};
use crate::ids::{new_id, new_signing_secret};
use crate::routes::preview::check_templates;
use crate::sealed::{self, Keyring};
use crate::store::actions::{self, ActionRecord, ActionRow, ActionView, Advance, Config};
use crate::store::audit::Change;
use crate::store::batch::Batch;
use crate::store::runs::{self, FinishedRow};
use crate::store::services::{self, ServiceRow};

/// How often an edit without a revision is re-applied when other edits keep landing
/// first, before it gives up with `edit_conflict`.
const MAX_EDIT_ATTEMPTS: usize = 8;

/// `GET /api/services/{id}/actions`.
pub async fn list_actions(app: &App, caller: &Principal, service_id: &str) -> ApiResult<Response> {
    let db = app.db()?;
    let mut batch = Batch::new("actions list");
    let service = batch.read::<ServiceRow>(services::get_statement(&db, service_id)?);
    let action_rows = batch.read::<ActionRow>(actions::rows_of_service(&db, service_id)?);
    let finished = batch.read::<FinishedRow>(runs::recent_finished_of_service(&db, service_id)?);
    let answers = batch.send(&db).await?;
    answers
        .first(&service)?
        .ok_or(ApiError::NotFound("Service"))?;
    let action_rows = answers.all(&action_rows)?;
    let mut health = runs::health_by_action(&answers.all(&finished)?);
    let keyring = sealed::keyring(app)?;
    let actions = actions::views(&app.kv()?, action_rows)
        .await
        .iter()
        .map(|view| {
            let mut action = view.to_wire(&keyring);
            action.health = health.remove(&action.id).unwrap_or_default();
            action.view(caller.role)
        })
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
    let valid = validate_action(&body, &app.endpoint_policy(), Submission::New)?;
    check_templates(&valid, service_id, app.now_ms)?;
    let keyring = sealed::keyring(app)?;
    let signing_secret = new_signing_secret();
    let record = ActionRecord::create(
        new_id("act"),
        service_id.to_owned(),
        &valid,
        body.enabled.unwrap_or(true),
        &signing_secret,
        app.now_ms,
        &keyring,
    )?;
    let kv = app.kv()?;
    // The value first, then the row that points at it: a row never names a missing value.
    let key = actions::write_revision(&kv, &record, app.now_ms).await?;
    let created = committed(None, &record, key.clone());
    let change = change(
        caller,
        AuditEvent::ActionCreated,
        app,
        &created,
        None,
        Some(&created),
        &keyring,
    );
    if let Err(refusal) = actions::insert(&db, &record, &key, &change).await? {
        actions::discard_revision(&kv, &key).await;
        return Err(refusal.into());
    }
    let mut action = created.to_wire(&keyring);
    action.signing_secret = Some(signing_secret);
    Ok(json_response(
        &ActionResponse {
            action: action.view(caller.role),
        },
        201,
    )?)
}

/// `GET /api/services/{id}/actions/{action_id}`, with its endpoint's health as the list
/// shows it: the action and its recent runs are read in one D1 round trip.
pub async fn get_action(
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let db = app.db()?;
    let mut batch = Batch::new("action");
    let action_row = batch.read::<ActionRow>(actions::row_of(&db, action_id)?);
    let finished = batch.read::<FinishedRow>(runs::recent_finished_of_action(&db, action_id)?);
    let answers = batch.send(&db).await?;
    let row = answers
        .first(&action_row)?
        .filter(|row| row.service_id == service_id)
        .ok_or(ApiError::NotFound("Action"))?;
    let recent = answers.all(&finished)?;
    let view = actions::view_of_row(&app.kv()?, row).await;
    let mut action = view.to_wire(&sealed::keyring(app)?);
    action.health = runs::health(&recent);
    let action = action.view(caller.role);
    Ok(json_response(&ActionResponse { action }, 200)?)
}

/// `PATCH /api/services/{id}/actions/{action_id}`: fields left out stay; a secret header
/// sent without a value keeps its stored value, unless the endpoint moves to another
/// origin (422 `secrets_must_be_reentered`).
pub async fn update_action(
    mut req: Request,
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let if_match = if_match(&req, "action revision")?;
    let patch: UpdateActionRequest = read_json(&mut req).await?;
    let expected = agreed_revision(if_match, patch.revision)?;
    let keyring = sealed::keyring(app)?;
    let edit = |current: &ActionView, record: &ActionRecord| {
        let stored = record.redacted();
        let secrets: Vec<String> = stored.secret_header_names().map(str::to_owned).collect();
        let base = EditBase {
            endpoint_url: Some(&stored.endpoint_url),
            secrets: &secrets,
        };
        let merged = patch.merged_onto(&stored);
        let valid = validate_action(&merged, &app.endpoint_policy(), Submission::Edit(base))?;
        check_templates(&valid, service_id, app.now_ms)?;
        let enabled = merged.enabled.unwrap_or_else(|| current.enabled());
        let next = record.edited(&valid, enabled, app.now_ms, &keyring)?;
        let renewed = valid.renewed_secrets();
        Ok((next, renewed))
    };
    let updated = change_revision(
        app,
        caller,
        service_id,
        action_id,
        expected,
        AuditEvent::ActionUpdated,
        &keyring,
        edit,
    )
    .await?;
    let action = updated.to_wire(&keyring).view(caller.role);
    Ok(json_response(&ActionResponse { action }, 200)?)
}

/// `DELETE /api/services/{id}/actions/{action_id}`: the row goes, and with it the
/// action; the scheduled sweep removes its KV values.
pub async fn delete_action(
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let db = app.db()?;
    let kv = app.kv()?;
    let keyring = sealed::keyring(app)?;
    let current = actions::view(&db, &kv, service_id, action_id)
        .await?
        .ok_or(ApiError::NotFound("Action"))?;
    let change = change(
        caller,
        AuditEvent::ActionDeleted,
        app,
        &current,
        Some(&current),
        None,
        &keyring,
    );
    if !actions::remove(&db, service_id, action_id, &change).await? {
        return Err(ApiError::NotFound("Action"));
    }
    // Its KV values stay for the sweep's grace period: a run or edit that read the row
    // just before the delete then still finds its value, and is refused by D1 (404)
    // rather than misled into "propagating".
    Ok(no_content()?)
}

/// `POST /api/services/{id}/actions/{action_id}/rotate_secret` (optional body
/// `{"revision"}` or `If-Match`): the answer is the only time the new secret is shown;
/// the old one stops working at once.
pub async fn rotate_secret(
    mut req: Request,
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Response> {
    let if_match = if_match(&req, "action revision")?;
    let body: RotateSecretRequest = read_optional_json(&mut req).await?;
    let expected = agreed_revision(if_match, body.revision)?;
    let keyring = sealed::keyring(app)?;
    let signing_secret = new_signing_secret();
    let rotate = |_: &ActionView, record: &ActionRecord| {
        Ok((
            record.rotated(&signing_secret, app.now_ms, &keyring)?,
            Vec::new(),
        ))
    };
    change_revision(
        app,
        caller,
        service_id,
        action_id,
        expected,
        AuditEvent::ActionSecretRotated,
        &keyring,
        rotate,
    )
    .await?;
    Ok(json_response(&RotatedSecret { signing_secret }, 200)?)
}

/// Reads the current revision, makes the next one with `make` (which also names the
/// secret headers given new values, for the audit), writes it to KV and moves the row to
/// it. With `expected`, a different current revision is an `edit_conflict`; without, a
/// concurrent change is re-read and `make` applied again on top of it.
#[expect(
    clippy::too_many_arguments,
    reason = "one call per route, each argument distinct"
)]
async fn change_revision(
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: &str,
    expected: Option<u64>,
    event: AuditEvent,
    keyring: &Keyring,
    make: impl Fn(&ActionView, &ActionRecord) -> ApiResult<(ActionRecord, Vec<String>)>,
) -> ApiResult<ActionView> {
    let db = app.db()?;
    let kv = app.kv()?;
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let current = actions::view(&db, &kv, service_id, action_id)
            .await?
            .ok_or(ApiError::NotFound("Action"))?;
        if expected.is_some_and(|expected| expected != current.row.revision()) {
            return Err(edit_conflict(&current, keyring));
        }
        let record = match &current.config {
            Config::Readable(record) => record,
            Config::Propagating => return Err(ApiError::ConfigPropagating),
            Config::Unreadable(why) => {
                return Err(ApiError::Refused(ErrorCode::ActionUnreadable, why.clone()))
            }
        };
        let (next, renewed_secrets) = make(&current, record)?;
        let key = actions::write_revision(&kv, &next, app.now_ms).await?;
        let after = committed(Some(&current.row), &next, key.clone());
        let mut change = change(
            caller,
            event,
            app,
            &current,
            Some(&current),
            Some(&after),
            keyring,
        );
        if let (Some(serde_json::Value::Object(shown)), false) =
            (change.after.as_mut(), renewed_secrets.is_empty())
        {
            // The API shapes hold no secret, so a new secret value would look like no
            // change at all: name the headers, never their values.
            shown.insert("secret_values_changed".to_owned(), renewed_secrets.into());
        }
        match actions::advance(&db, &next, &key, current.row.revision(), &change).await? {
            Advance::Done => return Ok(after),
            Advance::Gone => {
                actions::discard_revision(&kv, &key).await;
                return Err(ApiError::NotFound("Action"));
            }
            Advance::NameTaken => {
                actions::discard_revision(&kv, &key).await;
                return Err(actions::SlotRefusal::NameTaken.into());
            }
            Advance::Moved => {
                actions::discard_revision(&kv, &key).await;
                if expected.is_some() {
                    let now = actions::view(&db, &kv, service_id, action_id)
                        .await?
                        .ok_or(ApiError::NotFound("Action"))?;
                    return Err(edit_conflict(&now, keyring));
                }
            }
        }
    }
    let now = actions::view(&db, &kv, service_id, action_id)
        .await?
        .ok_or(ApiError::NotFound("Action"))?;
    Err(edit_conflict(&now, keyring))
}

/// The action as it will stand once its row points at `key`.
fn committed(before: Option<&ActionRow>, record: &ActionRecord, key: String) -> ActionView {
    let row = ActionRow {
        action_id: record.id.clone(),
        service_id: record.service_id.clone(),
        name: Some(record.spec.name.clone()),
        enabled: i64::from(record.enabled),
        revision: i64::try_from(record.revision).unwrap_or(i64::MAX),
        config_key: Some(key),
        created_at: before.map_or(record.created_at, |row| row.created_at),
        updated_at: Some(record.updated_at),
    };
    ActionView {
        row,
        config: Config::Readable(Box::new(record.clone())),
    }
}

/// The audit record of a change, with the states as the API shows them.
fn change<'a>(
    caller: &'a Principal,
    event: AuditEvent,
    app: &App,
    target: &'a ActionView,
    before: Option<&ActionView>,
    after: Option<&ActionView>,
    keyring: &Keyring,
) -> Change<'a> {
    let snapshot = |view: Option<&ActionView>| {
        view.and_then(|view| serde_json::to_value(view.to_wire(keyring)).ok())
    };
    Change {
        actor: caller,
        event,
        target_id: &target.row.action_id,
        service_id: Some(&target.row.service_id),
        before: snapshot(before),
        after: snapshot(after),
        at: app.now_ms,
    }
}

fn edit_conflict(current: &ActionView, keyring: &Keyring) -> ApiError {
    ApiError::EditConflict(Box::new(current.to_wire(keyring)))
}

/// The one revision the request names, if any: `If-Match` and `"revision"` must agree.
fn agreed_revision(if_match: Option<u64>, body: Option<u64>) -> ApiResult<Option<u64>> {
    match (if_match, body) {
        (Some(a), Some(b)) if a != b => Err(ApiError::Refused(
            ErrorCode::InvalidIfMatch,
            format!("If-Match names revision {a} but the body names {b}"),
        )),
        (a, b) => Ok(a.or(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revision_in_both_places_must_agree() {
        assert_eq!(agreed_revision(Some(2), Some(2)).unwrap(), Some(2));
        assert_eq!(agreed_revision(None, Some(4)).unwrap(), Some(4));
        assert_eq!(agreed_revision(None, None).unwrap(), None);
        assert!(agreed_revision(Some(2), Some(3)).is_err());
    }
}
