//! The New/Edit action form, validated with the worker's own rules as the user types.
//!
//! An edit carries the revision it was opened on. If someone else saved the action in the
//! meantime the worker refuses it (409 `edit_conflict`) and answers with their version;
//! the form then says so, loads that version, and the next save carries its revision.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::{Action as CustomAction, ActionHealth};
use shared::limits::MAX_HEADERS_PER_ACTION;
use shared::FieldError;

use super::draft::{ActionDraft, HeaderDraft};
use crate::api;
use crate::components::{ErrorNotice, FieldMessage};
use crate::format::{edit_conflict_message, unreadable_form_note};
use crate::forms::{aria_invalid, described_by, error_id, field_errors_of, FormErrors};
use crate::session::Session;

/// One header row's live inputs. `key` identifies the row while rows come and go.
#[derive(Debug, Clone, Copy)]
struct HeaderRow {
    key: usize,
    name: RwSignal<String>,
    value: RwSignal<String>,
    secret: RwSignal<bool>,
    stored_secret_name: StoredValue<Option<String>>,
}

impl HeaderRow {
    fn new(key: usize, draft: HeaderDraft) -> Self {
        Self {
            key,
            name: RwSignal::new(draft.name),
            value: RwSignal::new(draft.value),
            secret: RwSignal::new(draft.secret),
            stored_secret_name: StoredValue::new(draft.stored_secret_name),
        }
    }

    fn draft(&self) -> HeaderDraft {
        HeaderDraft {
            name: self.name.get(),
            value: self.value.get(),
            secret: self.secret.get(),
            stored_secret_name: self.stored_secret_name.get_value(),
        }
    }
}

