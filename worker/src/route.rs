//! Path → route, and (method, route) → what the caller needs, as pure functions so the
//! whole URL space and the authorization table are tested natively. Methods are matched
//! to handlers in `lib.rs`, which checks `requirement` before calling any of them.

use shared::roles::Permission;
use worker::Method;

/// Every path the worker answers (the SPA's paths are served as static assets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/api/session`
    Session,
    /// `/api/services`
    Services,
    /// `/api/services/{id}`
    Service(&'a str),
    /// `/api/services/{id}/actions`
    Actions(&'a str),
    /// `/api/services/{id}/actions/{action_id}`
    Action(&'a str, &'a str),
    /// `/api/services/{id}/actions/{action_id}/rotate_secret`
    RotateSecret(&'a str, &'a str),
    /// `/api/services/{id}/actions/preview`: an unsaved action's request
    DraftPreview(&'a str),
    /// `/api/services/{id}/actions/{action_id}/preview`
    ActionPreview(&'a str, &'a str),
    /// `/api/incidents`
    Incidents,
    /// `/api/incidents/{id}`
    Incident(&'a str),
    /// `/api/incidents/{id}/acknowledge`
    Acknowledge(&'a str),
    /// `/api/incidents/{id}/resolve`
    Resolve(&'a str),
    /// `/api/incidents/{id}/log`
    IncidentLog(&'a str),
    /// `/api/incidents/{id}/notes`
    IncidentNotes(&'a str),
    /// `/api/incidents/{id}/runs`
    IncidentRuns(&'a str),
    /// `/api/incidents/{id}/actions/{action_id}/runs`
    ActionRuns(&'a str, &'a str),
    /// `/api/runs/{id}`
    Run(&'a str),
    /// `/api/audit`
    Audit,
    /// `/api/me`
    Me,
    /// `/api/users`
    Users,
    /// `/api/users/{id}`
    User(&'a str),
    /// `/api/users/{id}/tokens`
    UserTokens(&'a str),
    /// `/api/users/{id}/tokens/{token_id}`
    UserToken(&'a str, &'a str),
    /// `/v2/enqueue`
    Enqueue,
}

/// The route for `path`, or `None` (404).
pub fn resolve(path: &str) -> Option<Route<'_>> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    if segments.iter().any(|segment| segment.is_empty()) {
        return None;
    }
    Some(match segments.as_slice() {
        ["v2", "enqueue"] => Route::Enqueue,
        ["api", "session"] => Route::Session,
        ["api", "services"] => Route::Services,
        ["api", "services", id] => Route::Service(id),
        ["api", "services", id, "actions"] => Route::Actions(id),
        // Action ids are `act_…`, so this never shadows one.
        ["api", "services", id, "actions", "preview"] => Route::DraftPreview(id),
        ["api", "services", id, "actions", action] => Route::Action(id, action),
        ["api", "services", id, "actions", action, "preview"] => Route::ActionPreview(id, action),
        ["api", "services", id, "actions", action, "rotate_secret"] => {
            Route::RotateSecret(id, action)
        }
        ["api", "incidents"] => Route::Incidents,
        ["api", "incidents", id] => Route::Incident(id),
        ["api", "incidents", id, "acknowledge"] => Route::Acknowledge(id),
        ["api", "incidents", id, "resolve"] => Route::Resolve(id),
        ["api", "incidents", id, "log"] => Route::IncidentLog(id),
        ["api", "incidents", id, "notes"] => Route::IncidentNotes(id),
        ["api", "incidents", id, "runs"] => Route::IncidentRuns(id),
        ["api", "incidents", id, "actions", action, "runs"] => Route::ActionRuns(id, action),
        ["api", "runs", id] => Route::Run(id),
        ["api", "audit"] => Route::Audit,
        ["api", "me"] => Route::Me,
        ["api", "users"] => Route::Users,
        ["api", "users", id] => Route::User(id),
        ["api", "users", id, "tokens"] => Route::UserTokens(id),
        ["api", "users", id, "tokens", token] => Route::UserToken(id, token),
        _ => return None,
    })
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

/// The authorization table: what `method` on `route` needs, or `None` when the route
/// does not answer that method (405). The one place that maps routes to permissions;
/// the role behind each permission is `Permission::minimum_role`.
pub fn requirement(method: &Method, route: &Route<'_>) -> Option<Requirement> {
    use Method::{Delete, Get, Patch, Post};
    use Permission as P;
    use Requirement::{Open, SignedIn};
    use Route as R;
    let need = Requirement::Permission;
    Some(match (method, route) {
        (Post, R::Enqueue | R::Session) => Open,
        (Get | Delete, R::Session) | (Get, R::Me) => SignedIn,

        (Get, R::Services | R::Service(_) | R::Actions(_) | R::Action(..)) => need(P::ReadServices),
        (Post, R::Services) | (Patch | Delete, R::Service(_)) => need(P::ManageServices),
        (Post, R::Actions(_) | R::RotateSecret(..) | R::DraftPreview(_))
        | (Patch | Delete, R::Action(..)) => need(P::ManageActions),
        // A responder previews what a run will send before pressing Run; previewing an
        // unsaved `draft` also needs ManageActions, checked by the handler.
        (Post, R::ActionPreview(..)) => need(P::RunActions),

        (
            Get,
            R::Incidents | R::Incident(_) | R::IncidentLog(_) | R::IncidentRuns(_) | R::Run(_),
        ) => need(P::ReadIncidents),
        (Post, R::Acknowledge(_) | R::Resolve(_) | R::IncidentNotes(_) | R::ActionRuns(..)) => {
            need(P::RunActions)
        }

        (Get, R::Audit) => need(P::ReadAudit),

        (Get | Post, R::Users | R::UserTokens(_))
        | (Get | Patch | Delete, R::User(_))
        | (Delete, R::UserToken(..)) => need(P::ManageUsers),

        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_path_resolves() {
        let cases = [
            ("/v2/enqueue", Route::Enqueue),
            ("/api/session", Route::Session),
            ("/api/services", Route::Services),
            ("/api/services/s1", Route::Service("s1")),
            ("/api/services/s1/actions", Route::Actions("s1")),
            ("/api/services/s1/actions/a1", Route::Action("s1", "a1")),
            (
                "/api/services/s1/actions/preview",
                Route::DraftPreview("s1"),
            ),
            (
                "/api/services/s1/actions/a1/preview",
                Route::ActionPreview("s1", "a1"),
            ),
            (
                "/api/services/s1/actions/a1/rotate_secret",
                Route::RotateSecret("s1", "a1"),
            ),
            ("/api/incidents", Route::Incidents),
            ("/api/incidents/i1", Route::Incident("i1")),
            ("/api/incidents/i1/acknowledge", Route::Acknowledge("i1")),
            ("/api/incidents/i1/resolve", Route::Resolve("i1")),
            ("/api/incidents/i1/log", Route::IncidentLog("i1")),
            ("/api/incidents/i1/notes", Route::IncidentNotes("i1")),
            ("/api/incidents/i1/runs", Route::IncidentRuns("i1")),
            (
                "/api/incidents/i1/actions/a1/runs",
                Route::ActionRuns("i1", "a1"),
            ),
            ("/api/runs/r1", Route::Run("r1")),
            ("/api/audit", Route::Audit),
            ("/api/me", Route::Me),
            ("/api/users", Route::Users),
            ("/api/users/u1", Route::User("u1")),
            ("/api/users/u1/tokens", Route::UserTokens("u1")),
            ("/api/users/u1/tokens/t1", Route::UserToken("u1", "t1")),
        ];
        for (path, route) in cases {
            assert_eq!(resolve(path), Some(route), "{path}");
        }
    }

    #[test]
    fn a_trailing_slash_is_forgiven() {
        assert_eq!(resolve("/api/services/"), Some(Route::Services));
    }

    #[test]
    fn unknown_and_malformed_paths_do_not_resolve() {
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
            assert_eq!(resolve(path), None, "{path}");
        }
    }
}

/// Every path the worker answers, with `{placeholders}` for ids: the URL space the
/// authorization matrix walks.
#[cfg(test)]
pub const PATH_TEMPLATES: [&str; 24] = [
    "/v2/enqueue",
    "/api/session",
    "/api/me",
    "/api/services",
    "/api/services/{service}",
    "/api/services/{service}/actions",
    "/api/services/{service}/actions/{action}",
    "/api/services/{service}/actions/{action}/rotate_secret",
    "/api/services/{service}/actions/preview",
    "/api/services/{service}/actions/{action}/preview",
    "/api/incidents",
    "/api/incidents/{incident}",
    "/api/incidents/{incident}/acknowledge",
    "/api/incidents/{incident}/resolve",
    "/api/incidents/{incident}/log",
    "/api/incidents/{incident}/notes",
    "/api/incidents/{incident}/runs",
    "/api/incidents/{incident}/actions/{action}/runs",
    "/api/runs/{run}",
    "/api/audit",
    "/api/users",
    "/api/users/{user}",
    "/api/users/{user}/tokens",
    "/api/users/{user}/tokens/{token}",
];

/// The authorization table as JSON, for the end-to-end matrix
/// (`shared/fixtures/authorization.json`, kept equal to this by a test): every path
/// and method the worker answers, what it needs, and the least role that has it.
#[cfg(test)]
pub fn authorization_table_json() -> serde_json::Value {
    use shared::roles::Role;
    let methods = [Method::Get, Method::Post, Method::Patch, Method::Delete];
    let mut routes = Vec::new();
    for template in PATH_TEMPLATES {
        let Some(route) = resolve(template) else {
            continue;
        };
        for method in &methods {
            let Some(requirement) = requirement(method, &route) else {
                continue;
            };
            let (needs, minimum_role) = match requirement {
                Requirement::Open => ("open".to_owned(), None),
                Requirement::SignedIn => ("signed_in".to_owned(), Some(Role::Stakeholder)),
                Requirement::Permission(permission) => (
                    permission.as_str().to_owned(),
                    Some(permission.minimum_role()),
                ),
            };
            routes.push(serde_json::json!({
                "method": method.to_string(),
                "path": template,
                "needs": needs,
                "minimum_role": minimum_role,
            }));
        }
    }
    serde_json::json!({
        "roles": Role::ALL,
        "routes": routes,
    })
}

#[cfg(test)]
mod authorization_tests {
    use shared::roles::Role;

    use super::*;

    fn needs(method: Method, path: &str) -> Option<Requirement> {
        requirement(&method, &resolve(path).unwrap())
    }

    #[test]
    fn every_template_resolves() {
        for template in PATH_TEMPLATES {
            assert!(resolve(template).is_some(), "{template}");
        }
    }

    #[test]
    fn only_enqueue_and_sign_in_are_open() {
        let open: Vec<_> = authorization_table_json()["routes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["needs"] == "open")
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap(),
                    r["path"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(open, ["POST /v2/enqueue", "POST /api/session"]);
    }

    #[test]
    fn reading_incidents_and_runs_needs_only_a_stakeholder() {
        for path in ["/api/incidents", "/api/incidents/i/log", "/api/runs/r"] {
            assert_eq!(
                needs(Method::Get, path),
                Some(Requirement::Permission(Permission::ReadIncidents)),
                "{path}"
            );
        }
    }

    #[test]
    fn running_acknowledging_and_resolving_need_a_responder() {
        for path in [
            "/api/incidents/i/acknowledge",
            "/api/incidents/i/resolve",
            "/api/incidents/i/actions/a/runs",
        ] {
            let Some(Requirement::Permission(p)) = needs(Method::Post, path) else {
                panic!("{path}");
            };
            assert_eq!(p.minimum_role(), Role::Responder, "{path}");
        }
    }

    #[test]
    fn changing_actions_needs_a_manager_and_services_an_admin() {
        assert_eq!(
            needs(Method::Patch, "/api/services/s/actions/a"),
            Some(Requirement::Permission(Permission::ManageActions))
        );
        assert_eq!(
            needs(Method::Post, "/api/services/s/actions/a/rotate_secret"),
            Some(Requirement::Permission(Permission::ManageActions))
        );
        assert_eq!(
            needs(Method::Delete, "/api/services/s"),
            Some(Requirement::Permission(Permission::ManageServices))
        );
    }

    #[test]
    fn every_user_route_needs_manage_users() {
        for (method, path) in [
            (Method::Get, "/api/users"),
            (Method::Post, "/api/users"),
            (Method::Get, "/api/users/u"),
            (Method::Patch, "/api/users/u"),
            (Method::Delete, "/api/users/u"),
            (Method::Get, "/api/users/u/tokens"),
            (Method::Post, "/api/users/u/tokens"),
            (Method::Delete, "/api/users/u/tokens/t"),
        ] {
            assert_eq!(
                needs(method.clone(), path),
                Some(Requirement::Permission(Permission::ManageUsers)),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn unanswered_methods_have_no_requirement() {
        assert_eq!(needs(Method::Get, "/v2/enqueue"), None);
        assert_eq!(needs(Method::Put, "/api/services"), None);
        assert_eq!(needs(Method::Patch, "/api/users/u/tokens/t"), None);
        assert_eq!(needs(Method::Post, "/api/me"), None);
    }

    /// The end-to-end matrix reads this file; regenerate it with
    /// `UPDATE_FIXTURES=1 cargo test -p incident-actions-worker authorization_fixture`.
    #[test]
    fn the_authorization_fixture_matches_the_table() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/authorization.json"
        );
        let expected = format!(
            "{}\n",
            serde_json::to_string_pretty(&authorization_table_json()).unwrap()
        );
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "{path} is out of date: run UPDATE_FIXTURES=1 cargo test -p incident-actions-worker"
        );
    }
}
