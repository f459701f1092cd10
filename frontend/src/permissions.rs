//! What the signed-in role may do, in words: the reason shown next to a control the role
//! cannot use, and the roles a caller may grant. The rules themselves are the one table
//! in `shared::roles`; this module only phrases them for the pages.

use shared::roles::{Permission, Role};

/// The role to act on when the worker did not name one: workers older than roles let
/// every signed-in caller do everything, and the API still refuses whatever is not allowed.
pub fn effective_role(role: Option<Role>) -> Role {
    role.unwrap_or(Role::Owner)
}

/// Why `role` cannot do `what` (which needs `permission`), e.g. "Running actions needs
/// responder or above; you are observer", or `None` when it can.
pub fn denial(role: Role, permission: Permission, what: &str) -> Option<String> {
    (!role.can(permission)).then(|| {
        format!(
            "{what} needs {} or above; you are {role}.",
            permission.minimum_role()
        )
    })
}

/// The roles `caller` may give a user: none without `manage_users`, and `admin`/`owner`
/// only by an owner.
pub fn grantable_roles(caller: Role) -> Vec<Role> {
    if !caller.can(Permission::ManageUsers) {
        return Vec::new();
    }
    Role::ALL
        .into_iter()
        .filter(|role| caller == Role::Owner || !role.is_privileged())
        .collect()
}

/// Why `caller` cannot change or delete a user who holds `target`, or `None` when it can.
pub fn user_change_denial(caller: Role, target: Role) -> Option<String> {
    if let Some(reason) = denial(caller, Permission::ManageUsers, "Managing users") {
        return Some(reason);
    }
    (target.is_privileged() && caller != Role::Owner)
        .then(|| format!("Only an owner changes or removes an {target}; you are {caller}."))
}

/// Why `caller` cannot make a token for a user who holds `target`, or `None` when it can.
/// A token acts as its user, so one for another admin or owner is an owner's to make; one's
/// own adds nothing.
pub fn token_mint_denial(caller: Role, for_self: bool, target: Role) -> Option<String> {
    if let Some(reason) = denial(caller, Permission::ManageUsers, "Managing tokens") {
        return Some(reason);
    }
    (!for_self && target.is_privileged() && caller != Role::Owner)
        .then(|| format!("Only an owner makes tokens for an {target}; you are {caller}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observer_is_told_which_role_runs_actions() {
        assert_eq!(
            denial(Role::Observer, Permission::RunActions, "Running actions").as_deref(),
            Some("Running actions needs responder or above; you are observer.")
        );
    }

    #[test]
    fn a_role_that_holds_the_permission_gets_no_reason() {
        assert_eq!(
            denial(Role::Responder, Permission::RunActions, "Running actions"),
            None
        );
        assert_eq!(
            denial(Role::Manager, Permission::ManageActions, "Changing actions"),
            None
        );
    }

    #[test]
    fn a_worker_without_roles_is_taken_to_allow_everything() {
        assert_eq!(effective_role(None), Role::Owner);
        assert_eq!(effective_role(Some(Role::Observer)), Role::Observer);
    }

    #[test]
    fn an_admin_grants_up_to_manager_and_an_owner_grants_everything() {
        assert_eq!(
            grantable_roles(Role::Admin),
            vec![
                Role::Stakeholder,
                Role::Observer,
                Role::Responder,
                Role::Manager
            ]
        );
        assert_eq!(grantable_roles(Role::Owner), Role::ALL.to_vec());
    }

    #[test]
    fn below_admin_no_role_can_be_granted() {
        for role in [
            Role::Stakeholder,
            Role::Observer,
            Role::Responder,
            Role::Manager,
        ] {
            assert!(grantable_roles(role).is_empty(), "{role}");
        }
    }

    #[test]
    fn only_an_owner_changes_an_admin_or_owner() {
        assert_eq!(user_change_denial(Role::Owner, Role::Owner), None);
        assert_eq!(user_change_denial(Role::Admin, Role::Manager), None);
        let reason = user_change_denial(Role::Admin, Role::Admin).unwrap();
        assert!(reason.contains("Only an owner"), "{reason}");
        assert!(user_change_denial(Role::Manager, Role::Observer)
            .unwrap()
            .contains("needs admin or above"));
    }

    #[test]
    fn only_an_owner_makes_tokens_for_another_admin_or_owner() {
        assert_eq!(token_mint_denial(Role::Admin, false, Role::Manager), None);
        assert_eq!(token_mint_denial(Role::Admin, true, Role::Admin), None);
        assert_eq!(token_mint_denial(Role::Owner, false, Role::Owner), None);
        let reason = token_mint_denial(Role::Admin, false, Role::Owner).unwrap();
        assert!(
            reason.contains("Only an owner makes tokens for an owner"),
            "{reason}"
        );
    }
}
