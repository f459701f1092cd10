//! Who is calling, and as what role: `Authorization: Bearer <token>` (the
//! `ADMIN_TOKEN` or a user's API token) or the session cookie that `POST /api/session`
//! hands out for either. Whether the role may do what the route does is decided in
//! `lib.rs` from the route's requirement (`shared::routes`); this module only says who.
//!
//! Behind Cloudflare Access, the JWT Access adds (`access.rs`) is one more credential:
//! its e-mail is mapped to a user.

use sha2::{Digest, Sha256};
use shared::errors::ErrorCode;
use shared::roles::Role;
use worker::{console_warn, D1Result, Request};

use crate::access::{self, AccessConfig, ASSERTION_HEADER};
use crate::app::App;
use crate::domain::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{bearer_token, header, is_https};
use crate::ids::{hash_token, new_id};
use crate::store::batch::{Answers, Batch};
use crate::store::caller::CallerSql;
use crate::store::sql::{first_of, Db, SqlArg, Statement};
use crate::store::users::{self, UserRow};
use crate::store::{sessions, tokens};

/// The session cookie's name on plain http (local development).
pub const SESSION_COOKIE: &str = "ia_session";
/// Its name over https. Browsers accept a `__Host-` cookie only from this very host, with
/// `Secure`, `Path=/` and no `Domain`, so a sibling subdomain cannot plant one.
pub const HOST_SESSION_COOKIE: &str = "__Host-ia_session";

/// The session cookie's name on this scheme.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        HOST_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The session token a `Cookie` header carries for this scheme, if any. More than one
/// session cookie (of either name) is refused rather than guessed between: one of them
/// may have been planted, and the first one found would otherwise win.
pub fn session_token(cookie_header: &str, secure: bool) -> ApiResult<Option<&str>> {
    let mut found = None;
    let mut count = 0;
    for pair in cookie_header.split(';') {
        let Some((name, value)) = pair.trim().split_once('=') else {
            continue;
        };
        if name == SESSION_COOKIE || name == HOST_SESSION_COOKIE {
            count += 1;
            if name == session_cookie_name(secure) {
                found = Some(value);
            }
        }
    }
    if count > 1 {
        return Err(ApiError::Refused(
            ErrorCode::AmbiguousSession,
            "This request carries more than one session cookie, so none is trusted. Clear \
             this site's cookies (or sign out) and sign in again."
                .into(),
        ));
    }
    Ok(found)
}
/// How long a session lasts.
pub const SESSION_TTL_SECS: i64 = 12 * 60 * 60;

/// A verified caller and, for cookie sessions, when the session ends.
pub struct Authenticated {
    /// Who.
    pub principal: Principal,
    /// Session expiry (ms), `None` for bearer tokens and Access.
    pub session_expires_ms: Option<i64>,
}

impl Authenticated {
    /// A caller without a session (a token or Access).
    fn without_session(principal: Principal) -> Self {
        Self {
            principal,
            session_expires_ms: None,
        }
    }
}

/// What a request presents as its credential, read from its headers before any lookup.
/// Looking it up is one D1 statement ([`Credential::lookup`]) that a handler on a hot
/// path batches with its own first reads, so that signing in costs no round trip of its
/// own (see `routes::runs`).
pub enum Credential {
    /// The `ADMIN_TOKEN`, compared in constant time: nothing to look up.
    AdminToken,
    /// A user's API token, by the SHA-256 of its secret.
    ApiToken {
        /// Hex SHA-256 of the presented secret.
        hash: String,
    },
    /// The session cookie, by the SHA-256 of its value.
    Session {
        /// Hex SHA-256 of the cookie value.
        hash: String,
    },
    /// A Cloudflare Access JWT, already verified and mapped to a user.
    Access(Principal),
}

impl Credential {
    /// Reads the credential: `Authorization` first, then an Access JWT (verified here,
    /// when Access is configured), then the session cookie. None at all is 401.
    pub async fn from_request(req: &Request, app: &App) -> ApiResult<Self> {
        if let Some(authorization) = header(req, "Authorization") {
            let token = bearer_token(&authorization).ok_or(ApiError::Unauthorized)?;
            return Ok(if token_matches(app, token) {
                Self::AdminToken
            } else {
                Self::ApiToken {
                    hash: hash_token(token),
                }
            });
        }
        if let Some(config) = app.access_config() {
            if let Some(assertion) = header(req, ASSERTION_HEADER) {
                return Ok(Self::Access(
                    access_principal(app, &config, &assertion).await?,
                ));
            }
        }
        let cookies = header(req, "Cookie").ok_or(ApiError::Unauthorized)?;
        let secure = is_https(req);
        let token = session_token(&cookies, secure)?.ok_or(ApiError::Unauthorized)?;
        Ok(Self::Session {
            hash: hash_token(token),
        })
    }

