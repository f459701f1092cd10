//! Every error code `/api` answers with, declared once with its HTTP status. The worker
//! builds its errors from these, the app compares against them, the README's table is
//! generated from them (a test keeps it equal) and `fixtures/error_codes.json` hands them
//! to the e2e tests, which refuse any code not listed.

/// A stable, snake_case reason a request failed (`{"error": {"code"}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No or wrong credentials.
    Unauthorized,
    /// A cookie-authenticated change, or a sign-in, from another origin.
    CrossSiteRequest,
    /// The role may not do this.
    Forbidden,
    /// No such thing.
    NotFound,
    /// The path exists, not with this method.
    MethodNotAllowed,
    /// The body is not JSON of the expected shape.
    InvalidJson,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is over the limit.
    PayloadTooLarge,
    /// Fields failed validation (`fields` says which).
    ValidationFailed,
    /// The endpoint guard refused the URL.
    EndpointNotAllowed,
    /// A query parameter is wrong.
    InvalidQuery,
    /// `limit` is not a whole number in the list's range.
    InvalidLimit,
    /// `cursor` is not one this list gave out.
    InvalidCursor,
    /// An `Idempotency-Key` header is malformed.
    InvalidIdempotencyKey,
    /// An `If-Match` header disagrees with the body, or is malformed.
    InvalidIfMatch,
    /// A PagerDuty REST body asks for something not served.
    InvalidInput,
    /// The status change is not possible from the current status.
    InvalidTransition,
    /// Previewing an unsaved action needs its draft.
    DraftRequired,
    /// More than one session cookie.
    AmbiguousSession,
    /// The PagerDuty `From` header names no user.
    RequesterNotFound,
    /// The action is disabled.
    ActionDisabled,
    /// The service already has its three actions.
    ActionLimit,
    /// The action's rule does not offer it on this incident.
    ActionNotAvailable,
    /// The action's stored configuration cannot be read.
    ActionUnreadable,
    /// The thing changed since it was read; nothing was saved.
    EditConflict,
    /// Another user has this e-mail.
    EmailTaken,
    /// The last owner cannot be removed or demoted.
    LastOwner,
    /// Another action of the service has this name.
    NameTaken,
    /// A run (or redelivery) with this key or of this run is in flight.
    RunInProgress,
    /// Too many requests of one kind this minute.
    RateLimited,
    /// Secret header values must be typed again for a new origin.
    SecretsMustBeReentered,
    /// The action's newest configuration has not reached this location yet.
    ConfigPropagating,
    /// A run's input values do not fit the action.
    InvalidInputs,
    /// A template does not compile or render.
    InvalidTemplate,
    /// The action asks to confirm first.
    ConfirmationRequired,
    /// The run's kept body is gone; it cannot be redelivered.
    BodyExpired,
    /// A run's kept body was made for another endpoint origin or other secret values
    /// than the action has now; it is not redelivered.
    RedeliveryTargetChanged,
    /// An open incident of the service has this dedup key.
    DuplicateIncident,
    /// Our fault; the detail is logged, never sent.
    Internal,
}

impl ErrorCode {
    /// Every code, in the README's order.
    pub const ALL: [Self; 39] = [
        Self::Unauthorized,
        Self::CrossSiteRequest,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::InvalidJson,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::ValidationFailed,
        Self::EndpointNotAllowed,
        Self::InvalidQuery,
        Self::InvalidLimit,
        Self::InvalidCursor,
        Self::InvalidIdempotencyKey,
        Self::InvalidIfMatch,
        Self::InvalidInput,
        Self::InvalidTransition,
        Self::DraftRequired,
        Self::AmbiguousSession,
        Self::RequesterNotFound,
        Self::ActionDisabled,
        Self::ActionLimit,
        Self::ActionNotAvailable,
        Self::ActionUnreadable,
        Self::EditConflict,
        Self::EmailTaken,
        Self::LastOwner,
        Self::NameTaken,
        Self::RunInProgress,
        Self::RateLimited,
        Self::SecretsMustBeReentered,
        Self::ConfigPropagating,
        Self::InvalidInputs,
        Self::InvalidTemplate,
        Self::ConfirmationRequired,
        Self::BodyExpired,
        Self::RedeliveryTargetChanged,
        Self::DuplicateIncident,
        Self::Internal,
    ];

