//! Roles and what each may do: the one permission table that the worker enforces, the
//! README documents and the end-to-end authorization matrix is generated from.
//!
//! Roles follow PagerDuty's, ordered from least to most trusted, so "responder and up"
//! is a plain comparison. Every permission names the least role that holds it.

use crate::ValidationError;

crate::spelled_enum! {
    /// A user's role, least trusted first (the derived `Ord` follows declaration order).
    #[derive(PartialOrd, Ord, Hash)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Role {
        /// Reads incidents and their timelines, nothing else.
        Stakeholder = "stakeholder",
        /// Reads services, incidents, action names and timelines.
        Observer = "observer",
        /// Runs actions, acknowledges and resolves incidents, sees run details.
        Responder = "responder",
        /// Configures actions, rotates signing secrets, reads routing keys.
        Manager = "manager",
        /// Creates and deletes services, manages users and tokens, reads the audit log.
        Admin = "admin",
        /// Everything, including granting and removing `admin` and `owner`.
        Owner = "owner",
    }
}

impl Role {
    /// Parses a role as a person typed it (trimmed), with a message naming every role.
    pub fn parse_field(raw: &str) -> Result<Self, ValidationError> {
        Self::parse(raw.trim()).ok_or_else(|| {
            ValidationError::Invalid(format!("Role must be one of {}", Self::spellings()))
        })
    }

    /// Whether this role holds `permission`.
    pub fn can(self, permission: Permission) -> bool {
        self >= permission.minimum_role()
    }

    /// Whether granting or removing this role needs an owner: `admin` and `owner` do,
    /// so an admin cannot make anyone (themselves included) more powerful than an admin.
    pub fn is_privileged(self) -> bool {
        self >= Self::Admin
    }
}

crate::spelled_enum! {
    /// Something a role may or may not do. Each route needs at most one (see
    /// `routes::Route::requirement`).
    #[derive(Hash)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Permission {
        /// Read incidents and their timelines.
        ReadIncidents = "read_incidents",
        /// Read services (routing keys redacted) and actions (names only).
        ReadServices = "read_services",
        /// Run actions, see run details (response excerpts, request headers), acknowledge,
        /// resolve and add notes.
        RunActions = "run_actions",
        /// Open incidents by hand.
        CreateIncidents = "create_incidents",
        /// Create, edit, enable, disable and delete actions; rotate signing secrets; read
        /// action configuration (endpoint URL, headers).
        ManageActions = "manage_actions",
        /// Read services' routing keys and rotate them.
        ManageRoutingKeys = "manage_routing_keys",
        /// Create, rename and delete services.
        ManageServices = "manage_services",
        /// Create, change and delete users and their tokens.
        ManageUsers = "manage_users",
        /// Read the audit log.
        ReadAudit = "read_audit",
    }
}

impl Permission {
    /// THE table: the least role holding each permission.
    pub fn minimum_role(self) -> Role {
        match self {
            Self::ReadIncidents => Role::Stakeholder,
            Self::ReadServices => Role::Observer,
            Self::RunActions | Self::CreateIncidents => Role::Responder,
            Self::ManageActions | Self::ManageRoutingKeys => Role::Manager,
            Self::ManageServices | Self::ManageUsers | Self::ReadAudit => Role::Admin,
        }
    }

    /// What the permission allows, as the README and a 403 message say it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::ReadIncidents => "read incidents and their timelines",
            Self::ReadServices => "read services and action names",
            Self::RunActions => {
                "run actions, see run details, acknowledge and resolve incidents, add notes"
            }
            Self::CreateIncidents => "open incidents by hand",
            Self::ManageActions => {
                "create, edit, enable and delete actions, rotate signing secrets, read action configuration"
            }
            Self::ManageRoutingKeys => "read and rotate routing keys",
            Self::ManageServices => "create, rename and delete services",
            Self::ManageUsers => "manage users and tokens",
            Self::ReadAudit => "read the audit log",
        }
    }
}

