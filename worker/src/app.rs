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
pub const CONFIG_BINDING: &str = "CONFIG";
/// The D1 database holding incidents, timelines, runs and sessions.
pub const DB_BINDING: &str = "DB";

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
        self.setting(Setting::FaultInjection)
            .is_some_and(|raw| raw.split(',').any(|name| name.trim() == fault.name()))
    }

    /// A secret or plain var, whichever the deployment used; `None` when unset or blank.
    pub fn setting(&self, setting: Setting) -> Option<String> {
        let name = setting.name();
        self.env
            .secret(name)
            .map(|s| s.to_string())
            .or_else(|_| self.env.var(name).map(|v| v.to_string()))
            .ok()
            .filter(|value| !value.trim().is_empty())
    }

    /// The bootstrap sign-in token.
    pub fn admin_token(&self) -> Option<String> {
        self.setting(Setting::AdminToken)
    }

    /// The raw `PRIVATE_ENDPOINT_ALLOWLIST`.
    pub fn private_endpoint_allowlist(&self) -> String {
        self.setting(Setting::PrivateEndpointAllowlist)
            .unwrap_or_default()
    }

    /// The raw `OWN_HOSTS`: this deployment's host names, comma-separated.
    pub fn own_hosts(&self) -> String {
        self.setting(Setting::OwnHosts).unwrap_or_default()
    }

    /// Failed sign-ins allowed per minute from one client address
    /// (`SIGN_IN_FAILURES_PER_MINUTE`, default 10).
    pub fn sign_in_failures_per_minute(&self) -> i64 {
        parse_limit(
            self.setting(Setting::SignInFailuresPerMinute).as_deref(),
            DEFAULT_SIGN_IN_FAILURES_PER_MINUTE,
        )
    }

    /// Runs allowed per minute per user (`RUNS_PER_MINUTE_PER_USER`, default 30).
    pub fn runs_per_minute_per_user(&self) -> i64 {
        parse_limit(
            self.setting(Setting::RunsPerMinutePerUser).as_deref(),
            DEFAULT_RUNS_PER_MINUTE_PER_USER,
        )
    }

    /// The Events API throttle per service (`EVENTS_PER_MINUTE`, default 120;
    /// `EVENT_BURST`, default 240).
    pub fn event_rate(&self) -> EventRate {
        EventRate {
            per_minute: parse_limit(
                self.setting(Setting::EventsPerMinute).as_deref(),
                shared::limits::DEFAULT_EVENTS_PER_MINUTE,
            ),
            burst: parse_limit(
                self.setting(Setting::EventBurst).as_deref(),
                shared::limits::DEFAULT_EVENT_BURST,
            ),
        }
    }

    /// Incidents one service keeps before the oldest resolved ones are pruned
    /// (`MAX_INCIDENTS_PER_SERVICE`, default 100,000).
    pub fn max_incidents_per_service(&self) -> i64 {
        parse_limit(
            self.setting(Setting::MaxIncidentsPerService).as_deref(),
            shared::limits::DEFAULT_MAX_INCIDENTS_PER_SERVICE,
        )
    }

    /// Change events one service keeps before the hourly cron removes its oldest ones
    /// (`MAX_CHANGE_EVENTS_PER_SERVICE`, default 10,000).
    pub fn max_change_events_per_service(&self) -> i64 {
        parse_limit(
            self.setting(Setting::MaxChangeEventsPerService).as_deref(),
            shared::limits::DEFAULT_MAX_CHANGE_EVENTS_PER_SERVICE,
        )
    }

    /// The Cloudflare Access application to trust, when `ACCESS_TEAM_DOMAIN` and
    /// `ACCESS_AUD` are both set (`ACCESS_CERTS_URL` overrides where its keys are read).
    pub fn access_config(&self) -> Option<AccessConfig> {
        let team = self.setting(Setting::AccessTeamDomain)?;
        let audience = self.setting(Setting::AccessAud)?;
        Some(AccessConfig::new(
            &team,
            &audience,
            self.setting(Setting::AccessCertsUrl).as_deref(),
        ))
    }

    /// The role given to a person Access signed in whose e-mail no user has
    /// (`ACCESS_DEFAULT_ROLE`); `None` (unset, not a role, or `admin`/`owner`) refuses
    /// them instead. Only an owner grants admin or owner, and a setting is not an owner:
    /// one typo would otherwise hand the keys to everyone Access lets through.
    pub fn access_default_role(&self) -> Option<Role> {
        let raw = self.setting(Setting::AccessDefaultRole)?;
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

/// Where a deployment gives a setting its value (what the config test checks).
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// A secret (`wrangler secret put`), which `scripts/deploy` sets.
    Secret,
    /// A secret a deployment sets only when it needs it (documented in the README).
    OptionalSecret,
    /// A plain variable in `wrangler.toml` `[vars]`, with its production value.
    Var,
    /// A plain variable a deployment sets only when it needs it (documented in the README).
    OptionalVar,
    /// Never set in production: the e2e tests pass it.
    TestOnly,
}

