//! Every route the worker answers (a method and a path), declared once, with what the
//! caller needs.
//!
//! The worker resolves a request with [`resolve`], authorizes it with
//! [`Route::requirement`] and dispatches with an exhaustive match on [`Route`]; the
//! end-to-end authorization matrix (`shared/fixtures/authorization.json`) and the README's
//! route table are generated from this list, and the frontend builds its URLs with
//! [`Route::url`]. Adding a route is one line here, one handler and one test.

use serde::Serialize;

use crate::roles::{Permission, Role};

/// The methods routes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// What a request needs before its handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// No session: the Events API (its routing key is the credential) and signing in.
    Open,
    /// Any valid credential, whatever the role.
    SignedIn,
    /// A role holding this permission.
    Permission(Permission),
}

impl Requirement {
    /// The least role that meets it; `None` when no sign-in is needed.
    pub fn minimum_role(self) -> Option<Role> {
        match self {
            Self::Open => None,
            Self::SignedIn => Some(Role::Stakeholder),
            Self::Permission(permission) => Some(permission.minimum_role()),
        }
    }

    /// How the authorization fixture and the README name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::SignedIn => "signed_in",
            Self::Permission(permission) => permission.as_str(),
        }
    }
}

/// When the caller of a route is established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerLookup {
    /// Before the handler runs: the credential is looked up and the requirement checked,
    /// and the handler is handed the caller.
    BeforeHandler,
    /// In the handler's own first D1 batch, so that signing in costs the hot path no
    /// round trip of its own; the handler checks the permission on the caller it finds
    /// there, before using anything else that batch read.
    InFirstBatch,
}

/// The caller lookup a route line declares: none said is [`CallerLookup::BeforeHandler`].
macro_rules! lookup {
    () => {
        CallerLookup::BeforeHandler
    };
    (in_first_batch) => {
        CallerLookup::InFirstBatch
    };
}

