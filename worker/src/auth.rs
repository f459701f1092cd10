//! Who is calling: `Authorization: Bearer <ADMIN_TOKEN>` or the session cookie that
//! `POST /api/session` hands out. Roles and users arrive later; today every valid
//! credential is the bootstrap administrator.

use sha2::{Digest, Sha256};
use worker::Request;

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::http::{bearer_token, cookie_value, header};
use crate::ids::hex;
use crate::store::sessions;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ia_session";
/// How long a session lasts.
pub const SESSION_TTL_SECS: i64 = 12 * 60 * 60;

/// The caller, as runs and the timeline name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Stable id, recorded as `requested_by`.
    pub id: String,
    /// Display name.
    pub name: String,
}

impl Principal {
    /// The holder of `ADMIN_TOKEN`.
    pub fn admin() -> Self {
        Self {
            id: "admin".to_owned(),
            name: "Administrator".to_owned(),
        }
    }
}

/// A verified caller and, for cookie sessions, when the session ends.
pub struct Authenticated {
    /// Who.
    pub principal: Principal,
    /// Session expiry (ms), `None` for bearer tokens.
    pub session_expires_ms: Option<i64>,
}

impl Authenticated {
    /// Whether the browser's session cookie, not a bearer token, authenticated the
    /// request: only such requests are open to cross-site forgery.
    pub fn by_session_cookie(&self) -> bool {
        self.session_expires_ms.is_some()
    }
}

/// Checks the request's credentials.
pub async fn authenticate(req: &Request, app: &App) -> ApiResult<Authenticated> {
    if let Some(authorization) = header(req, "Authorization") {
        let token = bearer_token(&authorization).ok_or(ApiError::Unauthorized)?;
        return if token_matches(app, token) {
            Ok(Authenticated {
                principal: Principal::admin(),
                session_expires_ms: None,
            })
        } else {
            Err(ApiError::Unauthorized)
        };
    }
    let cookies = header(req, "Cookie").ok_or(ApiError::Unauthorized)?;
    let token = cookie_value(&cookies, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
    let session = sessions::find_live(&app.db()?, &hash_token(token), app.now_ms)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let principal = Principal::admin();
    if session.user_id != principal.id {
        return Err(ApiError::Unauthorized);
    }
    Ok(Authenticated {
        principal,
        session_expires_ms: Some(session.expires_at),
    })
}

/// Whether `candidate` is the configured `ADMIN_TOKEN`. An unset token matches nothing.
pub fn token_matches(app: &App, candidate: &str) -> bool {
    app.admin_token()
        .is_some_and(|expected| constant_time_eq(expected.as_bytes(), candidate.as_bytes()))
}

/// Compares without an early exit, so timing does not reveal how much of a guess matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Hashing first makes the lengths equal, so the length does not leak either.
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// What the sessions table stores instead of the cookie value.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The `Set-Cookie` value for a new session. `Secure` is set on https, where browsers
/// require it; plain-http loopback development would otherwise lose the cookie.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_tokens_match_and_others_do_not() {
        assert!(constant_time_eq(b"s3cret-token", b"s3cret-token"));
        assert!(!constant_time_eq(b"s3cret-token", b"s3cret-tokeN"));
        assert!(!constant_time_eq(b"s3cret-token", b"s3cret"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn the_session_cookie_is_http_only_and_strict() {
        let cookie = session_cookie("abc", 60, true);
        assert_eq!(
            cookie,
            "ia_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
        assert!(!session_cookie("abc", 60, false).contains("Secure"));
    }

    #[test]
    fn a_token_hash_is_hex_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
