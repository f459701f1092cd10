//! The caller as SQL, so that a statement batched with the credential's lookup can act as
//! the caller: built by `auth` from the credential, used by the statements that act.

use shared::roles::{Permission, Role};

use super::sql::{SqlArg, SqlValue};

/// The caller as a SQL row source `(pid, prole, pname)`: id, role and display name. A
/// statement in the same batch as the credential's lookup selects `FROM (…) p` to act as
/// the caller, so that signing in, authorizing and acting cost one round trip
/// (`routes::runs`). The source yields no row exactly when `auth::Credential::resolve`
/// answers 401, from the same rows in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerSql {
    template: String,
    args: Vec<SqlArg>,
}

impl CallerSql {
    /// A row source: `template` with its parameters written `$1`, `$2`… for `args`.
    pub fn new(template: String, args: Vec<SqlArg>) -> Self {
        Self { template, args }
    }

    /// The source, its parameters numbered from `?{first}`.
    pub fn source(&self, first: usize) -> String {
        (0..self.args.len())
            .rev()
            .fold(self.template.clone(), |sql, i| {
                sql.replace(&format!("${}", i + 1), &format!("?{}", first + i))
            })
    }

    /// Its parameters, in order.
    pub fn args(&self) -> impl Iterator<Item = SqlValue<'_>> {
        self.args.iter().map(SqlArg::value)
    }

    /// SQL that holds when the caller's role (`p.prole`) has `permission`: the role
    /// table of `shared::roles`, spelled as a list.
    pub fn allowed(permission: Permission) -> String {
        let roles: Vec<String> = Role::ALL
            .into_iter()
            .filter(|role| role.can(permission))
            .map(|role| format!("'{}'", role.as_str()))
            .collect();
        format!("p.prole IN ({})", roles.join(", "))
    }
}
