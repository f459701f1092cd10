//! The worker's domain types, used by storage, delivery and the routes alike and owned by
//! none of them, so that `store` and `delivery` depend on these and not on each other or
//! on `auth`: who is acting ([`Principal`]), an action ready to send ([`OpenedAction`])
//! and what a send came to ([`Verdict`]).

mod opened_action;
mod principal;
mod verdict;

pub use opened_action::OpenedAction;
pub use principal::{Member, Principal};
pub use verdict::Verdict;
