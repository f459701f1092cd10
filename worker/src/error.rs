//! `ApiError`: every way an `/api/*` request can fail, and the one place that turns a
//! failure into a response. Internal causes are logged here and never sent to the client.

use shared::action::ActionError;
use shared::api::{
    Action, DuplicateIncidentBody, EditConflictBody, ErrorBody, ErrorDetail, User,
    UserEditConflictBody,
};
use shared::errors::ErrorCode;
use shared::limits::CONFIG_PROPAGATION_RETRY_AFTER_SECS;
use shared::pagerduty::PdErrorKind;
use shared::FieldError;
use worker::{console_error, Response};

use crate::http::json_response;

/// Why a request failed.
#[derive(Debug)]
pub enum ApiError {
    /// No or wrong credentials.
    Unauthorized,
    /// A cookie-authenticated change, or a sign-in, sent from another origin.
    CrossSiteRequest,
    /// Signed in, but the role may not do this; the message says what is missing.
    Forbidden(String),
    /// The named thing does not exist (`what` is e.g. "Service").
    NotFound(&'static str),
    /// The path exists but not with this method.
    MethodNotAllowed,
    /// The body is not valid JSON or not the expected shape.
    InvalidJson(String),
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is larger than `limit` bytes.
    PayloadTooLarge(usize),
    /// Fields failed validation.
    Validation(Vec<FieldError>),
    /// The endpoint guard refused `endpoint_url`; `fields` holds every field problem.
    EndpointNotAllowed(Vec<FieldError>),
    /// Refused for a reason its code names (a bad query or header, a conflict with the
    /// current state: limit reached, name taken, ...); the code gives the status.
    Refused(ErrorCode, String),
    /// Too many requests of one kind in the current window; `what` says which (e.g.
    /// "failed sign-ins from this address") and the client may retry after
    /// `retry_after_secs`.
    RateLimited {
        /// What was counted, for the message.
        what: &'static str,
        /// Seconds until the window ends, sent as `Retry-After`.
        retry_after_secs: i64,
    },
    /// An edit named a revision that is no longer current; the body carries the action
    /// as it stands now.
    EditConflict(Box<Action>),
    /// A change or delete of a user met another change of them first (it was made on the
    /// version read): nothing was changed; the body carries the user as they are now.
    UserEditConflict(Box<User>),
    /// An edit moves the endpoint to another origin but keeps stored secret header
    /// values; `fields` names each header to re-enter.
    SecretsMustBeReentered(Vec<FieldError>),
    /// The action's current revision has not reached this location's KV yet.
    ConfigPropagating,
    /// A run's input values do not fit the action's inputs; one message per field.
    InvalidInputs(Vec<FieldError>),
    /// A body template or templated header value does not compile, render, or render
    /// into a valid request; one message per field, with the line.
    InvalidTemplate(Vec<FieldError>),
    /// The action asks for confirmation and the run did not say `"confirmed": true`;
    /// carries the action's message.
    ConfirmationRequired(String),
    /// A redelivery of a run whose kept body is gone (kept for `RUN_BODY_KEPT_DAYS`);
    /// the message says why.
    BodyExpired(String),
    /// An incident opened by hand with a dedup key an open incident of the service
    /// already has; carries that incident's id.
    DuplicateIncident(String),
    /// Our fault. The detail is logged, never sent.
    Internal(String),
}

impl ApiError {
    fn code_message(&self) -> (ErrorCode, String) {
        match self {
            Self::Unauthorized => (
                ErrorCode::Unauthorized,
                "Sign in first: send a valid session cookie or Authorization: Bearer token".into(),
            ),
            Self::CrossSiteRequest => (
                ErrorCode::CrossSiteRequest,
                "Requests from other sites are refused: use this app's own pages, or an API \
                 client with Authorization: Bearer"
                    .into(),
            ),
            Self::Forbidden(message) => (ErrorCode::Forbidden, message.clone()),
            Self::NotFound(what) => (ErrorCode::NotFound, format!("{what} not found")),
            Self::MethodNotAllowed => (
                ErrorCode::MethodNotAllowed,
                "This method is not allowed here".into(),
            ),
            Self::InvalidJson(detail) => (
                ErrorCode::InvalidJson,
                format!("The request body is not valid JSON for this request: {detail}"),
            ),
            Self::UnsupportedMediaType => (
                ErrorCode::UnsupportedMediaType,
                "Send the request body as Content-Type: application/json".into(),
            ),
            Self::PayloadTooLarge(limit) => (
                ErrorCode::PayloadTooLarge,
                format!("The request body is larger than {limit} bytes"),
            ),
            Self::Validation(fields) => (ErrorCode::ValidationFailed, first_message(fields)),
            Self::EndpointNotAllowed(fields) => (
                ErrorCode::EndpointNotAllowed,
                // Lead with the guard's rule even when other fields failed too.
                fields
                    .iter()
                    .find(|field| field.field == "endpoint_url")
                    .map_or_else(|| first_message(fields), |field| field.message.clone()),
            ),
            Self::Refused(code, message) => (*code, message.clone()),
            Self::RateLimited {
                what,
                retry_after_secs,
            } => (
                ErrorCode::RateLimited,
                format!(
                    "Too many {what} in the last minute; try again in {retry_after_secs} \
                     second{}",
                    if *retry_after_secs == 1 { "" } else { "s" }
                ),
            ),
            Self::EditConflict(current) => (
                ErrorCode::EditConflict,
                format!(
                    "This action was changed by someone else since you read it (it is now at \
                     revision {}); nothing was saved. Apply your change to the current version",
                    current.revision
                ),
            ),
            Self::UserEditConflict(_) => (
                ErrorCode::EditConflict,
                "This user was changed by someone else while your change was being made; \
                 nothing was changed. Reload and try again"
                    .into(),
            ),
            Self::SecretsMustBeReentered(fields) => {
                (ErrorCode::SecretsMustBeReentered, first_message(fields))
            }
            Self::ConfigPropagating => (
                ErrorCode::ConfigPropagating,
                format!(
                    "This action was changed moments ago and its newest configuration has not \
                     reached this location yet; nothing was sent. Try again in \
                     {CONFIG_PROPAGATION_RETRY_AFTER_SECS} seconds"
                ),
            ),
            Self::InvalidInputs(fields) => (ErrorCode::InvalidInputs, first_message(fields)),
            Self::InvalidTemplate(fields) => (ErrorCode::InvalidTemplate, first_message(fields)),
            Self::DuplicateIncident(id) => (
                ErrorCode::DuplicateIncident,
                format!(
                    "An open incident of this service already has this dedup key ({id}); \
                     nothing was created"
                ),
            ),
            Self::ConfirmationRequired(message) => (
                ErrorCode::ConfirmationRequired,
                format!(
                    "This action asks to confirm first: {message}. Send \"confirmed\": true \
                     to run it"
                ),
            ),
            Self::BodyExpired(message) => (ErrorCode::BodyExpired, message.clone()),
            Self::Internal(_) => (
                ErrorCode::Internal,
                "Something went wrong on our side; the request was not completed".into(),
            ),
        }
    }

