//! Who sees what: the one place where a stored thing becomes what a role may see.
//!
//! Every answer that carries a service, an action, an incident, a timeline entry, a run
//! or a previewed request holds it as [`Viewed<T>`], on every surface (`/api`,
//! `/pagerduty`, and any later one). A `Viewed<T>` can only be made here, by
//! [`View::view`] with the viewer's role, so an answer that forgot to decide what its
//! viewer may see does not compile. (A client reads one back with `Deserialize`: what a
//! server sent was viewed already.)
//!
//! The rules, by the permission that lifts each:
//! - a service's `routing_key`: [`Permission::ManageRoutingKeys`] (manager and up);
//! - an action's configuration (`endpoint_url`, `headers`, `body_template`, and the
//!   one-time `signing_secret`): [`Permission::ManageActions`] (manager and up);
//! - how an endpoint answered: a run's `outcome`, `http_status`, `duration_ms`,
//!   `response_excerpt`, `request_headers`, `summary`, `reply_error` and `inputs`, the
//!   same of each attempt, an action's `health` beyond its last run time, and a run's
//!   timeline line beyond "Ran "<action>": <status>": [`Permission::RunActions`]
//!   (responder and up);
//! - an incident's `actions` and `recent_changes`: [`Permission::ReadServices`] (observer
//!   and up);
//! - a previewed request's `url`: [`Permission::ManageActions`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::api::{
    Action, ActionRun, ActionSummary, EndpointHealth, Incident, LogEntry, PreviewedRequest, Service,
};
use crate::roles::{Permission, Role};

/// A thing as one viewer may see it. Made only by [`View::view`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewed<T>(T);

impl<T> Viewed<T> {
    /// The viewed thing.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Viewed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Serialize> Serialize for Viewed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Viewed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

/// A thing that some roles may see only in part.
pub trait View: Sized {
    /// `self` with what `role` may not see left out.
    fn redact(self, role: Role) -> Self;

