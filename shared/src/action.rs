//! A custom incident action: what a manager configures ([`spec::ActionSpec`]), the rules
//! of changing it ([`edit`]), and the one check of a create, an edit or a preview
//! ([`validate_action`]). The form runs it before sending; the worker runs it again on
//! every request.

pub mod edit;
pub mod settings;
pub mod spec;

use serde::{Deserialize, Serialize};

use crate::api::{CreateActionRequest, HeaderInput};
use crate::endpoint::{EndpointPolicy, EndpointUrl};
use crate::limits::{
    MAX_ACTION_NAME_CHARS, MAX_DESCRIPTION_CHARS, MAX_HEADERS_PER_ACTION, MAX_HEADER_NAME_BYTES,
    MAX_HEADER_VALUE_BYTES,
};
use crate::validation::{optional_text, required_name};
use crate::{FieldError, ValidationError};

use edit::keeps_stored_secret;
pub use edit::{reenter_errors, secrets_to_reenter, EditBase, Submission};
pub use settings::{check_body_template, RunSettings, RunSettingsPatch};
pub use spec::{ActionSpec, Header, Opened, Redacted, Sealed, SentText, Submitted};

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

/// Why an action was refused: every problem, keyed by field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    /// Every problem, in field order.
    pub fields: Vec<FieldError>,
    /// Whether the endpoint guard refused `endpoint_url` (the API answers
    /// `endpoint_not_allowed` rather than `validation_failed`).
    pub endpoint_not_allowed: bool,
    /// Whether the only problems are stored secrets that would follow the endpoint to
    /// another origin (the API answers `secrets_must_be_reentered`).
    pub secrets_must_be_reentered: bool,
}

/// Validates a create, an edit (merged with [`UpdateActionRequest::merged_onto`]) or a
/// preview's draft, and reports every problem at once, keyed by field path. What a blank
/// secret means follows from `submission`.
///
/// [`UpdateActionRequest::merged_onto`]: crate::api::UpdateActionRequest::merged_onto
pub fn validate_action(
    request: &CreateActionRequest,
    policy: &EndpointPolicy,
    submission: Submission<'_>,
) -> Result<ActionSpec<Submitted>, ActionError> {
    let mut errors = Vec::new();
    let name = ActionName::parse(&request.name)
        .map_err(|e| errors.push(FieldError::new("name", &e)))
        .ok();
    let description = optional_text(
        request.description.as_deref(),
        "Description",
        MAX_DESCRIPTION_CHARS,
    )
    .map_err(|e| errors.push(FieldError::new("description", &e)))
    .ok()
    .flatten();
    let mut endpoint_not_allowed = false;
    let endpoint_url = EndpointUrl::parse(&request.endpoint_url, policy)
        .map_err(|e| {
            endpoint_not_allowed = matches!(e, ValidationError::EndpointNotAllowed(_));
            errors.push(FieldError::new("endpoint_url", &e));
        })
        .ok();
    let header_inputs = request.headers.as_deref().unwrap_or_default();
    let moved = match submission {
        Submission::Edit(EditBase {
            endpoint_url: Some(stored_url),
            ..
        }) => secrets_to_reenter(stored_url, &request.endpoint_url, header_inputs),
        Submission::Edit(_) | Submission::New | Submission::Preview => Vec::new(),
    };
    let headers = validate_headers(header_inputs, submission, &moved, &mut errors);
    let settings = request.settings.checked(&mut errors);
    let reentry = reenter_errors(&moved);
    let only_reentry = errors.is_empty() && !reentry.is_empty();
    errors.extend(reentry);
    errors.sort_by_key(|error| field_order(&error.field));
    match (name, endpoint_url) {
        (Some(name), Some(endpoint_url)) if errors.is_empty() => Ok(ActionSpec {
            name: name.as_str().to_owned(),
            description,
            endpoint_url: endpoint_url.as_str().to_owned(),
            headers,
            settings,
        }),
        _ => Err(ActionError {
            fields: errors,
            endpoint_not_allowed,
            secrets_must_be_reentered: only_reentry,
        }),
    }
}

/// Where a field comes in the form, so that every problem is reported in field order
/// whichever check found it. A stable sort keeps a field's own problems in order.
fn field_order(field: &str) -> usize {
    const ORDER: [&str; 8] = [
        "name",
        "description",
        "endpoint_url",
        "headers",
        "inputs",
        "confirm",
        "available_when",
        "body_template",
    ];
    ORDER
        .iter()
        .position(|prefix| {
            field
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['[', '.']))
        })
        .unwrap_or(ORDER.len())
}

