//! Small pieces used by several pages.

mod confirm_step;
mod copy_button;
mod notice;
mod one_time_secret;
mod shell;
mod status_badge;

pub use confirm_step::ConfirmStep;
pub use copy_button::CopyButton;
pub use notice::{ErrorNotice, FieldMessage, Loading};
pub use one_time_secret::OneTimeSecret;
pub use shell::Shell;
pub use status_badge::StatusBadge;
