//! `/api/users`: users and their API tokens (admin and up; the route table checks that).
//!
//! Two rules beyond the table live here because they depend on the target, not just the
//! route: only an owner grants or removes `admin`/`owner`, or acts on another user who
//! holds one of them (changing an owner's e-mail or minting an owner's token would be
//! taking their powers); and the last owner cannot be removed or demoted. Every change is
//! recorded in the audit log in the change's own D1 batch; a token's secret never is. A
//! change or delete of a user is made on the version this request read, so one that met
//! another change first is a 409 that changes nothing.

use shared::api::{
    CreateTokenRequest, CreateUserRequest, TokenList, TokenResponse, UpdateUserRequest, UserList,
    UserResponse,
};
use shared::audit::AuditEvent;
use shared::errors::ErrorCode;
use shared::roles::Role;
use shared::user::{
    self as user, parse_email, parse_new_user, parse_token_label, parse_user_name, UserAct,
    UserRefusal,
};
use shared::FieldError;
use worker::{Request, Response};

use crate::app::App;
use crate::domain::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{if_match, json_response, no_content, read_json};
use crate::ids::hash_token;
use crate::ids::{new_api_token_secret, new_id};
use crate::store::audit::{self, Change};
use crate::store::batch::Batch;
use crate::store::tokens::{self, TokenRow};
use crate::store::users::{self, UserRow};

/// `POST /api/users`.
pub async fn create_user(mut req: Request, app: &App, caller: &Principal) -> ApiResult<Response> {
    let body: CreateUserRequest = read_json(&mut req).await?;
    let new = parse_new_user(&body.name, &body.email, &body.role).map_err(ApiError::Validation)?;
    require_allowed(caller, UserAct::Grant(new.role))?;
    let row = UserRow {
        id: new_id("usr"),
        name: new.name,
        email: new.email,
        role: new.role.as_str().to_owned(),
        created_at: app.now_ms,
        version: 1,
    };
    if !users::insert(&app.db()?, &row, caller).await? {
        return Err(email_taken());
    }
    Ok(json_response(
        &UserResponse {
            user: row.to_wire()?,
            revoked_tokens: Vec::new(),
            notice: None,
        },
        201,
    )?)
}

/// `GET /api/users`.
pub async fn list_users(app: &App) -> ApiResult<Response> {
    let users = users::list(&app.db()?)
        .await?
        .iter()
        .map(UserRow::to_wire)
        .collect::<ApiResult<_>>()?;
    Ok(json_response(&UserList { users }, 200)?)
}

/// `GET /api/users/{id}`.
pub async fn get_user(app: &App, id: &str) -> ApiResult<Response> {
    let row = load_user(app, id).await?;
    Ok(json_response(
        &UserResponse {
            user: row.to_wire()?,
            revoked_tokens: Vec::new(),
            notice: None,
        },
        200,
    )?)
}

