//! The vocabulary of incidents: status, severity and urgency; what a note may hold; and
//! the one check of an incident opened by hand.

use serde::{Deserialize, Serialize};

use crate::api::CreateIncidentRequest;
use crate::limits::{
    MAX_DEDUP_KEY_CHARS, MAX_INCIDENT_DETAILS_CHARS, MAX_INCIDENT_TITLE_CHARS, MAX_NOTE_CHARS,
};
use crate::validation::{optional_text, required_text};
use crate::FieldError;

/// An incident opened by hand, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNewIncident {
    /// The service it is opened on.
    pub service_id: String,
    /// Trimmed, 1..=1024 characters.
    pub title: String,
    /// High unless asked otherwise.
    pub urgency: Urgency,
    /// At most 10,000 characters, shown as text; `None` when blank.
    pub details: Option<String>,
    /// Ties later events to it; `None` lets the worker choose one.
    pub dedup_key: Option<String>,
}

/// Checks `POST /api/incidents`; every problem, keyed by field.
pub fn validate_new_incident(
    request: &CreateIncidentRequest,
) -> Result<ValidNewIncident, Vec<FieldError>> {
    let mut errors = Vec::new();
    let service_id = required_text(&request.service_id, "Service", usize::MAX)
        .map_err(|e| errors.push(FieldError::new("service_id", &e)))
        .ok();
    let title = required_text(&request.title, "Title", MAX_INCIDENT_TITLE_CHARS)
        .map_err(|e| errors.push(FieldError::new("title", &e)))
        .ok();
    // Trimmed at both ends; the lines in between are kept and shown as typed.
    let details = optional_text(
        request.details.as_deref(),
        "Details",
        MAX_INCIDENT_DETAILS_CHARS,
    )
    .map_err(|e| errors.push(FieldError::new("details", &e)))
    .ok()
    .flatten();
    let dedup_key = optional_text(
        request.dedup_key.as_deref(),
        "Dedup key",
        MAX_DEDUP_KEY_CHARS,
    )
    .map_err(|e| errors.push(FieldError::new("dedup_key", &e)))
    .ok()
    .flatten();
    match (service_id, title) {
        (Some(service_id), Some(title)) if errors.is_empty() => Ok(ValidNewIncident {
            service_id,
            title,
            urgency: request.urgency.unwrap_or(Urgency::High),
            details,
            dedup_key,
        }),
        _ => Err(errors),
    }
}

/// A note's text: trimmed, 1..=2000 characters, line breaks kept.
pub fn validate_note(content: &str) -> Result<String, Vec<FieldError>> {
    required_text(content, "Note", MAX_NOTE_CHARS).map_err(|e| vec![FieldError::new("content", &e)])
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Every value, in order.
    pub const ALL: [Self; 3] = [Self::Triggered, Self::Acknowledged, Self::Resolved];

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
        Self::ALL.into_iter().find(|value| value.as_str() == raw)
    }
}

/// An event's severity, as PagerDuty's Events API v2 defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Every value, in order.
    pub const ALL: [Self; 4] = [Self::Critical, Self::Error, Self::Warning, Self::Info];

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
        Self::ALL.into_iter().find(|value| value.as_str() == raw)
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Now.
    High,
    /// Working hours.
    Low,
}

impl Urgency {
    /// Every value, in order.
    pub const ALL: [Self; 2] = [Self::High, Self::Low];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Low => "low",
        }
    }

    /// Parses the stored and wire spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|value| value.as_str() == raw)
    }

    /// The severity an incident opened by hand is given: no monitor measured it, so the
    /// urgency asked for decides (high pages as a critical event would).
    pub fn severity_by_hand(self) -> Severity {
        match self {
            Self::High => Severity::Critical,
            Self::Low => Severity::Warning,
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

    fn by_hand(title: &str, details: Option<&str>) -> CreateIncidentRequest {
        CreateIncidentRequest {
            service_id: "svc_1".into(),
            title: title.into(),
            urgency: None,
            details: details.map(str::to_owned),
            dedup_key: None,
        }
    }

    #[test]
    fn a_title_of_1024_characters_is_accepted_and_1025_is_not() {
        let valid = validate_new_incident(&by_hand(&"t".repeat(1024), None)).unwrap();
        assert_eq!(valid.title.chars().count(), MAX_INCIDENT_TITLE_CHARS);
        assert_eq!(valid.urgency, Urgency::High, "high unless asked otherwise");
        let errors = validate_new_incident(&by_hand(&"t".repeat(1025), None)).unwrap_err();
        assert_eq!(errors[0].field, "title");
        assert!(errors[0].message.contains("1024"), "{}", errors[0].message);
        assert_eq!(
            validate_new_incident(&by_hand("   ", None)).unwrap_err()[0].message,
            "Title is required"
        );
    }

    #[test]
    fn details_of_10000_characters_are_accepted_and_10001_are_not() {
        let at_limit = "d".repeat(MAX_INCIDENT_DETAILS_CHARS);
        let valid = validate_new_incident(&by_hand("Disk", Some(&at_limit))).unwrap();
        assert_eq!(
            valid.details.map(|d| d.len()),
            Some(MAX_INCIDENT_DETAILS_CHARS)
        );
        let over = "d".repeat(MAX_INCIDENT_DETAILS_CHARS + 1);
        let errors = validate_new_incident(&by_hand("Disk", Some(&over))).unwrap_err();
        assert_eq!(errors[0].field, "details");
        assert_eq!(
            validate_new_incident(&by_hand("Disk", Some("  ")))
                .unwrap()
                .details,
            None,
            "blank details are none"
        );
    }

    #[test]
    fn a_dedup_key_of_255_characters_is_accepted_and_256_is_not() {
        let mut request = by_hand("Disk", None);
        request.dedup_key = Some("k".repeat(MAX_DEDUP_KEY_CHARS));
        assert!(validate_new_incident(&request).is_ok());
        request.dedup_key = Some("k".repeat(MAX_DEDUP_KEY_CHARS + 1));
        assert_eq!(
            validate_new_incident(&request).unwrap_err()[0].field,
            "dedup_key"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut request = by_hand("", Some(&"d".repeat(MAX_INCIDENT_DETAILS_CHARS + 1)));
        request.service_id = String::new();
        let fields: Vec<String> = validate_new_incident(&request)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["service_id", "title", "details"]);
    }

    #[test]
    fn urgencies_round_trip_and_pick_the_severity_of_an_incident_by_hand() {
        for urgency in [Urgency::High, Urgency::Low] {
            assert_eq!(Urgency::parse(urgency.as_str()), Some(urgency));
            assert_eq!(urgency.severity_by_hand().urgency(), urgency);
        }
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
