//! The action form's contents as plain data, and how they become a request.
//!
//! Kept apart from the component so the rules that matter (a secret left blank on edit
//! keeps its stored value; a new secret header needs a value; a stored secret does not
//! follow the endpoint to another origin; an edit names the revision it was made on; what
//! the form could not read is left out so the stored value stays; how the inputs,
//! confirmation, availability and template editors' rows become the action's fields) are
//! covered by native tests.

use shared::action::edit::keeps_stored_secret;
use shared::action::{validate_action, RunSettings, RunSettingsPatch, Submission};
use shared::api::{Action as CustomAction, CreateActionRequest, HeaderInput, UpdateActionRequest};
use shared::endpoint::EndpointPolicy;
use shared::incident::{IncidentStatus, Urgency};
use shared::inputs::{is_valid_key, InputDefinition, InputType};
use shared::run_rules::{AvailableWhen, Confirm};
use shared::template::{input_variable, secret_variable, TEMPLATE_VARIABLES};
use shared::FieldError;

use serde_json::Value;

use crate::numbers::{number_text, parse_f64, parse_number};

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
    /// Whether a blank value means "keep the stored secret" (the shared rule, for the
    /// secret this row was loaded with).
    fn keeps_stored_secret(&self) -> bool {
        let Some(stored) = &self.stored_secret_name else {
            return false;
        };
        let typed = HeaderInput {
            name: self.name.clone(),
            value: Some(self.value.clone()),
            secret: Some(self.secret),
        };
        let base = shared::action::EditBase {
            endpoint_url: None,
            secrets: std::slice::from_ref(stored),
        };
        keeps_stored_secret(&typed, &base)
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
pub struct LoadedAction {
    /// The revision being edited, sent back so a concurrent change is not overwritten.
    pub revision: u64,
    /// The stored endpoint, whose origin the stored secret values belong to; `None` when
    /// the answer left it out (an action whose configuration cannot be opened).
    pub endpoint_url: Option<String>,
    /// The secret headers stored: a blank one of these names keeps its value.
    pub secrets: Vec<String>,
}

/// The saved action's run settings, when its answer carried its configuration. An action
/// whose configuration could not be read (or has not reached this location yet) comes
/// without them, and empty lists there mean "unknown", not "none": `None` then.
fn saved_settings(action: &CustomAction) -> Option<RunSettings> {
    action.spec().map(|spec| spec.settings)
}

/// One input of the inputs editor, as typed. Every type's own fields are kept while the
/// type changes, so switching back finds them; only the chosen type's are sent.
#[derive(Debug, Clone, PartialEq)]
pub struct InputDraft {
    /// The key, as typed.
    pub key: String,
    /// The label, as typed.
    pub label: String,
    /// The kind of value.
    pub input_type: InputType,
    /// Whether a run must give it.
    pub required: bool,
    /// The hint, as typed; blank means none.
    pub help: String,
    /// A select's choices, one per line; blank lines are ignored.
    pub options: String,
    /// The default of a text, a number (as typed) or a select (the chosen option); blank
    /// means none.
    pub default_text: String,
    /// A boolean's default. A checkbox always has a state, so a boolean input always
    /// says which it starts in.
    pub default_checked: bool,
    /// A number's smallest value, as typed; blank means none.
    pub min: String,
    /// A number's largest value, as typed; blank means none.
    pub max: String,
}

impl Default for InputDraft {
    fn default() -> Self {
        Self::from_definition(&InputDefinition::new("", "", InputType::String))
    }
}

impl InputDraft {
    /// The editor's row for a saved input.
    pub fn from_definition(input: &InputDefinition) -> Self {
        let (default_text, default_checked) = match &input.default {
            Some(Value::String(text)) => (text.clone(), false),
            Some(Value::Number(number)) => (number.to_string(), false),
            Some(Value::Bool(checked)) => (String::new(), *checked),
            Some(Value::Null | Value::Array(_) | Value::Object(_)) | None => (String::new(), false),
        };
        let bound = |value: Option<f64>| value.and_then(number_text).unwrap_or_default();
        Self {
            key: input.key.clone(),
            label: input.label.clone(),
            input_type: input.input_type,
            required: input.required,
            help: input.help.clone().unwrap_or_default(),
            options: input.options.join("\n"),
            default_text,
            default_checked,
            min: bound(input.min),
            max: bound(input.max),
        }
    }

    /// A select's choices: one per non-blank line, trimmed.
    pub fn option_list(&self) -> Vec<String> {
        self.options
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The definition this row describes, and what in it is not readable (a bound or a
    /// default that is not a number), keyed `inputs[index].<field>` like the shared
    /// validation's messages.
    pub fn definition(&self, index: usize) -> (InputDefinition, Vec<FieldError>) {
        let mut problems = Vec::new();
        let mut number = |field: &str, name: &str, text: &str| -> Option<f64> {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            let parsed = parse_f64(text);
            if parsed.is_none() {
                problems.push(FieldError {
                    field: format!("inputs[{index}].{field}"),
                    message: format!("{name} must be a number"),
                });
            }
            parsed
        };
        let mut input = InputDefinition::new(self.key.trim(), self.label.trim(), self.input_type);
        input.required = self.required;
        let help = self.help.trim();
        input.help = (!help.is_empty()).then(|| help.to_owned());
        let typed_default = self.default_text.trim();
        input.default = match self.input_type {
            InputType::String | InputType::Select => {
                (!typed_default.is_empty()).then(|| Value::String(typed_default.to_owned()))
            }
            // Several lines are kept as typed, as the run dialog sends them.
            InputType::Text => {
                (!typed_default.is_empty()).then(|| Value::String(self.default_text.clone()))
            }
            InputType::Number => number("default", "Default", typed_default)
                .and_then(|_| parse_number(typed_default)),
            InputType::Boolean => Some(Value::Bool(self.default_checked)),
        };
        match self.input_type {
            InputType::Select => input.options = self.option_list(),
            InputType::Number => {
                input.min = number("min", "Min", &self.min);
                input.max = number("max", "Max", &self.max);
            }
            InputType::String | InputType::Text | InputType::Boolean => {}
        }
        (input, problems)
    }
}

/// The confirmation editor, as set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfirmDraft {
    /// "Ask for confirmation" is ticked.
    pub asks: bool,
    /// The message, as typed.
    pub message: String,
    /// "Type the action's name to confirm" is ticked.
    pub type_to_confirm: bool,
}

impl ConfirmDraft {
    /// The editor for a saved confirmation (or none).
    pub fn from_confirm(confirm: Option<&Confirm>) -> Self {
        confirm.map_or_else(Self::default, |confirm| Self {
            asks: true,
            message: confirm.message.clone(),
            type_to_confirm: confirm.type_to_confirm,
        })
    }

    /// The confirmation to send; `None` unless asked for.
    pub fn confirm(&self) -> Option<Confirm> {
        self.asks.then(|| Confirm {
            message: self.message.trim().to_owned(),
            type_to_confirm: self.type_to_confirm,
        })
    }
}

/// Every incident status, in the order the availability editor offers them.
pub const STATUSES: [IncidentStatus; 3] = [
    IncidentStatus::Triggered,
    IncidentStatus::Acknowledged,
    IncidentStatus::Resolved,
];

/// Every urgency, in the order the availability editor offers them.
pub const URGENCIES: [Urgency; 2] = [Urgency::High, Urgency::Low];

/// The availability editor: the ticked statuses and urgencies. Nothing ticked in a list
/// means no restriction on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AvailabilityDraft {
    /// Ticked statuses.
    pub statuses: Vec<IncidentStatus>,
    /// Ticked urgencies.
    pub urgencies: Vec<Urgency>,
}

impl AvailabilityDraft {
    /// The editor for a saved rule (or none).
    pub fn from_rule(rule: Option<&AvailableWhen>) -> Self {
        Self {
            statuses: rule
                .and_then(|rule| rule.statuses.clone())
                .unwrap_or_default(),
            urgencies: rule
                .and_then(|rule| rule.urgencies.clone())
                .unwrap_or_default(),
        }
    }

    /// The rule to send: `None` when nothing is ticked at all.
    pub fn rule(&self) -> Option<AvailableWhen> {
        let rule = AvailableWhen {
            statuses: listed(&self.statuses),
            urgencies: listed(&self.urgencies),
        };
        (rule != AvailableWhen::default()).then_some(rule)
    }
}

/// A ticked list, or `None` for "no restriction" when nothing is ticked.
fn listed<T: Clone>(ticked: &[T]) -> Option<Vec<T>> {
    (!ticked.is_empty()).then(|| ticked.to_vec())
}

/// The editors for what a run asks first, when the action applies and what it sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSettingsDraft {
    /// The inputs editor's rows, in order.
    pub inputs: Vec<InputDraft>,
    /// The confirmation editor.
    pub confirm: ConfirmDraft,
    /// The availability editor.
    pub availability: AvailabilityDraft,
    /// The body template as typed; blank sends the default payload.
    pub body_template: String,
    /// The deadline in seconds, as typed; blank is the longest.
    pub timeout_seconds: String,
}