/// The headers, each checked; `moved` are the kept secrets whose re-entry is reported
/// on their own ([`reenter_errors`]).
fn validate_headers(
    inputs: &[HeaderInput],
    submission: Submission<'_>,
    moved: &[(usize, String)],
    errors: &mut Vec<FieldError>,
) -> Vec<Header<Submitted>> {
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
        if moved.iter().any(|(at, _)| *at == index) {
            continue;
        }
        let keeps = match submission {
            Submission::Edit(base) => keeps_stored_secret(input, &base),
            Submission::Preview => secret,
            Submission::New => false,
        };
        let value = match input.value.as_deref() {
            None | Some("") if keeps => Ok(Submitted::KeepStored),
            None => Err(ValidationError::Required("Header value")),
            Some(value) => check_header_value(value).map(|()| Submitted::Typed(value.to_owned())),
        };
        match (name, value) {
            (Some(name), Ok(value)) => valid.push(Header {
                name: name.as_str().to_owned(),
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
    use crate::limits::MAX_BODY_TEMPLATE_CHARS;

    /// A header as a request sends it (the edit rules' tests use it too).
    pub(super) fn header(name: &str, value: Option<&str>, secret: bool) -> HeaderInput {
        HeaderInput {
            name: name.to_owned(),
            value: value.map(str::to_owned),
            secret: Some(secret),
        }
    }

    fn request(name: &str, url: &str, headers: &[HeaderInput]) -> CreateActionRequest {
        CreateActionRequest {
            name: name.to_owned(),
            endpoint_url: url.to_owned(),
            headers: Some(headers.to_vec()),
            ..CreateActionRequest::default()
        }
    }

    fn validate(
        name: &str,
        url: &str,
        headers: &[HeaderInput],
    ) -> Result<ActionSpec<Submitted>, ActionError> {
        validate_action(
            &request(name, url, headers),
            &EndpointPolicy::default(),
            Submission::New,
        )
    }

    fn fields_of(result: Result<ActionSpec<Submitted>, ActionError>) -> Vec<String> {
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
    fn a_secret_header_may_keep_its_value_only_on_edit_of_a_stored_secret() {
        let policy = EndpointPolicy::default();
        let blank = request("A", "https://e.com", &[header("Authorization", None, true)]);
        let stored = ["authorization".to_owned()];
        let base = EditBase {
            endpoint_url: Some("https://e.com/old"),
            secrets: &stored,
        };
        let edited = validate_action(&blank, &policy, Submission::Edit(base)).unwrap();
        assert_eq!(edited.headers[0].value, Submitted::KeepStored);
        assert_eq!(
            fields_of(validate_action(&blank, &policy, Submission::New)),
            ["headers[0].value"]
        );
        let nothing_stored = EditBase {
            endpoint_url: Some("https://e.com"),
            secrets: &[],
        };
        let refused =
            validate_action(&blank, &policy, Submission::Edit(nothing_stored)).unwrap_err();
        assert_eq!(refused.fields[0].message, "Header value is required");
        assert!(!refused.secrets_must_be_reentered);
        let previewed = validate_action(&blank, &policy, Submission::Preview).unwrap();
        assert_eq!(previewed.redacted().headers[0].value, Redacted::Hidden);
    }

    #[test]
    fn a_kept_secret_on_a_new_origin_must_be_reentered_and_says_so_apart() {
        let policy = EndpointPolicy::default();
        let stored = ["Authorization".to_owned()];
        let base = EditBase {
            endpoint_url: Some("https://a.example.com/x"),
            secrets: &stored,
        };
        let moved = request(
            "A",
            "https://b.example.com/x",
            &[header("Authorization", None, true)],
        );
        let refused = validate_action(&moved, &policy, Submission::Edit(base)).unwrap_err();
        assert!(refused.secrets_must_be_reentered);
        assert_eq!(refused.fields[0].field, "headers[0].value");
        assert!(refused.fields[0].message.starts_with("Re-enter the value"));
        let mut also_unnamed = moved;
        also_unnamed.name = String::new();
        let refused = validate_action(&also_unnamed, &policy, Submission::Edit(base)).unwrap_err();
        assert!(
            !refused.secrets_must_be_reentered,
            "other problems come first"
        );
        assert_eq!(
            fields_of(Err(refused)),
            ["name", "headers[0].value"],
            "every problem, in field order"
        );
    }

    #[test]
    fn a_description_of_500_characters_is_accepted_and_501_is_not() {
        let policy = EndpointPolicy::default();
        let mut described = request("A", "https://e.com", &[]);
        described.description = Some("d".repeat(MAX_DESCRIPTION_CHARS));
        assert!(validate_action(&described, &policy, Submission::New).is_ok());
        described.description = Some("d".repeat(MAX_DESCRIPTION_CHARS + 1));
        assert!(validate_action(&described, &policy, Submission::New).is_err());
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
        use crate::run_rules::{AvailableWhen, Confirm};
        let bad_input = InputDefinition::new("Bad Key", "Region", InputType::String);
        let confirm = Confirm {
            message: String::new(),
            type_to_confirm: true,
        };
        let rule = AvailableWhen {
            statuses: None,
            urgencies: Some(Vec::new()),
        };
        let mut asked = request("A", "https://e.com", &[]);
        asked.settings.inputs = vec![bad_input];
        asked.settings.confirm = Some(confirm);
        asked.settings.available_when = Some(rule);
        let refused =
            validate_action(&asked, &EndpointPolicy::default(), Submission::New).unwrap_err();
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