    /// Reads the credential of a `/pagerduty` request: only `Authorization`, as
    /// PagerDuty's `Token token=<key>` or `Bearer <key>`. No cookie or Access JWT is
    /// read, so nothing a browser sends by itself counts and no cross-site rule applies.
    pub fn from_pagerduty_request(req: &Request, app: &App) -> ApiResult<Self> {
        let authorization = header(req, "Authorization").ok_or(ApiError::Unauthorized)?;
        let token = shared::pagerduty::token_of(&authorization).ok_or(ApiError::Unauthorized)?;
        Ok(if token_matches(app, token) {
            Self::AdminToken
        } else {
            Self::ApiToken {
                hash: hash_token(token),
            }
        })
    }

    /// Whether a credential the browser sends by itself is used: the session cookie, or
    /// an Access JWT. Access adds its header to every request that carries its
    /// `CF_Authorization` cookie, whichever site caused the request, so it is as open to
    /// cross-site forgery as our own cookie and gets the same checks. Only a bearer
    /// token, which a browser never adds on its own, is exempt.
    pub fn is_ambient(&self) -> bool {
        match self {
            Self::Session { .. } | Self::Access(_) => true,
            Self::AdminToken | Self::ApiToken { .. } => false,
        }
    }

    /// Refuses a cross-site change made with an ambient credential (`browser.rs`). It
    /// needs no storage, so it runs before the credential is looked up and before
    /// anything is written: a refused request leaves no trace.
    pub fn guard_cross_site(&self, req: &Request) -> ApiResult<()> {
        if self.is_ambient() {
            crate::browser::guard_cookie_request(req)?;
        }
        Ok(())
    }

    /// The statement that looks the credential up, if it needs one.
    pub fn lookup(&self, db: &Db, now_ms: i64) -> ApiResult<Option<Statement>> {
        match self {
            Self::AdminToken | Self::Access(_) => Ok(None),
            Self::ApiToken { hash } => tokens::owner_statement(db, hash).map(Some),
            Self::Session { hash } => sessions::live_statement(db, hash, now_ms).map(Some),
        }
    }

    /// Who the caller is, given the result of [`Credential::lookup`] (`None` when it
    /// needed none). 401 when the lookup found nothing.
    pub fn resolve(self, app: &App, found: Option<&D1Result>) -> ApiResult<Authenticated> {
        match self {
            Self::AdminToken => Ok(Authenticated::without_session(Principal::admin())),
            Self::Access(principal) => Ok(Authenticated::without_session(principal)),
            Self::ApiToken { .. } => {
                let (_, user) =
                    tokens::token_owner(first_of(found)?).ok_or(ApiError::Unauthorized)?;
                Ok(Authenticated::without_session(user.into_principal()?))
            }
            Self::Session { .. } => {
                let session =
                    sessions::live_session(first_of(found)?).ok_or(ApiError::Unauthorized)?;
                let principal = match session.user {
                    Some(user) => user.into_principal()?,
                    // The built-in owner lasts only while the ADMIN_TOKEN it signed in
                    // with is set.
                    None if admin_session_is_current(app, session.admin_token_hash.as_deref()) => {
                        Principal::admin()
                    }
                    None => return Err(ApiError::Unauthorized),
                };
                Ok(Authenticated {
                    principal,
                    session_expires_ms: Some(session.expires_at),
                })
            }
        }
    }
}

