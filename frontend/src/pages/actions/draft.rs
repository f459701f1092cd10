//! The action form's contents as plain data, and how they become a request.
//!
//! Kept apart from the component so the rules that matter (a secret left blank on edit
//! keeps its stored value; a new secret header needs a value; a stored secret does not
//! follow the endpoint to another origin; an edit names the revision it was made on; what
//! the form cannot edit yet is sent back as it was) are covered by native tests.

use shared::action::{reenter_errors, secrets_to_reenter, validate_action, ActionFields};
use shared::api::{
    Action as CustomAction, ActionHealth, CreateActionRequest, HeaderInput, UpdateActionRequest,
};
use shared::endpoint::EndpointPolicy;
use shared::inputs::InputDefinition;
use shared::run_rules::{AvailableWhen, Confirm};
use shared::FieldError;

/// One header row as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderDraft {
    /// Header name as typed.
    pub name: String,
    /// Value as typed; blank for a stored secret means "keep it".
    pub value: String,
    /// Hide the value once saved.
    pub secret: bool,
    /// For a secret header loaded from the server: its name then. The stored value can
    /// only be kept under that name.
    pub stored_secret_name: Option<String>,
}

impl HeaderDraft {
    /// Whether a blank value means "keep the stored secret".
    fn keeps_stored_secret(&self) -> bool {
        self.secret
            && self.value.is_empty()
            && self
                .stored_secret_name
                .as_deref()
                .is_some_and(|stored| stored.eq_ignore_ascii_case(self.name.trim()))
    }

    fn input(&self) -> HeaderInput {
        HeaderInput {
            name: self.name.trim().to_owned(),
            value: (!self.keeps_stored_secret()).then(|| self.value.clone()),
            secret: Some(self.secret),
        }
    }
}

/// What an edit form was opened on: not typed, but it decides what the edit may keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditBase {
    /// The revision being edited, sent back so a concurrent change is not overwritten.
    pub revision: u64,
    /// The stored endpoint, whose origin the stored secret values belong to; `None` when
    /// the answer left it out (an action whose configuration cannot be opened).
    pub endpoint_url: Option<String>,
}

/// What a run asks first (inputs, a confirmation) and when the action applies. The form
/// has no editor for these yet: it keeps the saved action's values and sends them back
/// unchanged, so saving in the SPA never wipes what was set through the API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSettings {
    /// The inputs a run asks for, in order.
    pub inputs: Vec<InputDefinition>,
    /// The confirmation asked before each run.
    pub confirm: Option<Confirm>,
    /// The incidents the action applies to.
    pub available_when: Option<AvailableWhen>,
    /// The body template; `None` sends the default payload.
    pub body_template: Option<String>,
}

impl RunSettings {
    /// The saved action's settings, when its answer carried its configuration. An action
    /// whose configuration could not be read (or has not reached this location yet) comes
    /// without them, and empty lists there mean "unknown", not "none": `None` then.
    fn of(action: &CustomAction) -> Option<Self> {
        (action.health == ActionHealth::Ok).then(|| Self {
            inputs: action.inputs.clone(),
            confirm: action.confirm.clone(),
            available_when: action.available_when.clone(),
            body_template: action.body_template.clone(),
        })
    }
}

/// The whole form as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionDraft {
    /// Button label.
    pub name: String,
    /// Endpoint URL.
    pub endpoint_url: String,
    /// Description.
    pub description: String,
    /// Shown on incidents.
    pub enabled: bool,
    /// Header rows in order.
    pub headers: Vec<HeaderDraft>,
    /// Inputs, confirmation and availability, kept as loaded; `None` when the loaded
    /// action did not say (an edit then leaves them out, which keeps the stored ones).
    pub run_settings: Option<RunSettings>,
    /// The saved action being edited; `None` for a new one.
    pub base: Option<EditBase>,
}

impl Default for ActionDraft {
    fn default() -> Self {
        Self {
            name: String::new(),
            endpoint_url: String::new(),
            description: String::new(),
            enabled: true,
            headers: Vec::new(),
            run_settings: Some(RunSettings::default()),
            base: None,
        }
    }
}

