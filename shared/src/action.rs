//! A custom incident action: the button label, where it POSTs, and the headers it sends.
//!
//! `validate_action` is the single check for a create or an edit. The form runs it before
//! sending; the worker runs it again on every request.

use serde::{Deserialize, Serialize};

use crate::api::HeaderInput;
use crate::endpoint::{EndpointPolicy, EndpointUrl};
use crate::inputs::{validate_definitions, InputDefinition};
use crate::limits::{
    MAX_ACTION_NAME_CHARS, MAX_BODY_TEMPLATE_CHARS, MAX_DESCRIPTION_CHARS, MAX_HEADERS_PER_ACTION,
    MAX_HEADER_NAME_BYTES, MAX_HEADER_VALUE_BYTES,
};
use crate::run_rules::{AvailableWhen, Confirm};
use crate::validation::{optional_text, required_name};
use crate::{FieldError, ValidationError};

/// Button text: trimmed, 1..=40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct ActionName(String);

impl ActionName {
    /// Trims and checks a label (no invisible or direction characters).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        required_name(raw, "Name", MAX_ACTION_NAME_CHARS).map(Self)
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ActionName {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<ActionName> for String {
    fn from(name: ActionName) -> Self {
        name.0
    }
}

/// Request headers the worker sets itself, which a custom header must not replace.
/// Hop-by-hop headers (RFC 7230 §6.1) are refused because they describe the connection,
/// not the message, and a fetch would drop or misuse them.
const RESERVED_HEADER_NAMES: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// A custom header name: an RFC 7230 token that does not override what the worker sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct HeaderName(String);

impl HeaderName {
    /// Checks a header name as typed (surrounding spaces are forgiven).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ValidationError::Required("Header name"));
        }
        if name.len() > MAX_HEADER_NAME_BYTES {
            return Err(ValidationError::TooLong {
                what: "Header name",
                max: MAX_HEADER_NAME_BYTES,
                unit: "bytes",
            });
        }
        if !name.bytes().all(is_token_byte) {
            return Err(ValidationError::Invalid(format!(
                "Header name \"{name}\" may contain only letters, digits and !#$%&'*+-.^_`|~"
            )));
        }
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADER_NAMES.contains(&lower.as_str()) || lower.starts_with("webhook-") {
            return Err(ValidationError::Invalid(format!(
                "Header {name} is set by Incident Actions and cannot be overridden"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HeaderName {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<HeaderName> for String {
    fn from(name: HeaderName) -> Self {
        name.0
    }
}

/// RFC 7230 `tchar`.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Checks a header value: visible ASCII, space and tab only (RFC 9110 field values as
/// every HTTP stack sends them; CR, LF or NUL would split or end the header, and anything
/// past U+007F makes the fetch fail at run time), at most 4096 bytes.
pub fn check_header_value(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::Required("Header value"));
    }
    if value.len() > MAX_HEADER_VALUE_BYTES {
        return Err(ValidationError::TooLong {
            what: "Header value",
            max: MAX_HEADER_VALUE_BYTES,
            unit: "bytes",
        });
    }
    if let Some(bad) = value.chars().find(|c| !is_header_value_char(*c)) {
        let why = if matches!(bad, '\r' | '\n' | '\0') {
            "line breaks and NUL would end or split the header"
        } else if bad.is_ascii() {
            "control characters are not allowed in HTTP headers"
        } else {
            "HTTP headers carry ASCII only; encode the value (for example as base64 or percent-encoding)"
        };
        return Err(ValidationError::Invalid(format!(
            "Header value may hold visible ASCII characters, spaces and tabs only: U+{:04X} \
             found ({why})",
            u32::from(bad)
        )));
    }
    Ok(())
}

/// Visible ASCII, space or tab.
fn is_header_value_char(c: char) -> bool {
    c == '\t' || (' '..='~').contains(&c)
}

/// A custom header after validation. `value` is `None` only for a secret header whose
/// stored value the caller asked to keep (an edit that does not retype the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidHeader {
    /// Header name.
    pub name: HeaderName,
    /// New value, or `None` to keep the stored secret.
    pub value: Option<String>,
    /// Whether the value is hidden after it is written.
    pub secret: bool,
}

/// The fields of an action after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidAction {
    /// Button label.
    pub name: ActionName,
    /// Optional help text shown with the button.
    pub description: Option<String>,
    /// Where the worker POSTs.
    pub endpoint_url: EndpointUrl,
    /// Custom headers, in the order given.
    pub headers: Vec<ValidHeader>,
    /// What a run asks for.
    pub inputs: Vec<InputDefinition>,
    /// The confirmation asked before each run.
    pub confirm: Option<Confirm>,
    /// The incidents the action applies to.
    pub available_when: Option<AvailableWhen>,
    /// The body template; `None` sends the default payload.
    pub body_template: Option<String>,
    /// Whether the endpoint's answer may write back (`crate::reply`).
    pub accept_reply: bool,
}

/// The raw fields of an action form or request body, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct ActionFields<'a> {
    /// Button label as typed.
    pub name: &'a str,
    /// Description as typed.
    pub description: Option<&'a str>,
    /// Endpoint URL as typed.
    pub endpoint_url: &'a str,
    /// Headers as typed.
    pub headers: &'a [HeaderInput],
    /// Inputs as defined.
    pub inputs: &'a [InputDefinition],
    /// The confirmation, if any.
    pub confirm: Option<&'a Confirm>,
    /// The availability rule, if any.
    pub available_when: Option<&'a AvailableWhen>,
    /// The body template as typed; blank means none.
    pub body_template: Option<&'a str>,
    /// Whether the endpoint's answer may write back.
    pub accept_reply: bool,
}

/// Why an action was refused: every problem, keyed by field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    /// Every problem, in field order.
    pub fields: Vec<FieldError>,
    /// Whether the endpoint guard refused `endpoint_url` (the API answers
    /// `endpoint_not_allowed` rather than `validation_failed`).
    pub endpoint_not_allowed: bool,
}

/// Validates every field and reports every problem at once, keyed by field path.
///
/// `keep_secret_allowed` says whether a secret header may omit its value (true on edit,
/// where an empty secret means "keep the stored one"; false on create).
pub fn validate_action(
    fields: ActionFields<'_>,
    policy: &EndpointPolicy,
    keep_secret_allowed: bool,
) -> Result<ValidAction, ActionError> {
    let mut errors = Vec::new();
    let name = ActionName::parse(fields.name)
        .map_err(|e| errors.push(FieldError::new("name", &e)))
        .ok();
    let description = optional_text(fields.description, "Description", MAX_DESCRIPTION_CHARS)
        .map_err(|e| errors.push(FieldError::new("description", &e)))
        .ok()
        .flatten();
    let mut endpoint_not_allowed = false;
    let endpoint_url = EndpointUrl::parse(fields.endpoint_url, policy)
        .map_err(|e| {
            endpoint_not_allowed = matches!(e, ValidationError::EndpointNotAllowed(_));
            errors.push(FieldError::new("endpoint_url", &e));
        })
        .ok();
    let headers = validate_headers(fields.headers, keep_secret_allowed, &mut errors);
    errors.extend(validate_definitions(fields.inputs));
    errors.extend(fields.confirm.and_then(|confirm| confirm.validate().err()));
    errors.extend(
        fields
            .available_when
            .map(AvailableWhen::validate)
            .unwrap_or_default(),
    );
    let body_template = check_body_template(fields.body_template)
        .map_err(|e| errors.push(FieldError::new("body_template", &e)))
        .ok()
        .flatten();
    match (name, endpoint_url) {
        (Some(name), Some(endpoint_url)) if errors.is_empty() => Ok(ValidAction {
            name,
            description,
            endpoint_url,
            headers,
            inputs: fields.inputs.to_vec(),
            confirm: fields.confirm.cloned(),
            available_when: fields.available_when.cloned(),
            body_template,
            accept_reply: fields.accept_reply,
        }),
        _ => Err(ActionError {
            fields: errors,
            endpoint_not_allowed,
        }),
    }
}

/// A body template's size (at most 16 KiB characters); blank means no template. Whether
/// it compiles and renders is the worker's check, which has the engine.
pub fn check_body_template(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    match raw {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) if text.chars().count() > MAX_BODY_TEMPLATE_CHARS => {
            Err(ValidationError::TooLong {
                what: "Body template",
                max: MAX_BODY_TEMPLATE_CHARS,
                unit: "characters",
            })
        }
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// The secret headers an edit would carry to a different endpoint origin without their
/// values being typed again, as `(index, name)` in `headers`.
///
/// A secret value was entered for one endpoint. Sending it to another origin (scheme,
/// host, port) would hand it to whoever runs that origin, so moving an action there takes
/// every secret header it keeps to be re-entered (or removed). `headers` is the edit's
/// header list, where a secret header with no value keeps the stored one. A `new_url`
/// that does not parse yields nothing here: validation reports it.
pub fn secrets_to_reenter(
    stored_url: &str,
    new_url: &str,
    headers: &[HeaderInput],
) -> Vec<(usize, String)> {
    let (Some(stored), Some(new)) = (
        crate::whatwg_url::parse(stored_url.trim()),
        crate::whatwg_url::parse(new_url.trim()),
    ) else {
        return Vec::new();
    };
    if stored.origin() == new.origin() {
        return Vec::new();
    }
    headers
        .iter()
        .enumerate()
        .filter(|(_, header)| {
            header.secret.unwrap_or(false) && header.value.as_deref().unwrap_or("").is_empty()
        })
        .map(|(index, header)| (index, header.name.trim().to_owned()))
        .collect()
}

/// The field errors of [`secrets_to_reenter`]: one per header, naming it.
pub fn reenter_errors(missing: &[(usize, String)]) -> Vec<FieldError> {
    missing
        .iter()
        .map(|(index, name)| FieldError {
            field: format!("headers[{index}].value"),
            message: format!(
                "Re-enter the value of secret header {name}: the endpoint moved to another \
                 origin, and a stored secret never follows it there"
            ),
        })
        .collect()
}

fn validate_headers(
    inputs: &[HeaderInput],
    keep_secret_allowed: bool,
    errors: &mut Vec<FieldError>,
) -> Vec<ValidHeader> {
    if inputs.len() > MAX_HEADERS_PER_ACTION {
        errors.push(FieldError::new(
            "headers",
            &ValidationError::TooMany {
                what: "custom headers",
                max: MAX_HEADERS_PER_ACTION,
            },
        ));
        return Vec::new();
    }
    let mut seen: Vec<String> = Vec::new();
    let mut valid = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let secret = input.secret.unwrap_or(false);
        let name = match HeaderName::parse(&input.name) {
            Ok(name) => {
                let lower = name.as_str().to_ascii_lowercase();
                if seen.contains(&lower) {
                    errors.push(FieldError::new(
                        format!("headers[{index}].name"),
                        &ValidationError::Invalid(format!(
                            "Header {} appears more than once",
                            name.as_str()
                        )),
                    ));
                    None
                } else {
                    seen.push(lower);
                    Some(name)
                }
            }
            Err(e) => {
                errors.push(FieldError::new(format!("headers[{index}].name"), &e));
                None
            }
        };
        let value = match input.value.as_deref() {
            None | Some("") if secret && keep_secret_allowed => Ok(None),
            None => Err(ValidationError::Required("Header value")),
            Some(value) => check_header_value(value).map(|()| Some(value.to_owned())),
        };
        match (name, value) {
            (Some(name), Ok(value)) => valid.push(ValidHeader {
                name,
                value,
                secret,
            }),
            (_, Err(e)) => errors.push(FieldError::new(format!("headers[{index}].value"), &e)),
            (None, Ok(_)) => {}
        }
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, value: Option<&str>, secret: bool) -> HeaderInput {
        HeaderInput {
            name: name.to_owned(),
            value: value.map(str::to_owned),
            secret: Some(secret),
        }
    }

    fn validate(
        name: &str,
        url: &str,
        headers: &[HeaderInput],
    ) -> Result<ValidAction, ActionError> {
        let fields = ActionFields {
            name,
            description: None,
            endpoint_url: url,
            headers,
            inputs: &[],
            confirm: None,
            available_when: None,
            body_template: None,
            accept_reply: false,
        };
        validate_action(fields, &EndpointPolicy::default(), false)
    }

    fn fields_of(result: Result<ValidAction, ActionError>) -> Vec<String> {
        result
            .unwrap_err()
            .fields
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_name_of_forty_characters_is_accepted_and_forty_one_is_not() {
        assert!(ActionName::parse(&"x".repeat(MAX_ACTION_NAME_CHARS)).is_ok());
        assert_eq!(
            ActionName::parse(&"x".repeat(MAX_ACTION_NAME_CHARS + 1))
                .unwrap_err()
                .to_string(),
            "Name must be at most 40 characters"
        );
    }

    #[test]
    fn a_blank_label_is_rejected() {
        assert_eq!(
            ActionName::parse("   ").unwrap_err().to_string(),
            "Name is required"
        );
    }

    #[test]
    fn an_action_name_with_a_zero_width_space_is_refused() {
        assert!(ActionName::parse("Rollback\u{200B}").is_err());
        assert!(ActionName::parse("\u{202E}kcabllor").is_err());
    }

    #[test]
    fn an_action_name_cannot_be_deserialized_when_invalid() {
        assert!(serde_json::from_str::<ActionName>("\"  \"").is_err());
        assert_eq!(
            serde_json::from_str::<ActionName>("\" Restart \"")
                .unwrap()
                .as_str(),
            "Restart"
        );
    }

    #[test]
    fn header_names_must_be_tokens() {
        assert!(HeaderName::parse("X-Api-Key").is_ok());
        assert!(HeaderName::parse("X Api").is_err());
        assert!(HeaderName::parse("X:Api").is_err());
        assert!(HeaderName::parse("Ünicode").is_err());
    }

    #[test]
    fn headers_the_worker_sets_cannot_be_overridden() {
        for name in [
            "Content-Type",
            "content-length",
            "HOST",
            "User-Agent",
            "webhook-signature",
            "Webhook-Id",
            "Connection",
            "Transfer-Encoding",
            "Upgrade",
        ] {
            let error = HeaderName::parse(name).unwrap_err().to_string();
            assert!(error.contains("cannot be overridden"), "{name}: {error}");
        }
    }

    #[test]
    fn header_values_are_visible_ascii_spaces_and_tabs() {
        assert!(check_header_value("Bearer abc-123 ~!@#$%^&*()").is_ok());
        assert!(check_header_value("a\tb c").is_ok());
        for (bad, code) in [
            ("a\rb", "U+000D"),
            ("a\nb", "U+000A"),
            ("a\0b", "U+0000"),
            ("a\u{7f}b", "U+007F"),
            ("a\u{1b}b", "U+001B"),
            ("café", "U+00E9"),
            ("a\u{100}b", "U+0100"),
            ("x\u{200B}", "U+200B"),
        ] {
            let error = check_header_value(bad).unwrap_err().to_string();
            assert!(error.contains(code), "{bad:?}: {error}");
        }
        assert!(check_header_value("café")
            .unwrap_err()
            .to_string()
            .contains("ASCII only"));
    }

    #[test]
    fn a_header_value_of_4096_bytes_is_accepted_and_4097_is_not() {
        assert!(check_header_value(&"v".repeat(MAX_HEADER_VALUE_BYTES)).is_ok());
        assert!(check_header_value(&"v".repeat(MAX_HEADER_VALUE_BYTES + 1)).is_err());
    }

    #[test]
    fn ten_headers_are_accepted_and_eleven_are_not() {
        let headers: Vec<_> = (0..=MAX_HEADERS_PER_ACTION)
            .map(|i| header(&format!("X-H{i}"), Some("v"), false))
            .collect();
        assert!(validate("A", "https://e.com", &headers[..MAX_HEADERS_PER_ACTION]).is_ok());
        assert_eq!(
            fields_of(validate("A", "https://e.com", &headers)),
            ["headers"]
        );
    }

    #[test]
    fn duplicate_header_names_are_refused_case_insensitively() {
        let headers = [
            header("X-Key", Some("1"), false),
            header("x-key", Some("2"), false),
        ];
        assert_eq!(
            fields_of(validate("A", "https://e.com", &headers)),
            ["headers[1].name"]
        );
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let headers = [header("Host", Some("x"), false)];
        assert_eq!(
            fields_of(validate("", "http://e.com", &headers)),
            ["name", "endpoint_url", "headers[0].name"]
        );
    }

    #[test]
    fn a_guarded_endpoint_is_flagged_so_the_api_can_answer_with_its_own_code() {
        let refused = validate("A", "https://10.0.0.5/hook", &[]).unwrap_err();
        assert!(refused.endpoint_not_allowed);
        assert!(refused.fields[0].message.contains("private address"));
        let malformed = validate("A", "/hook", &[]).unwrap_err();
        assert!(!malformed.endpoint_not_allowed);
        let blank_name = validate("", "https://hooks.example.com/x", &[]).unwrap_err();
        assert!(!blank_name.endpoint_not_allowed);
    }

    #[test]
    fn a_secret_header_may_keep_its_value_only_on_edit() {
        let headers = [header("Authorization", None, true)];
        let fields = ActionFields {
            name: "A",
            description: None,
            endpoint_url: "https://e.com",
            headers: &headers,
            inputs: &[],
            confirm: None,
            available_when: None,
            body_template: None,
            accept_reply: false,
        };
        let policy = EndpointPolicy::default();
        let edited = validate_action(fields, &policy, true).unwrap();
        assert_eq!(edited.headers[0].value, None);
        assert!(validate_action(fields, &policy, false).is_err());
    }

    #[test]
    fn a_description_of_500_characters_is_accepted_and_501_is_not() {
        let ok = "d".repeat(MAX_DESCRIPTION_CHARS);
        let long = "d".repeat(MAX_DESCRIPTION_CHARS + 1);
        let policy = EndpointPolicy::default();
        let mut fields = ActionFields {
            name: "A",
            description: Some(&ok),
            endpoint_url: "https://e.com",
            headers: &[],
            inputs: &[],
            confirm: None,
            available_when: None,
            body_template: None,
            accept_reply: false,
        };
        assert!(validate_action(fields, &policy, false).is_ok());
        fields.description = Some(&long);
        assert!(validate_action(fields, &policy, false).is_err());
    }

    #[test]
    fn a_new_origin_needs_every_kept_secret_retyped() {
        let headers = [
            header("Authorization", None, true),
            header("X-Key", Some("new"), true),
            header("X-Team", Some("sre"), false),
        ];
        let moved = secrets_to_reenter(
            "https://a.example.com/x",
            "https://b.example.com/x",
            &headers,
        );
        assert_eq!(moved, [(0, "Authorization".to_owned())]);
        assert!(reenter_errors(&moved)[0].message.contains("Authorization"));
        assert_eq!(reenter_errors(&moved)[0].field, "headers[0].value");
    }

    #[test]
    fn the_same_origin_with_another_path_keeps_secrets() {
        let headers = [header("Authorization", None, true)];
        for same in [
            "https://a.example.com/other",
            "https://A.example.com:443/x?q=1",
        ] {
            assert!(
                secrets_to_reenter("https://a.example.com/x", same, &headers).is_empty(),
                "{same}"
            );
        }
    }

    #[test]
    fn a_new_scheme_or_port_is_a_new_origin() {
        let headers = [header("Authorization", Some(""), true)];
        for other in ["http://a.example.com/x", "https://a.example.com:8443/x"] {
            assert_eq!(
                secrets_to_reenter("https://a.example.com/x", other, &headers).len(),
                1,
                "{other}"
            );
        }
    }

    #[test]
    fn a_body_template_of_16_kib_characters_is_accepted_and_one_more_is_not() {
        let at_limit = "é".repeat(MAX_BODY_TEMPLATE_CHARS);
        assert_eq!(
            check_body_template(Some(&at_limit))
                .unwrap()
                .map(|t| t.chars().count()),
            Some(MAX_BODY_TEMPLATE_CHARS)
        );
        let over = "x".repeat(MAX_BODY_TEMPLATE_CHARS + 1);
        assert_eq!(
            check_body_template(Some(&over)).unwrap_err().to_string(),
            "Body template must be at most 16384 characters"
        );
        assert_eq!(
            check_body_template(Some("  \n ")).unwrap(),
            None,
            "blank: none"
        );
    }

    #[test]
    fn inputs_confirmation_and_availability_are_checked_with_the_rest() {
        use crate::inputs::{InputDefinition, InputType};
        let bad_input = InputDefinition::new("Bad Key", "Region", InputType::String);
        let confirm = Confirm {
            message: String::new(),
            type_to_confirm: true,
        };
        let rule = AvailableWhen {
            statuses: None,
            urgencies: Some(Vec::new()),
        };
        let fields = ActionFields {
            name: "A",
            description: None,
            endpoint_url: "https://e.com",
            headers: &[],
            inputs: std::slice::from_ref(&bad_input),
            confirm: Some(&confirm),
            available_when: Some(&rule),
            body_template: None,
            accept_reply: false,
        };
        let refused = validate_action(fields, &EndpointPolicy::default(), false).unwrap_err();
        let names: Vec<&str> = refused.fields.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "inputs[0].key",
                "confirm.message",
                "available_when.urgencies"
            ]
        );
    }
}