    /// `self` as `role` may see it: the only way to make a [`Viewed`].
    fn view(self, role: Role) -> Viewed<Self> {
        Viewed(self.redact(role))
    }
}

impl View for Service {
    fn redact(mut self, role: Role) -> Self {
        if !role.can(Permission::ManageRoutingKeys) {
            self.routing_key = None;
        }
        self
    }
}

/// An endpoint's health below responder: only when it last ran.
fn health(health: EndpointHealth, role: Role) -> EndpointHealth {
    if role.can(Permission::RunActions) {
        health
    } else {
        EndpointHealth {
            last_run_at: health.last_run_at,
            ..EndpointHealth::default()
        }
    }
}

impl View for Action {
    fn redact(mut self, role: Role) -> Self {
        if !role.can(Permission::ManageActions) {
            self.endpoint_url = None;
            self.headers = None;
            self.settings.body_template = None;
            self.signing_secret = None;
        }
        self.health = health(self.health, role);
        self
    }
}

impl View for ActionSummary {
    fn redact(mut self, role: Role) -> Self {
        self.health = health(self.health, role);
        self
    }
}

impl View for PreviewedRequest {
    fn redact(mut self, role: Role) -> Self {
        if !role.can(Permission::ManageActions) {
            self.url = None;
        }
        self
    }
}

impl View for Incident {
    fn redact(mut self, role: Role) -> Self {
        if role.can(Permission::ReadServices) {
            self.actions = self.actions.map(|actions| {
                actions
                    .into_iter()
                    .map(|action| action.redact(role))
                    .collect()
            });
        } else {
            self.actions = None;
            self.recent_changes = None;
        }
        self
    }
}

impl View for ActionRun {
    fn redact(mut self, role: Role) -> Self {
        if !role.can(Permission::RunActions) {
            self.outcome = None;
            self.http_status = None;
            self.duration_ms = None;
            self.response_excerpt = None;
            self.request_headers = None;
            self.summary = None;
            self.reply_error = None;
            self.inputs = None;
            for attempt in &mut self.attempts {
                attempt.outcome = None;
                attempt.http_status = None;
                attempt.duration_ms = None;
                attempt.response_excerpt = None;
            }
        }
        self
    }
}

impl View for LogEntry {
    fn redact(mut self, role: Role) -> Self {
        if let Some(run) = self.run.take().map(|run| run.redact(role)) {
            if !role.can(Permission::RunActions) {
                // The stored line carries run details (the HTTP code, the time, the rule
                // that blocked the endpoint, which names its host): the line of the
                // attempt the entry is about, by its status alone.
                let status = self
                    .attempt
                    .and_then(|number| run.attempts.iter().find(|a| a.number == number))
                    .map_or(run.status, |attempt| attempt.status);
                self.summary = crate::run_words::status_line(&run.action_name, status);
            }
            self.run = Some(run);
        }
        self
    }
}

/// Views each of `things` for `role`.
pub fn view_all<T: View>(things: impl IntoIterator<Item = T>, role: Role) -> Vec<Viewed<T>> {
    things.into_iter().map(|thing| thing.view(role)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::api::{
        ActionHeader, ConfigHealth, LogEntryType, RunAttempt, RunOutcome, RunStatus, SentHeader,
        REDACTED,
    };

    fn a_service() -> Service {
        Service {
            id: "svc_1".into(),
            name: "Checkout".into(),
            description: None,
            routing_key: Some("0123456789abcdef0123456789abcdef".into()),
            created_at: "t".into(),
        }
    }

    fn a_health() -> EndpointHealth {
        EndpointHealth {
            recent_failures: 3,
            last_outcome: Some(RunOutcome::HttpError),
            last_http_status: Some(503),
            last_duration_ms: Some(12),
            last_run_at: Some("t".into()),
        }
    }

    fn an_action() -> Action {
        Action {
            id: "act_1".into(),
            service_id: "svc_1".into(),
            name: "Restart".into(),
            description: None,
            endpoint_url: Some("https://e.com/hook".into()),
            enabled: true,
            headers: Some(vec![ActionHeader {
                name: "X-Env".into(),
                value: Some("prod".into()),
                secret: false,
            }]),
            settings: crate::action::RunSettings {
                body_template: Some("{\"t\": \"{{ incident.title }}\"}".into()),
                ..Default::default()
            },
            signing_secret: Some("whsec_x".into()),
            revision: 1,
            config_health: ConfigHealth::Ok,
            health: a_health(),
            config_problem: None,
            created_at: "t".into(),
            updated_at: "t".into(),
        }
    }

    fn a_run() -> ActionRun {
        ActionRun {
            id: "run_1".into(),
            incident_id: "inc_1".into(),
            action_id: "act_1".into(),
            action_name: "Restart".into(),
            status: RunStatus::Succeeded,
            outcome: Some(RunOutcome::Success),
            http_status: Some(200),
            duration_ms: Some(5),
            response_excerpt: Some("ok".into()),
            request_headers: Some(vec![SentHeader {
                name: "X-Api-Key".into(),
                value: REDACTED.into(),
            }]),
            requested_by: "admin".into(),
            requested_by_name: None,
            inputs: Some(serde_json::Map::from_iter([(
                "branch".into(),
                json!("main"),
            )])),
            action_revision: Some(1),
            started_at: "t".into(),
            finished_at: Some("t".into()),
            summary: Some("Restarted db-1".into()),
            reply_error: Some("note too long".into()),
            attempts: vec![RunAttempt {
                number: 1,
                status: RunStatus::Failed,
                outcome: Some(RunOutcome::HttpError),
                http_status: Some(503),
                duration_ms: Some(3),
                response_excerpt: Some("down".into()),
                requested_by: "admin".into(),
                requested_by_name: None,
                started_at: "t".into(),
                finished_at: Some("t".into()),
            }],
            attempt: 2,
            redeliverable: true,
        }
    }

    #[test]
    fn routing_keys_show_from_manager_up() {
        for role in Role::ALL {
            let shown = a_service().view(role).routing_key.is_some();
            assert_eq!(shown, role >= Role::Manager, "{role}");
        }
    }

    #[test]
    fn action_configuration_and_the_signing_secret_show_from_manager_up() {
        for role in Role::ALL {
            let action = an_action().view(role);
            let shown = role >= Role::Manager;
            assert_eq!(action.endpoint_url.is_some(), shown, "{role}");
            assert_eq!(action.headers.is_some(), shown, "{role}");
            assert_eq!(action.settings.body_template.is_some(), shown, "{role}");
            assert_eq!(action.signing_secret.is_some(), shown, "{role}");
            assert_eq!(action.name, "Restart");
        }
    }

    #[test]
    fn endpoint_health_shows_from_responder_up_and_when_it_last_ran_always() {
        for role in Role::ALL {
            let action = an_action().view(role);
            let summary = an_action_summary().view(role);
            for health in [&action.health, &summary.health] {
                let shown = role >= Role::Responder;
                assert_eq!(health.last_http_status.is_some(), shown, "{role}");
                assert_eq!(health.last_outcome.is_some(), shown, "{role}");
                assert_eq!(health.recent_failures > 0, shown, "{role}");
                assert_eq!(health.last_run_at.as_deref(), Some("t"), "{role}");
            }
        }
    }

    #[test]
    fn run_details_show_from_responder_up_and_the_status_always() {
        for role in Role::ALL {
            let run = a_run().view(role);
            let shown = role >= Role::Responder;
            assert_eq!(run.outcome.is_some(), shown, "{role}");
            assert_eq!(run.http_status.is_some(), shown, "{role}");
            assert_eq!(run.duration_ms.is_some(), shown, "{role}");
            assert_eq!(run.response_excerpt.is_some(), shown, "{role}");
            assert_eq!(run.request_headers.is_some(), shown, "{role}");
            assert_eq!(run.summary.is_some(), shown, "{role}");
            assert_eq!(run.reply_error.is_some(), shown, "{role}");
            assert_eq!(run.inputs.is_some(), shown, "{role}");
            assert_eq!(run.attempts[0].http_status.is_some(), shown, "{role}");
            assert_eq!(run.attempts[0].response_excerpt.is_some(), shown, "{role}");
            assert_eq!(run.status, RunStatus::Succeeded);
        }
    }

    #[test]
    fn a_run_line_below_responder_names_the_action_and_the_attempts_status_only() {
        let entry = LogEntry {
            id: "log_1".into(),
            entry_type: LogEntryType::ActionRun,
            created_at: "t".into(),
            agent: "Ada".into(),
            summary: "Did not run \"Restart\": blocked, nothing was sent. Endpoint host \
                      10.0.0.5 is a private address (10.0.0.0/8)"
                .into(),
            run: Some(a_run()),
            attempt: Some(1),
        };
        for role in Role::ALL {
            let shown = entry.clone().view(role);
            if role >= Role::Responder {
                assert_eq!(shown.summary, entry.summary, "{role}");
            } else {
                assert_eq!(shown.summary, "Ran \"Restart\": failed", "{role}");
                assert_eq!(shown.run.as_ref().unwrap().http_status, None, "{role}");
            }
        }
    }

    #[test]
    fn a_viewed_thing_serializes_as_the_thing_itself() {
        let viewed = a_service().view(Role::Owner);
        assert_eq!(
            serde_json::to_value(&viewed).unwrap(),
            serde_json::to_value(a_service()).unwrap()
        );
        let back: Viewed<Service> =
            serde_json::from_value(serde_json::to_value(&viewed).unwrap()).unwrap();
        assert_eq!(back, viewed);
    }

    fn an_incident() -> Incident {
        let mut incident: Incident = serde_json::from_value(json!({
            "id": "inc_1", "number": 12, "title": "Checkout down", "status": "triggered",
            "urgency": "high", "severity": "critical", "source": "db-1", "component": null,
            "group": null, "class": null, "custom_details": {"host": "db-1"}, "details": null,
            "links": [{"href": "https://grafana.example.com/d/1"}], "dedup_key": "k1",
            "event_count": 1, "service": {"id": "svc_1", "name": "Checkout"},
            "created_at": "t", "updated_at": "t",
            "recent_changes": [{"id": "chg_1", "service_id": "svc_1", "summary": "Deployed v41",
                "source": null, "custom_details": {}, "links": [], "timestamp": "t"}]
        }))
        .unwrap();
        incident.actions = Some(vec![an_action_summary()]);
        incident
    }

    fn an_action_summary() -> ActionSummary {
        ActionSummary {
            id: "act_1".into(),
            name: "Restart".into(),
            description: None,
            config_health: ConfigHealth::Ok,
            health: a_health(),
            inputs: Vec::new(),
            confirm: None,
        }
    }

    fn a_log_entry() -> LogEntry {
        LogEntry {
            id: "log_1".into(),
            entry_type: LogEntryType::ActionRun,
            created_at: "t".into(),
            agent: "Ada".into(),
            summary: "Ran \"Restart\": succeeded (HTTP 200, 5 ms)".into(),
            run: Some(a_run()),
            attempt: Some(2),
        }
    }

    fn a_previewed_request() -> PreviewedRequest {
        PreviewedRequest {
            method: "POST".into(),
            url: Some("https://e.com/hook".into()),
            headers: Vec::new(),
            body: "{}".into(),
        }
    }

    /// The dotted paths (`[]` for every item of a list) where `shown` holds less than
    /// `full`: a value gone, `null`, or changed. A run line's `summary` is rewritten, not
    /// withheld; the e2e test checks its words instead.
    fn withheld(full: &Value, shown: &Value, at: &str, paths: &mut Vec<String>) {
        let join = |key: &str| {
            if at.is_empty() {
                key.to_owned()
            } else {
                format!("{at}.{key}")
            }
        };
        match (full, shown) {
            (Value::Object(full), Value::Object(shown)) => {
                for (key, value) in full {
                    let path = join(key);
                    match shown.get(key) {
                        Some(other) if !other.is_null() || value.is_null() => {
                            withheld(value, other, &path, paths);
                        }
                        Some(_) | None => paths.push(path),
                    }
                }
            }
            (Value::Array(full), Value::Array(shown)) => {
                for (value, other) in full.iter().zip(shown) {
                    withheld(value, other, &format!("{at}[]"), paths);
                }
            }
            (full, shown) if full != shown && at != "summary" => paths.push(at.to_owned()),
            _ => {}
        }
        paths.sort();
        paths.dedup();
    }

    /// Each kind of viewed thing: how an answer's JSON object is recognised as one (keys
    /// it always has, keys it never has), and per role the paths that role must find
    /// absent, `null` or empty.
    fn views_json() -> Value {
        fn kind<T: View + Clone + Serialize>(sample: T, has: &[&str], lacks: &[&str]) -> Value {
            let full = serde_json::to_value(sample.clone().view(Role::Owner)).unwrap();
            let mut withheld_by_role = serde_json::Map::new();
            for role in Role::ALL {
                let shown = serde_json::to_value(sample.clone().view(role)).unwrap();
                let mut paths = Vec::new();
                withheld(&full, &shown, "", &mut paths);
                withheld_by_role.insert(role.as_str().to_owned(), json!(paths));
            }
            json!({"has": has, "lacks": lacks, "withheld": withheld_by_role})
        }
        json!({
            "service": kind(a_service(), &["id", "name", "routing_key", "created_at"], &[]),
            "action": kind(an_action(), &["service_id", "revision", "config_health", "enabled"], &[]),
            "action_summary": kind(
                an_action_summary(),
                &["config_health", "health", "inputs"],
                &["service_id"],
            ),
            "incident": kind(an_incident(), &["dedup_key", "event_count", "service"], &[]),
            "log_entry": kind(a_log_entry(), &["type", "agent", "summary", "created_at"], &[]),
            "run": kind(a_run(), &["action_name", "requested_by", "attempts", "redeliverable"], &[]),
            "previewed_request": kind(a_previewed_request(), &["method", "headers", "body"], &[]),
        })
    }

    /// `e2e/views.test.mjs` reads this file; regenerate it with
    /// `UPDATE_FIXTURES=1 cargo test -p incident-actions-shared`.
    #[test]
    fn the_views_fixture_matches_the_rules() {
        crate::readme::check_generated_fixture("views.json", &views_json());
    }

    /// The README's table of what each role sees is these rules.
    #[test]
    fn the_readme_views_table_matches_the_rules() {
        let views = views_json();
        let mut table = String::from("| thing | field | seen from |\n|---|---|---|\n");
        for (name, kind) in views.as_object().unwrap() {
            let withheld = &kind["withheld"];
            let mut paths: Vec<&str> = withheld["stakeholder"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            paths.retain(|path| !path.contains('.') || !paths_has_parent(path, withheld));
            for path in paths {
                let from = Role::ALL
                    .into_iter()
                    .find(|role| {
                        !withheld[role.as_str()]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|p| p == path)
                    })
                    .map_or("nobody", Role::as_str);
                table.push_str(&format!(
                    "| {} | `{path}` | {from} |\n",
                    name.replace('_', " ")
                ));
            }
        }
        crate::readme::check_generated_section("views-table", &table);
    }

    /// Whether a shorter path that `path` lies under is withheld from a stakeholder too
    /// (then the table names only the outer one).
    fn paths_has_parent(path: &str, withheld: &Value) -> bool {
        withheld["stakeholder"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .any(|other| other != path && path.starts_with(&format!("{other}.")))
    }
}