/// Creates an action (`editing` is `None`) or edits one.
#[component]
pub fn ActionForm(
    /// The service the action belongs to.
    service_id: String,
    /// The action being edited, if any.
    editing: Option<CustomAction>,
    /// Called with the saved action (carrying its signing secret after a create).
    on_saved: Callback<CustomAction>,
    /// Called when the user closes the form without saving.
    on_cancel: Callback<()>,
) -> impl IntoView {
    let session = Session::expect();
    let is_edit = editing.is_some();
    let title = editing.as_ref().map_or_else(
        || "New action".to_owned(),
        |action| format!("Edit “{}”", action.name),
    );
    let action_id = editing.as_ref().map(|action| action.id.clone());
    // The configuration could not be opened, so its endpoint and secrets did not come back:
    // say so, since the form then opens with those fields blank.
    let unreadable = editing
        .as_ref()
        .filter(|action| action.health == ActionHealth::Unreadable)
        .map(|action| unreadable_form_note(action.health_problem.as_deref()));
    let initial = editing
        .as_ref()
        .map(ActionDraft::from_action)
        .unwrap_or_default();

    let name = RwSignal::new(initial.name);
    let endpoint_url = RwSignal::new(initial.endpoint_url);
    let description = RwSignal::new(initial.description);
    let enabled = RwSignal::new(initial.enabled);
    // Not edited here (yet): kept as loaded and sent back unchanged.
    let run_settings = RwSignal::new(initial.run_settings);
    let base = RwSignal::new(initial.base);
    let next_key = StoredValue::new(initial.headers.len());
    let headers = RwSignal::new(
        initial
            .headers
            .into_iter()
            .enumerate()
            .map(|(key, draft)| HeaderRow::new(key, draft))
            .collect::<Vec<_>>(),
    );
    // The revision someone else saved while this form was open, once a save met it.
    let conflict = RwSignal::new(None::<u64>);

    let draft = move || ActionDraft {
        name: name.get(),
        endpoint_url: endpoint_url.get(),
        description: description.get(),
        enabled: enabled.get(),
        headers: headers.get().iter().map(HeaderRow::draft).collect(),
        run_settings: run_settings.get(),
        base: base.get(),
    };

    // Puts their version in every field. New row keys, so no row keeps an input (or an
    // error) that belonged to the old list.
    let load = move |current: &CustomAction| {
        let fresh = ActionDraft::from_action(current);
        name.try_set(fresh.name);
        endpoint_url.try_set(fresh.endpoint_url);
        description.try_set(fresh.description);
        enabled.try_set(fresh.enabled);
        run_settings.try_set(fresh.run_settings);
        base.try_set(fresh.base);
        let first = next_key.try_get_value().unwrap_or_default();
        next_key.try_set_value(first + fresh.headers.len());
        headers.try_set(
            fresh
                .headers
                .into_iter()
                .enumerate()
                .map(|(offset, draft)| HeaderRow::new(first + offset, draft))
                .collect(),
        );
    };

    // Checked on every change once the user has tried to save, so a fixed field clears.
    let attempted = RwSignal::new(false);
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let client_errors = Memo::new(move |_| {
        if attempted.get() {
            draft().problems(&session.endpoint_policy())
        } else {
            Vec::new()
        }
    });
    let errors = FormErrors {
        client: client_errors,
        server: server_errors,
    };

    let save = Action::new_local(move |draft: &ActionDraft| {
        let service_id = service_id.clone();
        let action_id = action_id.clone();
        let draft = draft.clone();
        async move {
            let answer = match action_id {
                Some(action_id) => {
                    api::update_action(&service_id, &action_id, draft.update_request()).await
                }
                None => api::create_action(&service_id, draft.create_request()).await,
            };
            match &answer {
                Ok(saved) => {
                    on_saved.try_run(saved.action.clone());
                }
                Err(error) => match error.conflicting_action() {
                    Some(current) => {
                        load(current);
                        conflict.try_set(Some(current.revision));
                        server_errors.try_set(Vec::new());
                    }
                    // `secrets_must_be_reentered` lands on the header value fields here,
                    // like any other per-field answer.
                    None => {
                        server_errors.try_set(field_errors_of(error));
                    }
                },
            }
            answer.map(drop)
        }
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        attempted.set(true);
        server_errors.set(Vec::new());
        if save.pending().get_untracked() {
            return;
        }
        let draft = draft();
        // Nothing is sent while any problem remains, a secret to re-enter for a new
        // endpoint origin included.
        if draft.problems(&session.endpoint_policy()).is_empty() {
            conflict.set(None);
            save.dispatch(draft);
        }
    };

    let add_header = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        headers.update(|rows| rows.push(HeaderRow::new(key, HeaderDraft::default())));
    };

    let name_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = name_ref.get() {
            let _ = input.focus();
        }
    });

    let name_message = errors.signal("name");
    let url_message = errors.signal("endpoint_url");
    let description_message = errors.signal("description");
    let headers_message = errors.signal("headers");
    let has_problems = move || !client_errors.with(Vec::is_empty);

    view! {
        <form class="card form" on:submit=submit novalidate aria-labelledby="action-form-heading">
            <h2 id="action-form-heading">{title}</h2>
            {move || conflict.get().map(|revision| view! {
                <div class="notice edit-conflict" role="alert">
                    <p>{edit_conflict_message(revision)}</p>
                </div>
            })}
            {unreadable.map(|note| view! { <p class="notice warning">{note}</p> })}
            <div class="field">
                <label for="action-name">"Name"</label>
                <input
                    id="action-name"
                    type="text"
                    autocomplete="off"
                    node_ref=name_ref
                    bind:value=name
                    aria-invalid=aria_invalid(name_message)
                    aria-describedby=described_by(Some("action-name-hint".into()), error_id("action", "name"), name_message)
                />
                <p class="hint" id="action-name-hint">"The button label, up to 40 characters."</p>
                <FieldMessage id=error_id("action", "name") message=name_message />
            </div>
            <div class="field">
                <label for="action-endpoint-url">"Endpoint URL"</label>
                <input
                    id="action-endpoint-url"
                    type="url"
                    inputmode="url"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="https://example.com/hooks/restart"
                    bind:value=endpoint_url
                    aria-invalid=aria_invalid(url_message)
                    aria-describedby=described_by(Some("action-endpoint-url-hint".into()), error_id("action", "endpoint_url"), url_message)
                />
                <p class="hint" id="action-endpoint-url-hint">
                    "Where Incident Actions sends the POST. Must start with https://."
                </p>
                <FieldMessage id=error_id("action", "endpoint_url") message=url_message />
            </div>
            <div class="field">
                <label for="action-description">"Description"</label>
                <textarea
                    id="action-description"
                    rows="2"
                    bind:value=description
                    aria-invalid=aria_invalid(description_message)
                    aria-describedby=described_by(None, error_id("action", "description"), description_message)
                ></textarea>
                <FieldMessage id=error_id("action", "description") message=description_message />
            </div>
            <div class="field checkbox">
                <input id="action-enabled" type="checkbox" bind:checked=enabled />
                <label for="action-enabled">"Show this button on incidents"</label>
            </div>

            <fieldset class="headers">
                <legend>"Custom headers"</legend>
                <p class="hint">
                    "Sent with every POST, e.g. an API key. Mark a value secret to hide it after saving."
                    {is_edit.then_some(" A secret left blank keeps its stored value while the endpoint keeps its scheme, host and port.")}
                </p>
                <For each=move || headers.get() key=|row| row.key let:row>
                    <HeaderRowFields row headers errors is_edit />
                </For>
                <FieldMessage id=error_id("action", "headers") message=headers_message />
                <button
                    type="button"
                    class="button small secondary"
                    on:click=add_header
                    disabled=move || { headers.with(Vec::len) >= MAX_HEADERS_PER_ACTION }
                >
                    "Add header"
                </button>
            </fieldset>

            <p class="notice error" role="alert" hidden=move || !has_problems()>
                "Some fields need attention; see the messages above."
            </p>
            {move || match save.value().get() {
                // A conflict has its own message above, next to the version it loaded.
                Some(Err(error)) if error.conflicting_action().is_none() => {
                    Some(view! { <ErrorNotice error /> })
                }
                _ => None,
            }}
            <div class="form-actions">
                <button type="submit" class="button" disabled=move || save.pending().get()>
                    {if is_edit { "Save changes" } else { "Create action" }}
                </button>
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
                {move || save.pending().get().then(|| view! { <span role="status">"Saving…"</span> })}
            </div>
        </form>
    }
}

