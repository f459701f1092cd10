//! The Incident Actions worker's entry points: each request is resolved against the route
//! table (`shared::routes`), its caller established, and handed to its handler.
//!
//! Static assets (the SPA) are served by the platform before this code runs; only
//! `/api/*`, `/v2/*` and `/pagerduty/*` reach it (`run_worker_first` in wrangler.toml).
//! Every answer leaves through `fetch`, which adds the security headers (`browser.rs`).

mod access;
mod app;
mod auth;
mod browser;
mod delivery;
mod domain;
mod error;
mod http;
mod ids;
mod kept_request;
mod rate_limit;
mod routes;
mod scheduled;
mod sealed;
mod signature;
mod store;
mod template;

use shared::errors::ErrorCode;
use shared::incident::IncidentStatus;
use shared::roles::Permission;
use shared::routes::{
    is_pagerduty_path, resolve, CallerLookup, HttpMethod, PathIds, Requirement, Resolved, Route,
};
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

use crate::app::App;
use crate::auth::{authenticate, Authenticated, Credential};
use crate::domain::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::header;
use crate::routes::{
    actions, audit, events, incidents, openapi, pagerduty, preview, runs, services, session, users,
};

#[event(start)]
fn start() {
    console_error_panic_hook_set();
}

/// Panics show up in `wrangler tail` with a message instead of "unreachable".
fn console_error_panic_hook_set() {
    std::panic::set_hook(Box::new(|info| {
        worker::console_error!("panic: {info}");
    }));
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let app = App::new(env);
    let path = req.path();
    let result = match resolve(http_method(&req.method()), &path) {
        Resolved::Found(route, ids) => dispatch(req, &app, &ctx, route, ids).await,
        Resolved::MethodNotAllowed => Err(ApiError::MethodNotAllowed),
        Resolved::NotFound => Err(ApiError::NotFound("Route")),
    };
    let response = if is_pagerduty_path(&path) {
        result.or_else(ApiError::into_pagerduty_response)?
    } else {
        result.or_else(ApiError::into_response)?
    };
    browser::add_security_headers(response.headers())?;
    Ok(response)
}

/// The Cron Triggers (wrangler.toml): every minute, housekeeping; every hour, pruning
/// incidents past the per-service cap (`scheduled.rs`).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    scheduled::run(&App::new(env), &event.cron()).await;
}

/// The method as the route table knows it; `None` for methods no route answers.
fn http_method(method: &Method) -> Option<HttpMethod> {
    match method {
        Method::Get => Some(HttpMethod::Get),
        Method::Post => Some(HttpMethod::Post),
        Method::Put => Some(HttpMethod::Put),
        Method::Patch => Some(HttpMethod::Patch),
        Method::Delete => Some(HttpMethod::Delete),
        Method::Head | Method::Options | Method::Connect | Method::Trace | Method::Report => None,
    }
}

/// Who is calling, established from the route's declaration before its handler runs.
enum Caller {
    /// An open route: nobody in particular.
    Anyone,
    /// Signed in (from this site when the credential is ambient) and holding what the
    /// route requires.
    Known(Authenticated),
    /// A route that looks its caller up in its own first batch
    /// (`CallerLookup::InFirstBatch`): the credential, read and checked for cross-site use
    /// (which needs no storage, so before that batch writes anything), and the permission
    /// the handler checks on what the batch finds.
    InFirstBatch(Credential, Permission),
}

impl Caller {
    /// Who it is, for a route whose caller was established before its handler.
    fn known(self) -> ApiResult<Authenticated> {
        match self {
            Self::Known(caller) => Ok(caller),
            Self::Anyone | Self::InFirstBatch(..) => Err(mismatch("a known caller")),
        }
    }

    /// Who it is, without the session's expiry.
    fn principal(self) -> ApiResult<Principal> {
        self.known().map(|caller| caller.principal)
    }

    /// The credential and permission of a route that looks its caller up itself.
    fn in_first_batch(self) -> ApiResult<(Credential, Permission)> {
        match self {
            Self::InFirstBatch(credential, permission) => Ok((credential, permission)),
            Self::Anyone | Self::Known(_) => Err(mismatch("a caller to look up")),
        }
    }
}

/// A dispatch arm asked for another kind of caller than its route declares: a defect,
/// caught by the authorization matrix, never a way in.
fn mismatch(wanted: &str) -> ApiError {
    ApiError::Internal(format!(
        "a handler wanted {wanted} that its route does not declare"
    ))
}

