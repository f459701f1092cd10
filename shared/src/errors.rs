//! Every error code `/api` answers with, declared once with its HTTP status. The worker
//! builds its errors from these, the app compares against them, the README's table is
//! generated from them (a test keeps it equal) and `fixtures/error_codes.json` hands them
//! to the e2e tests, which refuse any code not listed.

crate::spelled_enum! {
    /// A stable, snake_case reason a request failed (`{"error": {"code"}}`).
    #[derive(Hash)]
    pub enum ErrorCode {
        /// No or wrong credentials.
        Unauthorized = "unauthorized",
        /// A cookie-authenticated change, or a sign-in, from another origin.
        CrossSiteRequest = "cross_site_request",
        /// The role may not do this.
        Forbidden = "forbidden",
        /// No such thing.
        NotFound = "not_found",
        /// The path exists, not with this method.
        MethodNotAllowed = "method_not_allowed",
        /// The body is not JSON of the expected shape.
        InvalidJson = "invalid_json",
        /// The body is not `application/json`.
        UnsupportedMediaType = "unsupported_media_type",
        /// The body is over the limit.
        PayloadTooLarge = "payload_too_large",
        /// Fields failed validation (`fields` says which).
        ValidationFailed = "validation_failed",
        /// The endpoint guard refused the URL.
        EndpointNotAllowed = "endpoint_not_allowed",
        /// A query parameter is wrong.
        InvalidQuery = "invalid_query",
        /// `limit` is not a whole number in the list's range.
        InvalidLimit = "invalid_limit",
        /// `cursor` is not one this list gave out.
        InvalidCursor = "invalid_cursor",
        /// An `Idempotency-Key` header is malformed.
        InvalidIdempotencyKey = "invalid_idempotency_key",
        /// An `If-Match` header disagrees with the body, or is malformed.
        InvalidIfMatch = "invalid_if_match",
        /// A PagerDuty REST body asks for something not served.
        InvalidInput = "invalid_input",
        /// The status change is not possible from the current status.
        InvalidTransition = "invalid_transition",
        /// Previewing an unsaved action needs its draft.
        DraftRequired = "draft_required",
        /// More than one session cookie.
        AmbiguousSession = "ambiguous_session",
        /// The PagerDuty `From` header names no user.
        RequesterNotFound = "requester_not_found",
        /// The action is disabled.
        ActionDisabled = "action_disabled",
        /// The service already has its three actions.
        ActionLimit = "action_limit",
        /// The action's rule does not offer it on this incident.
        ActionNotAvailable = "action_not_available",
        /// The action's stored configuration cannot be read.
        ActionUnreadable = "action_unreadable",
        /// The thing changed since it was read; nothing was saved.
        EditConflict = "edit_conflict",
        /// Another user has this e-mail.
        EmailTaken = "email_taken",
        /// The last owner cannot be removed or demoted.
        LastOwner = "last_owner",
        /// Another action of the service has this name.
        NameTaken = "name_taken",
        /// A run (or redelivery) with this key or of this run is in flight.
        RunInProgress = "run_in_progress",
        /// Too many requests of one kind this minute.
        RateLimited = "rate_limited",
        /// Secret header values must be typed again for a new origin.
        SecretsMustBeReentered = "secrets_must_be_reentered",
        /// The action's newest configuration has not reached this location yet.
        ConfigPropagating = "config_propagating",
        /// A run's input values do not fit the action.
        InvalidInputs = "invalid_inputs",
        /// A template does not compile or render.
        InvalidTemplate = "invalid_template",
        /// The action asks to confirm first.
        ConfirmationRequired = "confirmation_required",
        /// The run's kept body is gone; it cannot be redelivered.
        BodyExpired = "body_expired",
        /// A run's kept body was made for another endpoint origin or other secret values
        /// than the action has now; it is not redelivered.
        RedeliveryTargetChanged = "redelivery_target_changed",
        /// An open incident of the service has this dedup key.
        DuplicateIncident = "duplicate_incident",
        /// Our fault; the detail is logged, never sent.
        Internal = "internal",
    }
}

impl ErrorCode {
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
