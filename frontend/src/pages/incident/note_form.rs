//! Adding a note to the incident's timeline: what was tried, what was seen, who to call.
//! Checked with the same rule the worker applies before it is sent.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::CreateNoteRequest;
use shared::incident::validate_note;
use shared::limits::MAX_NOTE_CHARS;
use shared::roles::Permission;
use shared::FieldError;

use crate::api;
use crate::components::{ErrorNotice, Field, FieldAria};
use crate::forms::{error_id, field_errors_of, FormErrors};
use crate::session::Session;

/// The note box and its button; `on_added` runs after a note is stored.
#[component]
pub fn NoteForm(
    /// The incident to note on.
    incident_id: String,
    /// Called once the note is on the timeline, so it can reload.
    on_added: Callback<()>,
) -> impl IntoView {
    let content = RwSignal::new(String::new());
    let attempted = RwSignal::new(false);
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let client_errors = Memo::new(move |_| {
        if !attempted.get() {
            return Vec::new();
        }
        validate_note(&content.get()).err().unwrap_or_default()
    });
    let message = FormErrors {
        client: client_errors,
        server: server_errors,
    }
    .signal("content");

    let add = Action::new_local(move |request: &CreateNoteRequest| {
        let (incident_id, request) = (incident_id.clone(), request.clone());
        async move {
            let answer = api::add_note(&incident_id, request).await;
            match &answer {
                Ok(_) => {
                    content.set(String::new());
                    attempted.set(false);
                    on_added.run(());
                }
                Err(error) => server_errors.set(field_errors_of(error)),
            }
            answer.map(drop)
        }
    });

    let session = Session::expect();
    let denied = move || session.denial(Permission::RunActions, "Adding notes");
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if untrack(denied).is_some() || add.pending().get_untracked() {
            return;
        }
        attempted.set(true);
        server_errors.set(Vec::new());
        if let Ok(content) = validate_note(&content.get_untracked()) {
            add.dispatch(CreateNoteRequest { content });
        }
    };
    let remaining = move || {
        let used = content.with(|text| text.trim().chars().count());
        format!("{used} of {MAX_NOTE_CHARS} characters")
    };

    view! {
        <form class="form note-form" on:submit=submit novalidate>
            <Field
                id="note-content"
                label="Add a note"
                hint=Signal::derive(remaining)
                error_id=error_id("note", "content")
                message
                also_described_by=Signal::derive(move || denied().map(|_| "note-denied".to_owned()))
                let(aria: FieldAria)
            >
                <textarea
                    id="note-content"
                    rows="3"
                    placeholder="What you tried, what you saw, who you called"
                    bind:value=content
                    disabled=move || denied().is_some()
                    aria-invalid=aria.invalid
                    aria-describedby=aria.described_by
                ></textarea>
            </Field>
            <div class="form-actions">
                <button
                    type="submit"
                    class="button"
                    disabled=move || add.pending().get() || denied().is_some()
                >
                    "Add note"
                </button>
                {move || add.pending().get().then(|| view! { <span role="status">"Adding…"</span> })}
                {move || denied().map(|reason| view! { <p class="hint denied" id="note-denied">{reason}</p> })}
            </div>
            {move || match add.value().get() {
                Some(Err(error)) => Some(view! { <ErrorNotice error /> }),
                _ => None,
            }}
        </form>
    }
}
