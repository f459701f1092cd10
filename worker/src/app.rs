//! `App`: what a handler needs from the environment (bindings, settings, the clock),
//! read once per request.

use std::rc::Rc;

use shared::endpoint::EndpointPolicy;
use shared::roles::Role;
use worker::Env;

use crate::access::AccessConfig;
use crate::error::{ApiError, ApiResult};
use crate::rate_limit::{
    parse_limit, EventRate, DEFAULT_RUNS_PER_MINUTE_PER_USER, DEFAULT_SIGN_IN_FAILURES_PER_MINUTE,
};
use crate::store::kv::Kv;
use crate::store::sql::{Db, RoundTrips};

/// The KV namespace holding action configuration.
const CONFIG_BINDING: &str = "CONFIG";
/// The D1 database holding incidents, timelines, runs and sessions.
const DB_BINDING: &str = "DB";

/// Per-request access to bindings and settings. Cloning is cheap (JS handles), and a
/// clone shares the request's round-trip counter.
#[derive(Clone)]
pub struct App {
    env: Env,
    /// Milliseconds since the epoch when the request arrived.
    pub now_ms: i64,
    trips: Rc<RoundTrips>,
}

impl App {
    /// Wraps the environment of one request.
    pub fn new(env: Env) -> Self {
        Self {
            env,
            now_ms: now_ms(),
            trips: Rc::default(),
        }
    }

    /// The D1 database.
    pub fn db(&self) -> ApiResult<Db> {
        self.env
            .d1(DB_BINDING)
            .map(|db| Db::new(db, Rc::clone(&self.trips)))
            .map_err(|e| ApiError::Internal(format!("D1 binding {DB_BINDING}: {e}")))
    }

    /// The KV namespace.
    pub fn kv(&self) -> ApiResult<Kv> {
        self.env
            .kv(CONFIG_BINDING)
            .map(|kv| Kv::new(kv, Rc::clone(&self.trips)))
            .map_err(|e| ApiError::Internal(format!("KV binding {CONFIG_BINDING}: {e}")))
    }

    /// Storage round trips this request has made so far: `(d1, kv)`.
    pub fn round_trips(&self) -> (u32, u32) {
        self.trips.snapshot()
    }

    /// A test-only fault, named by the `FAULT_INJECTION` setting, is switched on. Never
    /// set in production; the e2e tests use it where a real failure cannot be produced
    /// on demand under `wrangler dev` (see [`Fault`]).
    pub fn fault(&self, fault: Fault) -> bool {
        self.setting("FAULT_INJECTION")
            .is_some_and(|raw| raw.split(',').any(|name| name.trim() == fault.name()))
    }

    /// A secret or plain var, whichever the deployment used; `None` when unset or blank.
    pub fn setting(&self, name: &str) -> Option<String> {
        self.env
            .secret(name)
            .map(|s| s.to_string())
            .or_else(|_| self.env.var(name).map(|v| v.to_string()))
            .ok()
            .filter(|value| !value.trim().is_empty())
    }

    /// The bootstrap sign-in token.
    pub fn admin_token(&self) -> Option<String> {
        self.setting("ADMIN_TOKEN")
    }

    /// The raw `PRIVATE_ENDPOINT_ALLOWLIST`.
    pub fn private_endpoint_allowlist(&self) -> String {
        self.setting("PRIVATE_ENDPOINT_ALLOWLIST")
            .unwrap_or_default()
    }

    /// The raw `OWN_HOSTS`: this deployment's host names, comma-separated.
    pub fn own_hosts(&self) -> String {
        self.setting("OWN_HOSTS").unwrap_or_default()
    }

    /// Failed sign-ins allowed per minute from one client address
    /// (`SIGN_IN_FAILURES_PER_MINUTE`, default 10).
    pub fn sign_in_failures_per_minute(&self) -> i64 {
        parse_limit(
            self.setting("SIGN_IN_FAILURES_PER_MINUTE").as_deref(),
            DEFAULT_SIGN_IN_FAILURES_PER_MINUTE,
        )
    }

    /// Runs allowed per minute per user (`RUNS_PER_MINUTE_PER_USER`, default 30).
    pub fn runs_per_minute_per_user(&self) -> i64 {
        parse_limit(
            self.setting("RUNS_PER_MINUTE_PER_USER").as_deref(),
            DEFAULT_RUNS_PER_MINUTE_PER_USER,
        )
    }