    /// The code on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::CrossSiteRequest => "cross_site_request",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidJson => "invalid_json",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::ValidationFailed => "validation_failed",
            Self::EndpointNotAllowed => "endpoint_not_allowed",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidLimit => "invalid_limit",
            Self::InvalidCursor => "invalid_cursor",
            Self::InvalidIdempotencyKey => "invalid_idempotency_key",
            Self::InvalidIfMatch => "invalid_if_match",
            Self::InvalidInput => "invalid_input",
            Self::InvalidTransition => "invalid_transition",
            Self::DraftRequired => "draft_required",
            Self::AmbiguousSession => "ambiguous_session",
            Self::RequesterNotFound => "requester_not_found",
            Self::ActionDisabled => "action_disabled",
            Self::ActionLimit => "action_limit",
            Self::ActionNotAvailable => "action_not_available",
            Self::ActionUnreadable => "action_unreadable",
            Self::EditConflict => "edit_conflict",
            Self::EmailTaken => "email_taken",
            Self::LastOwner => "last_owner",
            Self::NameTaken => "name_taken",
            Self::RunInProgress => "run_in_progress",
            Self::RateLimited => "rate_limited",
            Self::SecretsMustBeReentered => "secrets_must_be_reentered",
            Self::ConfigPropagating => "config_propagating",
            Self::InvalidInputs => "invalid_inputs",
            Self::InvalidTemplate => "invalid_template",
            Self::ConfirmationRequired => "confirmation_required",
            Self::BodyExpired => "body_expired",
            Self::RedeliveryTargetChanged => "redelivery_target_changed",
            Self::DuplicateIncident => "duplicate_incident",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status it is always answered with.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidJson
            | Self::InvalidQuery
            | Self::InvalidLimit
            | Self::InvalidCursor
            | Self::InvalidIdempotencyKey
            | Self::InvalidIfMatch
            | Self::InvalidInput
            | Self::DraftRequired
            | Self::AmbiguousSession
            | Self::RequesterNotFound => 400,
            Self::Unauthorized => 401,
            Self::CrossSiteRequest | Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::ActionDisabled
            | Self::ActionLimit
            | Self::ActionNotAvailable
            | Self::ActionUnreadable
            | Self::EditConflict
            | Self::EmailTaken
            | Self::LastOwner
            | Self::NameTaken
            | Self::RunInProgress
            | Self::InvalidTransition
            | Self::RedeliveryTargetChanged
            | Self::DuplicateIncident => 409,
            Self::BodyExpired => 410,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::ValidationFailed
            | Self::EndpointNotAllowed
            | Self::SecretsMustBeReentered
            | Self::InvalidInputs
            | Self::InvalidTemplate => 422,
            Self::ConfirmationRequired => 428,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::ConfigPropagating => 503,
        }
    }

    /// The code named `raw`, if there is one.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == raw)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_reads_back() {
        for (index, code) in ErrorCode::ALL.into_iter().enumerate() {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!(!ErrorCode::ALL[..index].contains(&code), "{code} twice");
            assert!(code
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }

    /// The table of README.md between `<!-- error-codes:start` and `<!-- error-codes:end`.
    fn readme_table() -> String {
        let mut table = String::from("| code | status |\n|---|---|\n");
        for code in ErrorCode::ALL {
            table.push_str(&format!("| `{code}` | {} |\n", code.status()));
        }
        table
    }

    #[test]
    fn the_readme_error_code_table_matches_the_code() {
        crate::readme::check_generated_section("error-codes", &readme_table());
    }

    #[test]
    fn the_error_code_fixture_matches_the_code() {
        let codes: serde_json::Map<String, serde_json::Value> = ErrorCode::ALL
            .into_iter()
            .map(|code| (code.as_str().to_owned(), code.status().into()))
            .collect();
        crate::readme::check_generated_fixture("error_codes.json", &codes.into());
    }
}
