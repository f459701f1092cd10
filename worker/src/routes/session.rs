//! Sign-in and sign-out: exchange a token (the `ADMIN_TOKEN` or a user's API token) for
//! an `HttpOnly`, `SameSite=Strict`, expiring session cookie, so the token itself never
//! sits in the browser. `GET /api/me` says who the caller is.

use shared::api::{Me, MeResponse, SessionInfo, SessionResponse, Settings, SignInRequest};
use shared::roles::{Permission, Role};
use shared::time::format_rfc3339;
use worker::{Request, Response};

use crate::app::App;
use crate::auth::{
    principal_for_token, session_cookie, session_token, Authenticated, SESSION_TTL_SECS,
};
use crate::domain::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{header, is_https, json_response, no_content, read_json};
use crate::ids::hash_token;
use crate::ids::new_session_token;
use crate::rate_limit::{client_ip, exceeds, sign_in_bucket, Window};
use crate::store::rate_limits;
use crate::store::sessions::{self, SessionOwner};

/// `POST /api/session`. The session is bound to the token's user and to the token, so
/// deleting either ends it.
///
/// Failed sign-ins are limited per client address. Each attempt is counted before the
/// token is checked and taken back if it succeeds: counting first makes the check
/// atomic (concurrent guesses cannot all slip under the limit), and once the limit is
/// reached every attempt from that address is refused, the right token included, so a
/// guesser learns nothing from the answers until the window ends.
pub async fn sign_in(mut req: Request, app: &App) -> ApiResult<Response> {
    let body: SignInRequest = read_json(&mut req).await?;
    let db = app.db()?;
    let window = Window::at(app.now_ms);
    let bucket = sign_in_bucket(&client_ip(&req));
    if exceeds(
        rate_limits::hit(&db, &bucket, window).await?,
        app.sign_in_failures_per_minute(),
    ) {
        return Err(ApiError::RateLimited {
            what: "failed sign-ins from this address",
            retry_after_secs: window.retry_after_secs,
        });
    }
    let presented = body.token.trim();
    let (principal, token_id) = principal_for_token(app, presented)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    rate_limits::release(&db, &bucket, window).await?;
    let admin_token_hash = hash_token(presented);
    let owner = match (&principal.member, &token_id) {
        (Some(_), Some(token_id)) => SessionOwner::User {
            user_id: &principal.id,
            token_id,
        },
        _ => SessionOwner::BuiltIn {
            admin_token_hash: &admin_token_hash,
        },
    };
    let token = new_session_token();
    let expires_ms = app.now_ms + SESSION_TTL_SECS * 1000;
    sessions::insert(&db, &hash_token(&token), owner, app.now_ms, expires_ms).await?;
    let secure = is_https(&req);
    let caller = Authenticated {
        principal,
        session_expires_ms: Some(expires_ms),
    };
    let mut response = json_response(&session_response(&caller, app), 200)?;
    response.headers_mut().set(
        "Set-Cookie",
        &session_cookie(&token, SESSION_TTL_SECS, secure),
    )?;
    if secure {
        // A cookie of the old name from before the prefix would make every request carry
        // two session cookies: end it (one of this host's own; a planted one with a
        // Domain cannot be ended from here, and keeps being refused).
        response
            .headers_mut()
            .append("Set-Cookie", &session_cookie("", 0, false))?;
    }
    Ok(response)
}

/// `GET /api/session`: who is signed in, and the settings the SPA validates with.
pub fn current_session(caller: &Authenticated, app: &App) -> ApiResult<Response> {
    Ok(json_response(&session_response(caller, app), 200)?)
}

/// `DELETE /api/session`: ends the cookie's session at once.
pub async fn sign_out(req: &Request, app: &App) -> ApiResult<Response> {
    let secure = is_https(req);
    let cookies = header(req, "Cookie").unwrap_or_default();
    if let Some(token) = session_token(&cookies, secure)? {
        sessions::delete(&app.db()?, &hash_token(token), app.now_ms).await?;
    }
    let mut response = no_content()?;
    response
        .headers_mut()
        .set("Set-Cookie", &session_cookie("", 0, secure))?;
    Ok(response)
}

/// `GET /api/me`: who the caller is and their role.
pub fn get_me(caller: &Principal) -> ApiResult<Response> {
    let user = match &caller.member {
        Some(member) => Me {
            id: caller.id.clone(),
            name: caller.name.clone(),
            email: Some(member.email.clone()),
            role: caller.role,
            created_at: Some(format_rfc3339(member.created_at)),
            built_in: false,
        },
        None => Me {
            id: caller.id.clone(),
            name: caller.name.clone(),
            email: None,
            role: caller.role,
            created_at: None,
            built_in: true,
        },
    };
    Ok(json_response(&MeResponse { user }, 200)?)
}

fn session_response(caller: &Authenticated, app: &App) -> SessionResponse {
    SessionResponse {
        session: SessionInfo {
            user_id: caller.principal.id.clone(),
            user_name: caller.principal.name.clone(),
            role: Some(caller.principal.role),
            expires_at: caller.session_expires_ms.map(format_rfc3339),
        },
        settings: settings_for(caller.principal.role, app),
    }
}

/// The deployment settings the action form validates with. They name internal hosts, so
/// only roles that edit actions get them; everyone else gets empty values.
fn settings_for(role: Role, app: &App) -> Settings {
    if role.can(Permission::ManageActions) {
        Settings {
            private_endpoint_allowlist: app.private_endpoint_allowlist(),
            own_hosts: app.own_hosts(),
        }
    } else {
        Settings::default()
    }
}