/// Declares [`Route`] and its four facts from one line per route.
macro_rules! routes {
    ($($(#[doc = $doc:literal])* $name:ident = $method:ident $path:literal => $need:expr $(, $lookup:ident)?;)*) => {
        /// One route of the worker. See the module docs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Route {
            $($(#[doc = $doc])* $name,)*
        }

        impl Route {
            /// Every route, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$name,)*];

            /// Its method.
            pub fn method(self) -> HttpMethod {
                match self {
                    $(Self::$name => HttpMethod::$method,)*
                }
            }

            /// Its path, with `{placeholders}` for ids.
            pub fn path(self) -> &'static str {
                match self {
                    $(Self::$name => $path,)*
                }
            }

            /// What the caller needs: THE authorization table.
            pub fn requirement(self) -> Requirement {
                match self {
                    $(Self::$name => $need,)*
                }
            }

            /// When its caller is established.
            pub fn caller_lookup(self) -> CallerLookup {
                match self {
                    $(Self::$name => lookup!($($lookup)?),)*
                }
            }
        }
    };
}

/// The declarations below read `=> need(P::RunActions)`, `=> Open`, `=> SignedIn`; a hot
/// path that looks its caller up in its own first batch adds `, in_first_batch`.
const fn need(permission: Permission) -> Requirement {
    Requirement::Permission(permission)
}
use Permission as P;
use Requirement::{Open, SignedIn};

routes! {
    /// The Events API v2: its routing key is the credential.
    Enqueue = Post "/v2/enqueue" => Open;
    /// The Change Events API: its routing key is the credential.
    ChangeEnqueue = Post "/v2/change/enqueue" => Open;
    /// Sign in with a token; sets the session cookie.
    SignIn = Post "/api/session" => Open;
    /// Who is signed in, and the form settings.
    GetSession = Get "/api/session" => SignedIn;
    /// End the session.
    SignOut = Delete "/api/session" => SignedIn;
    /// The caller as a user.
    GetMe = Get "/api/me" => SignedIn;
    /// This API's OpenAPI 3.1 document (generated by `shared::openapi`).
    GetOpenApi = Get "/api/openapi.json" => Open;

    /// Services, by name.
    ListServices = Get "/api/services" => need(P::ReadServices);
    /// Create a service.
    CreateService = Post "/api/services" => need(P::ManageServices);
    /// One service.
    GetService = Get "/api/services/{service}" => need(P::ReadServices);
    /// Rename or describe a service.
    UpdateService = Patch "/api/services/{service}" => need(P::ManageServices);
    /// Delete a service with its incidents and actions.
    DeleteService = Delete "/api/services/{service}" => need(P::ManageServices);
    /// Give a service a new routing key; the old one works for a grace period.
    RotateRoutingKey = Post "/api/services/{service}/rotate_routing_key"
        => need(P::ManageRoutingKeys);

    /// A service's change events, newest first.
    ListChanges = Get "/api/services/{service}/changes" => need(P::ReadServices);
    /// A service's actions.
    ListActions = Get "/api/services/{service}/actions" => need(P::ReadServices);
    /// Create an action.
    CreateAction = Post "/api/services/{service}/actions" => need(P::ManageActions);
    /// Preview an action that is not created yet.
    PreviewDraft = Post "/api/services/{service}/actions/preview" => need(P::ManageActions);
    /// One action.
    GetAction = Get "/api/services/{service}/actions/{action}" => need(P::ReadServices);
    /// Edit an action.
    UpdateAction = Patch "/api/services/{service}/actions/{action}" => need(P::ManageActions);
    /// Delete an action.
    DeleteAction = Delete "/api/services/{service}/actions/{action}" => need(P::ManageActions);
    /// Give an action a new signing secret.
    RotateSecret = Post "/api/services/{service}/actions/{action}/rotate_secret"
        => need(P::ManageActions);
    /// The request a run would send. A responder previews before pressing Run; previewing
    /// an unsaved `draft` also needs ManageActions, which the handler checks.
    PreviewAction = Post "/api/services/{service}/actions/{action}/preview"
        => need(P::RunActions);
    /// An action's runs, newest first, a page at a time, with its recent figures.
    ListActionRuns = Get "/api/services/{service}/actions/{action}/runs"
        => need(P::RunActions);

    /// Incidents, newest first.
    ListIncidents = Get "/api/incidents" => need(P::ReadIncidents);
    /// Open an incident by hand.
    CreateIncident = Post "/api/incidents" => need(P::CreateIncidents);
    /// One incident with the actions it offers.
    GetIncident = Get "/api/incidents/{incident}" => need(P::ReadIncidents), in_first_batch;
    /// Acknowledge an incident.
    Acknowledge = Post "/api/incidents/{incident}/acknowledge" => need(P::RunActions);
    /// Resolve an incident.
    Resolve = Post "/api/incidents/{incident}/resolve" => need(P::RunActions);
    /// An incident's timeline.
    GetLog = Get "/api/incidents/{incident}/log" => need(P::ReadIncidents);
    /// Add a note to the timeline.
    AddNote = Post "/api/incidents/{incident}/notes" => need(P::RunActions);
    /// An incident's runs.
    ListRuns = Get "/api/incidents/{incident}/runs" => need(P::ReadIncidents);
    /// Run an action on an incident.
    RunAction = Post "/api/incidents/{incident}/actions/{action}/runs" => need(P::RunActions), in_first_batch;
    /// One run.
    GetRun = Get "/api/runs/{run}" => need(P::ReadIncidents);
    /// Send a run's stored body again, as a new attempt of the same run.
    Redeliver = Post "/api/runs/{run}/redeliver" => need(P::RunActions), in_first_batch;

    /// The audit log.
    ListAudit = Get "/api/audit" => need(P::ReadAudit);

    /// PagerDuty REST API: incidents, filtered, sorted and paged.
    PdListIncidents = Get "/pagerduty/incidents" => need(P::ReadIncidents);
    /// PagerDuty REST API: open an incident (Port's "create").
    PdCreateIncident = Post "/pagerduty/incidents" => need(P::CreateIncidents);
    /// PagerDuty REST API: acknowledge or resolve several incidents.
    PdUpdateIncidents = Put "/pagerduty/incidents" => need(P::RunActions);
    /// PagerDuty REST API: one incident.
    PdGetIncident = Get "/pagerduty/incidents/{incident}" => need(P::ReadIncidents);
    /// PagerDuty REST API: change an incident's status, title or urgency.
    PdUpdateIncident = Put "/pagerduty/incidents/{incident}" => need(P::RunActions);
    /// PagerDuty REST API: an incident's notes.
    PdListNotes = Get "/pagerduty/incidents/{incident}/notes" => need(P::ReadIncidents);
    /// PagerDuty REST API: add a note.
    PdCreateNote = Post "/pagerduty/incidents/{incident}/notes" => need(P::RunActions);
    /// PagerDuty REST API: an incident's log entries.
    PdListLogEntries = Get "/pagerduty/incidents/{incident}/log_entries"
        => need(P::ReadIncidents);
    /// PagerDuty REST API: services.
    PdListServices = Get "/pagerduty/services" => need(P::ReadServices);
    /// PagerDuty REST API: one service.
    PdGetService = Get "/pagerduty/services/{service}" => need(P::ReadServices);

    /// Users, by name.
    ListUsers = Get "/api/users" => need(P::ManageUsers);
    /// Create a user.
    CreateUser = Post "/api/users" => need(P::ManageUsers);
    /// One user.
    GetUser = Get "/api/users/{user}" => need(P::ManageUsers);
    /// Change a user's name, e-mail or role.
    UpdateUser = Patch "/api/users/{user}" => need(P::ManageUsers);
    /// Delete a user with their tokens and sessions.
    DeleteUser = Delete "/api/users/{user}" => need(P::ManageUsers);
    /// A user's tokens.
    ListTokens = Get "/api/users/{user}/tokens" => need(P::ManageUsers);
    /// Mint a token for a user.
    CreateToken = Post "/api/users/{user}/tokens" => need(P::ManageUsers);
    /// Revoke a token.
    DeleteToken = Delete "/api/users/{user}/tokens/{token}" => need(P::ManageUsers);
}

impl Route {
    /// Whether it is part of the PagerDuty REST API surface (`/pagerduty`), which answers
    /// errors in PagerDuty's shape and takes no cookies.
    pub fn is_pagerduty(self) -> bool {
        is_pagerduty_path(self.path())
    }

    /// The URL path with `ids` in place of the placeholders, in order. Ids are ours
    /// (`svc_…`, `inc_…`), which need no escaping.
    pub fn url(self, ids: &[&str]) -> String {
        let mut ids = ids.iter();
        self.path()
            .split('/')
            .map(|segment| {
                if is_placeholder(segment) {
                    ids.next().copied().unwrap_or_default()
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Whether `path` is under the PagerDuty REST API surface.
pub fn is_pagerduty_path(path: &str) -> bool {
    path == crate::pagerduty::BASE_PATH
        || path.starts_with(&format!("{}/", crate::pagerduty::BASE_PATH))
}

fn is_placeholder(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The ids a path carried, in the order of its template's placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PathIds<'a> {
    ids: [&'a str; 2],
}

impl<'a> PathIds<'a> {
    /// The first id (the only one, for most routes).
    pub fn first(&self) -> &'a str {
        self.ids[0]
    }

    /// The second id (`{action}` after `{service}` or `{incident}`, `{token}` after
    /// `{user}`).
    pub fn second(&self) -> &'a str {
        self.ids[1]
    }
}

/// What a request's method and path resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved<'a> {
    /// A route, with the ids its path carried.
    Found(Route, PathIds<'a>),
    /// The path exists, but not with this method (405).
    MethodNotAllowed,
    /// No route has this path (404).
    NotFound,
}

/// Resolves `method` (`None`: one no route uses, such as HEAD) and `path`. A trailing
/// slash is forgiven; an empty segment never matches. When two templates match a path,
/// the one with more fixed segments wins (`/actions/preview` over `/actions/{action}`).
pub fn resolve(method: Option<HttpMethod>, path: &str) -> Resolved<'_> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let Some(segments) = path
        .strip_prefix('/')
        .map(|rest| rest.split('/').collect::<Vec<_>>())
    else {
        return Resolved::NotFound;
    };
    if segments.iter().any(|segment| segment.is_empty()) {
        return Resolved::NotFound;
    }
    let mut best: Option<(usize, &'static str)> = None;
    for route in Route::ALL {
        if let Some(fixed) = fixed_segments_if_matching(route.path(), &segments) {
            if best.is_none_or(|(most, _)| fixed > most) {
                best = Some((fixed, route.path()));
            }
        }
    }
    let Some((_, template)) = best else {
        return Resolved::NotFound;
    };
    let found = Route::ALL
        .iter()
        .find(|route| route.path() == template && Some(route.method()) == method);
    match found {
        Some(route) => Resolved::Found(*route, ids_of(template, &segments)),
        None => Resolved::MethodNotAllowed,
    }
}

/// How many fixed segments `template` has, if `segments` match it.
fn fixed_segments_if_matching(template: &str, segments: &[&str]) -> Option<usize> {
    let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut fixed = 0;
    for (part, segment) in parts.iter().zip(segments) {
        if is_placeholder(part) {
            continue;
        }
        if part != segment {
            return None;
        }
        fixed += 1;
    }
    Some(fixed)
}

fn ids_of<'a>(template: &str, segments: &[&'a str]) -> PathIds<'a> {
    let mut ids = PathIds::default();
    let placeholders = template
        .trim_start_matches('/')
        .split('/')
        .zip(segments)
        .filter(|(part, _)| is_placeholder(part))
        .map(|(_, segment)| *segment);
    for (slot, id) in ids.ids.iter_mut().zip(placeholders) {
        *slot = id;
    }
    ids
}

/// The authorization table as JSON, for the end-to-end matrix
/// (`shared/fixtures/authorization.json`, kept equal to this by a test).
pub fn authorization_json() -> serde_json::Value {
    let routes: Vec<serde_json::Value> = Route::ALL
        .iter()
        .map(|route| {
            let requirement = route.requirement();
            serde_json::json!({
                "method": route.method(),
                "path": route.path(),
                "needs": requirement.as_str(),
                "minimum_role": requirement.minimum_role(),
            })
        })
        .collect();
    serde_json::json!({"roles": Role::ALL, "routes": routes})
}

/// The README's route table: method, path and the least role, one row per route.
pub fn routes_markdown_table() -> String {
    let mut out = String::from("| method | path | least role |\n|---|---|---|\n");
    for route in Route::ALL {
        let role = route
            .requirement()
            .minimum_role()
            .map_or("none (open)", Role::as_str);
        out.push_str(&format!(
            "| {} | `{}` | {role} |\n",
            route.method().as_str(),
            route.path()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(method: HttpMethod, path: &str) -> (Route, PathIds<'_>) {
        match resolve(Some(method), path) {
            Resolved::Found(route, ids) => (route, ids),
            other => panic!("{} {path}: {other:?}", method.as_str()),
        }
    }

    #[test]
    fn every_route_resolves_from_its_own_url() {
        for route in Route::ALL {
            let url = route.url(&["a1", "b2"]);
            let (resolved, ids) = found(route.method(), &url);
            assert_eq!(resolved, *route, "{url}");
            let placeholders = route.path().matches('{').count();
            let expected = ["a1", "b2"];
            for (index, id) in [ids.first(), ids.second()].into_iter().enumerate() {
                let want = if index < placeholders {
                    expected[index]
                } else {
                    ""
                };
                assert_eq!(id, want, "{url} id {index}");
            }
        }
    }

    #[test]
    fn no_two_routes_share_a_method_and_path() {
        for (i, a) in Route::ALL.iter().enumerate() {
            for b in &Route::ALL[i + 1..] {
                assert!(
                    (a.method(), a.path()) != (b.method(), b.path()),
                    "{a:?} and {b:?}"
                );
            }
        }
    }

    #[test]
    fn a_fixed_segment_wins_over_a_placeholder() {
        let (route, ids) = found(HttpMethod::Post, "/api/services/s1/actions/preview");
        assert_eq!((route, ids.first()), (Route::PreviewDraft, "s1"));
        let (route, ids) = found(HttpMethod::Post, "/api/services/s1/actions/a1/preview");
        assert_eq!(
            (route, ids.first(), ids.second()),
            (Route::PreviewAction, "s1", "a1")
        );
        assert_eq!(
            resolve(Some(HttpMethod::Get), "/api/services/s1/actions/preview"),
            Resolved::MethodNotAllowed
        );
    }

    #[test]
    fn a_known_path_with_another_method_is_405() {
        for (method, path) in [
            (Some(HttpMethod::Put), "/api/services"),
            (Some(HttpMethod::Get), "/v2/enqueue"),
            (None, "/api/incidents"),
            (Some(HttpMethod::Post), "/api/me"),
            (Some(HttpMethod::Patch), "/api/users/u/tokens/t"),
        ] {
            assert_eq!(resolve(method, path), Resolved::MethodNotAllowed, "{path}");
        }
    }

    #[test]
    fn a_trailing_slash_is_forgiven() {
        assert_eq!(
            found(HttpMethod::Get, "/api/services/").0,
            Route::ListServices
        );
    }

    #[test]
    fn unknown_and_malformed_paths_are_404() {
        for path in [
            "/api",
            "/api/nope",
            "/api/services//actions",
            "/v2/enqueue/x",
            "",
            "/api/runs",
            "/api/users/u1/tokens/t1/x",
            "/api/me/x",
        ] {
            assert_eq!(
                resolve(Some(HttpMethod::Get), path),
                Resolved::NotFound,
                "{path}"
            );
        }
    }

    #[test]
    fn only_the_events_apis_sign_in_and_the_api_description_are_open() {
        let open: Vec<Route> = Route::ALL
            .iter()
            .copied()
            .filter(|route| route.requirement() == Requirement::Open)
            .collect();
        assert_eq!(
            open,
            [
                Route::Enqueue,
                Route::ChangeEnqueue,
                Route::SignIn,
                Route::GetOpenApi
            ]
        );
    }

    #[test]
    fn running_acknowledging_resolving_and_previewing_need_a_responder() {
        for route in [
            Route::RunAction,
            Route::Acknowledge,
            Route::Resolve,
            Route::AddNote,
            Route::PreviewAction,
        ] {
            assert_eq!(
                route.requirement().minimum_role(),
                Some(Role::Responder),
                "{route:?}"
            );
        }
    }

    #[test]
    fn changing_actions_needs_a_manager_services_and_users_an_admin() {
        for route in [
            Route::CreateAction,
            Route::UpdateAction,
            Route::DeleteAction,
            Route::RotateSecret,
            Route::PreviewDraft,
        ] {
            assert_eq!(
                route.requirement(),
                Requirement::Permission(Permission::ManageActions)
            );
        }
        for route in [Route::CreateService, Route::DeleteUser, Route::ListAudit] {
            assert_eq!(
                route.requirement().minimum_role(),
                Some(Role::Admin),
                "{route:?}"
            );
        }
    }

    #[test]
    fn reading_incidents_and_runs_needs_only_a_stakeholder() {
        for route in [Route::ListIncidents, Route::GetLog, Route::GetRun] {
            assert_eq!(route.requirement().minimum_role(), Some(Role::Stakeholder));
        }
    }

    #[test]
    fn a_route_that_looks_its_caller_up_itself_needs_a_permission() {
        for route in Route::ALL {
            if route.caller_lookup() == CallerLookup::InFirstBatch {
                assert!(
                    matches!(route.requirement(), Requirement::Permission(_)),
                    "{route:?}"
                );
            }
        }
    }

    /// The end-to-end matrix reads this file; regenerate it with
    /// `UPDATE_FIXTURES=1 cargo test -p incident-actions-shared`.
    #[test]
    fn the_authorization_fixture_matches_the_table() {
        crate::readme::check_generated_fixture("authorization.json", &authorization_json());
    }

    /// The README's route table is this table; regenerate it with
    /// `UPDATE_FIXTURES=1 cargo test -p incident-actions-shared`.
    #[test]
    fn the_readme_route_table_matches_the_code() {
        crate::readme::check_generated_section("routes-table", &routes_markdown_table());
    }
}
