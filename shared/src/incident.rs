//! The vocabulary of incidents: status, severity and urgency; what a note may hold; the
//! one check of an incident opened by hand; and the one rule of status changes and of what
//! a person's change to an incident's fields records, which `/api`, PagerDuty's REST API
//! and the Events API all follow.

use serde_json::{json, Value};

use crate::api::{CreateIncidentRequest, LogEntryType};
use crate::audit::AuditEvent;
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

crate::spelled_enum! {
    /// Where an incident is in its life.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum IncidentStatus {
        /// Open, nobody has taken it yet.
        Triggered = "triggered",
        /// Open, someone is on it.
        Acknowledged = "acknowledged",
        /// Closed.
        Resolved = "resolved",
    }
}

impl IncidentStatus {
    /// What asking an incident in this status for `to` does. Acknowledging moves only a
    /// triggered incident; resolving moves any open one; asking for the status it has is
    /// no error and changes nothing, except that a resolved incident cannot be
    /// acknowledged; nothing is set back to triggered by hand (only an event opens one).
    pub fn change_to(self, to: Self) -> StatusChange {
        match (self, to) {
            (Self::Triggered, Self::Acknowledged)
            | (Self::Triggered | Self::Acknowledged, Self::Resolved) => StatusChange::Moves,
            (Self::Acknowledged, Self::Acknowledged) | (Self::Resolved, Self::Resolved) => {
                StatusChange::AlreadyThere
            }
            (Self::Resolved, Self::Acknowledged) => {
                StatusChange::Refused(TransitionRefusal::AlreadyResolved)
            }
            (Self::Triggered | Self::Acknowledged | Self::Resolved, Self::Triggered) => {
                StatusChange::Refused(TransitionRefusal::BackToTriggered)
            }
        }
    }

    /// The statuses from which asking for `to` moves an incident ([`Self::change_to`]):
    /// the condition of a status change written as one conditional statement.
    pub fn moving_to(to: Self) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|from| from.change_to(to) == StatusChange::Moves)
            .collect()
    }

    /// The timeline entry of a move to this status.
    pub fn entry_type(self) -> LogEntryType {
        match self {
            Self::Triggered => LogEntryType::Trigger,
            Self::Acknowledged => LogEntryType::Acknowledge,
            Self::Resolved => LogEntryType::Resolve,
        }
    }

    /// The timeline's line for a move to this status by `agent`: "Acknowledged by Ada".
    pub fn moved_by(self, agent: &str) -> String {
        let verb = match self {
            Self::Triggered => "Triggered",
            Self::Acknowledged => "Acknowledged",
            Self::Resolved => "Resolved",
        };
        format!("{verb} by {agent}")
    }
}

/// What asking an incident for a status does ([`IncidentStatus::change_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// It moves, and its timeline says so.
    Moves,
    /// It has that status already: nothing changes, and asking again is no error.
    AlreadyThere,
    /// It cannot; nothing changes and the request is refused (`invalid_transition`).
    Refused(TransitionRefusal),
}

/// Why a status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionRefusal {
    /// Only an event opens an incident; none is set back to triggered by hand.
    BackToTriggered,
    /// A resolved incident is closed; acknowledging it would reopen it.
    AlreadyResolved,
}

impl TransitionRefusal {
    /// Why, for the person who asked.
    pub fn message(self) -> &'static str {
        match self {
            Self::BackToTriggered => "An incident cannot be set back to triggered; open a new one",
            Self::AlreadyResolved => {
                "This incident is already resolved; it can no longer be acknowledged"
            }
        }
    }
}

/// The fields of an incident a person may change (PagerDuty's `PUT /incidents`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFields {
    /// Its status.
    pub status: IncidentStatus,
    /// Its title.
    pub title: String,
    /// Its urgency.
    pub urgency: Urgency,
}

/// What a person asks to change; `None` keeps a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AskedFields {
    /// A status to move to.
    pub status: Option<IncidentStatus>,
    /// A new title, already checked (trimmed, 1..=1024 characters).
    pub title: Option<String>,
    /// A new urgency.
    pub urgency: Option<Urgency>,
}

/// One change a person made to an incident's fields: what its timeline entry and its
/// audit record say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldChange {
    /// Its title changed.
    Title {
        /// As read.
        from: String,
        /// As asked.
        to: String,
    },
    /// Its urgency changed.
    Urgency {
        /// As read.
        from: Urgency,
        /// As asked.
        to: Urgency,
    },
    /// Its status moved ([`StatusChange::Moves`]).
    Status {
        /// As read.
        from: IncidentStatus,
        /// As asked.
        to: IncidentStatus,
    },
}

