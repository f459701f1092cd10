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
mod error;
mod http;
mod ids;
mod kept_request;
mod rate_limit;
mod redact;
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
    is_pagerduty_path, resolve, HttpMethod, PathIds, Requirement, Resolved, Route,
};
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

use crate::app::App;
use crate::auth::{authenticate, Authenticated, Credential, Principal};
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

/// Establishes who is calling, as a route's handler needs it.
struct Gate<'a> {
    req: &'a Request,
    app: &'a App,
    route: Route,
}

impl Gate<'_> {
    /// Signed in, from this site when the credential is ambient, and holding what the
    /// route requires.
    async fn caller(&self) -> ApiResult<Authenticated> {
        let credential = Credential::from_request(self.req, self.app).await?;
        credential.guard_cross_site(self.req)?;
        let caller = authenticate(credential, self.app).await?;
        self.require(&caller.principal)?;
        Ok(caller)
    }

    /// A caller of the PagerDuty REST API: `Authorization` only (no cookies, so no
    /// cross-site rules). With the `ADMIN_TOKEN`, `From` names the user acting and must be
    /// a known user's e-mail (400 otherwise); with a user's token it is ignored, as
    /// PagerDuty ignores it for user-level keys.
    async fn pagerduty_caller(&self) -> ApiResult<Principal> {
        let credential = Credential::from_pagerduty_request(self.req, self.app)?;
        let admin_token = matches!(credential, Credential::AdminToken);
        let mut caller = authenticate(credential, self.app).await?.principal;
        if let (true, Some(from)) = (admin_token, header(self.req, "From")) {
            let user = store::users::find_by_email(&self.app.db()?, from.trim())
                .await?
                .ok_or_else(|| {
                    ApiError::Refused(
                        ErrorCode::RequesterNotFound,
                        format!("From: {} is not a known user's e-mail", from.trim()),
                    )
                })?;
            caller = Principal::from_user(user)?;
        }
        self.require(&caller)?;
        Ok(caller)
    }

    fn require(&self, caller: &Principal) -> ApiResult<()> {
        match self.route.requirement() {
            Requirement::Permission(permission) => caller.require(permission),
            Requirement::Open | Requirement::SignedIn => Ok(()),
        }
    }

    /// For the hot paths, which look the credential up in their own first batch (so that
    /// signing in costs no round trip of its own) and check the permission themselves.
    /// The cross-site rules need no storage, so they are checked here, before that batch
    /// writes anything.
    async fn credential_and_permission(&self) -> ApiResult<(Credential, Permission)> {
        let Requirement::Permission(permission) = self.route.requirement() else {
            return Err(ApiError::Internal(format!(
                "{:?} looks its caller up itself but requires no permission",
                self.route
            )));
        };
        let credential = Credential::from_request(self.req, self.app).await?;
        credential.guard_cross_site(self.req)?;
        Ok((credential, permission))
    }
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
    let gate = Gate {
        req: &req,
        app,
        route,
    };
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
            let (credential, permission) = gate.credential_and_permission().await?;
            runs::create_run(req, app, ctx, credential, permission, first, second).await
        }
        R::Redeliver => {
            let (credential, permission) = gate.credential_and_permission().await?;
            runs::redeliver(req, app, ctx, credential, permission, first).await
        }
        R::GetIncident => {
            let (credential, permission) = gate.credential_and_permission().await?;
            incidents::get_incident(app, credential, permission, first).await
        }

        R::GetSession => session::current_session(&gate.caller().await?, app),
        R::SignOut => {
            gate.caller().await?;
            session::sign_out(&req, app).await
        }
        R::GetMe => session::get_me(&gate.caller().await?.principal),
        R::GetOpenApi => openapi::get_document(),

        R::ListServices => services::list_services(app, &gate.caller().await?.principal).await,
        R::CreateService => {
            let who = gate.caller().await?.principal;
            services::create_service(req, app, &who).await
        }
        R::GetService => services::get_service(app, &gate.caller().await?.principal, first).await,
        R::UpdateService => {
            let who = gate.caller().await?.principal;
            services::update_service(req, app, &who, first).await
        }
        R::DeleteService => {
            services::delete_service(app, &gate.caller().await?.principal, first).await
        }
        R::RotateRoutingKey => {
            let who = gate.caller().await?.principal;
            services::rotate_routing_key(req, app, &who, first).await
        }

        R::ListChanges => {
            gate.caller().await?;
            services::list_changes(&req, app, first).await
        }
        R::ListActions => actions::list_actions(app, &gate.caller().await?.principal, first).await,
        R::CreateAction => {
            let who = gate.caller().await?.principal;
            actions::create_action(req, app, &who, first).await
        }
        R::GetAction => {
            actions::get_action(app, &gate.caller().await?.principal, first, second).await
        }
        R::UpdateAction => {
            let who = gate.caller().await?.principal;
            actions::update_action(req, app, &who, first, second).await
        }
        R::DeleteAction => {
            actions::delete_action(app, &gate.caller().await?.principal, first, second).await
        }
        R::RotateSecret => {
            let who = gate.caller().await?.principal;
            actions::rotate_secret(req, app, &who, first, second).await
        }
        R::PreviewDraft => {
            let who = gate.caller().await?.principal;
            preview::preview_request(req, app, &who, first, None).await
        }
        R::PreviewAction => {
            let who = gate.caller().await?.principal;
            preview::preview_request(req, app, &who, first, Some(second)).await
        }

        R::ListActionRuns => {
            let who = gate.caller().await?.principal;
            runs::list_action_runs(&req, app, &who, first, second).await
        }

        R::ListIncidents => {
            gate.caller().await?;
            incidents::list_incidents(&req, app).await
        }
        R::CreateIncident => {
            let who = gate.caller().await?.principal;
            incidents::create_incident(req, app, &who).await
        }
        R::Acknowledge => {
            let who = gate.caller().await?.principal;
            incidents::transition_incident(app, &who, first, IncidentStatus::Acknowledged).await
        }
        R::Resolve => {
            let who = gate.caller().await?.principal;
            incidents::transition_incident(app, &who, first, IncidentStatus::Resolved).await
        }
        R::GetLog => incidents::get_log(&req, app, &gate.caller().await?.principal, first).await,
        R::AddNote => {
            let who = gate.caller().await?.principal;
            incidents::add_note(req, app, &who, first).await
        }
        R::ListRuns => runs::list_runs(app, &gate.caller().await?.principal, first).await,
        R::GetRun => runs::get_run(app, &gate.caller().await?.principal, first).await,

        R::ListAudit => {
            gate.caller().await?;
            audit::list_audit(app).await
        }

        R::PdListIncidents => {
            gate.pagerduty_caller().await?;
            pagerduty::list_incidents(&req, app).await
        }
        R::PdCreateIncident => {
            let who = gate.pagerduty_caller().await?;
            pagerduty::create_incident(req, app, &who).await
        }
        R::PdUpdateIncidents => {
            let who = gate.pagerduty_caller().await?;
            pagerduty::update_incidents(req, app, &who).await
        }
        R::PdGetIncident => {
            gate.pagerduty_caller().await?;
            pagerduty::get_incident(&req, app, first).await
        }
        R::PdUpdateIncident => {
            let who = gate.pagerduty_caller().await?;
            pagerduty::update_incident(req, app, &who, first).await
        }
        R::PdListNotes => {
            gate.pagerduty_caller().await?;
            pagerduty::list_notes(app, first).await
        }
        R::PdCreateNote => {
            let who = gate.pagerduty_caller().await?;
            pagerduty::create_note(req, app, &who, first).await
        }
        R::PdListLogEntries => {
            gate.pagerduty_caller().await?;
            pagerduty::list_log_entries(&req, app, first).await
        }
        R::PdListServices => {
            gate.pagerduty_caller().await?;
            pagerduty::list_services(&req, app).await
        }
        R::PdGetService => {
            gate.pagerduty_caller().await?;
            pagerduty::get_service(&req, app, first).await
        }

        R::ListUsers => {
            gate.caller().await?;
            users::list_users(app).await
        }
        R::CreateUser => {
            let who = gate.caller().await?.principal;
            users::create_user(req, app, &who).await
        }
        R::GetUser => {
            gate.caller().await?;
            users::get_user(app, first).await
        }
        R::UpdateUser => {
            let who = gate.caller().await?.principal;
            users::update_user(req, app, &who, first).await
        }
        R::DeleteUser => {
            users::delete_user(&req, app, &gate.caller().await?.principal, first).await
        }
        R::ListTokens => {
            gate.caller().await?;
            users::list_tokens(app, first).await
        }
        R::CreateToken => {
            let who = gate.caller().await?.principal;
            users::create_token(req, app, &who, first).await
        }
        R::DeleteToken => {
            users::delete_token(app, &gate.caller().await?.principal, first, second).await
        }
    }
}