impl RunSettingsDraft {
    /// The editors filled in from saved settings.
    pub fn from_settings(settings: &RunSettings) -> Self {
        Self {
            inputs: settings
                .inputs
                .iter()
                .map(InputDraft::from_definition)
                .collect(),
            confirm: ConfirmDraft::from_confirm(settings.confirm.as_ref()),
            availability: AvailabilityDraft::from_rule(settings.available_when.as_ref()),
            body_template: settings.body_template.clone().unwrap_or_default(),
            timeout_seconds: number_text(f64::from(settings.timeout_ms) / 1000.0)
                .unwrap_or_default(),
        }
    }

    /// The deadline typed, in milliseconds (blank: the longest); a problem when it is not
    /// a number. Its range is the shared rule's to check.
    fn timeout_ms(&self, problems: &mut Vec<FieldError>) -> u32 {
        let typed = self.timeout_seconds.trim();
        if typed.is_empty() {
            return RunSettings::default().timeout_ms;
        }
        match parse_f64(typed) {
            // Clamped into u32 only: anything out of range is still out of range.
            Some(seconds) => (seconds * 1000.0).round().clamp(0.0, f64::from(u32::MAX)) as u32,
            None => {
                problems.push(FieldError {
                    field: "timeout_ms".to_owned(),
                    message: "The deadline must be a number of seconds".to_owned(),
                });
                RunSettings::default().timeout_ms
            }
        }
    }

