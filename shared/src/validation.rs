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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A name people tell things apart by (an action, a service, a user, a token label, an
/// input label): [`required_text`], and no control, format or direction characters
/// (Unicode categories Cc and Cf: zero-width spaces and joiners, bidi overrides and
/// isolates, soft hyphens). Such a character makes "Rollback" and "Rollback\u{200B}" two
/// names that look the same, or turns a name around on screen.
pub fn required_name(raw: &str, what: &'static str, max: usize) -> Result<String, ValidationError> {
    let name = required_text(raw, what, max)?;
    if let Some(hidden) = name.chars().find(|c| is_hidden(*c)) {
        return Err(ValidationError::Invalid(format!(
            "{what} must not contain invisible or direction-changing characters (U+{:04X} \
             found): it could look like another name",
            u32::from(hidden)
        )));
    }
    Ok(name)
}

/// Whether `c` is a control or format character (Unicode categories Cc and Cf).
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_format(c)
}

/// Category Cf, from the Unicode tables (the worker).
#[cfg(feature = "unicode-tables")]
fn is_format(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.general_category() == GeneralCategory::Format
}

/// The app's pre-check without the tables: the format characters people meet (soft hyphen,
/// zero-width space, joiners and marks, bidi embeddings, overrides and isolates, word
/// joiner and invisible operators, the byte order mark). The worker checks all of Cf.
#[cfg(not(feature = "unicode-tables"))]
fn is_format(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

/// The form two names are compared in for uniqueness: NFKC-normalized and case folded
/// (Unicode default case folding), so "Rollback", "ROLLBACK" and "Ｒｏｌｌｂａｃｋ" (full
/// width) are one name.
#[cfg(feature = "unicode-tables")]
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded = caseless::default_case_fold_str(&name.nfkc().collect::<String>());
    folded.nfkc().collect()
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
    fn names_refuse_control_format_and_direction_characters() {
        assert_eq!(required_name(" Rollback ", "Name", 40).unwrap(), "Rollback");
        assert_eq!(
            required_name("Redémarrer 🚀", "Name", 40).unwrap(),
            "Redémarrer 🚀"
        );
        for hidden in [
            '\u{0007}', '\u{007F}', '\u{0085}', '\u{00AD}', '\u{200B}', '\u{200C}', '\u{200D}',
            '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
            '\u{2066}', '\u{2069}', '\u{FEFF}',
        ] {
            let error = required_name(&format!("Roll{hidden}back"), "Name", 40).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains(&format!("U+{:04X}", u32::from(hidden))),
                "{error}"
            );
        }
    }

    #[cfg(feature = "unicode-tables")]
    #[test]
    fn the_worker_refuses_every_format_character_the_app_does_not_list() {
        // U+0600 ARABIC NUMBER SIGN and U+E0001 LANGUAGE TAG are Cf too.
        assert!(required_name("A\u{0600}", "Name", 40).is_err());
        assert!(required_name("A\u{E0001}", "Name", 40).is_err());
    }

    #[cfg(feature = "unicode-tables")]
    #[test]
    fn names_are_one_name_after_nfkc_and_case_folding() {
        let key = name_key("Rollback");
        assert_eq!(name_key("ROLLBACK"), key);
        assert_eq!(name_key("Ｒｏｌｌｂａｃｋ"), key, "full width");
        assert_eq!(name_key("STRASSE"), name_key("straße"), "ß folds to ss");
        assert_eq!(name_key("ﬁx"), name_key("FIX"), "the fi ligature");
        assert_ne!(name_key("Rollback"), name_key("Roll back"));
    }

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