/// Establishes the caller of `route` as its line in `shared::routes` declares: the one
/// place every request's credential is read and its requirement checked.
async fn establish(req: &Request, app: &App, route: Route) -> ApiResult<Caller> {
    let requirement = route.requirement();
    match (requirement, route.caller_lookup()) {
        (Requirement::Open, _) => Ok(Caller::Anyone),
        (Requirement::Permission(permission), CallerLookup::InFirstBatch) => {
            let credential = Credential::from_request(req, app).await?;
            credential.guard_cross_site(req)?;
            Ok(Caller::InFirstBatch(credential, permission))
        }
        (Requirement::SignedIn, CallerLookup::InFirstBatch) => Err(ApiError::Internal(format!(
            "{route:?} looks its caller up itself but requires no permission"
        ))),
        (Requirement::SignedIn | Requirement::Permission(_), CallerLookup::BeforeHandler) => {
            let caller = if is_pagerduty_path(route.path()) {
                pagerduty_caller(req, app).await?
            } else {
                api_caller(req, app).await?
            };
            if let Requirement::Permission(permission) = requirement {
                caller.principal.require(permission)?;
            }
            Ok(Caller::Known(caller))
        }
    }
}

/// A caller of `/api`: a bearer token, an Access JWT or the session cookie.
async fn api_caller(req: &Request, app: &App) -> ApiResult<Authenticated> {
    let credential = Credential::from_request(req, app).await?;
    // Looking the credential up writes nothing, so a bad credential is told 401 before
    // the cross-site rules are applied.
    let cross_site = credential.guard_cross_site(req);
    let caller = authenticate(credential, app).await?;
    cross_site?;
    Ok(caller)
}

/// A caller of the PagerDuty REST API: `Authorization` only (no cookies, so no cross-site
/// rules). With the `ADMIN_TOKEN`, `From` names the user acting and must be a known
/// user's e-mail (400 otherwise); with a user's token it is ignored, as PagerDuty ignores
/// it for user-level keys.
async fn pagerduty_caller(req: &Request, app: &App) -> ApiResult<Authenticated> {
    let credential = Credential::from_pagerduty_request(req, app)?;
    let admin_token = matches!(credential, Credential::AdminToken);
    let mut caller = authenticate(credential, app).await?;
    if let (true, Some(from)) = (admin_token, header(req, "From")) {
        let user = store::users::find_by_email(&app.db()?, from.trim())
            .await?
            .ok_or_else(|| {
                ApiError::Refused(
                    ErrorCode::RequesterNotFound,
                    format!("From: {} is not a known user's e-mail", from.trim()),
                )
            })?;
        caller.principal = user.into_principal()?;
    }
    Ok(caller)
}

