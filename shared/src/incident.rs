//! The vocabulary of incidents: status, severity and urgency.

use serde::{Deserialize, Serialize};

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
