//! The Incident Actions worker: the route table, and nothing else.
//!
//! Static assets (the SPA) are served by the platform before this code runs; only
//! `/api/*` and `/v2/*` reach it (`run_worker_first` in wrangler.toml). Every answer
//! leaves through `fetch`, which adds the security headers (`browser.rs`).

mod access;
mod app;
mod auth;
mod browser;
mod delivery;
mod error;
mod http;
mod ids;
mod rate_limit;
mod redact;
mod route;
mod routes;
mod scheduled;
mod sealed;
mod signature;
mod store;
mod template;

use shared::incident::IncidentStatus;
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

use crate::app::App;
use crate::auth::{authenticate, Credential};
use crate::error::{ApiError, ApiResult};
use crate::route::{Requirement, Route};
use crate::routes::{actions, audit, events, incidents, preview, runs, services, session, users};

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
    let result = match route::resolve(&path) {
        Some(route) => dispatch(req, &app, &ctx, route).await,
        None => Err(ApiError::NotFound("Route")),
    };
    let response = result.or_else(ApiError::into_response)?;
    browser::add_security_headers(response.headers())?;
    Ok(response)
}

/// The Cron Trigger (every minute, wrangler.toml): settles runs left `running`, and sweeps
/// expired sessions, old rate-limit windows and unreferenced action revisions.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    scheduled::run(&App::new(env)).await;
}

async fn dispatch(req: Request, app: &App, ctx: &Context, route: Route<'_>) -> ApiResult<Response> {
    use Method::{Delete, Get, Patch, Post};
    use Route as R;

    let requirement = route::requirement(&req.method(), &route);
    // The two routes open without a session: the Events API (its routing key is the
    // credential, and no browser holds it) and signing in, which other sites may not do.
    match (requirement, route) {
        (Some(Requirement::Open), R::Enqueue) => return events::enqueue(req, app).await,
        (Some(Requirement::Open), _) => {
            browser::guard_sign_in(&req)?;
            return session::sign_in(req, app).await;
        }
        (None, R::Enqueue) => return Err(ApiError::MethodNotAllowed),
        _ => {}
    }
    let credential = Credential::from_request(&req, app).await?;
    // The two hot paths look the credential up in their own first batch, so that signing
    // in costs no round trip of its own; they check the permission themselves.
    match (requirement, req.method(), route) {
        (Some(Requirement::Permission(permission)), Post, R::ActionRuns(incident, action)) => {
            return runs::create_run(req, app, ctx, credential, permission, incident, action).await;
        }
        (Some(Requirement::Permission(permission)), Get, R::Incident(id)) => {
            return incidents::get_incident(&req, app, credential, permission, id).await;
        }
        _ => {}
    }
    let caller = authenticate(credential, app).await?;
    caller.guard_cross_site(&req)?;
    let who = &caller.principal;
    match requirement {
        None => return Err(ApiError::MethodNotAllowed),
        Some(Requirement::Permission(permission)) => who.require(permission)?,
        Some(Requirement::Open | Requirement::SignedIn) => {}
    }
    match (req.method(), route) {
        (Get, R::Session) => session::current_session(&caller, app),
        (Delete, R::Session) => session::sign_out(&req, app).await,
        (Get, R::Me) => session::get_me(who),

        (Get, R::Services) => services::list_services(app, who).await,
        (Post, R::Services) => services::create_service(req, app, who).await,
        (Get, R::Service(id)) => services::get_service(app, who, id).await,
        (Patch, R::Service(id)) => services::update_service(req, app, who, id).await,
        (Delete, R::Service(id)) => services::delete_service(app, who, id).await,

        (Get, R::Actions(service)) => actions::list_actions(app, who, service).await,
        (Post, R::Actions(service)) => actions::create_action(req, app, who, service).await,
        (Get, R::Action(service, id)) => actions::get_action(app, who, service, id).await,
        (Patch, R::Action(service, id)) => actions::update_action(req, app, who, service, id).await,
        (Delete, R::Action(service, id)) => actions::delete_action(app, who, service, id).await,
        (Post, R::RotateSecret(service, id)) => {
            actions::rotate_secret(req, app, who, service, id).await
        }
        (Post, R::DraftPreview(service)) => {
            preview::preview_request(req, app, who, service, None).await
        }
        (Post, R::ActionPreview(service, id)) => {
            preview::preview_request(req, app, who, service, Some(id)).await
        }

        (Get, R::Incidents) => incidents::list_incidents(&req, app).await,
        (Post, R::Acknowledge(id)) => {
            incidents::transition_incident(app, who, id, IncidentStatus::Acknowledged).await
        }
        (Post, R::Resolve(id)) => {
            incidents::transition_incident(app, who, id, IncidentStatus::Resolved).await
        }
        (Get, R::IncidentLog(id)) => incidents::get_log(app, who, id).await,
        (Post, R::IncidentNotes(id)) => incidents::add_note(req, app, who, id).await,
        (Get, R::IncidentRuns(id)) => runs::list_runs(app, who, id).await,
        (Get, R::Run(id)) => runs::get_run(app, who, id).await,

        (Get, R::Audit) => audit::list_audit(app).await,

        (Get, R::Users) => users::list_users(app).await,
        (Post, R::Users) => users::create_user(req, app, who).await,
        (Get, R::User(id)) => users::get_user(app, id).await,
        (Patch, R::User(id)) => users::update_user(req, app, who, id).await,
        (Delete, R::User(id)) => users::delete_user(app, who, id).await,
        (Get, R::UserTokens(id)) => users::list_tokens(app, id).await,
        (Post, R::UserTokens(id)) => users::create_token(req, app, who, id).await,
        (Delete, R::UserToken(id, token)) => users::delete_token(app, who, id, token).await,

        _ => Err(ApiError::MethodNotAllowed),
    }
}
