//! Small pieces used by several pages.

mod confirm_step;
mod copy_button;
mod field;
mod new_incident_form;
mod notice;
mod one_time_secret;
mod page_buttons;
mod redeliver;
mod request_preview;
mod shell;
mod status_badge;
mod time;

pub use confirm_step::ConfirmStep;
pub use copy_button::CopyButton;
pub use field::{
    check_box, group, select_box, small_button, Field, FieldAria, FieldLayout, TextBox, TextKind,
};
pub use new_incident_form::NewIncidentForm;
pub use notice::{ErrorNotice, FieldMessage, Loading};
pub use one_time_secret::OneTimeSecret;
pub use page_buttons::PageButtons;
pub use redeliver::{offers_redelivery, Redeliver};
pub use request_preview::{header_list, live_preview, request_preview, PreviewCall};
pub use shell::Shell;
pub use status_badge::StatusBadge;
pub use time::{Clock, Time};
