//! Users and their API tokens: the fields a person types (name, e-mail, role, token
//! label), parsed once for the form and the worker alike, and who may do what to whom
//! ([`refusal`]): the worker enforces it, the SPA explains it, neither decides it again.

use crate::roles::{Permission, Role};
use crate::validation::{required_name, required_text};
use crate::{FieldError, ValidationError};

/// The most characters in a user's name.
pub const MAX_USER_NAME_CHARS: usize = 80;
/// The most characters in an e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// The most characters in a token label.
pub const MAX_TOKEN_LABEL_CHARS: usize = 80;
/// What every API token secret starts with, so a leaked one is recognisable (and secret
/// scanners can look for it).
pub const TOKEN_PREFIX: &str = "iat_";

/// A display name: trimmed, 1..=80 characters.
pub fn parse_user_name(raw: &str) -> Result<String, ValidationError> {
    required_name(raw, "Name", MAX_USER_NAME_CHARS)
}

/// An e-mail address: trimmed, one `@` with something on both sides, a dot in the
/// domain, no spaces or control characters, at most 254 characters. Deliverability is
/// not our business; this only catches typos and pasted junk.
pub fn parse_email(raw: &str) -> Result<String, ValidationError> {
    let email = required_text(raw, "Email", MAX_EMAIL_CHARS)?;
    let shape_error = || ValidationError::Invalid("Email must look like name@example.com".into());
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
    {
        return Err(shape_error());
    }
    let (local, domain) = email.split_once('@').ok_or_else(shape_error)?;
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok {
        return Err(shape_error());
    }
    Ok(email)
}

/// A token label: trimmed, 1..=80 characters.
pub fn parse_token_label(raw: &str) -> Result<String, ValidationError> {
    required_name(raw, "Label", MAX_TOKEN_LABEL_CHARS)
}

/// A validated new user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Display name.
    pub name: String,
    /// E-mail, unique regardless of case.
    pub email: String,
    /// Role.
    pub role: Role,
}

/// Parses `POST /api/users`, collecting a message per bad field.
pub fn parse_new_user(name: &str, email: &str, role: &str) -> Result<NewUser, Vec<FieldError>> {
    let mut fields = Vec::new();
    let name = parse_user_name(name).map_err(|e| fields.push(FieldError::new("name", &e)));
    let email = parse_email(email).map_err(|e| fields.push(FieldError::new("email", &e)));
    let role = Role::parse_field(role).map_err(|e| fields.push(FieldError::new("role", &e)));
    match (name, email, role) {
        (Ok(name), Ok(email), Ok(role)) => Ok(NewUser { name, email, role }),
        _ => Err(fields),
    }
}

/// Something done to a user, as the rules of who may do it see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAct {
    /// Give a user `role` (creating them with it, or changing them to it).
    Grant(Role),
    /// Change or remove a user who holds the role.
    ChangeOrRemove(Role),
    /// Make an API token for a user who holds `holder`; `for_self` when it is the caller's
    /// own.
    MintToken {
        /// The token's user's role.
        holder: Role,
        /// Whether the caller mints for themselves.
        for_self: bool,
    },
}

/// Why a user act is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRefusal {
    /// The caller's role does not manage users at all.
    NotAManager,
    /// Only an owner may do this: it grants, removes or acts for `role` (admin or owner),
    /// and an admin may not make anyone, themselves included, more powerful than an admin.
    /// A token acts as its user, so one for another admin or owner is taking their powers.
    OwnerOnly(Role),
}

/// Whether `caller` may do `act`: `None` when it may, else why not. The one rule the
/// worker enforces (403) and the SPA phrases next to the control.
pub fn refusal(caller: Role, act: UserAct) -> Option<UserRefusal> {
    if !caller.can(Permission::ManageUsers) {
        return Some(UserRefusal::NotAManager);
    }
    let touched = match act {
        UserAct::Grant(role) | UserAct::ChangeOrRemove(role) => Some(role),
        UserAct::MintToken { for_self: true, .. } => None,
        UserAct::MintToken {
            holder,
            for_self: false,
        } => Some(holder),
    };
    touched
        .filter(|role| role.is_privileged() && caller != Role::Owner)
        .map(UserRefusal::OwnerOnly)
}