impl Credential {
    /// The caller as SQL, see [`CallerSql`].
    pub fn caller_sql(&self, app: &App) -> CallerSql {
        let admin = Principal::admin();
        let quoted = |text: &str| format!("'{}'", text.replace('\'', "''"));
        let (id, name) = (quoted(&admin.id), quoted(&admin.name));
        let owner = quoted(Role::Owner.as_str());
        match self {
            Self::AdminToken => CallerSql::new(
                format!("SELECT {id} AS pid, {owner} AS prole, {name} AS pname"),
                Vec::new(),
            ),
            Self::Access(principal) => CallerSql::new(
                "SELECT $1 AS pid, $2 AS prole, $3 AS pname".to_owned(),
                vec![
                    SqlArg::Text(principal.id.clone()),
                    SqlArg::Text(principal.role.as_str().to_owned()),
                    SqlArg::Text(principal.name.clone()),
                ],
            ),
            Self::ApiToken { hash } => CallerSql::new(
                "SELECT u.id AS pid, u.role AS prole, u.name AS pname \
                           FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1"
                    .to_owned(),
                vec![SqlArg::Text(hash.clone())],
            ),
            // A built-in owner's session counts only while the ADMIN_TOKEN it signed in
            // with is the one set now (see `admin_session_is_current`).
            Self::Session { hash } => CallerSql::new(
                format!(
                    "SELECT COALESCE(s.user_id, {id}) AS pid, \
                         CASE WHEN s.user_id IS NULL THEN {owner} ELSE u.role END AS prole, \
                         CASE WHEN s.user_id IS NULL THEN {name} ELSE u.name END AS pname \
                     FROM sessions s LEFT JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2 \
                       AND (s.user_id IS NOT NULL OR s.admin_token_hash = $3)"
                ),
                vec![
                    SqlArg::Text(hash.clone()),
                    SqlArg::Int(app.now_ms),
                    SqlArg::Text(app.admin_token().map(|t| hash_token(&t)).unwrap_or_default()),
                ],
            ),
        }
    }
}

/// Runs `batch` in one round trip together with the credential's lookup, and answers who
/// the caller is with the batch's [`Answers`]. The statements run even for a caller who
/// then turns out not to be signed in, so they must only read, or write only as the
/// caller may (`CallerSql`).
pub async fn batch_with_lookup(
    credential: Credential,
    app: &App,
    db: &Db,
    batch: Batch,
) -> ApiResult<(Authenticated, Answers)> {
    let (statements, what) = batch.into_parts();
    let lookup = credential.lookup(db, app.now_ms)?;
    let looked_up = lookup.is_some();
    let mut all: Vec<Statement> = lookup.into_iter().collect();
    all.extend(statements);
    let mut results = db.batch(all).await?;
    let found = (looked_up && !results.is_empty()).then(|| results.remove(0));
    let caller = credential.resolve(app, found.as_ref())?;
    Ok((caller, Answers::new(results, what)))
}

/// Checks a credential on its own: one D1 round trip at most.
pub async fn authenticate(credential: Credential, app: &App) -> ApiResult<Authenticated> {
    let found = match credential.lookup(&app.db()?, app.now_ms)? {
        Some(lookup) => Some(lookup.all().await?),
        None => None,
    };
    credential.resolve(app, found.as_ref())
}

/// The user an Access JWT names by e-mail. An e-mail no user has is refused (403), or,
/// with `ACCESS_DEFAULT_ROLE`, becomes a new user with that role (audited).
async fn access_principal(
    app: &App,
    config: &AccessConfig,
    assertion: &str,
) -> ApiResult<Principal> {
    let email = access::verify(config, assertion, app.now_ms)
        .await?
        .map_err(|reason| {
            console_warn!("Cloudflare Access JWT refused: {reason}");
            ApiError::Unauthorized
        })?;
    let db = app.db()?;
    if let Some(user) = users::find_by_email(&db, &email).await? {
        return user.into_principal();
    }
    let Some(role) = app.access_default_role() else {
        return Err(ApiError::Forbidden(format!(
            "Cloudflare Access signed you in as {email}, but no user has that e-mail; ask an \
             admin to add you"
        )));
    };
    let row = UserRow {
        id: new_id("usr"),
        name: default_name(&email),
        email: email.clone(),
        role: role.as_str().to_owned(),
        created_at: app.now_ms,
        version: 1,
    };
    if users::insert(&db, &row, &Principal::access()).await? {
        return row.into_principal();
    }
    // A concurrent request created the user first.
    users::find_by_email(&db, &email)
        .await?
        .ok_or_else(|| ApiError::Internal("Access user neither created nor found".into()))
        .and_then(UserRow::into_principal)
}

/// A new Access user's display name: the e-mail, cut to the 80 characters names allow.
fn default_name(email: &str) -> String {
    email.chars().take(80).collect()
}