/// The README's "Roles" table, rendered from [`Permission::minimum_role`]: one row per
/// permission, one column per role.
pub fn roles_markdown_table() -> String {
    let mut out = String::from("| may | ");
    out.push_str(&Role::ALL.map(Role::as_str).join(" | "));
    out.push_str(" |\n|---|");
    out.push_str(&"---|".repeat(Role::ALL.len()));
    out.push('\n');
    for permission in Permission::ALL {
        out.push_str("| ");
        out.push_str(permission.describe());
        for role in Role::ALL {
            out.push_str(if role.can(permission) {
                " | ✓"
            } else {
                " | "
            });
        }
        out.push_str(" |\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_from_stakeholder_to_owner() {
        assert!(Role::Stakeholder < Role::Observer);
        assert!(Role::Observer < Role::Responder);
        assert!(Role::Responder < Role::Manager);
        assert!(Role::Manager < Role::Admin);
        assert!(Role::Admin < Role::Owner);
    }

    #[test]
    fn a_stakeholder_reads_incidents_only() {
        let allowed: Vec<_> = Permission::ALL
            .into_iter()
            .filter(|p| Role::Stakeholder.can(*p))
            .collect();
        assert_eq!(allowed, vec![Permission::ReadIncidents]);
    }

    #[test]
    fn an_observer_reads_services_but_runs_nothing() {
        assert!(Role::Observer.can(Permission::ReadServices));
        assert!(!Role::Observer.can(Permission::RunActions));
    }

    #[test]
    fn a_responder_runs_actions_but_does_not_configure_them() {
        assert!(Role::Responder.can(Permission::RunActions));
        assert!(!Role::Responder.can(Permission::ManageActions));
        assert!(!Role::Responder.can(Permission::ManageRoutingKeys));
    }

    #[test]
    fn a_manager_configures_actions_and_reads_routing_keys_but_not_services_or_users() {
        assert!(Role::Manager.can(Permission::ManageActions));
        assert!(Role::Manager.can(Permission::ManageRoutingKeys));
        assert!(!Role::Manager.can(Permission::ManageServices));
        assert!(!Role::Manager.can(Permission::ManageUsers));
        assert!(!Role::Manager.can(Permission::ReadAudit));
    }

    #[test]
    fn an_admin_and_an_owner_may_do_everything() {
        for permission in Permission::ALL {
            assert!(Role::Admin.can(permission), "{permission:?}");
            assert!(Role::Owner.can(permission), "{permission:?}");
        }
    }

    #[test]
    fn only_admin_and_owner_are_privileged() {
        let privileged: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.is_privileged())
            .collect();
        assert_eq!(privileged, vec![Role::Admin, Role::Owner]);
    }

    #[test]
    fn every_role_parses_from_its_wire_name_and_nothing_else_does() {
        for role in Role::ALL {
            assert_eq!(Role::parse_field(role.as_str()), Ok(role));
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                serde_json::json!(role.as_str())
            );
        }
        for bad in ["", "Owner", "root", "administrator"] {
            assert!(Role::parse_field(bad).is_err(), "{bad}");
        }
        assert!(Role::parse_field("nope")
            .unwrap_err()
            .to_string()
            .contains("stakeholder, observer"));
    }

    #[test]
    fn permission_wire_names_match_serde() {
        for permission in Permission::ALL {
            assert_eq!(
                serde_json::to_value(permission).unwrap(),
                serde_json::json!(permission.as_str())
            );
        }
    }

    /// The README's Roles table is this table; regenerate it with
    /// `UPDATE_FIXTURES=1 cargo test -p incident-actions-shared readme`.
    #[test]
    fn the_readme_roles_table_matches_the_code() {
        crate::readme::check_generated_section("roles-table", &roles_markdown_table());
    }

    #[test]
    fn the_markdown_table_has_a_row_per_permission() {
        let table = roles_markdown_table();
        assert_eq!(table.lines().count(), 2 + Permission::ALL.len());
        assert!(table.contains("| read the audit log |  |  |  |  | ✓ | ✓ |"));
    }
}
