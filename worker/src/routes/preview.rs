//! See the request before it is sent: `POST /api/services/{id}/actions/{action_id}/preview`
//! (a stored action, or an unsaved edit of it as `draft`) and
//! `POST /api/services/{id}/actions/preview` (an action not created yet).
//!
//! A preview is built by the run's own code (`delivery::preview`), so it is what a run
//! sends, except that every secret value reads `[redacted]`, the signature is a
//! placeholder and the run id is [`PREVIEW_RUN_ID`]. It sends nothing and records
//! nothing, and no secret is opened to make it. The check on save (`check_templates`)
//! is the same build against a sample incident.

use serde_json::json;
use shared::action::{validate_action, ActionSpec, Submission, Submitted};
use shared::api::{
    ChangeEvent, Incident, PreviewIncident, PreviewRequest, PreviewResponse, ServiceRef,
    PREVIEW_RUN_ID,
};
use shared::errors::ErrorCode;
use shared::incident::{IncidentStatus, Severity};
use shared::inputs::validate_values;
use shared::roles::Permission;
use shared::template::sample_inputs;
use shared::time::format_rfc3339;
use shared::view::View;
use shared::FieldError;
use worker::{Request, Response};

use crate::app::App;
use crate::delivery::{preview, RunFacts};
use crate::domain::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_response, read_optional_json};
use crate::store::actions::{self, Config};
use crate::store::{changes, incidents, services};
use crate::template::TemplateFailure;

/// The handler of both preview routes; `action_id` is `None` for an unsaved action.
pub async fn preview_request(
    mut req: Request,
    app: &App,
    caller: &Principal,
    service_id: &str,
    action_id: Option<&str>,
) -> ApiResult<Response> {
    let body: PreviewRequest = read_optional_json(&mut req).await?;
    if body.draft.is_some() {
        caller.require(Permission::ManageActions)?;
    }
    let db = app.db()?;
    let service = services::get(&db, service_id)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    let action =
        match (&body.draft, action_id) {
            (Some(draft), _) => {
                validate_action(draft, &app.endpoint_policy(), Submission::Preview)?.redacted()
            }
            (None, Some(id)) => {
                let view = actions::view(&db, &app.kv()?, service_id, id)
                    .await?
                    .ok_or(ApiError::NotFound("Action"))?;
                match view.config {
                    Config::Readable(record) => record.redacted(),
                    Config::Propagating => return Err(ApiError::ConfigPropagating),
                    Config::Unreadable(why) => {
                        return Err(ApiError::Refused(ErrorCode::ActionUnreadable, why))
                    }
                }
            }
            (None, None) => return Err(ApiError::Refused(
                ErrorCode::DraftRequired,
                "An action that is not saved yet is previewed from its form: send it as \"draft\""
                    .to_owned(),
            )),
        };
    let incident_row = match &body.incident_id {
        Some(id) => Some(
            incidents::get(&db, id)
                .await?
                .filter(|row| row.service_id() == service_id)
                .ok_or(ApiError::NotFound("Incident"))?,
        ),
        None => incidents::latest_of_service(&db, service_id).await?,
    };
    let (incident, used) = match incident_row {
        Some(row) => {
            let mut incident = row.into_wire()?;
            let recent = changes::recent_for_incident(&db, &incident.id)?
                .all()
                .await?
                .results()?;
            incident.recent_changes = Some(changes::wire(recent)?);
            let used = PreviewIncident {
                id: incident.id.clone(),
                number: incident.number,
                title: incident.title.clone(),
            };
            (incident, Some(used))
        }
        None => (sample_incident(service_id, &service.name, app.now_ms), None),
    };
    let inputs = match &body.inputs {
        Some(values) => {
            validate_values(&action.settings.inputs, values).map_err(ApiError::InvalidInputs)?
        }
        None => sample_inputs(&action.settings.inputs),
    };
    let facts = RunFacts {
        run_id: PREVIEW_RUN_ID,
        now_ms: app.now_ms,
        agent: caller,
        incident: &incident,
        inputs: &inputs,
    };
    let request = preview(&facts, action_id.unwrap_or("act_preview"), &action)
        .map_err(template_errors)?
        .view(caller.role);
    Ok(json_response(
        &PreviewResponse {
            request,
            incident: used,
        },
        200,
    )?)
}