/// Who a presented token (bearer or sign-in) belongs to, and the API token's id when it
/// is one (`None` for `ADMIN_TOKEN`). `None` overall when it matches nothing.
pub async fn principal_for_token(
    app: &App,
    token: &str,
) -> ApiResult<Option<(Principal, Option<String>)>> {
    if token_matches(app, token) {
        return Ok(Some((Principal::admin(), None)));
    }
    // Looked up by hash: the lookup's timing depends on the hash, not on the secret.
    match tokens::find_by_hash(&app.db()?, &hash_token(token)).await? {
        Some((token_id, user)) => Ok(Some((user.into_principal()?, Some(token_id)))),
        None => Ok(None),
    }
}

/// Whether a built-in owner's session was signed in with the `ADMIN_TOKEN` set now;
/// changing or unsetting the secret ends every session opened with the old one.
fn admin_session_is_current(app: &App, signed_in_with: Option<&str>) -> bool {
    match (app.admin_token(), signed_in_with) {
        (Some(current), Some(hash)) => {
            constant_time_eq(hash_token(&current).as_bytes(), hash.as_bytes())
        }
        _ => false,
    }
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

/// The `Set-Cookie` value for a new session (or, with max age 0, for ending one). Over
/// https it is `__Host-ia_session` with `Secure`; plain-http loopback development would
/// lose a `Secure` cookie, so there it is `ia_session` without.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        session_cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use shared::roles::Permission;

    use super::*;

    #[test]
    fn equal_tokens_match_and_others_do_not() {
        assert!(constant_time_eq(b"s3cret-token", b"s3cret-token"));
        assert!(!constant_time_eq(b"s3cret-token", b"s3cret-tokeN"));
        assert!(!constant_time_eq(b"s3cret-token", b"s3cret"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn the_session_cookie_is_http_only_and_strict_and_host_only_over_https() {
        let cookie = session_cookie("abc", 60, true);
        assert_eq!(
            cookie,
            "__Host-ia_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
        assert!(!cookie.contains("Domain"));
        assert_eq!(
            session_cookie("abc", 60, false),
            "ia_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"
        );
    }

    #[test]
    fn the_session_is_read_from_the_cookie_named_for_the_scheme() {
        let read = |header, secure| session_token(header, secure).unwrap();
        assert_eq!(read("theme=dark; ia_session=a", false), Some("a"));
        assert_eq!(read("__Host-ia_session=b; theme=dark", true), Some("b"));
        // Over https a cookie without the prefix could come from a sibling: not read.
        assert_eq!(read("ia_session=planted", true), None);
        assert_eq!(read("xia_session=1", false), None);
    }

    #[test]
    fn more_than_one_session_cookie_is_refused() {
        for header in [
            "ia_session=a; ia_session=b",
            "__Host-ia_session=a; ia_session=planted",
            "ia_session=planted; __Host-ia_session=a",
        ] {
            for secure in [false, true] {
                assert!(
                    matches!(
                        session_token(header, secure),
                        Err(ApiError::Refused(ErrorCode::AmbiguousSession, _))
                    ),
                    "{header}"
                );
            }
        }
    }

    #[test]
    fn the_built_in_owner_may_do_everything() {
        let admin = Principal::admin();
        assert_eq!(admin.role, Role::Owner);
        assert!(Permission::ALL
            .into_iter()
            .all(|p| admin.require(p).is_ok()));
    }

    #[test]
    fn the_caller_as_sql_numbers_its_parameters_where_it_is_placed() {
        let sql = CallerSql::new(
            "SELECT $1 AS pid, $2 AS prole, $3 AS pname".to_owned(),
            vec![
                SqlArg::Text("a".into()),
                SqlArg::Text("b".into()),
                SqlArg::Int(1),
            ],
        );
        assert_eq!(sql.source(7), "SELECT ?7 AS pid, ?8 AS prole, ?9 AS pname");
        assert_eq!(sql.args().count(), 3);
    }

    #[test]
    fn the_roles_allowed_in_sql_are_those_of_the_role_table() {
        assert_eq!(
            CallerSql::allowed(Permission::RunActions),
            "p.prole IN ('responder', 'manager', 'admin', 'owner')"
        );
        assert_eq!(
            CallerSql::allowed(Permission::ReadAudit),
            "p.prole IN ('admin', 'owner')"
        );
    }

    #[test]
    fn a_token_hash_is_hex_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
