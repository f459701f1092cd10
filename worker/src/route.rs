//! Path → route, as a pure function so the whole URL space is tested natively.
//! Methods are matched in `lib.rs`, next to the handler each one calls.

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
    /// `/api/incidents/{id}/runs`
    IncidentRuns(&'a str),
    /// `/api/incidents/{id}/actions/{action_id}/runs`
    ActionRuns(&'a str, &'a str),
    /// `/api/runs/{id}`
    Run(&'a str),
    /// `/api/audit`
    Audit,
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
        ["api", "services", id, "actions", action] => Route::Action(id, action),
        ["api", "services", id, "actions", action, "rotate_secret"] => {
            Route::RotateSecret(id, action)
        }
        ["api", "incidents"] => Route::Incidents,
        ["api", "incidents", id] => Route::Incident(id),
        ["api", "incidents", id, "acknowledge"] => Route::Acknowledge(id),
        ["api", "incidents", id, "resolve"] => Route::Resolve(id),
        ["api", "incidents", id, "log"] => Route::IncidentLog(id),
        ["api", "incidents", id, "runs"] => Route::IncidentRuns(id),
        ["api", "incidents", id, "actions", action, "runs"] => Route::ActionRuns(id, action),
        ["api", "runs", id] => Route::Run(id),
        ["api", "audit"] => Route::Audit,
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
                "/api/services/s1/actions/a1/rotate_secret",
                Route::RotateSecret("s1", "a1"),
            ),
            ("/api/incidents", Route::Incidents),
            ("/api/incidents/i1", Route::Incident("i1")),
            ("/api/incidents/i1/acknowledge", Route::Acknowledge("i1")),
            ("/api/incidents/i1/resolve", Route::Resolve("i1")),
            ("/api/incidents/i1/log", Route::IncidentLog("i1")),
            ("/api/incidents/i1/runs", Route::IncidentRuns("i1")),
            (
                "/api/incidents/i1/actions/a1/runs",
                Route::ActionRuns("i1", "a1"),
            ),
            ("/api/runs/r1", Route::Run("r1")),
            ("/api/audit", Route::Audit),
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
        ] {
            assert_eq!(resolve(path), None, "{path}");
        }
    }
}
