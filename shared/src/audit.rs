//! What the audit log records: each event spelled once (`noun.verb_past`, as stored and
//! sent), the kind of thing it changed following from it, and its words for people.

crate::spelled_enum! {
    /// The kind of thing an audit record is about.
    pub enum AuditTarget {
        /// A service.
        Service = "service",
        /// A custom action.
        Action = "action",
        /// A user.
        User = "user",
        /// An API token.
        Token = "token",
        /// An incident (fields changed through PagerDuty's `PUT`).
        Incident = "incident",
    }
}

crate::spelled_enum! {
    /// One kind of recorded change.
    pub enum AuditEvent {
        /// A service was created.
        ServiceCreated = "service.created",
        /// A service was renamed or its settings changed.
        ServiceUpdated = "service.updated",
        /// A service's routing key was rotated.
        ServiceRoutingKeyRotated = "service.routing_key_rotated",
        /// A service was deleted.
        ServiceDeleted = "service.deleted",
        /// An action was created.
        ActionCreated = "action.created",
        /// An action was changed (enabled and disabled included).
        ActionUpdated = "action.updated",
        /// An action was deleted.
        ActionDeleted = "action.deleted",
        /// An action's signing secret was rotated.
        ActionSecretRotated = "action.secret_rotated",
        /// A user was created.
        UserCreated = "user.created",
        /// A user's name, e-mail or role was changed.
        UserUpdated = "user.updated",
        /// A user was deleted.
        UserDeleted = "user.deleted",
        /// An API token was made.
        TokenCreated = "token.created",
        /// An API token was revoked (by hand, or by its user's promotion).
        TokenRevoked = "token.revoked",
        /// An incident's title was changed.
        IncidentTitleChanged = "incident.title_changed",
        /// An incident's urgency was changed.
        IncidentUrgencyChanged = "incident.urgency_changed",
        /// An incident was set back to triggered (never by hand; kept for completeness).
        IncidentTriggered = "incident.triggered",
        /// An incident was acknowledged.
        IncidentAcknowledged = "incident.acknowledged",
        /// An incident was resolved.
        IncidentResolved = "incident.resolved",
    }
}

impl AuditEvent {
    /// The kind of thing it changed.
    pub fn target(self) -> AuditTarget {
        match self {
            Self::ServiceCreated
            | Self::ServiceUpdated
            | Self::ServiceRoutingKeyRotated
            | Self::ServiceDeleted => AuditTarget::Service,
            Self::ActionCreated
            | Self::ActionUpdated
            | Self::ActionDeleted
            | Self::ActionSecretRotated => AuditTarget::Action,
            Self::UserCreated | Self::UserUpdated | Self::UserDeleted => AuditTarget::User,
            Self::TokenCreated | Self::TokenRevoked => AuditTarget::Token,
            Self::IncidentTitleChanged
            | Self::IncidentUrgencyChanged
            | Self::IncidentTriggered
            | Self::IncidentAcknowledged
            | Self::IncidentResolved => AuditTarget::Incident,
        }
    }

    /// In words, for people: `Action secret rotated`. Spellings are ASCII, so the ASCII
    /// case rule is enough (the Unicode one would bring core's case tables, ~24 KB, into
    /// the app's bundle for this alone).
    pub fn label(self) -> String {
        let mut words = self.as_str().replace(['.', '_'], " ");
        if let Some(first) = words.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_is_about_the_noun_it_is_spelled_with() {
        for event in AuditEvent::ALL {
            let noun = event.as_str().split('.').next().unwrap_or_default();
            assert_eq!(event.target().as_str(), noun, "{event}");
        }
    }

    #[test]
    fn events_read_as_words() {
        assert_eq!(
            AuditEvent::ActionSecretRotated.label(),
            "Action secret rotated"
        );
        assert_eq!(AuditEvent::ServiceCreated.label(), "Service created");
    }
}
