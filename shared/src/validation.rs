//! The one error type for user input, with messages fit to show the user who typed it.

use serde::{Deserialize, Serialize};

/// Why a value was refused. The `Display` text is what the form and the API show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// Blank after trimming.
    #[error("{0} is required")]
    Required(&'static str),
    /// Longer than allowed.
    #[error("{what} must be at most {max} {unit}")]
    TooLong {
        /// What was too long, as the user knows it.
        what: &'static str,
        /// The limit.
        max: usize,
        /// `characters` or `bytes`.
        unit: &'static str,
    },
    /// A list with too many entries.
    #[error("at most {max} {what} are allowed")]
    TooMany {
        /// The kind of entry.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// Anything else, with its own explanation.
    #[error("{0}")]
    Invalid(String),
    /// A well-formed endpoint URL that the endpoint guard refuses; the text names the rule.
    /// Kept apart from `Invalid` because the API answers it with its own code,
    /// `endpoint_not_allowed`.
    #[error("{0}")]
    EndpointNotAllowed(String),
}

/// A refused value and the form field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `name` or `headers[1].value`.
    pub field: String,
    /// What is wrong, fit to show next to the field.
    pub message: String,
}

impl FieldError {
    /// Ties a validation error to a field.
    pub fn new(field: impl Into<String>, error: &ValidationError) -> Self {
        Self {
            field: field.into(),
            message: error.to_string(),
        }
    }
}

/// Trims `raw` and checks it holds 1..=`max` characters.
pub fn required_text(raw: &str, what: &'static str, max: usize) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::Required(what));
    }
    if trimmed.chars().count() > max {
        return Err(ValidationError::TooLong {
            what,
            max,
            unit: "characters",
        });
    }
    Ok(trimmed.to_owned())
}

/// Trims `raw`; blank becomes `None`; otherwise at most `max` characters.
pub fn optional_text(
    raw: Option<&str>,
    what: &'static str,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match raw.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => required_text(text, what, max).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed() {
        assert_eq!(required_text("  Restart  ", "Name", 40).unwrap(), "Restart");
    }

    #[test]
    fn required_text_refuses_whitespace_only() {
        assert_eq!(
            required_text(" \t ", "Name", 40),
            Err(ValidationError::Required("Name"))
        );
    }

    #[test]
    fn required_text_counts_characters_not_bytes() {
        assert!(required_text(&"é".repeat(40), "Name", 40).is_ok());
        assert!(required_text(&"é".repeat(41), "Name", 40).is_err());
    }

    #[test]
    fn optional_text_turns_blank_into_none() {
        assert_eq!(optional_text(Some("   "), "Description", 5), Ok(None));
        assert_eq!(optional_text(None, "Description", 5), Ok(None));
    }

    #[test]
    fn messages_read_as_sentences() {
        let error = ValidationError::TooLong {
            what: "Name",
            max: 40,
            unit: "characters",
        };
        assert_eq!(error.to_string(), "Name must be at most 40 characters");
    }
}
