//! The vocabulary of incidents: status, severity and urgency; and what a note may hold.

use serde::{Deserialize, Serialize};

use crate::limits::MAX_NOTE_CHARS;
use crate::validation::required_text;
use crate::FieldError;

/// A note's text: trimmed, 1..=2000 characters, line breaks kept.
pub fn validate_note(content: &str) -> Result<String, Vec<FieldError>> {
    required_text(content, "Note", MAX_NOTE_CHARS).map_err(|e| vec![FieldError::new("content", &e)])
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Open, nobody has taken it yet.
    Triggered,
    /// Open, someone is on it.
    Acknowledged,
    /// Closed.
    Resolved,
}

impl IncidentStatus {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    /// Parses the stored and wire spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "triggered" => Some(Self::Triggered),
            "acknowledged" => Some(Self::Acknowledged),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// An event's severity, as PagerDuty's Events API v2 defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Service down.
    Critical,
    /// Something failed.
    Error,
    /// Something may fail.
    Warning,
    /// For the record.
    Info,
}

impl Severity {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }

    /// Parses the stored and wire spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "critical" => Some(Self::Critical),
            "error" => Some(Self::Error),
            "warning" => Some(Self::Warning),
            "info" => Some(Self::Info),
            _ => None,
        }
    }

    /// Critical and error page someone now; warning and info can wait.
    pub fn urgency(self) -> Urgency {
        match self {
            Self::Critical | Self::Error => Urgency::High,
            Self::Warning | Self::Info => Urgency::Low,
        }
    }
}

/// How soon someone must look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Now.
    High,
    /// Working hours.
    Low,
}

impl Urgency {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Low => "low",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_of_2000_characters_is_accepted_and_2001_is_not() {
        assert_eq!(
            validate_note(&"n".repeat(MAX_NOTE_CHARS))
                .unwrap()
                .chars()
                .count(),
            MAX_NOTE_CHARS
        );
        let errors = validate_note(&"n".repeat(MAX_NOTE_CHARS + 1)).unwrap_err();
        assert_eq!(errors[0].field, "content");
        assert!(errors[0].message.contains("2000"), "{}", errors[0].message);
    }

    #[test]
    fn a_blank_note_is_refused_and_a_note_keeps_its_lines() {
        assert!(validate_note(" \n\t ").is_err());
        assert_eq!(
            validate_note("  Rolled back.\nWatching.  ").unwrap(),
            "Rolled back.\nWatching."
        );
    }

    #[test]
    fn critical_and_error_are_high_urgency_warning_and_info_low() {
        assert_eq!(Severity::Critical.urgency(), Urgency::High);
        assert_eq!(Severity::Error.urgency(), Urgency::High);
        assert_eq!(Severity::Warning.urgency(), Urgency::Low);
        assert_eq!(Severity::Info.urgency(), Urgency::Low);
    }

    #[test]
    fn statuses_round_trip_through_their_spelling() {
        for status in [
            IncidentStatus::Triggered,
            IncidentStatus::Acknowledged,
            IncidentStatus::Resolved,
        ] {
            assert_eq!(IncidentStatus::parse(status.as_str()), Some(status));
        }
    }
}