impl FieldChange {
    /// The type of its timeline entry.
    pub fn entry_type(&self) -> LogEntryType {
        match self {
            Self::Title { .. } => LogEntryType::TitleChange,
            Self::Urgency { .. } => LogEntryType::UrgencyChange,
            Self::Status { to, .. } => to.entry_type(),
        }
    }

    /// Its timeline line, made by `agent`.
    pub fn summary(&self, agent: &str) -> String {
        match self {
            Self::Title { from, to } => {
                format!("Title changed from \"{from}\" to \"{to}\" by {agent}")
            }
            Self::Urgency { from, to } => format!(
                "Urgency changed from {} to {} by {agent}",
                from.as_str(),
                to.as_str()
            ),
            Self::Status { to, .. } => to.moved_by(agent),
        }
    }

    /// Its audit record's event, `incident.<what>`.
    pub fn audit_event(&self) -> AuditEvent {
        match self {
            Self::Title { .. } => AuditEvent::IncidentTitleChanged,
            Self::Urgency { .. } => AuditEvent::IncidentUrgencyChanged,
            Self::Status { to, .. } => match to {
                IncidentStatus::Triggered => AuditEvent::IncidentTriggered,
                IncidentStatus::Acknowledged => AuditEvent::IncidentAcknowledged,
                IncidentStatus::Resolved => AuditEvent::IncidentResolved,
            },
        }
    }

    /// The field before and after, as the audit record keeps them: `{"title": …}`.
    pub fn audit_states(&self) -> (Value, Value) {
        match self {
            Self::Title { from, to } => (json!({ "title": from }), json!({ "title": to })),
            Self::Urgency { from, to } => (
                json!({ "urgency": from.as_str() }),
                json!({ "urgency": to.as_str() }),
            ),
            Self::Status { from, to } => (
                json!({ "status": from.as_str() }),
                json!({ "status": to.as_str() }),
            ),
        }
    }
}

/// The changes `asked` makes to an incident whose fields are `current`: one per field
/// that differs, title first, then urgency, then status (the order of their timeline
/// entries). A status change the rule refuses refuses them all, so that a refused request
/// changes nothing.
pub fn field_changes(
    current: &IncidentFields,
    asked: &AskedFields,
) -> Result<Vec<FieldChange>, TransitionRefusal> {
    let status = match asked.status.map(|to| (to, current.status.change_to(to))) {
        Some((to, StatusChange::Moves)) => Some(FieldChange::Status {
            from: current.status,
            to,
        }),
        Some((_, StatusChange::AlreadyThere)) | None => None,
        Some((_, StatusChange::Refused(refusal))) => return Err(refusal),
    };
    let title = asked
        .title
        .as_ref()
        .filter(|title| **title != current.title)
        .map(|title| FieldChange::Title {
            from: current.title.clone(),
            to: title.clone(),
        });
    let urgency = asked
        .urgency
        .filter(|urgency| *urgency != current.urgency)
        .map(|urgency| FieldChange::Urgency {
            from: current.urgency,
            to: urgency,
        });
    Ok([title, urgency, status].into_iter().flatten().collect())
}

crate::spelled_enum! {
    /// An event's severity, as PagerDuty's Events API v2 defines it.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Severity {
        /// Service down.
        Critical = "critical",
        /// Something failed.
        Error = "error",
        /// Something may fail.
        Warning = "warning",
        /// For the record.
        Info = "info",
    }
}

impl Severity {
    /// Critical and error page someone now; warning and info can wait.
    pub fn urgency(self) -> Urgency {
        match self {
            Self::Critical | Self::Error => Urgency::High,
            Self::Warning | Self::Info => Urgency::Low,
        }
    }
}

crate::spelled_enum! {
    /// How soon someone must look.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Urgency {
        /// Now.
        High = "high",
        /// Working hours.
        Low = "low",
    }
}

