//! An incident's status as a coloured word (the word carries the meaning; colour only
//! helps).

use leptos::prelude::*;
use shared::incident::IncidentStatus;

use crate::format::status_label;

/// "Triggered", "Acknowledged" or "Resolved".
#[component]
pub fn StatusBadge(
    /// The status to show.
    #[prop(into)]
    status: Signal<IncidentStatus>,
) -> impl IntoView {
    view! {
        <span class=move || format!("badge status-{}", status.get().as_str())>
            {move || status_label(status.get())}
        </span>
    }
}