    /// The JSON error body this error is sent as.
    pub fn body(&self) -> (u16, ErrorBody) {
        let (code, message) = self.code_message();
        let status = code.status();
        let fields = match self {
            Self::Validation(fields)
            | Self::EndpointNotAllowed(fields)
            | Self::SecretsMustBeReentered(fields)
            | Self::InvalidInputs(fields)
            | Self::InvalidTemplate(fields) => fields.clone(),
            _ => Vec::new(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message,
                fields,
            },
        };
        (status, body)
    }

    /// The `Retry-After` this error is sent with, if any.
    fn retry_after_secs(&self) -> Option<i64> {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            Self::ConfigPropagating => Some(CONFIG_PROPAGATION_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// Logs internal causes and builds the response.
    pub fn into_response(self) -> worker::Result<Response> {
        if let Self::Internal(detail) = &self {
            console_error!("internal error: {detail}");
        }
        let (status, body) = self.body();
        let retry_after = self.retry_after_secs();
        let response = match self {
            // The errors whose body carries more than the error: the current action or
            // user, and the incident that already has the dedup key.
            Self::EditConflict(action) => json_response(
                &EditConflictBody {
                    error: body.error,
                    action: *action,
                },
                status,
            )?,
            Self::UserEditConflict(user) => json_response(
                &UserEditConflictBody {
                    error: body.error,
                    user: *user,
                },
                status,
            )?,
            Self::DuplicateIncident(incident_id) => json_response(
                &DuplicateIncidentBody {
                    error: body.error,
                    incident_id,
                },
                status,
            )?,
            _ => json_response(&body, status)?,
        };
        if let Some(secs) = retry_after {
            response.headers().set("Retry-After", &secs.to_string())?;
        }
        Ok(response)
    }
}

impl ApiError {
    /// The answer on the PagerDuty REST API surface: PagerDuty's status codes and error
    /// body, `{"error": {"message", "code", "errors"}}`, with this error's own message
    /// (and every field's) in `errors`.
    pub fn into_pagerduty_response(self) -> worker::Result<Response> {
        if let Self::Internal(detail) = &self {
            console_error!("internal error: {detail}");
        }
        let (_, body) = self.body();
        let mut errors: Vec<String> = body
            .error
            .fields
            .iter()
            .map(|field| format!("{}: {}", field.field, field.message))
            .collect();
        if errors.is_empty() {
            errors.push(body.error.message);
        }
        let kind = match &self {
            Self::Unauthorized => PdErrorKind::Unauthorized,
            Self::CrossSiteRequest | Self::Forbidden(_) => PdErrorKind::AccessDenied,
            Self::NotFound(_) => PdErrorKind::NotFound,
            Self::MethodNotAllowed => PdErrorKind::MethodNotAllowed,
            Self::RateLimited { .. } => PdErrorKind::Throttled,
            Self::DuplicateIncident(_) => {
                errors = vec![
                    "Open incident with matching dedup key already exists on this service"
                        .to_owned(),
                ];
                PdErrorKind::InvalidInput
            }
            // A change made meanwhile stopped this one, which changed nothing: sending it
            // again is the remedy, so it is told apart from a request that is wrong.
            Self::Refused(ErrorCode::EditConflict, _)
            | Self::EditConflict(_)
            | Self::UserEditConflict(_) => PdErrorKind::Conflict,
            Self::InvalidJson(_)
            | Self::UnsupportedMediaType
            | Self::PayloadTooLarge(_)
            | Self::Validation(_)
            | Self::EndpointNotAllowed(_)
            | Self::Refused(..)
            | Self::SecretsMustBeReentered(_)
            | Self::InvalidInputs(_)
            | Self::InvalidTemplate(_)
            | Self::ConfirmationRequired(_)
            | Self::BodyExpired(_) => PdErrorKind::InvalidInput,
            Self::ConfigPropagating | Self::Internal(_) => PdErrorKind::Internal,
        };
        let retry_after = self.retry_after_secs();
        let (status, body) = kind.body(errors);
        let response = json_response(&body, status)?;
        if let Some(secs) = retry_after {
            response.headers().set("Retry-After", &secs.to_string())?;
        }
        Ok(response)
    }
}

fn first_message(fields: &[FieldError]) -> String {
    fields.first().map_or_else(
        || "Some fields are invalid".to_owned(),
        |first| first.message.clone(),
    )
}

impl From<ActionError> for ApiError {
    fn from(error: ActionError) -> Self {
        if error.endpoint_not_allowed {
            Self::EndpointNotAllowed(error.fields)
        } else if error.secrets_must_be_reentered {
            Self::SecretsMustBeReentered(error.fields)
        } else {
            Self::Validation(error.fields)
        }
    }
}

impl From<worker::Error> for ApiError {
    fn from(error: worker::Error) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(format!("json: {error}"))
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_never_reveals_its_cause() {
        let (status, body) = ApiError::Internal("D1_ERROR: secret table xyz".into()).body();
        assert_eq!(status, 500);
        assert!(!body.error.message.contains("xyz"));
        assert_eq!(body.error.code, ErrorCode::Internal);
    }

    #[test]
    fn a_validation_error_leads_with_its_first_field_message() {
        let fields = vec![FieldError {
            field: "name".into(),
            message: "Name is required".into(),
        }];
        let (status, body) = ApiError::Validation(fields).body();
        assert_eq!(status, 422);
        assert_eq!(body.error.message, "Name is required");
        assert_eq!(body.error.fields.len(), 1);
    }

    #[test]
    fn a_guarded_endpoint_is_422_endpoint_not_allowed_led_by_the_rule() {
        let error = ActionError {
            fields: vec![
                FieldError {
                    field: "name".into(),
                    message: "Name is required".into(),
                },
                FieldError {
                    field: "endpoint_url".into(),
                    message: "Endpoint host 10.0.0.5 is a private address (10.0.0.0/8)".into(),
                },
            ],
            endpoint_not_allowed: true,
            secrets_must_be_reentered: false,
        };
        let (status, body) = ApiError::from(error).body();
        assert_eq!(
            (status, body.error.code.as_str()),
            (422, "endpoint_not_allowed")
        );
        assert!(body.error.message.contains("private address"));
        assert_eq!(body.error.fields.len(), 2);
    }

    #[test]
    fn other_action_errors_stay_validation_failed() {
        let error = ActionError {
            fields: vec![FieldError {
                field: "name".into(),
                message: "Name is required".into(),
            }],
            endpoint_not_allowed: false,
            secrets_must_be_reentered: false,
        };
        assert_eq!(
            ApiError::from(error).body().1.error.code,
            ErrorCode::ValidationFailed
        );
    }

    #[test]
    fn forbidden_is_403_with_the_reason_as_message() {
        let (status, body) = ApiError::Forbidden("Your role (observer) may not x".into()).body();
        assert_eq!((status, body.error.code.as_str()), (403, "forbidden"));
        assert_eq!(body.error.message, "Your role (observer) may not x");
    }

    #[test]
    fn rate_limited_is_429_saying_when_to_retry() {
        let (status, body) = ApiError::RateLimited {
            what: "runs",
            retry_after_secs: 42,
        }
        .body();
        assert_eq!((status, body.error.code.as_str()), (429, "rate_limited"));
        assert_eq!(
            body.error.message,
            "Too many runs in the last minute; try again in 42 seconds"
        );
    }

    #[test]
    fn not_found_names_the_missing_thing() {
        let (status, body) = ApiError::NotFound("Incident").body();
        assert_eq!(
            (status, body.error.message.as_str()),
            (404, "Incident not found")
        );
    }
}