impl Urgency {
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
    fn every_status_change_follows_the_one_rule() {
        use IncidentStatus::{Acknowledged, Resolved, Triggered};
        use StatusChange::{AlreadyThere, Moves, Refused};
        use TransitionRefusal::{AlreadyResolved, BackToTriggered};
        let table = [
            (Triggered, Triggered, Refused(BackToTriggered)),
            (Triggered, Acknowledged, Moves),
            (Triggered, Resolved, Moves),
            (Acknowledged, Triggered, Refused(BackToTriggered)),
            (Acknowledged, Acknowledged, AlreadyThere),
            (Acknowledged, Resolved, Moves),
            (Resolved, Triggered, Refused(BackToTriggered)),
            (Resolved, Acknowledged, Refused(AlreadyResolved)),
            (Resolved, Resolved, AlreadyThere),
        ];
        for (from, to, expected) in table {
            assert_eq!(from.change_to(to), expected, "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn acknowledging_moves_only_a_triggered_incident_and_resolving_any_open_one() {
        assert_eq!(
            IncidentStatus::moving_to(IncidentStatus::Acknowledged),
            [IncidentStatus::Triggered]
        );
        assert_eq!(
            IncidentStatus::moving_to(IncidentStatus::Resolved),
            [IncidentStatus::Triggered, IncidentStatus::Acknowledged]
        );
        assert!(IncidentStatus::moving_to(IncidentStatus::Triggered).is_empty());
    }

    fn open_incident() -> IncidentFields {
        IncidentFields {
            status: IncidentStatus::Triggered,
            title: "Disk full".to_owned(),
            urgency: Urgency::High,
        }
    }

    #[test]
    fn a_refused_status_change_refuses_the_title_and_urgency_asked_with_it() {
        let resolved = IncidentFields {
            status: IncidentStatus::Resolved,
            ..open_incident()
        };
        let asked = AskedFields {
            status: Some(IncidentStatus::Acknowledged),
            title: Some("Renamed".to_owned()),
            urgency: Some(Urgency::Low),
        };
        assert_eq!(
            field_changes(&resolved, &asked),
            Err(TransitionRefusal::AlreadyResolved)
        );
        let back = AskedFields {
            status: Some(IncidentStatus::Triggered),
            ..asked
        };
        assert_eq!(
            field_changes(&open_incident(), &back),
            Err(TransitionRefusal::BackToTriggered)
        );
    }

    #[test]
    fn only_the_fields_that_differ_are_changes_title_then_urgency_then_status() {
        let asked = AskedFields {
            status: Some(IncidentStatus::Resolved),
            title: Some("Disk full on db-1".to_owned()),
            urgency: Some(Urgency::Low),
        };
        assert_eq!(
            field_changes(&open_incident(), &asked).unwrap(),
            [
                FieldChange::Title {
                    from: "Disk full".to_owned(),
                    to: "Disk full on db-1".to_owned()
                },
                FieldChange::Urgency {
                    from: Urgency::High,
                    to: Urgency::Low
                },
                FieldChange::Status {
                    from: IncidentStatus::Triggered,
                    to: IncidentStatus::Resolved
                },
            ]
        );
        let same = AskedFields {
            status: None,
            title: Some("Disk full".to_owned()),
            urgency: Some(Urgency::High),
        };
        assert_eq!(field_changes(&open_incident(), &same), Ok(Vec::new()));
        let acknowledged = IncidentFields {
            status: IncidentStatus::Acknowledged,
            ..open_incident()
        };
        let again = AskedFields {
            status: Some(IncidentStatus::Acknowledged),
            ..AskedFields::default()
        };
        assert_eq!(
            field_changes(&acknowledged, &again),
            Ok(Vec::new()),
            "acknowledging twice is no change and no error"
        );
    }

    #[test]
    fn a_change_says_what_it_was_in_the_timeline_and_the_audit_log() {
        let title = FieldChange::Title {
            from: "Disk full".to_owned(),
            to: "Disk full on db-1".to_owned(),
        };
        assert_eq!(title.entry_type(), LogEntryType::TitleChange);
        assert_eq!(
            title.summary("Ada"),
            "Title changed from \"Disk full\" to \"Disk full on db-1\" by Ada"
        );
        assert_eq!(title.audit_event().as_str(), "incident.title_changed");
        assert_eq!(
            title.audit_states(),
            (
                json!({"title": "Disk full"}),
                json!({"title": "Disk full on db-1"})
            )
        );
        let urgency = FieldChange::Urgency {
            from: Urgency::High,
            to: Urgency::Low,
        };
        assert_eq!(urgency.entry_type(), LogEntryType::UrgencyChange);
        assert_eq!(
            urgency.summary("Ada"),
            "Urgency changed from high to low by Ada"
        );
        assert_eq!(urgency.audit_event().as_str(), "incident.urgency_changed");
        let status = FieldChange::Status {
            from: IncidentStatus::Triggered,
            to: IncidentStatus::Acknowledged,
        };
        assert_eq!(status.entry_type(), LogEntryType::Acknowledge);
        assert_eq!(status.summary("Ada"), "Acknowledged by Ada");
        assert_eq!(status.audit_event().as_str(), "incident.acknowledged");
        assert_eq!(
            status.audit_states(),
            (
                json!({"status": "triggered"}),
                json!({"status": "acknowledged"})
            )
        );
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