/// Every setting the worker reads, declared once; a native test checks each against
/// wrangler.toml, scripts/deploy and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `ADMIN_TOKEN`.
    AdminToken,
    /// `ENCRYPTION_KEY`.
    EncryptionKey,
    /// `ENCRYPTION_KEYS_PREVIOUS`.
    EncryptionKeysPrevious,
    /// `PRIVATE_ENDPOINT_ALLOWLIST`.
    PrivateEndpointAllowlist,
    /// `OWN_HOSTS`.
    OwnHosts,
    /// `SIGN_IN_FAILURES_PER_MINUTE`.
    SignInFailuresPerMinute,
    /// `RUNS_PER_MINUTE_PER_USER`.
    RunsPerMinutePerUser,
    /// `EVENTS_PER_MINUTE`.
    EventsPerMinute,
    /// `EVENT_BURST`.
    EventBurst,
    /// `MAX_INCIDENTS_PER_SERVICE`.
    MaxIncidentsPerService,
    /// `MAX_CHANGE_EVENTS_PER_SERVICE`.
    MaxChangeEventsPerService,
    /// `ACCESS_TEAM_DOMAIN`.
    AccessTeamDomain,
    /// `ACCESS_AUD`.
    AccessAud,
    /// `ACCESS_CERTS_URL`.
    AccessCertsUrl,
    /// `ACCESS_DEFAULT_ROLE`.
    AccessDefaultRole,
    /// `FAULT_INJECTION`.
    FaultInjection,
}

impl Setting {
    /// Every setting.
    #[cfg(test)]
    pub const ALL: [Self; 16] = [
        Self::AdminToken,
        Self::EncryptionKey,
        Self::EncryptionKeysPrevious,
        Self::PrivateEndpointAllowlist,
        Self::OwnHosts,
        Self::SignInFailuresPerMinute,
        Self::RunsPerMinutePerUser,
        Self::EventsPerMinute,
        Self::EventBurst,
        Self::MaxIncidentsPerService,
        Self::MaxChangeEventsPerService,
        Self::AccessTeamDomain,
        Self::AccessAud,
        Self::AccessCertsUrl,
        Self::AccessDefaultRole,
        Self::FaultInjection,
    ];

    /// Its name in the environment.
    pub fn name(self) -> &'static str {
        match self {
            Self::AdminToken => "ADMIN_TOKEN",
            Self::EncryptionKey => "ENCRYPTION_KEY",
            Self::EncryptionKeysPrevious => "ENCRYPTION_KEYS_PREVIOUS",
            Self::PrivateEndpointAllowlist => "PRIVATE_ENDPOINT_ALLOWLIST",
            Self::OwnHosts => "OWN_HOSTS",
            Self::SignInFailuresPerMinute => "SIGN_IN_FAILURES_PER_MINUTE",
            Self::RunsPerMinutePerUser => "RUNS_PER_MINUTE_PER_USER",
            Self::EventsPerMinute => "EVENTS_PER_MINUTE",
            Self::EventBurst => "EVENT_BURST",
            Self::MaxIncidentsPerService => "MAX_INCIDENTS_PER_SERVICE",
            Self::MaxChangeEventsPerService => "MAX_CHANGE_EVENTS_PER_SERVICE",
            Self::AccessTeamDomain => "ACCESS_TEAM_DOMAIN",
            Self::AccessAud => "ACCESS_AUD",
            Self::AccessCertsUrl => "ACCESS_CERTS_URL",
            Self::AccessDefaultRole => "ACCESS_DEFAULT_ROLE",
            Self::FaultInjection => "FAULT_INJECTION",
        }
    }

    /// Where a deployment gives it its value.
    #[cfg(test)]
    pub fn declared(self) -> Declared {
        match self {
            Self::AdminToken | Self::EncryptionKey => Declared::Secret,
            Self::EncryptionKeysPrevious => Declared::OptionalSecret,
            Self::PrivateEndpointAllowlist
            | Self::OwnHosts
            | Self::SignInFailuresPerMinute
            | Self::RunsPerMinutePerUser
            | Self::EventsPerMinute
            | Self::EventBurst
            | Self::MaxIncidentsPerService
            | Self::MaxChangeEventsPerService => Declared::Var,
            Self::AccessTeamDomain
            | Self::AccessAud
            | Self::AccessCertsUrl
            | Self::AccessDefaultRole => Declared::OptionalVar,
            Self::FaultInjection => Declared::TestOnly,
        }
    }
}

