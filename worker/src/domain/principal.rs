//! Who is acting: a signed-in user, the built-in owner of `ADMIN_TOKEN`, or Cloudflare
//! Access creating users. Runs, the timeline and the audit log name it; routes check its
//! role. `auth` finds it from a credential; nothing here reads storage.

use shared::roles::{Permission, Role};

use crate::error::{ApiError, ApiResult};

/// The id of the built-in owner that `ADMIN_TOKEN` signs in as.
const BUILT_IN_OWNER_ID: &str = "admin";

/// The caller, as runs and the timeline name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Stable id, recorded as `requested_by`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What the caller may do.
    pub role: Role,
    /// What a user has beyond its id and name; `None` for the built-in `ADMIN_TOKEN`
    /// owner and Cloudflare Access acting as itself.
    pub member: Option<Member>,
}

/// What a signed-in user has beyond its id, name and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// E-mail.
    pub email: String,
    /// When the user was created (ms).
    pub created_at: i64,
}

impl Principal {
    /// The holder of `ADMIN_TOKEN`: an owner that is not a user row (see
    /// migrations/0003_users.sql for why).
    pub fn admin() -> Self {
        Self {
            id: BUILT_IN_OWNER_ID.to_owned(),
            name: "Administrator".to_owned(),
            role: Role::Owner,
            member: None,
        }
    }

    /// Cloudflare Access, as the actor that creates users under `ACCESS_DEFAULT_ROLE`.
    pub fn access() -> Self {
        Self {
            id: "cloudflare_access".to_owned(),
            name: "Cloudflare Access".to_owned(),
            role: Role::Admin,
            member: None,
        }
    }

    /// Whether the caller's role holds `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.role.can(permission)
    }

    /// `Ok` when the caller's role holds `permission`, else 403 naming what is missing.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(forbidden_message(
                self.role, permission,
            )))
        }
    }
}

/// The 403 message: what the role lacks and which role would have it.
fn forbidden_message(role: Role, permission: Permission) -> String {
    let needed = permission.minimum_role();
    format!(
        "Your role ({role}) may not {}: that needs {needed}{}",
        permission.describe(),
        if needed == Role::Owner {
            ""
        } else {
            " or above"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forbidden_message_names_the_role_what_it_lacks_and_who_has_it() {
        assert_eq!(
            forbidden_message(Role::Observer, Permission::RunActions),
            "Your role (observer) may not run actions, see run details, acknowledge and \
             resolve incidents, add notes: that needs responder or above"
        );
    }
}