/// `PATCH /api/users/{id}`: fields left out stay as they are. Made on the version read, or
/// on the one `If-Match` names.
pub async fn update_user(
    mut req: Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let expected = if_match(&req, USER_VERSION)?;
    let patch: UpdateUserRequest = read_json(&mut req).await?;
    let mut fields = Vec::new();
    let name = patch
        .name
        .as_deref()
        .map(parse_user_name)
        .transpose()
        .map_err(|e| fields.push(FieldError::new("name", &e)))
        .ok()
        .flatten();
    let email = patch
        .email
        .as_deref()
        .map(parse_email)
        .transpose()
        .map_err(|e| fields.push(FieldError::new("email", &e)))
        .ok()
        .flatten();
    let role = patch
        .role
        .as_deref()
        .map(Role::parse_field)
        .transpose()
        .map_err(|e| fields.push(FieldError::new("role", &e)))
        .ok()
        .flatten();
    if !fields.is_empty() {
        return Err(ApiError::Validation(fields));
    }
    let db = app.db()?;
    let before = load_user(app, id).await?;
    require_version(expected, &before)?;
    let old_role = before.role()?;
    require_allowed(caller, UserAct::ChangeOrRemove(old_role))?;
    let mut after = before.clone();
    if let Some(name) = name {
        after.name = name;
    }
    if let Some(email) = email {
        after.email = email;
    }
    if let Some(role) = role {
        require_allowed(caller, UserAct::Grant(role))?;
        after.role = role.as_str().to_owned();
    }
    let new_role = after.role()?;
    if users::email_taken(&db, &after.email, id).await? {
        return Err(email_taken());
    }
    let demotes_owner = old_role == Role::Owner && new_role != Role::Owner;
    if demotes_owner && users::owner_count(&db).await? <= 1 {
        return Err(last_owner());
    }
    // One batch, every statement after the first only if the first wrote the version
    // this request read: the change, the tokens a promotion revokes, the audit records.
    after.version = before.version + 1;
    let change_id = new_id("chg");
    let promoted = new_role.is_privileged() && new_role > old_role;
    let mut batch = Batch::new("user update");
    let updated = batch.write(users::update_statement(
        &db,
        &after,
        before.version,
        &change_id,
    )?);
    let revoked = if promoted {
        let [listed, audited, deleted] =
            tokens::revoke_minted_by_others(&db, id, &change_id, caller, app.now_ms)?;
        let listed = batch.read::<TokenRow>(listed);
        batch.write(audited);
        batch.write(deleted);
        Some(listed)
    } else {
        None
    };
    let change = Change {
        actor: caller,
        event: AuditEvent::UserUpdated,
        target_id: id,
        service_id: None,
        before: Some(before.audit_snapshot()?),
        after: Some(after.audit_snapshot()?),
        at: app.now_ms,
    };
    batch.write(audit::insert_when(
        &db,
        &change,
        &users::changed_by_sql(11, 12),
        &[id.into(), change_id.as_str().into()],
    )?);
    let answers = batch.send(&db).await?;
    if answers.changes(updated)? == 0 {
        // Nothing was written: say which rule stopped it.
        let now = load_user(app, id).await?;
        if now.version != before.version {
            return Err(edited_meanwhile(&now)?);
        }
        if users::email_taken(&db, &after.email, id).await? {
            return Err(email_taken());
        }
        return Err(last_owner());
    }
    let revoked_tokens: Vec<_> = if let Some(listed) = revoked {
        answers
            .all(&listed)?
            .iter()
            .map(|row| row.to_wire(None))
            .collect()
    } else {
        Vec::new()
    };
    let notice = (!revoked_tokens.is_empty()).then(|| {
        format!(
            "{} token(s) someone else minted for this user were revoked: {}",
            revoked_tokens.len(),
            tokens::PROMOTION_REVOKES
        )
    });
    Ok(json_response(
        &UserResponse {
            user: after.to_wire()?,
            revoked_tokens,
            notice,
        },
        200,
    )?)
}

/// `DELETE /api/users/{id}`: the user's tokens and sessions go with it. Made on the
/// version read (or the one `If-Match` names), as an edit is: whether the caller may
/// remove this user was decided on that version, so a user promoted (or otherwise
/// changed) meanwhile is not removed.
pub async fn delete_user(
    req: &Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let expected = if_match(req, USER_VERSION)?;
    let db = app.db()?;
    let before = load_user(app, id).await?;
    require_version(expected, &before)?;
    let role = before.role()?;
    require_allowed(caller, UserAct::ChangeOrRemove(role))?;
    if role == Role::Owner && users::owner_count(&db).await? <= 1 {
        return Err(last_owner());
    }
    let change = Change {
        actor: caller,
        event: AuditEvent::UserDeleted,
        target_id: id,
        service_id: None,
        before: Some(before.audit_snapshot()?),
        after: None,
        at: app.now_ms,
    };
    if !users::delete(&db, id, before.version, &change).await? {
        // Nothing was deleted: say which rule stopped it (404 when the user is gone).
        let now = load_user(app, id).await?;
        if now.version != before.version {
            return Err(edited_meanwhile(&now)?);
        }
        return Err(last_owner());
    }
    Ok(no_content()?)
}

/// `GET /api/users/{id}/tokens`: labels and last four characters, never secrets.
pub async fn list_tokens(app: &App, user_id: &str) -> ApiResult<Response> {
    load_user(app, user_id).await?;
    let tokens = tokens::list(&app.db()?, user_id)
        .await?
        .iter()
        .map(|row| row.to_wire(None))
        .collect();
    Ok(json_response(&TokenList { tokens }, 200)?)
}