/// The check on save: the action's templates compile and render a valid request against
/// a sample incident with sample input values, or 422 `invalid_template`, each failure
/// with its line. An action without templates passes without rendering anything.
pub fn check_templates(
    valid: &ActionSpec<Submitted>,
    service_id: &str,
    now_ms: i64,
) -> ApiResult<()> {
    let action = valid.redacted();
    let incident = sample_incident(service_id, "Sample service", now_ms);
    let inputs = sample_inputs(&valid.settings.inputs);
    let agent = Principal::admin();
    let facts = RunFacts {
        run_id: PREVIEW_RUN_ID,
        now_ms,
        agent: &agent,
        incident: &incident,
        inputs: &inputs,
    };
    preview(&facts, "act_check", &action)
        .map(|_| ())
        .map_err(template_errors)
}

fn template_errors(failures: Vec<TemplateFailure>) -> ApiError {
    ApiError::InvalidTemplate(
        failures
            .into_iter()
            .map(|failure| FieldError {
                field: failure.field,
                message: failure.message,
            })
            .collect(),
    )
}

/// The incident a template is rendered against when the service has none yet: every
/// field filled, as a monitor's trigger would fill it, with one recent change.
pub fn sample_incident(service_id: &str, service_name: &str, now_ms: i64) -> Incident {
    Incident {
        id: "inc_sample".to_owned(),
        number: 1,
        title: "Sample: disk almost full on db-1".to_owned(),
        status: IncidentStatus::Triggered,
        urgency: Severity::Critical.urgency(),
        severity: Severity::Critical,
        source: "db-1.example.com".to_owned(),
        component: Some("postgres".to_owned()),
        group: Some("databases".to_owned()),
        class: Some("disk".to_owned()),
        custom_details: Some(
            json!({"host": "db-1.example.com", "mount": "/var", "free_percent": 3}),
        ),
        details: None,
        links: Some(json!([])),
        dedup_key: "sample-disk-db-1".to_owned(),
        event_count: 1,
        service: ServiceRef {
            id: service_id.to_owned(),
            name: service_name.to_owned(),
        },
        created_at: format_rfc3339(now_ms),
        updated_at: format_rfc3339(now_ms),
        recent_changes: Some(vec![ChangeEvent {
            id: "chg_sample".to_owned(),
            service_id: service_id.to_owned(),
            summary: "Sample: deployed checkout v1.2.3".to_owned(),
            source: Some("github.com/example/checkout".to_owned()),
            custom_details: json!({"commit": "0a1b2c3", "author": "sample"}),
            links: json!([]),
            timestamp: format_rfc3339(now_ms - 3_600_000),
        }]),
        recent_changes_truncated: false,
        actions: None,
    }
}

#[cfg(test)]
mod tests {
    use shared::action::RunSettings;
    use shared::api::CreateActionRequest;
    use shared::endpoint::EndpointPolicy;

    use super::*;

    fn valid(body_template: Option<&str>) -> ActionSpec<Submitted> {
        let request = CreateActionRequest {
            name: "Restart".into(),
            endpoint_url: "https://hooks.example.com/x".into(),
            settings: RunSettings {
                body_template: body_template.map(str::to_owned),
                ..RunSettings::default()
            },
            ..CreateActionRequest::default()
        };
        validate_action(&request, &EndpointPolicy::default(), Submission::New).unwrap()
    }

    fn refusal(template: &str) -> Vec<FieldError> {
        match check_templates(&valid(Some(template)), "svc_1", 0) {
            Err(ApiError::InvalidTemplate(fields)) => fields,
            other => panic!("expected invalid_template, got {other:?}"),
        }
    }

    #[test]
    fn a_template_that_renders_json_against_the_sample_passes() {
        assert!(check_templates(
            &valid(Some(r#"{"host": "{{ incident.custom_details.host }}"}"#)),
            "svc_1",
            0
        )
        .is_ok());
        assert!(check_templates(&valid(None), "svc_1", 0).is_ok());
    }

    #[test]
    fn a_template_error_on_save_names_the_field_and_the_line() {
        let fields = refusal("{\n  \"a\": {% if %}\n}");
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].field, "body_template");
        assert!(
            fields[0].message.starts_with("Line 2: syntax error"),
            "{}",
            fields[0].message
        );
    }

    #[test]
    fn a_template_that_renders_something_other_than_json_is_refused_on_save() {
        let fields = refusal("{\"title\": {{ incident.title }}}");
        assert!(
            fields[0].message.contains("not valid JSON"),
            "{}",
            fields[0].message
        );
    }
}
