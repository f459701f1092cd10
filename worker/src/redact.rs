//! Role-dependent redaction of answers: what a role may reach but not read in full.
//! The route table decides *whether* a caller gets an answer; this decides *how much*
//! of it. Pure functions, so every rule is tested natively.

use shared::api::{Action, ActionRun, Incident, LogEntry, PreviewedRequest, Service};
use shared::roles::{Permission, Role};

/// A service: the routing key is a credential for the Events API, so `null` below
/// `manager`.
pub fn service(mut service: Service, role: Role) -> Service {
    if !role.can(Permission::ManageRoutingKeys) {
        service.routing_key = None;
    }
    service
}

/// An action: below `manager`, only what a button needs (name, description, state);
/// the endpoint, headers and body template are left out.
pub fn action(mut action: Action, role: Role) -> Action {
    if !role.can(Permission::ManageActions) {
        action.endpoint_url = None;
        action.headers = None;
        action.body_template = None;
        action.signing_secret = None;
    }
    action
}

/// A previewed request: below `manager`, the endpoint is left out, as on the action.
pub fn previewed_request(mut request: PreviewedRequest, role: Role) -> PreviewedRequest {
    if !role.can(Permission::ManageActions) {
        request.url = None;
    }
    request
}

/// An incident: a stakeholder reads incidents, not the service's actions, so the list of
/// action buttons is left out for roles that may not read services.
pub fn incident(mut incident: Incident, role: Role) -> Incident {
    if !role.can(Permission::ReadServices) {
        incident.actions = None;
    }
    incident
}

/// A run: below `responder`, only its status. How the endpoint answered (outcome, code,
/// time, excerpt) and what was sent (headers) are run details.
pub fn run(mut run: ActionRun, role: Role) -> ActionRun {
    if !role.can(Permission::RunActions) {
        run.outcome = None;
        run.http_status = None;
        run.duration_ms = None;
        run.response_excerpt = None;
        run.request_headers = None;
        for attempt in &mut run.attempts {
            attempt.outcome = None;
            attempt.http_status = None;
            attempt.duration_ms = None;
            attempt.response_excerpt = None;
        }
    }
    run
}

/// A timeline entry: its embedded run redacted as [`run`]. Below `responder` a run's
/// line says only which action ran and its status, because the stored line carries run
/// details (the HTTP code, the time, or the rule that blocked the endpoint, which names
/// its host).
pub fn log_entry(mut entry: LogEntry, role: Role) -> LogEntry {
    if let Some(shown) = entry.run.take().map(|r| run(r, role)) {
        if !role.can(Permission::RunActions) {
            // The line of the attempt the entry is about, by its status alone.
            let status = entry
                .attempt
                .and_then(|number| shown.attempts.iter().find(|a| a.number == number))
                .map_or(shown.status, |attempt| attempt.status);
            entry.summary = format!("Ran \"{}\": {}", shown.action_name, status.as_str());
        }
        entry.run = Some(shown);
    }
    entry
}

#[cfg(test)]
mod tests {
    use shared::api::{ActionHeader, RunOutcome, RunStatus, SentHeader, REDACTED};

    use super::*;

    fn a_service() -> Service {
        Service {
            id: "svc_1".into(),
            name: "Checkout".into(),
            description: None,
            routing_key: Some("0123456789abcdef0123456789abcdef".into()),
            created_at: "t".into(),
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
            inputs: Vec::new(),
            confirm: None,
            available_when: None,
            body_template: Some("{\"t\": \"{{ incident.title }}\"}".into()),
            signing_secret: None,
            revision: 1,
            config_health: shared::api::ConfigHealth::Ok,
            health: Default::default(),
            config_problem: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            accept_reply: false,
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
            inputs: None,
            action_revision: Some(1),
            started_at: "t".into(),
            finished_at: Some("t".into()),
            summary: None,
            reply_error: None,
            attempts: Vec::new(),
            attempt: 1,
            redeliverable: false,
        }
    }

    #[test]
    fn routing_keys_show_from_manager_up() {
        for role in Role::ALL {
            let shown = service(a_service(), role).routing_key.is_some();
            assert_eq!(shown, role >= Role::Manager, "{role}");
        }
    }

    #[test]
    fn action_configuration_shows_from_manager_up() {
        for role in Role::ALL {
            let action = action(an_action(), role);
            let shown = role >= Role::Manager;
            assert_eq!(action.endpoint_url.is_some(), shown, "{role}");
            assert_eq!(action.headers.is_some(), shown, "{role}");
            assert_eq!(action.body_template.is_some(), shown, "{role}");
            assert_eq!(action.name, "Restart");
        }
    }

    #[test]
    fn run_details_show_from_responder_up_and_the_status_always() {
        for role in Role::ALL {
            let run = run(a_run(), role);
            let shown = role >= Role::Responder;
            assert_eq!(run.outcome.is_some(), shown, "{role}");
            assert_eq!(run.http_status.is_some(), shown, "{role}");
            assert_eq!(run.duration_ms.is_some(), shown, "{role}");
            assert_eq!(run.response_excerpt.is_some(), shown, "{role}");
            assert_eq!(run.request_headers.is_some(), shown, "{role}");
            assert_eq!(run.status, RunStatus::Succeeded);
        }
    }

    #[test]
    fn a_run_line_below_responder_names_the_action_and_status_only() {
        let entry = LogEntry {
            id: "log_1".into(),
            entry_type: shared::api::LogEntryType::ActionRun,
            created_at: "t".into(),
            agent: "Ada".into(),
            summary: "Did not run \"Restart\": blocked, nothing was sent. Endpoint host \
                      10.0.0.5 is a private address (10.0.0.0/8)"
                .into(),
            run: Some(a_run()),
            attempt: Some(1),
        };
        for role in Role::ALL {
            let shown = log_entry(entry.clone(), role);
            if role >= Role::Responder {
                assert_eq!(shown.summary, entry.summary, "{role}");
            } else {
                assert_eq!(shown.summary, "Ran \"Restart\": succeeded", "{role}");
                assert_eq!(shown.run.unwrap().http_status, None, "{role}");
            }
        }
    }
}
