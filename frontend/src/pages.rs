//! One module per route.

mod actions;
mod audit;
mod incident;
mod incidents;
mod not_found;
mod services;
mod sign_in;
mod user_tokens;
mod users;

pub use actions::ActionsPage;
pub use audit::AuditPage;
pub use incident::IncidentPage;
pub use incidents::IncidentsPage;
pub use not_found::NotFoundPage;
pub use services::ServicesPage;
pub use sign_in::SignInPage;
pub use user_tokens::UserTokensPage;
pub use users::UsersPage;