/// The inputs of one header row. Its index (for error paths) follows the row as rows
/// above it are removed.
#[component]
fn HeaderRowFields(
    row: HeaderRow,
    headers: RwSignal<Vec<HeaderRow>>,
    errors: FormErrors,
    is_edit: bool,
) -> impl IntoView {
    let key = row.key;
    let index = Memo::new(move |_| {
        headers.with(|rows| rows.iter().position(|other| other.key == key).unwrap_or(0))
    });
    let name_message =
        Signal::derive(move || errors.message(&format!("headers[{}].name", index.get())));
    let value_message =
        Signal::derive(move || errors.message(&format!("headers[{}].value", index.get())));
    let name_id = format!("header-{key}-name");
    let value_id = format!("header-{key}-value");
    let secret_id = format!("header-{key}-secret");
    let name_error = format!("header-{key}-name-error");
    let value_error = format!("header-{key}-value-error");
    let keeps_stored = row.stored_secret_name.get_value().is_some() && is_edit;

    view! {
        <div class="header-row">
            <div class="field">
                <label for=name_id.clone()>"Header name"</label>
                <input
                    id=name_id
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="X-Api-Key"
                    bind:value=row.name
                    aria-invalid=aria_invalid(name_message)
                    aria-describedby=described_by(None, name_error.clone(), name_message)
                />
                <FieldMessage id=name_error message=name_message />
            </div>
            <div class="field">
                <label for=value_id.clone()>"Header value"</label>
                <input
                    id=value_id
                    type=move || if row.secret.get() { "password" } else { "text" }
                    autocomplete="off"
                    spellcheck="false"
                    placeholder=keeps_stored.then_some("Leave blank to keep the stored value")
                    bind:value=row.value
                    aria-invalid=aria_invalid(value_message)
                    aria-describedby=described_by(None, value_error.clone(), value_message)
                />
                <FieldMessage id=value_error message=value_message />
            </div>
            <div class="field checkbox">
                <input id=secret_id.clone() type="checkbox" bind:checked=row.secret />
                <label for=secret_id>"Secret"</label>
            </div>
            <button
                type="button"
                class="button small secondary"
                on:click=move |_| headers.update(|rows| rows.retain(|other| other.key != key))
            >
                "Remove"
                <span class="visually-hidden">
                    " header " {move || row.name.get()}
                </span>
            </button>
        </div>
    }
}