impl ActionDraft {
    /// The form filled in from a saved action. Secret values never come back from the
    /// API, so their inputs start blank.
    pub fn from_action(action: &CustomAction) -> Self {
        Self {
            name: action.name.clone(),
            // Left out for roles that may not edit (never in this form) and for an action
            // whose configuration cannot be opened: blank, to be typed again.
            endpoint_url: action.endpoint_url.clone().unwrap_or_default(),
            description: action.description.clone().unwrap_or_default(),
            enabled: action.enabled,
            headers: action
                .headers
                .iter()
                .flatten()
                .map(|header| HeaderDraft {
                    name: header.name.clone(),
                    value: header.value.clone().unwrap_or_default(),
                    secret: header.secret,
                    stored_secret_name: header.secret.then(|| header.name.clone()),
                })
                .collect(),
            run_settings: RunSettings::of(action),
            base: Some(EditBase {
                revision: action.revision,
                endpoint_url: action.endpoint_url.clone(),
            }),
        }
    }

    fn header_inputs(&self) -> Vec<HeaderInput> {
        self.headers.iter().map(HeaderDraft::input).collect()
    }

    /// Every problem with the form, keyed by request field path; empty when it can be sent.
    /// An edit may leave a stored secret blank to keep it, unless the endpoint moves to
    /// another origin (the worker would refuse that with `secrets_must_be_reentered`).
    pub fn problems(&self, policy: &EndpointPolicy) -> Vec<FieldError> {
        let editing = self.base.is_some();
        let headers = self.header_inputs();
        let settings = self.run_settings.as_ref();
        let fields = ActionFields {
            name: &self.name,
            description: Some(&self.description),
            // What is sent is trimmed (below), so that is what is checked: a pasted URL's
            // stray space is not an error in the form.
            endpoint_url: self.endpoint_url.trim(),
            headers: &headers,
            inputs: settings.map_or(&[], |settings| &settings.inputs),
            confirm: settings.and_then(|settings| settings.confirm.as_ref()),
            available_when: settings.and_then(|settings| settings.available_when.as_ref()),
            body_template: settings.and_then(|settings| settings.body_template.as_deref()),
        };
        let mut problems = validate_action(fields, policy, editing)
            .err()
            .map(|error| error.fields)
            .unwrap_or_default();
        // The shared rule lets any blank secret through on edit; only one that is already
        // stored under this name has a value to keep.
        for (index, header) in self.headers.iter().enumerate() {
            let path = format!("headers[{index}].value");
            if editing
                && header.secret
                && header.value.is_empty()
                && !header.keeps_stored_secret()
                && !problems.iter().any(|p| p.field == path)
            {
                problems.push(FieldError {
                    field: path,
                    message: "Header value is required".to_owned(),
                });
            }
        }
        let stored_url = self
            .base
            .as_ref()
            .and_then(|base| base.endpoint_url.as_deref());
        if let Some(stored_url) = stored_url {
            let moved = secrets_to_reenter(stored_url, self.endpoint_url.trim(), &headers);
            for error in reenter_errors(&moved) {
                if !problems.iter().any(|p| p.field == error.field) {
                    problems.push(error);
                }
            }
        }
        problems
    }

    /// The body of `POST .../actions`.
    pub fn create_request(&self) -> CreateActionRequest {
        let description = self.description.trim();
        let settings = self.run_settings.clone().unwrap_or_default();
        CreateActionRequest {
            name: self.name.trim().to_owned(),
            endpoint_url: self.endpoint_url.trim().to_owned(),
            description: (!description.is_empty()).then(|| description.to_owned()),
            enabled: Some(self.enabled),
            headers: Some(self.header_inputs()),
            inputs: (!settings.inputs.is_empty()).then_some(settings.inputs),
            confirm: settings.confirm,
            available_when: settings.available_when,
            body_template: settings.body_template,
        }
    }

