//! A service: what incidents belong to and what actions are configured on.

use serde_json::Value;

use crate::limits::{
    DEFAULT_ROUTING_KEY_GRACE_HOURS, MAX_DESCRIPTION_CHARS, MAX_ROUTING_KEY_GRACE_HOURS,
    MAX_SERVICE_NAME_CHARS,
};
use crate::validation::{optional_text, required_name};
use crate::{FieldError, ValidationError};

/// A service's name: trimmed, 1..=80 characters.
pub fn parse_service_name(raw: &str) -> Result<String, ValidationError> {
    required_name(raw, "Name", MAX_SERVICE_NAME_CHARS)
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

/// A rotation's `grace_hours`: absent or `null` is the default (24); otherwise a whole
/// number from 0 to 168.
pub fn parse_grace_hours(raw: Option<&Value>) -> Result<u32, ValidationError> {
    match raw {
        None | Some(Value::Null) => Ok(DEFAULT_ROUTING_KEY_GRACE_HOURS),
        Some(value) => value
            .as_u64()
            .and_then(|hours| u32::try_from(hours).ok())
            .filter(|hours| *hours <= MAX_ROUTING_KEY_GRACE_HOURS)
            .ok_or_else(|| {
                ValidationError::Invalid(format!(
                    "grace_hours must be a whole number of hours from 0 to \
                     {MAX_ROUTING_KEY_GRACE_HOURS}"
                ))
            }),
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

    #[test]
    fn grace_hours_run_from_0_to_168_and_default_to_24() {
        use serde_json::json;
        assert_eq!(parse_grace_hours(None), Ok(24));
        assert_eq!(parse_grace_hours(Some(&Value::Null)), Ok(24));
        assert_eq!(parse_grace_hours(Some(&json!(0))), Ok(0));
        assert_eq!(parse_grace_hours(Some(&json!(168))), Ok(168));
        for bad in [json!(169), json!(-1), json!(1.5), json!("24"), json!(true)] {
            assert!(parse_grace_hours(Some(&bad)).is_err(), "{bad}");
        }
    }
}
