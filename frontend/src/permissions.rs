//! What the signed-in role may do, in words: the reason shown next to a control the role
//! cannot use. The rules themselves are `shared::roles` (the permission table) and
//! `shared::user::refusal` (who may act on whom); this module only phrases them.

use shared::roles::{Permission, Role};
use shared::user::{self, UserAct, UserRefusal};

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

/// Why `caller` cannot do `act` to a user, phrased for the control it is next to
/// (`what`: "Managing users"), or `None` when it can. The rule is `shared::user::refusal`.
fn user_denial(caller: Role, act: UserAct, what: &str) -> Option<String> {
    user::refusal(caller, act).map(|refusal| match (refusal, act) {
        (UserRefusal::NotAManager, _) => denial(caller, Permission::ManageUsers, what)
            .unwrap_or_else(|| format!("{what} is not allowed for {caller}.")),
        (UserRefusal::OwnerOnly(role), UserAct::MintToken { .. }) => {
            format!("Only an owner makes tokens for an {role}; you are {caller}.")
        }
        (UserRefusal::OwnerOnly(role), UserAct::Grant(_) | UserAct::ChangeOrRemove(_)) => {
            format!("Only an owner changes or removes an {role}; you are {caller}.")
        }
    })
}

/// Why `caller` cannot change or delete a user who holds `target`, or `None` when it can.
pub fn user_change_denial(caller: Role, target: Role) -> Option<String> {
    user_denial(caller, UserAct::ChangeOrRemove(target), "Managing users")
}

/// Why `caller` cannot make a token for a user who holds `target`, or `None` when it can.
pub fn token_mint_denial(caller: Role, for_self: bool, target: Role) -> Option<String> {
    let act = UserAct::MintToken {
        holder: target,
        for_self,
    };
    user_denial(caller, act, "Managing tokens")
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