    /// The Events API throttle per service (`EVENTS_PER_MINUTE`, default 120;
    /// `EVENT_BURST`, default 240).
    pub fn event_rate(&self) -> EventRate {
        EventRate {
            per_minute: parse_limit(
                self.setting("EVENTS_PER_MINUTE").as_deref(),
                shared::limits::DEFAULT_EVENTS_PER_MINUTE,
            ),
            burst: parse_limit(
                self.setting("EVENT_BURST").as_deref(),
                shared::limits::DEFAULT_EVENT_BURST,
            ),
        }
    }

    /// Incidents one service keeps before the oldest resolved ones are pruned
    /// (`MAX_INCIDENTS_PER_SERVICE`, default 100,000).
    pub fn max_incidents_per_service(&self) -> i64 {
        parse_limit(
            self.setting("MAX_INCIDENTS_PER_SERVICE").as_deref(),
            shared::limits::DEFAULT_MAX_INCIDENTS_PER_SERVICE,
        )
    }

    /// The Cloudflare Access application to trust, when `ACCESS_TEAM_DOMAIN` and
    /// `ACCESS_AUD` are both set (`ACCESS_CERTS_URL` overrides where its keys are read).
    pub fn access_config(&self) -> Option<AccessConfig> {
        let team = self.setting("ACCESS_TEAM_DOMAIN")?;
        let audience = self.setting("ACCESS_AUD")?;
        Some(AccessConfig::new(
            &team,
            &audience,
            self.setting("ACCESS_CERTS_URL").as_deref(),
        ))
    }

    /// The role given to a person Access signed in whose e-mail no user has
    /// (`ACCESS_DEFAULT_ROLE`); `None` (unset, not a role, or `admin`/`owner`) refuses
    /// them instead. Only an owner grants admin or owner, and a setting is not an owner:
    /// one typo would otherwise hand the keys to everyone Access lets through.
    pub fn access_default_role(&self) -> Option<Role> {
        let raw = self.setting("ACCESS_DEFAULT_ROLE")?;
        parse_access_default_role(&raw)
            .map_err(|problem| worker::console_error!("ACCESS_DEFAULT_ROLE {problem}; ignored"))
            .ok()
    }

    /// The endpoint rules in force.
    pub fn endpoint_policy(&self) -> EndpointPolicy {
        EndpointPolicy::from_allowlist(&self.private_endpoint_allowlist())
            .with_own_hosts(&self.own_hosts())
    }
}

/// Failures the e2e tests switch on with `FAULT_INJECTION`, because `wrangler dev`
/// offers no way to make D1 fail on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every write of a run's final record fails, as a D1 outage after the POST would.
    RunRecordFails,
    /// The first write of a run's final record lands, but its answer is lost, so the
    /// worker writes it again (the reply contract must still apply once).
    RunRecordAnswerLost,
}

impl Fault {
    /// The name `FAULT_INJECTION` lists.
    pub fn name(self) -> &'static str {
        match self {
            Self::RunRecordFails => "run_record_fails",
            Self::RunRecordAnswerLost => "run_record_answer_lost",
        }
    }
}

/// Milliseconds since the epoch, from the platform clock.
pub fn now_ms() -> i64 {
    // Date.now() is an integral f64 well inside i64.
    #[expect(clippy::cast_possible_truncation, reason = "integral milliseconds")]
    let ms = js_sys::Date::now() as i64;
    ms
}

/// `ACCESS_DEFAULT_ROLE` as a role no higher than `manager`, or what is wrong with it.
fn parse_access_default_role(raw: &str) -> Result<Role, String> {
    match Role::parse(raw.trim()) {
        Ok(role) if !role.is_privileged() => Ok(role),
        Ok(role) => Err(format!("{role} is not allowed (manager at most)")),
        Err(_) => Err(format!("{raw:?} is not a role")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_may_create_users_up_to_manager_and_never_admin_or_owner() {
        assert_eq!(parse_access_default_role(" observer "), Ok(Role::Observer));
        assert_eq!(parse_access_default_role("manager"), Ok(Role::Manager));
        for refused in ["admin", "owner", "root", ""] {
            assert!(parse_access_default_role(refused).is_err(), "{refused}");
        }
    }
}