    /// The body of `PATCH .../actions/{id}`: every field, so the saved action is what the
    /// form shows; a blank description clears it. Inputs, confirmation and availability go
    /// back exactly as loaded (a `null` only where the action had none), or are left out
    /// when the loaded action did not carry them. It names the revision the form was
    /// opened on, so an edit made meanwhile by someone else is refused, not overwritten.
    pub fn update_request(&self) -> UpdateActionRequest {
        let settings = self.run_settings.clone();
        let (inputs, confirm, available_when, body_template) = match settings {
            Some(settings) => (
                Some(settings.inputs),
                Some(settings.confirm),
                Some(settings.available_when),
                Some(settings.body_template),
            ),
            None => (None, None, None, None),
        };
        UpdateActionRequest {
            name: Some(self.name.trim().to_owned()),
            endpoint_url: Some(self.endpoint_url.trim().to_owned()),
            description: Some(self.description.trim().to_owned()),
            enabled: Some(self.enabled),
            headers: Some(self.header_inputs()),
            inputs,
            confirm,
            available_when,
            body_template,
            revision: self.base.as_ref().map(|base| base.revision),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::api::ActionHeader;
    use shared::incident::IncidentStatus;
    use shared::inputs::InputType;

    fn local_policy() -> EndpointPolicy {
        EndpointPolicy::from_allowlist("127.0.0.1")
    }

    fn draft(url: &str) -> ActionDraft {
        ActionDraft {
            name: " Restart web ".into(),
            endpoint_url: url.into(),
            ..ActionDraft::default()
        }
    }

    fn saved_action() -> CustomAction {
        CustomAction {
            id: "act_1".into(),
            service_id: "svc_1".into(),
            name: "Restart".into(),
            description: None,
            endpoint_url: Some("https://e.com/hook".into()),
            enabled: true,
            headers: Some(vec![
                ActionHeader {
                    name: "Authorization".into(),
                    value: None,
                    secret: true,
                },
                ActionHeader {
                    name: "X-Team".into(),
                    value: Some("web".into()),
                    secret: false,
                },
            ]),
            inputs: Vec::new(),
            confirm: None,
            available_when: None,
            body_template: None,
            signing_secret: None,
            revision: 7,
            health: ActionHealth::Ok,
            health_problem: None,
            created_at: "t".into(),
            updated_at: "t".into(),
        }
    }

    fn fields(problems: &[FieldError]) -> Vec<&str> {
        problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn plain_http_to_an_allowlisted_host_passes_the_form() {
        assert!(draft("http://127.0.0.1:9100/hook")
            .problems(&local_policy())
            .is_empty());
    }

    #[test]
    fn plain_http_elsewhere_is_reported_on_the_url_field() {
        let problems = draft("http://example.com/hook").problems(&local_policy());
        assert_eq!(fields(&problems), ["endpoint_url"]);
        assert!(problems[0].message.contains("https://"));
    }

    #[test]
    fn a_pasted_url_with_stray_spaces_is_valid_in_the_form() {
        let problems = draft(" https://e.com/hook \n").problems(&local_policy());
        assert_eq!(fields(&problems), Vec::<&str>::new());
    }

    #[test]
    fn a_create_request_is_trimmed_and_leaves_out_a_blank_description() {
        let request = draft(" https://e.com/hook ").create_request();
        assert_eq!(request.name, "Restart web");
        assert_eq!(request.endpoint_url, "https://e.com/hook");
        assert_eq!(request.description, None);
        assert_eq!(request.enabled, Some(true));
    }

    #[test]
    fn an_edited_action_starts_with_blank_secrets_and_visible_plain_values() {
        let draft = ActionDraft::from_action(&saved_action());
        assert_eq!(draft.headers[0].value, "");
        assert!(draft.headers[0].secret);
        assert_eq!(draft.headers[1].value, "web");
    }

    #[test]
    fn a_blank_stored_secret_is_sent_as_null_to_keep_it() {
        let draft = ActionDraft::from_action(&saved_action());
        assert!(draft.problems(&EndpointPolicy::default()).is_empty());
        let headers = draft.update_request().headers.unwrap();
        assert_eq!(headers[0].value, None);
        assert_eq!(headers[0].secret, Some(true));
        assert_eq!(headers[1].value.as_deref(), Some("web"));
    }

    #[test]
    fn a_retyped_secret_is_sent() {
        let mut draft = ActionDraft::from_action(&saved_action());
        draft.headers[0].value = "Bearer new".into();
        let headers = draft.update_request().headers.unwrap();
        assert_eq!(headers[0].value.as_deref(), Some("Bearer new"));
    }

    #[test]
    fn a_new_secret_header_needs_a_value_even_on_edit() {
        let mut draft = ActionDraft::from_action(&saved_action());
        draft.headers.push(HeaderDraft {
            name: "X-Key".into(),
            secret: true,
            ..HeaderDraft::default()
        });
        let problems = draft.problems(&EndpointPolicy::default());
        assert_eq!(fields(&problems), ["headers[2].value"]);
    }

    #[test]
    fn renaming_a_stored_secret_needs_its_value_again() {
        let mut draft = ActionDraft::from_action(&saved_action());
        draft.headers[0].name = "X-Auth".into();
        let problems = draft.problems(&EndpointPolicy::default());
        assert_eq!(fields(&problems), ["headers[0].value"]);
    }

    #[test]
    fn a_secret_header_needs_a_value_on_create() {
        let mut draft = draft("https://e.com/hook");
        draft.headers.push(HeaderDraft {
            name: "Authorization".into(),
            secret: true,
            ..HeaderDraft::default()
        });
        let problems = draft.problems(&EndpointPolicy::default());
        assert_eq!(fields(&problems), ["headers[0].value"]);
    }

    #[test]
    fn clearing_the_description_on_edit_sends_an_empty_string() {
        let mut draft = ActionDraft::from_action(&saved_action());
        draft.description = "  ".into();
        assert_eq!(draft.update_request().description.as_deref(), Some(""));
    }

    #[test]
    fn an_edit_names_the_revision_it_was_opened_on() {
        let draft = ActionDraft::from_action(&saved_action());
        assert_eq!(draft.update_request().revision, Some(7));
        let body = serde_json::to_value(draft.update_request()).unwrap();
        assert_eq!(body["revision"], 7);
    }

    #[test]
    fn an_edit_reloaded_after_a_conflict_names_the_new_revision() {
        let mut theirs = saved_action();
        theirs.revision = 9;
        theirs.name = "Restart (theirs)".into();
        let reloaded = ActionDraft::from_action(&theirs);
        assert_eq!(reloaded.name, "Restart (theirs)");
        assert_eq!(reloaded.update_request().revision, Some(9));
    }

    #[test]
    fn moving_the_endpoint_to_another_origin_needs_each_kept_secret_retyped() {
        let mut draft = ActionDraft::from_action(&saved_action());
        draft.endpoint_url = "https://elsewhere.example.com/hook".into();
        let problems = draft.problems(&EndpointPolicy::default());
        assert_eq!(fields(&problems), ["headers[0].value"]);
        assert!(
            problems[0].message.contains("Authorization"),
            "{problems:?}"
        );
        draft.headers[0].value = "Bearer retyped".into();
        assert!(draft.problems(&EndpointPolicy::default()).is_empty());
    }

    #[test]
    fn another_path_on_the_same_origin_keeps_the_stored_secret() {
        let mut draft = ActionDraft::from_action(&saved_action());
        draft.endpoint_url = "https://e.com/other".into();
        assert!(draft.problems(&EndpointPolicy::default()).is_empty());
        assert_eq!(draft.update_request().headers.unwrap()[0].value, None);
    }

    #[test]
    fn a_removed_secret_need_not_be_retyped_when_the_endpoint_moves() {
        let mut draft = ActionDraft::from_action(&saved_action());
        draft.endpoint_url = "https://elsewhere.example.com/hook".into();
        draft.headers.remove(0);
        assert!(draft.problems(&EndpointPolicy::default()).is_empty());
    }

    #[test]
    fn a_blank_new_secret_on_a_moved_endpoint_is_reported_once() {
        let mut draft = ActionDraft::from_action(&saved_action());
        draft.endpoint_url = "https://elsewhere.example.com/hook".into();
        draft.headers[0].name = "X-Auth".into();
        let problems = draft.problems(&EndpointPolicy::default());
        assert_eq!(fields(&problems), ["headers[0].value"]);
    }

    #[test]
    fn an_unreadable_action_opens_with_what_is_there() {
        let mut unreadable = saved_action();
        unreadable.endpoint_url = None;
        unreadable.headers = None;
        unreadable.health = ActionHealth::Unreadable;
        let mut draft = ActionDraft::from_action(&unreadable);
        assert_eq!(draft.name, "Restart");
        assert_eq!(draft.endpoint_url, "");
        assert!(draft.headers.is_empty());
        assert_eq!(
            fields(&draft.problems(&EndpointPolicy::default())),
            ["endpoint_url"]
        );
        draft.endpoint_url = "https://e.com/hook".into();
        assert!(draft.problems(&EndpointPolicy::default()).is_empty());
        assert_eq!(draft.update_request().revision, Some(7));
    }

    fn asking_action() -> CustomAction {
        CustomAction {
            inputs: vec![InputDefinition {
                key: "region".into(),
                label: "Region".into(),
                input_type: InputType::Select,
                required: true,
                default: Some(json!("eu")),
                options: vec!["eu".into(), "us".into()],
                min: None,
                max: None,
                help: None,
            }],
            confirm: Some(Confirm {
                message: "Rolls back every region".into(),
                type_to_confirm: true,
            }),
            available_when: Some(AvailableWhen {
                statuses: Some(vec![IncidentStatus::Triggered]),
                urgencies: None,
            }),
            ..saved_action()
        }
    }

    #[test]
    fn an_edit_sends_inputs_confirmation_and_availability_back_unchanged() {
        let saved = asking_action();
        let mut draft = ActionDraft::from_action(&saved);
        draft.name = "Roll back".into();
        assert!(draft.problems(&EndpointPolicy::default()).is_empty());
        let request = draft.update_request();
        assert_eq!(request.inputs.as_ref(), Some(&saved.inputs));
        assert_eq!(request.confirm, Some(saved.confirm.clone()));
        assert_eq!(request.available_when, Some(saved.available_when));
        let body = serde_json::to_value(&request).unwrap();
        assert_eq!(body["inputs"][0]["key"], "region");
        assert_eq!(body["confirm"]["type_to_confirm"], true);
        assert_eq!(body["available_when"]["statuses"], json!(["triggered"]));
    }

    #[test]
    fn an_edit_of_an_action_that_asks_nothing_keeps_it_that_way() {
        let body = serde_json::to_value(ActionDraft::from_action(&saved_action()).update_request())
            .unwrap();
        assert_eq!(body["inputs"], json!([]));
        // Present and null: "none", which is what it had.
        assert_eq!(body.get("confirm"), Some(&serde_json::Value::Null));
        assert_eq!(body.get("available_when"), Some(&serde_json::Value::Null));
    }

    #[test]
    fn an_edit_of_an_action_whose_configuration_did_not_come_back_leaves_them_out() {
        let mut unreadable = asking_action();
        unreadable.health = ActionHealth::Unreadable;
        unreadable.inputs = Vec::new();
        unreadable.confirm = None;
        let request = ActionDraft::from_action(&unreadable).update_request();
        assert_eq!(request.inputs, None);
        assert_eq!(request.confirm, None);
        assert_eq!(request.available_when, None);
        let body = serde_json::to_value(&request).unwrap();
        assert!(body.get("confirm").is_none(), "{body}");
        assert!(body.get("available_when").is_none(), "{body}");
    }

    #[test]
    fn a_reloaded_conflict_keeps_their_inputs() {
        let theirs = asking_action();
        let reloaded = ActionDraft::from_action(&theirs);
        assert_eq!(reloaded.update_request().inputs.unwrap()[0].label, "Region");
    }

    #[test]
    fn a_new_action_asks_nothing() {
        let request = draft("https://e.com/hook").create_request();
        assert_eq!(request.inputs, None);
        assert_eq!(request.confirm, None);
        assert_eq!(request.available_when, None);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut draft = ActionDraft {
            enabled: true,
            ..ActionDraft::default()
        };
        draft.headers.push(HeaderDraft {
            name: "Host".into(),
            value: "x".into(),
            ..HeaderDraft::default()
        });
        let problems = draft.problems(&EndpointPolicy::default());
        assert_eq!(
            fields(&problems),
            ["name", "endpoint_url", "headers[0].name"]
        );
    }
}
