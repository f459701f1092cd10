//! A service: what incidents belong to and what actions are configured on.

use crate::limits::{MAX_DESCRIPTION_CHARS, MAX_SERVICE_NAME_CHARS};
use crate::validation::{optional_text, required_text};
use crate::{FieldError, ValidationError};

/// A service's name: trimmed, 1..=80 characters.
pub fn parse_service_name(raw: &str) -> Result<String, ValidationError> {
    required_text(raw, "Name", MAX_SERVICE_NAME_CHARS)
}

/// Validates a service's name and optional description together.
pub fn validate_service(
    name: &str,
    description: Option<&str>,
) -> Result<(String, Option<String>), Vec<FieldError>> {
    let name = parse_service_name(name).map_err(|e| FieldError::new("name", &e));
    let description = optional_text(description, "Description", MAX_DESCRIPTION_CHARS)
        .map_err(|e| FieldError::new("description", &e));
    match (name, description) {
        (Ok(name), Ok(description)) => Ok((name, description)),
        (name, description) => Err(name.err().into_iter().chain(description.err()).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_name_of_80_characters_is_accepted_and_81_is_not() {
        assert!(parse_service_name(&"s".repeat(MAX_SERVICE_NAME_CHARS)).is_ok());
        assert!(parse_service_name(&"s".repeat(MAX_SERVICE_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn both_service_fields_are_reported_together() {
        let long = "d".repeat(MAX_DESCRIPTION_CHARS + 1);
        let errors = validate_service(" ", Some(&long)).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "description"]);
    }
}
