//! The rules a run of an action must meet before anything is sent: a confirmation the
//! clicker gives, and the incident states the action makes sense in.
//!
//! The worker enforces both (428 `confirmation_required`, 409 `action_not_available`);
//! the SPA follows them to ask before sending and to hide what does not apply.

use serde::{Deserialize, Serialize};

use crate::incident::{IncidentStatus, Urgency};
use crate::limits::MAX_CONFIRM_MESSAGE_CHARS;
use crate::FieldError;

/// Asked before a run is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Confirm {
    /// The question or warning shown, 1–200 characters.
    pub message: String,
    /// Whether the clicker must type the action's name to enable the button.
    #[serde(default)]
    pub type_to_confirm: bool,
}

impl Confirm {
    /// Checks the message; the error is keyed `confirm.message`.
    pub fn validate(&self) -> Result<(), FieldError> {
        let chars = self.message.trim().chars().count();
        if chars == 0 || chars > MAX_CONFIRM_MESSAGE_CHARS {
            return Err(FieldError {
                field: "confirm.message".to_owned(),
                message: format!(
                    "The confirmation message must be 1 to {MAX_CONFIRM_MESSAGE_CHARS} characters"
                ),
            });
        }
        Ok(())
    }
}

/// The incidents an action applies to; an absent list means no restriction on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AvailableWhen {
    /// Only while the incident is in one of these statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<IncidentStatus>>,
    /// Only for incidents of one of these urgencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgencies: Option<Vec<Urgency>>,
}

impl AvailableWhen {
    /// Checks the rule: a list that is given must name something. Keyed
    /// `available_when.<list>`.
    pub fn validate(&self) -> Vec<FieldError> {
        let empty = |field: &str, what: &str| FieldError {
            field: format!("available_when.{field}"),
            message: format!("Name at least one {what}, or leave the rule out"),
        };
        let mut errors = Vec::new();
        if self.statuses.as_ref().is_some_and(Vec::is_empty) {
            errors.push(empty("statuses", "status"));
        }
        if self.urgencies.as_ref().is_some_and(Vec::is_empty) {
            errors.push(empty("urgencies", "urgency"));
        }
        errors
    }

    /// `Ok` when an incident in `status` with `urgency` may run the action; otherwise the
    /// rule it breaks, in words (`only while the incident is triggered or acknowledged`).
    pub fn allows(&self, status: IncidentStatus, urgency: Urgency) -> Result<(), String> {
        if let Some(statuses) = &self.statuses {
            if !statuses.contains(&status) {
                let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
                return Err(format!("only while the incident is {}", or_list(&names)));
            }
        }
        if let Some(urgencies) = &self.urgencies {
            if !urgencies.contains(&urgency) {
                let names: Vec<&str> = urgencies.iter().map(|u| u.as_str()).collect();
                return Err(format!("only for {} urgency incidents", or_list(&names)));
            }
        }
        Ok(())
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Whether a run may go ahead under `confirm`: `Err` with the message to show when the
/// action asks for confirmation and the request did not say `"confirmed": true`.
pub fn check_confirmation(confirm: Option<&Confirm>, confirmed: bool) -> Result<(), String> {
    match confirm {
        Some(confirm) if !confirmed => Err(confirm.message.clone()),
        Some(_) | None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollback_rule() -> AvailableWhen {
        AvailableWhen {
            statuses: Some(vec![
                IncidentStatus::Triggered,
                IncidentStatus::Acknowledged,
            ]),
            urgencies: None,
        }
    }

    #[test]
    fn a_rule_of_statuses_allows_only_those_and_names_them_when_it_refuses() {
        let rule = rollback_rule();
        assert!(rule.allows(IncidentStatus::Triggered, Urgency::Low).is_ok());
        assert!(rule
            .allows(IncidentStatus::Acknowledged, Urgency::High)
            .is_ok());
        assert_eq!(
            rule.allows(IncidentStatus::Resolved, Urgency::High)
                .unwrap_err(),
            "only while the incident is triggered or acknowledged"
        );
    }

    #[test]
    fn a_rule_of_urgencies_allows_only_those() {
        let rule = AvailableWhen {
            statuses: None,
            urgencies: Some(vec![Urgency::High]),
        };
        assert!(rule.allows(IncidentStatus::Resolved, Urgency::High).is_ok());
        assert_eq!(
            rule.allows(IncidentStatus::Triggered, Urgency::Low)
                .unwrap_err(),
            "only for high urgency incidents"
        );
    }

    #[test]
    fn no_lists_mean_no_restriction_and_an_empty_list_is_refused() {
        let none = AvailableWhen::default();
        assert!(none.allows(IncidentStatus::Resolved, Urgency::Low).is_ok());
        assert!(none.validate().is_empty());
        let empty = AvailableWhen {
            statuses: Some(Vec::new()),
            urgencies: Some(Vec::new()),
        };
        let fields: Vec<String> = empty.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["available_when.statuses", "available_when.urgencies"]
        );
    }

    #[test]
    fn a_confirmation_is_required_only_when_the_action_asks_for_one() {
        let confirm = Confirm {
            message: "Restarts every web pod".into(),
            type_to_confirm: true,
        };
        assert_eq!(
            check_confirmation(Some(&confirm), false).unwrap_err(),
            "Restarts every web pod"
        );
        assert!(check_confirmation(Some(&confirm), true).is_ok());
        assert!(check_confirmation(None, false).is_ok());
    }

    #[test]
    fn a_confirmation_message_is_1_to_200_characters() {
        let at = |n: usize| Confirm {
            message: "m".repeat(n),
            type_to_confirm: false,
        };
        assert!(at(200).validate().is_ok());
        assert!(at(201).validate().is_err());
        assert!(at(0).validate().is_err());
    }

    #[test]
    fn lists_read_as_people_say_them() {
        assert_eq!(or_list(&["a"]), "a");
        assert_eq!(or_list(&["a", "b", "c"]), "a, b or c");
    }
}