    /// The settings to send, and what in the editors could not be read.
    pub fn settings(&self) -> (RunSettings, Vec<FieldError>) {
        let mut problems = Vec::new();
        let inputs = self
            .inputs
            .iter()
            .enumerate()
            .map(|(index, row)| {
                let (input, unreadable) = row.definition(index);
                problems.extend(unreadable);
                input
            })
            .collect();
        let settings = RunSettings {
            inputs,
            confirm: self.confirm.confirm(),
            available_when: self.availability.rule(),
            body_template: (!self.body_template.trim().is_empty())
                .then(|| self.body_template.clone()),
            // The form keeps it apart ([`ActionDraft::accept_reply`]): it is edited even
            // when the other settings are not.
            accept_reply: false,
            timeout_ms: self.timeout_ms(&mut problems),
        };
        (settings, problems)
    }
}

/// A variable the template editor offers: what it inserts and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedVariable {
    /// The expression, e.g. `incident.title` or `inputs.region`.
    pub path: String,
    /// What it holds.
    pub meaning: String,
}

/// Every variable a template of this form can use: the incident's, the action's, the
/// run's, then one per input with a valid key and one per named secret header.
pub fn offered_variables(
    settings: &RunSettingsDraft,
    headers: &[HeaderDraft],
) -> Vec<OfferedVariable> {
    let fixed = TEMPLATE_VARIABLES.iter().map(|variable| OfferedVariable {
        path: variable.path.to_owned(),
        meaning: variable.meaning.to_owned(),
    });
    let inputs = settings
        .inputs
        .iter()
        .filter(|row| is_valid_key(row.key.trim()))
        .map(|row| OfferedVariable {
            path: input_variable(row.key.trim()),
            meaning: format!(
                "The value given for {}",
                non_blank_or(row.label.trim(), row.key.trim())
            ),
        });
    let secrets = headers
        .iter()
        .filter(|header| header.secret && !header.name.trim().is_empty())
        .map(|header| OfferedVariable {
            path: secret_variable(header.name.trim()),
            meaning: "The secret header's value; previews show [redacted]".to_owned(),
        });
    fixed.chain(inputs).chain(secrets).collect()
}