/// Failures the e2e tests switch on with `FAULT_INJECTION`, because `wrangler dev`
/// offers no way to make D1 fail, or two requests interleave, on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every write of a run's final record fails, as a D1 outage after the POST would.
    RunRecordFails,
    /// The first write of a run's final record lands, but its answer is lost, so the
    /// worker writes it again (the reply contract must still apply once).
    RunRecordAnswerLost,
    /// Between a PagerDuty `PUT`'s read and its write, someone else resolves the first
    /// incident it names, as a request landing in that moment would.
    PagerDutyEditRace,
}

impl Fault {
    /// The name `FAULT_INJECTION` lists.
    pub fn name(self) -> &'static str {
        match self {
            Self::RunRecordFails => "run_record_fails",
            Self::RunRecordAnswerLost => "run_record_answer_lost",
            Self::PagerDutyEditRace => "pagerduty_edit_race",
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
    match Role::parse_field(raw.trim()) {
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

/// The deploy configuration declares everything the code uses: bindings, settings, crons.
#[cfg(test)]
mod config_tests {
    use super::*;

    const WRANGLER_TOML: &str = include_str!("../../wrangler.toml");
    const DEPLOY_SCRIPT: &str = include_str!("../../scripts/deploy");
    const README: &str = include_str!("../../README.md");

    fn config() -> toml::Table {
        WRANGLER_TOML.parse().expect("wrangler.toml parses")
    }

    fn bindings(config: &toml::Table, kind: &str) -> Vec<String> {
        config
            .get(kind)
            .and_then(toml::Value::as_array)
            .map(|blocks| {
                blocks
                    .iter()
                    .filter_map(|block| block.get("binding")?.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn every_binding_the_code_uses_is_declared() {
        let config = config();
        assert_eq!(bindings(&config, "kv_namespaces"), [CONFIG_BINDING]);
        assert_eq!(bindings(&config, "d1_databases"), [DB_BINDING]);
        let assets = config.get("assets").expect("[assets] serves the SPA");
        assert_eq!(
            assets.get("directory").and_then(toml::Value::as_str),
            Some("dist")
        );
    }

    #[test]
    fn every_setting_is_declared_where_a_deployment_sets_it() {
        let config = config();
        let vars = config
            .get("vars")
            .and_then(toml::Value::as_table)
            .expect("[vars]");
        for setting in Setting::ALL {
            let name = setting.name();
            match setting.declared() {
                Declared::Var => assert!(vars.contains_key(name), "{name} is not in [vars]"),
                Declared::Secret => assert!(
                    DEPLOY_SCRIPT.contains(&format!("secret put {name}")),
                    "scripts/deploy does not set the secret {name}"
                ),
                Declared::OptionalVar | Declared::OptionalSecret => assert!(
                    README.contains(&format!("`{name}")),
                    "the README does not document {name}"
                ),
                Declared::TestOnly => assert!(!vars.contains_key(name), "{name} is test-only"),
            }
        }
        for name in vars.keys() {
            assert!(
                Setting::ALL.iter().any(|setting| setting.name() == name),
                "[vars] has {name}, which the code never reads"
            );
        }
    }

    #[test]
    fn both_crons_are_declared_and_observability_is_on() {
        let config = config();
        let crons: Vec<&str> = config
            .get("triggers")
            .and_then(|triggers| triggers.get("crons"))
            .and_then(toml::Value::as_array)
            .expect("[triggers] crons")
            .iter()
            .filter_map(toml::Value::as_str)
            .collect();
        assert_eq!(crons, ["* * * * *", crate::scheduled::HOURLY_CRON]);
        let observability = config.get("observability").expect("[observability]");
        assert_eq!(
            observability.get("enabled").and_then(toml::Value::as_bool),
            Some(true)
        );
    }
}
