//! A button that copies a value (routing key, signing secret, curl command) to the
//! clipboard and says whether it worked.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser::copy_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    Idle,
    Copied,
    Failed,
}

/// "Copy", with `what` read out to screen readers ("Copy routing key").
#[component]
pub fn CopyButton(
    /// The text to copy (a signal, for a value that can change, such as a rotated key).
    #[prop(into)]
    text: Signal<String>,
    /// What is copied, for the accessible name.
    what: &'static str,
) -> impl IntoView {
    let state = RwSignal::new(CopyState::Idle);
    let copy = move |_| {
        let text = text.get_untracked();
        spawn_local(async move {
            let copied = copy_text(&text).await;
            state.set(if copied {
                CopyState::Copied
            } else {
                CopyState::Failed
            });
        });
    };
    view! {
        <button type="button" class="button small secondary" on:click=copy>
            {move || match state.get() {
                CopyState::Idle => "Copy",
                CopyState::Copied => "Copied",
                CopyState::Failed => "Copy",
            }}
            <span class="visually-hidden">" " {what}</span>
        </button>
        <span class="copy-status" role="status">
            {move || match state.get() {
                CopyState::Idle => "",
                CopyState::Copied => "Copied to the clipboard.",
                CopyState::Failed => "Could not copy: select the text and copy it yourself.",
            }}
        </span>
    }
}