/// One arm per route: the compiler checks that every route of `shared::routes` has a
/// handler.
async fn dispatch(
    req: Request,
    app: &App,
    ctx: &Context,
    route: Route,
    ids: PathIds<'_>,
) -> ApiResult<Response> {
    use Route as R;
    let caller = establish(&req, app, route).await?;
    let (first, second) = (ids.first(), ids.second());
    match route {
        // Open: the Events APIs (their routing key is the credential, and no browser
        // holds it) and signing in, which other sites may not do.
        R::Enqueue => events::enqueue(req, app).await,
        R::ChangeEnqueue => events::change_enqueue(req, app).await,
        R::SignIn => {
            browser::guard_sign_in(&req)?;
            session::sign_in(req, app).await
        }
        R::RunAction => {
            let (credential, permission) = caller.in_first_batch()?;
            runs::create_run(req, app, ctx, credential, permission, first, second).await
        }
        R::Redeliver => {
            let (credential, permission) = caller.in_first_batch()?;
            runs::redeliver(req, app, ctx, credential, permission, first).await
        }
        R::GetIncident => {
            let (credential, permission) = caller.in_first_batch()?;
            incidents::get_incident(app, credential, permission, first).await
        }

        R::GetSession => session::current_session(&caller.known()?, app),
        R::SignOut => session::sign_out(&req, app).await,
        R::GetMe => session::get_me(&caller.principal()?),
        R::GetOpenApi => openapi::get_document(),

        R::ListServices => services::list_services(app, &caller.principal()?).await,
        R::CreateService => {
            let who = caller.principal()?;
            services::create_service(req, app, &who).await
        }
        R::GetService => services::get_service(app, &caller.principal()?, first).await,
        R::UpdateService => {
            let who = caller.principal()?;
            services::update_service(req, app, &who, first).await
        }
        R::DeleteService => services::delete_service(app, &caller.principal()?, first).await,
        R::RotateRoutingKey => {
            let who = caller.principal()?;
            services::rotate_routing_key(req, app, &who, first).await
        }

        R::ListChanges => services::list_changes(&req, app, first).await,
        R::ListActions => actions::list_actions(app, &caller.principal()?, first).await,
        R::CreateAction => {
            let who = caller.principal()?;
            actions::create_action(req, app, &who, first).await
        }
        R::GetAction => actions::get_action(app, &caller.principal()?, first, second).await,
        R::UpdateAction => {
            let who = caller.principal()?;
            actions::update_action(req, app, &who, first, second).await
        }
        R::DeleteAction => actions::delete_action(app, &caller.principal()?, first, second).await,
        R::RotateSecret => {
            let who = caller.principal()?;
            actions::rotate_secret(req, app, &who, first, second).await
        }
        R::PreviewDraft => {
            let who = caller.principal()?;
            preview::preview_request(req, app, &who, first, None).await
        }
        R::PreviewAction => {
            let who = caller.principal()?;
            preview::preview_request(req, app, &who, first, Some(second)).await
        }

        R::ListActionRuns => {
            let who = caller.principal()?;
            runs::list_action_runs(&req, app, &who, first, second).await
        }

        R::ListIncidents => incidents::list_incidents(&req, app, &caller.principal()?).await,
        R::CreateIncident => {
            let who = caller.principal()?;
            incidents::create_incident(req, app, &who).await
        }
        R::Acknowledge => {
            let who = caller.principal()?;
            incidents::transition_incident(app, &who, first, IncidentStatus::Acknowledged).await
        }
        R::Resolve => {
            let who = caller.principal()?;
            incidents::transition_incident(app, &who, first, IncidentStatus::Resolved).await
        }
        R::GetLog => incidents::get_log(&req, app, &caller.principal()?, first).await,
        R::AddNote => {
            let who = caller.principal()?;
            incidents::add_note(req, app, &who, first).await
        }
        R::ListRuns => runs::list_runs(&req, app, &caller.principal()?, first).await,
        R::GetRun => runs::get_run(app, &caller.principal()?, first).await,

        R::ListAudit => audit::list_audit(&req, app).await,

        R::PdListIncidents => {
            let who = caller.principal()?;
            pagerduty::list_incidents(&req, app, &who).await
        }
        R::PdCreateIncident => {
            let who = caller.principal()?;
            pagerduty::create_incident(req, app, &who).await
        }
        R::PdUpdateIncidents => {
            let who = caller.principal()?;
            pagerduty::update_incidents(req, app, &who).await
        }
        R::PdGetIncident => {
            let who = caller.principal()?;
            pagerduty::get_incident(&req, app, &who, first).await
        }
        R::PdUpdateIncident => {
            let who = caller.principal()?;
            pagerduty::update_incident(req, app, &who, first).await
        }
        R::PdListNotes => {
            let who = caller.principal()?;
            pagerduty::list_notes(app, &who, first).await
        }
        R::PdCreateNote => {
            let who = caller.principal()?;
            pagerduty::create_note(req, app, &who, first).await
        }
        R::PdListLogEntries => {
            let who = caller.principal()?;
            pagerduty::list_log_entries(&req, app, &who, first).await
        }
        R::PdListServices => {
            let who = caller.principal()?;
            pagerduty::list_services(&req, app, &who).await
        }
        R::PdGetService => {
            let who = caller.principal()?;
            pagerduty::get_service(&req, app, &who, first).await
        }

        R::ListUsers => users::list_users(app).await,
        R::CreateUser => {
            let who = caller.principal()?;
            users::create_user(req, app, &who).await
        }
        R::GetUser => users::get_user(app, first).await,
        R::UpdateUser => {
            let who = caller.principal()?;
            users::update_user(req, app, &who, first).await
        }
        R::DeleteUser => users::delete_user(&req, app, &caller.principal()?, first).await,
        R::ListTokens => users::list_tokens(app, first).await,
        R::CreateToken => {
            let who = caller.principal()?;
            users::create_token(req, app, &who, first).await
        }
        R::DeleteToken => users::delete_token(app, &caller.principal()?, first, second).await,
    }
}