fn non_blank_or<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.is_empty() {
        fallback
    } else {
        text
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
    /// Whether the endpoint's answer may write back (the reply contract).
    pub accept_reply: bool,
    /// Header rows in order.
    pub headers: Vec<HeaderDraft>,
    /// Inputs, confirmation, availability and body template, as edited; `None` when the
    /// loaded action did not say (an edit then leaves them out, which keeps the stored
    /// ones, and the form shows no editors for them).
    pub run_settings: Option<RunSettingsDraft>,
    /// The saved action being edited; `None` for a new one.
    pub base: Option<LoadedAction>,
}

impl Default for ActionDraft {
    fn default() -> Self {
        Self {
            name: String::new(),
            endpoint_url: String::new(),
            description: String::new(),
            enabled: true,
            accept_reply: false,
            headers: Vec::new(),
            run_settings: Some(RunSettingsDraft::from_settings(&RunSettings::default())),
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
            accept_reply: action.settings.accept_reply,
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
            run_settings: saved_settings(action)
                .map(|settings| RunSettingsDraft::from_settings(&settings)),
            base: Some(LoadedAction {
                revision: action.revision,
                endpoint_url: action.endpoint_url.clone(),
                secrets: action
                    .headers
                    .iter()
                    .flatten()
                    .filter(|header| header.secret)
                    .map(|header| header.name.clone())
                    .collect(),
            }),
        }
    }

    fn header_inputs(&self) -> Vec<HeaderInput> {
        self.headers.iter().map(HeaderDraft::input).collect()
    }

    /// The run settings to send and what in their editors could not be read; `None`
    /// when the loaded action did not carry them.
    fn settings(&self) -> Option<(RunSettings, Vec<FieldError>)> {
        self.run_settings.as_ref().map(RunSettingsDraft::settings)
    }

    /// Every problem with the form, keyed by request field path; empty when it can be sent.
    /// An edit may leave a stored secret blank to keep it, unless the endpoint moves to
    /// another origin (the worker would refuse that with `secrets_must_be_reentered`).
    /// A select option's problem is shown on the options box, naming the option.
    pub fn problems(&self, policy: &EndpointPolicy) -> Vec<FieldError> {
        let submission = match &self.base {
            Some(base) => Submission::Edit(shared::action::EditBase {
                endpoint_url: base.endpoint_url.as_deref(),
                secrets: &base.secrets,
            }),
            None => Submission::New,
        };
        // What could not be read says why first; the shared rules' word on the same field
        // (a default that "must be a number" is also missing) would only repeat it.
        let mut problems = self
            .settings()
            .map(|(_, unreadable)| unreadable)
            .unwrap_or_default();
        for problem in validate_action(&self.create_request(), policy, submission)
            .err()
            .map(|error| error.fields)
            .unwrap_or_default()
        {
            let problem = on_options_box(problem);
            if !problems.iter().any(|p| p.field == problem.field) {
                problems.push(problem);
            }
        }
        problems
    }

    /// The body of `POST .../actions`, and the `draft` of a preview.
    pub fn create_request(&self) -> CreateActionRequest {
        let description = self.description.trim();
        let settings = self
            .settings()
            .map(|(settings, _)| settings)
            .unwrap_or_default();
        CreateActionRequest {
            name: self.name.trim().to_owned(),
            endpoint_url: self.endpoint_url.trim().to_owned(),
            description: (!description.is_empty()).then(|| description.to_owned()),
            enabled: Some(self.enabled),
            headers: Some(self.header_inputs()),
            settings: RunSettings {
                accept_reply: self.accept_reply,
                ..settings
            },
        }
    }