/// The roles `caller` may give a user: none without `manage_users`, and `admin`/`owner`
/// only by an owner.
pub fn grantable_roles(caller: Role) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| refusal(caller, UserAct::Grant(*role)).is_none())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_of_80_characters_is_accepted_and_81_is_not() {
        assert!(parse_user_name(&"n".repeat(80)).is_ok());
        assert!(parse_user_name(&"n".repeat(81)).is_err());
    }

    #[test]
    fn a_blank_name_is_required() {
        assert_eq!(
            parse_user_name("  "),
            Err(ValidationError::Required("Name"))
        );
    }

    #[test]
    fn ordinary_emails_are_accepted_and_trimmed() {
        assert_eq!(parse_email(" ana@example.com ").unwrap(), "ana@example.com");
        assert!(parse_email("a.b+ops@sub.example.co.uk").is_ok());
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "ana@example",
            "ana@@example.com",
            "a@b@example.com",
            "ana @example.com",
            "ana@example..com",
            "ana@.example.com",
            "ana@example.com.",
            "ana@example.com,bob@example.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_email_of_254_characters_is_accepted_and_255_is_not() {
        let at_254 = format!("{}@example.com", "a".repeat(254 - 12));
        assert_eq!(at_254.chars().count(), 254);
        assert!(parse_email(&at_254).is_ok());
        assert!(parse_email(&format!("a{at_254}")).is_err());
    }

    #[test]
    fn a_token_label_of_80_characters_is_accepted_and_81_is_not() {
        assert!(parse_token_label(&"l".repeat(80)).is_ok());
        assert!(parse_token_label(&"l".repeat(81)).is_err());
        assert!(parse_token_label("").is_err());
    }

    #[test]
    fn a_new_user_reports_every_bad_field() {
        let fields = parse_new_user("", "nope", "root").unwrap_err();
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["name", "email", "role"]);
        assert_eq!(
            parse_new_user("Ana", "ana@example.com", "manager")
                .unwrap()
                .role,
            Role::Manager
        );
    }

    #[test]
    fn only_an_owner_grants_removes_or_mints_for_an_admin_or_owner() {
        for privileged in [Role::Admin, Role::Owner] {
            for act in [
                UserAct::Grant(privileged),
                UserAct::ChangeOrRemove(privileged),
                UserAct::MintToken {
                    holder: privileged,
                    for_self: false,
                },
            ] {
                assert_eq!(
                    refusal(Role::Admin, act),
                    Some(UserRefusal::OwnerOnly(privileged)),
                    "{act:?}"
                );
                assert_eq!(refusal(Role::Owner, act), None, "{act:?}");
            }
        }
        assert_eq!(refusal(Role::Admin, UserAct::Grant(Role::Manager)), None);
        assert_eq!(
            refusal(Role::Admin, UserAct::ChangeOrRemove(Role::Observer)),
            None
        );
    }

    #[test]
    fn ones_own_token_adds_no_power_so_an_admin_mints_it() {
        let own = UserAct::MintToken {
            holder: Role::Admin,
            for_self: true,
        };
        assert_eq!(refusal(Role::Admin, own), None);
    }

    #[test]
    fn below_admin_nobody_manages_users_and_no_role_can_be_granted() {
        for role in [
            Role::Stakeholder,
            Role::Observer,
            Role::Responder,
            Role::Manager,
        ] {
            assert_eq!(
                refusal(role, UserAct::ChangeOrRemove(Role::Stakeholder)),
                Some(UserRefusal::NotAManager),
                "{role}"
            );
            assert!(grantable_roles(role).is_empty(), "{role}");
        }
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
}