/// `POST /api/users/{id}/tokens`: the answer is the only time the secret is shown.
pub async fn create_token(
    mut req: Request,
    app: &App,
    caller: &Principal,
    user_id: &str,
) -> ApiResult<Response> {
    let body: CreateTokenRequest = read_json(&mut req).await?;
    let label = parse_token_label(&body.label)
        .map_err(|e| ApiError::Validation(vec![FieldError::new("label", &e)]))?;
    let user = load_user(app, user_id).await?;
    let mint = UserAct::MintToken {
        holder: user.role()?,
        for_self: user.id == caller.id,
    };
    require_allowed(caller, mint)?;
    let secret = new_api_token_secret();
    let last4: String = secret
        .chars()
        .skip(secret.chars().count().saturating_sub(4))
        .collect();
    let row = TokenRow {
        id: new_id("tok"),
        user_id: user.id.clone(),
        label,
        last4,
        created_at: app.now_ms,
    };
    // Minted only while the user is as read: a concurrent promotion makes this a 409.
    let db = app.db()?;
    let change = Change {
        actor: caller,
        event: AuditEvent::TokenCreated,
        target_id: &row.id,
        service_id: None,
        before: None,
        after: Some(row.audit_snapshot()),
        at: app.now_ms,
    };
    let mut batch = Batch::new("token insert");
    let inserted = batch.write(tokens::insert_statement(
        &db,
        &row,
        &hash_token(&secret),
        &caller.id,
        user.version,
    )?);
    batch.write(audit::insert_when(
        &db,
        &change,
        "EXISTS (SELECT 1 FROM api_tokens WHERE id = ?11)",
        &[row.id.as_str().into()],
    )?);
    if batch.send(&db).await?.changes(inserted)? == 0 {
        let now = load_user(app, user_id).await?;
        return Err(edited_meanwhile(&now)?);
    }
    Ok(json_response(
        &TokenResponse {
            token: row.to_wire(Some(secret)),
        },
        201,
    )?)
}

/// `DELETE /api/users/{id}/tokens/{token_id}`: the token stops working at once, and the
/// sessions signed in with it end. Any admin may revoke, even an owner's token: taking
/// access away is never an escalation.
pub async fn delete_token(
    app: &App,
    caller: &Principal,
    user_id: &str,
    token_id: &str,
) -> ApiResult<Response> {
    let db = app.db()?;
    let row = tokens::get(&db, user_id, token_id)
        .await?
        .ok_or(ApiError::NotFound("Token"))?;
    let change = Change {
        actor: caller,
        event: AuditEvent::TokenRevoked,
        target_id: token_id,
        service_id: None,
        before: Some(row.audit_snapshot()),
        after: None,
        at: app.now_ms,
    };
    if !tokens::delete(&db, user_id, token_id, &change).await? {
        return Err(ApiError::NotFound("Token"));
    }
    Ok(no_content()?)
}

async fn load_user(app: &App, id: &str) -> ApiResult<UserRow> {
    users::get(&app.db()?, id)
        .await?
        .ok_or(ApiError::NotFound("User"))
}

/// A 403 unless `caller` may do `act` (the rule is `shared::user::refusal`).
fn require_allowed(caller: &Principal, act: UserAct) -> ApiResult<()> {
    match user::refusal(caller.role, act) {
        None => Ok(()),
        Some(UserRefusal::NotAManager) => Err(ApiError::Forbidden(format!(
            "Your role ({}) does not manage users",
            caller.role
        ))),
        Some(UserRefusal::OwnerOnly(role)) => Err(ApiError::Forbidden(format!(
            "Your role ({}) may not grant, remove or act for the {role} role: only an owner may",
            caller.role
        ))),
    }
}

/// What an `If-Match` on a user names.
const USER_VERSION: &str = "user version";

/// A 409 when the request named a version (`If-Match`) other than the one `read`.
fn require_version(expected: Option<u64>, read: &UserRow) -> ApiResult<()> {
    match expected {
        Some(version) if i64::try_from(version).ok() != Some(read.version) => {
            Err(edited_meanwhile(read)?)
        }
        Some(_) | None => Ok(()),
    }
}

/// The 409 for a write that met another change of the user first, carrying `now`.
fn edited_meanwhile(now: &UserRow) -> ApiResult<ApiError> {
    Ok(ApiError::UserEditConflict(Box::new(now.to_wire()?)))
}

fn email_taken() -> ApiError {
    ApiError::Refused(
        ErrorCode::EmailTaken,
        "Another user already has this email".into(),
    )
}

fn last_owner() -> ApiError {
    ApiError::Refused(
        ErrorCode::LastOwner,
        "This is the last owner: make another user owner first".into(),
    )
}