    /// The body of `PATCH .../actions/{id}`: every field, so the saved action is what the
    /// form shows; a blank description clears it, and so do an empty inputs list, an
    /// unticked confirmation, no availability ticked and a blank template (each a `null`
    /// or `[]`). When the loaded action did not carry those settings they are left out,
    /// which keeps the stored ones. It names the revision the form was opened on, so an
    /// edit made meanwhile by someone else is refused, not overwritten.
    pub fn update_request(&self) -> UpdateActionRequest {
        let settings = match self.settings() {
            Some((settings, _)) => RunSettingsPatch::all(settings),
            None => RunSettingsPatch::default(),
        };
        UpdateActionRequest {
            name: Some(self.name.trim().to_owned()),
            endpoint_url: Some(self.endpoint_url.trim().to_owned()),
            description: Some(self.description.trim().to_owned()),
            enabled: Some(self.enabled),
            headers: Some(self.header_inputs()),
            settings: RunSettingsPatch {
                accept_reply: Some(self.accept_reply),
                ..settings
            },
            revision: self.base.as_ref().map(|base| base.revision),
        }
    }
}

/// `inputs[0].options[2]` → `inputs[0].options`, "Option 3: …": the options are one box.
fn on_options_box(problem: FieldError) -> FieldError {
    let Some((field, rest)) = problem.field.split_once(".options[") else {
        return problem;
    };
    let Some(position) = rest
        .strip_suffix(']')
        .and_then(|index| index.parse::<usize>().ok())
    else {
        return problem;
    };
    FieldError {
        field: format!("{field}.options"),
        message: format!("Option {}: {}", position + 1, problem.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::api::{ActionHeader, ConfigHealth};
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
            settings: RunSettings::default(),
            signing_secret: None,
            revision: 7,
            config_health: ConfigHealth::Ok,
            config_problem: None,
            health: Default::default(),
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
        unreadable.config_health = ConfigHealth::Unreadable;
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
            settings: RunSettings {
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
                ..RunSettings::default()
            },
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
        let sent = &request.settings;
        assert_eq!(sent.inputs.as_ref(), Some(&saved.settings.inputs));
        assert_eq!(sent.confirm, Some(saved.settings.confirm.clone()));
        assert_eq!(sent.available_when, Some(saved.settings.available_when));
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
        unreadable.config_health = ConfigHealth::Unreadable;
        unreadable.settings.inputs = Vec::new();
        unreadable.settings.confirm = None;
        let request = ActionDraft::from_action(&unreadable).update_request();
        assert_eq!(request.settings.inputs, None);
        assert_eq!(request.settings.confirm, None);
        assert_eq!(request.settings.available_when, None);
        let body = serde_json::to_value(&request).unwrap();
        assert!(body.get("confirm").is_none(), "{body}");
        assert!(body.get("available_when").is_none(), "{body}");
    }

    #[test]
    fn a_reloaded_conflict_keeps_their_inputs() {
        let theirs = asking_action();
        let reloaded = ActionDraft::from_action(&theirs);
        let inputs = reloaded.update_request().settings.inputs.unwrap();
        assert_eq!(inputs[0].label, "Region");
    }

    #[test]
    fn a_new_action_asks_nothing() {
        let request = draft("https://e.com/hook").create_request();
        assert!(request.settings.inputs.is_empty());
        assert_eq!(request.settings.confirm, None);
        assert_eq!(request.settings.available_when, None);
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

    fn with_settings(settings: RunSettingsDraft) -> ActionDraft {
        ActionDraft {
            run_settings: Some(settings),
            ..draft("https://e.com/hook")
        }
    }

    fn row(key: &str, input_type: InputType) -> InputDraft {
        InputDraft {
            key: key.into(),
            label: key.to_ascii_uppercase(),
            input_type,
            ..InputDraft::default()
        }
    }

    #[test]
    fn rows_of_every_type_become_their_definitions() {
        let mut region = row("region", InputType::Select);
        region.options = "eu\n\n  us \n".into();
        region.default_text = "us".into();
        region.required = true;
        let mut count = row("count", InputType::Number);
        count.min = "1".into();
        count.max = " 10 ".into();
        count.default_text = "3".into();
        let mut dry_run = row("dry_run", InputType::Boolean);
        dry_run.default_checked = true;
        let mut reason = row("reason", InputType::Text);
        reason.default_text = "Bad deploy\nsee #12".into();
        reason.help = "  Why  ".into();
        let version = row("version", InputType::String);
        let request = with_settings(RunSettingsDraft {
            inputs: vec![region, count, dry_run, reason, version],
            ..RunSettingsDraft::default()
        })
        .create_request();
        let body = serde_json::to_value(&request).unwrap();
        assert_eq!(
            body["inputs"],
            json!([
                {"key": "region", "label": "REGION", "type": "select", "required": true,
                 "default": "us", "options": ["eu", "us"]},
                {"key": "count", "label": "COUNT", "type": "number", "required": false,
                 "default": 3, "min": 1.0, "max": 10.0},
                {"key": "dry_run", "label": "DRY_RUN", "type": "boolean", "required": false,
                 "default": true},
                {"key": "reason", "label": "REASON", "type": "text", "required": false,
                 "default": "Bad deploy\nsee #12", "help": "Why"},
                {"key": "version", "label": "VERSION", "type": "string", "required": false},
            ])
        );
    }

    #[test]
    fn only_the_chosen_type_sends_its_own_fields() {
        let mut input = row("count", InputType::Number);
        input.min = "1".into();
        input.options = "a\nb".into();
        input.input_type = InputType::String;
        let (definition, problems) = input.definition(0);
        assert!(problems.is_empty());
        assert_eq!((definition.min, definition.options.len()), (None, 0));
        let policy = EndpointPolicy::default();
        assert!(with_settings(RunSettingsDraft {
            inputs: vec![input],
            ..RunSettingsDraft::default()
        })
        .problems(&policy)
        .is_empty());
    }

    #[test]
    fn a_bound_that_is_not_a_number_is_reported_on_its_field() {
        let mut count = row("count", InputType::Number);
        count.max = "ten".into();
        count.default_text = "x".into();
        let problems = with_settings(RunSettingsDraft {
            inputs: vec![row("region", InputType::String), count],
            ..RunSettingsDraft::default()
        })
        .problems(&EndpointPolicy::default());
        assert_eq!(fields(&problems), ["inputs[1].default", "inputs[1].max"]);
        assert_eq!(problems[1].message, "Max must be a number");
    }

    #[test]
    fn the_shared_rules_land_on_each_inputs_fields() {
        let mut region = row("Region", InputType::Select);
        region.options = "eu\neu".into();
        let mut count = row("count", InputType::Number);
        count.label = " ".into();
        count.min = "5".into();
        count.max = "1".into();
        let problems = with_settings(RunSettingsDraft {
            inputs: vec![region, count],
            ..RunSettingsDraft::default()
        })
        .problems(&EndpointPolicy::default());
        assert_eq!(
            fields(&problems),
            [
                "inputs[0].key",
                "inputs[0].options",
                "inputs[1].label",
                "inputs[1].max"
            ]
        );
        assert_eq!(problems[1].message, "Option 2: Option eu appears twice");
    }

    #[test]
    fn a_select_default_must_be_one_of_its_options() {
        let mut region = row("region", InputType::Select);
        region.options = "eu\nus".into();
        region.default_text = "ap".into();
        let problems = with_settings(RunSettingsDraft {
            inputs: vec![region],
            ..RunSettingsDraft::default()
        })
        .problems(&EndpointPolicy::default());
        assert_eq!(fields(&problems), ["inputs[0].default"]);
    }

    #[test]
    fn a_saved_input_round_trips_through_its_row() {
        let saved = asking_action();
        let mut count = InputDefinition::new("count", "Count", InputType::Number);
        count.min = Some(1.0);
        count.max = Some(2.5);
        count.default = Some(json!(2));
        count.help = Some("How many".into());
        for input in [saved.settings.inputs[0].clone(), count] {
            let (back, problems) = InputDraft::from_definition(&input).definition(0);
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(back, input);
        }
    }

    #[test]
    fn the_deadline_is_typed_in_seconds_and_sent_in_milliseconds() {
        let timed = |typed: &str| {
            with_settings(RunSettingsDraft {
                timeout_seconds: typed.into(),
                ..RunSettingsDraft::default()
            })
        };
        assert_eq!(timed("5").create_request().settings.timeout_ms, 5_000);
        assert_eq!(timed(" 2.5 ").create_request().settings.timeout_ms, 2_500);
        assert_eq!(timed("").create_request().settings.timeout_ms, 16_000);
        assert!(timed("16").problems(&local_policy()).is_empty());
        assert_eq!(
            fields(&timed("17").problems(&local_policy())),
            ["timeout_ms"],
            "the shared range"
        );
        let unreadable = timed("soon").problems(&local_policy());
        assert_eq!(
            unreadable[0].message,
            "The deadline must be a number of seconds"
        );
        let saved = CustomAction {
            settings: RunSettings {
                timeout_ms: 5_000,
                ..RunSettings::default()
            },
            ..saved_action()
        };
        let loaded = ActionDraft::from_action(&saved);
        assert_eq!(loaded.run_settings.unwrap().timeout_seconds, "5");
    }

    #[test]
    fn a_blank_template_sends_the_default_payload() {
        let mut settings = RunSettingsDraft {
            body_template: " \n ".into(),
            ..RunSettingsDraft::default()
        };
        assert_eq!(
            with_settings(settings.clone())
                .create_request()
                .settings
                .body_template,
            None
        );
        let edit = ActionDraft {
            run_settings: Some(settings.clone()),
            ..ActionDraft::from_action(&saved_action())
        };
        let body = serde_json::to_value(edit.update_request()).unwrap();
        assert_eq!(
            body.get("body_template"),
            Some(&Value::Null),
            "null clears it"
        );
        settings.body_template = "{\"t\": \"{{ incident.title }}\"}\n".into();
        assert_eq!(
            with_settings(settings)
                .create_request()
                .settings
                .body_template
                .as_deref(),
            Some("{\"t\": \"{{ incident.title }}\"}\n")
        );
    }

    #[test]
    fn nothing_ticked_means_available_for_every_incident() {
        let none = AvailabilityDraft::default();
        assert_eq!(none.rule(), None);
        let statuses = AvailabilityDraft {
            statuses: vec![IncidentStatus::Triggered],
            urgencies: Vec::new(),
        };
        assert_eq!(
            statuses.rule(),
            Some(AvailableWhen {
                statuses: Some(vec![IncidentStatus::Triggered]),
                urgencies: None,
            })
        );
    }

    #[test]
    fn an_unticked_confirmation_is_none_and_a_ticked_one_is_checked() {
        let mut confirm = ConfirmDraft {
            asks: false,
            message: "Sure?".into(),
            type_to_confirm: true,
        };
        assert_eq!(confirm.confirm(), None);
        confirm.asks = true;
        confirm.message = "  ".into();
        let problems = with_settings(RunSettingsDraft {
            confirm,
            ..RunSettingsDraft::default()
        })
        .problems(&EndpointPolicy::default());
        assert_eq!(fields(&problems), ["confirm.message"]);
    }

    #[test]
    fn the_editors_start_from_the_saved_settings() {
        let draft = ActionDraft::from_action(&asking_action());
        let settings = draft.run_settings.unwrap();
        assert_eq!(settings.inputs[0].options, "eu\nus");
        assert_eq!(settings.inputs[0].default_text, "eu");
        assert!(settings.confirm.asks && settings.confirm.type_to_confirm);
        assert_eq!(settings.availability.statuses, [IncidentStatus::Triggered]);
        assert!(settings.availability.urgencies.is_empty());
    }

    #[test]
    fn the_template_offers_each_input_and_each_named_secret_header() {
        let settings = RunSettingsDraft {
            inputs: vec![
                row("region", InputType::String),
                row("Bad key", InputType::String),
            ],
            ..RunSettingsDraft::default()
        };
        let headers = [
            HeaderDraft {
                name: "X-Api-Key".into(),
                secret: true,
                ..HeaderDraft::default()
            },
            HeaderDraft {
                name: "X-Team".into(),
                ..HeaderDraft::default()
            },
            HeaderDraft {
                name: " ".into(),
                secret: true,
                ..HeaderDraft::default()
            },
        ];
        let offered = offered_variables(&settings, &headers);
        let paths: Vec<&str> = offered.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths[0], "incident.id");
        assert_eq!(
            paths[TEMPLATE_VARIABLES.len()..],
            ["inputs.region", "secrets[\"X-Api-Key\"]"]
        );
        assert!(offered[TEMPLATE_VARIABLES.len()].meaning.contains("REGION"));
    }
}
