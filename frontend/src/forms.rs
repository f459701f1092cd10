//! Field errors for forms: which message goes next to which input.
//!
//! The same `FieldError` list comes from two places, the shared validation run before
//! sending and a 422 from the worker, and both are keyed by the request body's field path
//! (`name`, `endpoint_url`, `headers[1].value`), so one lookup serves both. The input
//! then points at the message with `aria-invalid` and `aria-describedby`.

use leptos::prelude::*;
use shared::errors::ErrorCode;
use shared::FieldError;

use crate::api::{ApiError, Failure};

/// A form's problems: the shared validation's (empty until the person has tried to send),
/// then the worker's answer to the last attempt.
#[derive(Debug, Clone, Copy)]
pub struct FormErrors {
    /// From the shared validation, before sending.
    pub client: Memo<Vec<FieldError>>,
    /// From the worker's answer.
    pub server: RwSignal<Vec<FieldError>>,
}

impl FormErrors {
    /// For a form the worker alone checks.
    pub fn server_only(server: RwSignal<Vec<FieldError>>) -> Self {
        Self {
            client: Memo::new(|_| Vec::new()),
            server,
        }
    }

    /// The message for one field path, tracked.
    pub fn message(self, field: &str) -> Option<String> {
        message_for(&self.client.get(), field).or_else(|| message_for(&self.server.get(), field))
    }

    /// The message for one field, as a signal for its input and `FieldMessage`.
    pub fn signal(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || self.message(field))
    }

    /// The same for a field whose path is only known at run time (`inputs.<key>`).
    pub fn signal_for(self, field: String) -> Signal<Option<String>> {
        Signal::derive(move || self.message(&field))
    }
}

/// `aria-invalid` for an input whose problem, if any, is `message`.
pub fn aria_invalid(
    message: Signal<Option<String>>,
) -> impl Fn() -> &'static str + Clone + Send + Sync + 'static {
    move || {
        if message.with(Option::is_some) {
            "true"
        } else {
            "false"
        }
    }
}

/// `aria-describedby` for an input: its hint, if it has one, and the element with id
/// `error_id` while `message` holds a problem.
pub fn described_by(
    hint: Option<String>,
    error_id: String,
    message: Signal<Option<String>>,
) -> impl Fn() -> Option<String> + Clone + Send + Sync + 'static {
    move || {
        let error = message.with(Option::is_some).then_some(error_id.as_str());
        let ids: Vec<&str> = hint.as_deref().into_iter().chain(error).collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

/// The first message for `field`, if any.
pub fn message_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|error| error.field == field)
        .map(|error| error.message.clone())
}

/// The per-field problems in a failed save. A taken name (or e-mail) is a problem with
/// that field, so it is shown there as well as at the top of the form.
pub fn field_errors_of(error: &ApiError) -> Vec<FieldError> {
    let taken = match error.code {
        Failure::Api(ErrorCode::NameTaken) => Some("name"),
        Failure::Api(ErrorCode::EmailTaken) => Some("email"),
        _ => None,
    };
    if let (Some(field), true) = (taken, error.fields.is_empty()) {
        return vec![FieldError {
            field: field.to_owned(),
            message: error.message.clone(),
        }];
    }
    error.fields.clone()
}

/// The id of the element that shows `field`'s error, for `aria-describedby`.
pub fn error_id(form: &str, field: &str) -> String {
    let field: String = field
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{form}-{field}-error")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(field: &str, message: &str) -> FieldError {
        FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn a_message_is_found_by_its_exact_field_path() {
        let errors = [
            field("headers[1].value", "Header value is required"),
            field("name", "Name is required"),
        ];
        assert_eq!(
            message_for(&errors, "name").as_deref(),
            Some("Name is required")
        );
        assert_eq!(
            message_for(&errors, "headers[1].value").as_deref(),
            Some("Header value is required")
        );
        assert_eq!(message_for(&errors, "headers[1].name"), None);
    }

    #[test]
    fn a_taken_name_is_shown_next_to_the_name_field() {
        let error = ApiError::from_response(
            409,
            r#"{"error":{"code":"name_taken","message":"An action named Restart already exists"}}"#,
        );
        assert_eq!(
            field_errors_of(&error),
            [field("name", "An action named Restart already exists")]
        );
    }

    #[test]
    fn a_taken_email_is_shown_next_to_the_email_field() {
        let error = ApiError::from_response(
            409,
            r#"{"error":{"code":"email_taken","message":"That e-mail is taken"}}"#,
        );
        assert_eq!(
            field_errors_of(&error),
            [field("email", "That e-mail is taken")]
        );
    }

    #[test]
    fn secrets_to_reenter_are_shown_on_their_header_value_fields() {
        let error = ApiError::from_response(
            422,
            r#"{"error":{"code":"secrets_must_be_reentered","message":"Re-enter the secrets",
                "fields":[{"field":"headers[1].value","message":"Re-enter the value of secret header Authorization"}]}}"#,
        );
        assert_eq!(
            message_for(&field_errors_of(&error), "headers[1].value").as_deref(),
            Some("Re-enter the value of secret header Authorization")
        );
    }

    #[test]
    fn a_limit_error_belongs_to_no_field() {
        let error = ApiError::from_response(
            409,
            r#"{"error":{"code":"action_limit","message":"at most three"}}"#,
        );
        assert!(field_errors_of(&error).is_empty());
    }

    #[test]
    fn an_input_points_at_its_hint_always_and_at_its_error_while_there_is_one() {
        let problem = RwSignal::new(None::<String>);
        let message = Signal::from(problem);
        let with_hint = described_by(Some("name-hint".into()), "name-error".into(), message);
        let without_hint = described_by(None, "name-error".into(), message);
        let invalid = aria_invalid(message);
        assert_eq!(with_hint().as_deref(), Some("name-hint"));
        assert_eq!(without_hint(), None);
        assert_eq!(invalid(), "false");
        problem.set(Some("Name is required".into()));
        assert_eq!(with_hint().as_deref(), Some("name-hint name-error"));
        assert_eq!(without_hint().as_deref(), Some("name-error"));
        assert_eq!(invalid(), "true");
    }

    #[test]
    fn error_ids_are_valid_html_ids() {
        assert_eq!(
            error_id("action", "headers[1].value"),
            "action-headers-1--value-error"
        );
    }
}
