//! The New/Edit action form, validated with the worker's own rules as the user types,
//! with its editors for inputs, confirmation, availability and the body template, and a
//! live preview of the request a run would send.
//!
//! Problems show as the person types (a required field left blank only after a first
//! try to save); the preview waits until there are none.
//!
//! An edit carries the revision it was opened on. If someone else saved the action in the
//! meantime the worker refuses it (409 `edit_conflict`) and answers with their version;
//! the form then says so, loads that version, and the next save carries its revision.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::{Action as CustomAction, ConfigHealth, PreviewRequest};
use shared::limits::MAX_HEADERS_PER_ACTION;
use shared::FieldError;

use super::draft::{offered_variables, ActionDraft, HeaderDraft};
use super::inputs_editor::focus_later;
use super::settings_editor::{settings_editors, SettingsSignals};
use crate::api;
use crate::components::{
    check_box, group, live_preview, request_preview, small_button, ErrorNotice, FieldMessage,
    PreviewCall, TextBox, TextKind,
};
use crate::format::{edit_conflict_message, unreadable_form_note};
use crate::forms::{error_id, field_errors_of, FormErrors};
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

/// The hint over the header rows.
const HEADERS_HINT: &str = "Sent with every POST, e.g. an API key. Mark a value secret to hide it after saving. A value can be a template too; a secret value is sent as typed.";

/// The "Add header" button's id, where focus goes when a header is removed.
const ADD_HEADER_ID: &str = "action-add-header";

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
        .filter(|action| action.config_health == ConfigHealth::Unreadable)
        .map(|action| unreadable_form_note(action.config_problem.as_deref()));
    let initial = editing
        .as_ref()
        .map(ActionDraft::from_action)
        .unwrap_or_default();

    let name = RwSignal::new(initial.name);
    let endpoint_url = RwSignal::new(initial.endpoint_url);
    let description = RwSignal::new(initial.description);
    let enabled = RwSignal::new(initial.enabled);
    let accept_reply = RwSignal::new(initial.accept_reply);
    let run_settings = SettingsSignals::new(initial.run_settings);
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
        accept_reply: accept_reply.get(),
        headers: headers.get().iter().map(HeaderRow::draft).collect(),
        run_settings: run_settings.draft(),
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
        accept_reply.try_set(fresh.accept_reply);
        run_settings.load(fresh.run_settings);
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

    // The request a run would send, asked of the worker a moment after each change while
    // the form has no problems: a new action as a draft, an edit as a draft of the stored
    // one (a blank secret there keeps the stored value).
    let preview_call = Memo::new({
        let (service_id, action_id) = (service_id.clone(), action_id.clone());
        move |_| {
            let draft = draft();
            draft
                .problems(&session.endpoint_policy())
                .is_empty()
                .then(|| {
                    let body = PreviewRequest {
                        draft: Some(draft.create_request()),
                        ..PreviewRequest::default()
                    };
                    PreviewCall::new(&service_id, action_id.as_deref(), &body)
                })
        }
    });
    let preview = live_preview(preview_call);
    // A template that does not render is a problem of its field, found by the preview.
    let template_errors = move || preview.with(|preview| preview.field_errors());
    // Shown as the person types, so the preview's "fix the highlighted fields" has
    // fields to point at; before a first save, a required field still blank is not a
    // mistake yet.
    let client_errors = Memo::new(move |_| {
        let mut problems = draft().problems(&session.endpoint_policy());
        if !attempted.get() {
            let blank = |text: RwSignal<String>| text.with(|text| text.trim().is_empty());
            problems.retain(|problem| match problem.field.as_str() {
                "name" => !blank(name),
                "endpoint_url" => !blank(endpoint_url),
                _ => true,
            });
        }
        problems.extend(template_errors());
        problems
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
                    on_saved.try_run(saved.action.clone().into_inner());
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

    let add_header = move |()| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        headers.update(|rows| rows.push(HeaderRow::new(key, HeaderDraft::default())));
    };

    // Into the form as it opens: its first field.
    Effect::new(move |_| focus_later("action-name".to_owned()));

    let name_message = errors.signal("name");
    let url_message = errors.signal("endpoint_url");
    let description_message = errors.signal("description");
    let headers_message = errors.signal("headers");
    // Said once a save was tried, not while typing: it is an alert.
    let has_problems = move || attempted.get() && !client_errors.with(Vec::is_empty);
    let variables = Signal::derive(move || {
        let settings = run_settings.draft().unwrap_or_default();
        let headers: Vec<HeaderDraft> = headers.get().iter().map(HeaderRow::draft).collect();
        offered_variables(&settings, &headers)
    });
    let settings_editors = move || settings_editors(run_settings, errors, variables);

    view! {
        <form class="card form" on:submit=submit novalidate aria-labelledby="action-form-heading">
            <h2 id="action-form-heading">{title}</h2>
            {move || conflict.get().map(|revision| view! {
                <div class="notice edit-conflict" role="alert">
                    <p>{edit_conflict_message(revision)}</p>
                </div>
            })}
            {unreadable.map(|note| view! { <p class="notice warning">{note}</p> })}
            {TextBox::new("action-name", "Name", name)
                .hint("The button label, up to 40 characters.")
                .message(error_id("action", "name"), name_message)
                .view()}
            {TextBox::new("action-endpoint-url", "Endpoint URL", endpoint_url)
                .kind(TextKind::Url)
                .placeholder("https://example.com/hooks/restart")
                .hint("Where Incident Actions sends the POST. Must start with https://.")
                .message(error_id("action", "endpoint_url"), url_message)
                .view()}
            {TextBox::new("action-description", "Description", description)
                .kind(TextKind::Lines(2))
                .message(error_id("action", "description"), description_message)
                .view()}
            {check_box("action-enabled", "Show this button on incidents", enabled)}
            {check_box(
                "action-accept-reply",
                "Let the endpoint's JSON answer add a note, links and a one-line result",
                accept_reply,
            )}

            {group(
                "group headers",
                "Custom headers",
                Some(HEADERS_HINT),
                view! {
                    {is_edit.then_some(view! {
                        <p class="hint">"A secret left blank keeps its stored value while the endpoint keeps its scheme, host and port."</p>
                    })}
                    // Redrawn whole when a row comes or goes (the values live in each row's
                    // signals): cheaper in the bundle than a keyed list.
                    {move || headers.get().into_iter().map(|row| header_row_fields(row, headers, errors, is_edit)).collect_view()}
                    <FieldMessage id=error_id("action", "headers") message=headers_message />
                    {small_button(
                        "Add header",
                        Some(ADD_HEADER_ID.to_owned()),
                        Signal::derive(move || headers.with(Vec::len) >= MAX_HEADERS_PER_ACTION),
                        Callback::new(add_header),
                    )}
                }
                .into_any(),
            )}

            {settings_editors}

            <section class="preview" aria-labelledby="action-preview-heading">
                <h3 id="action-preview-heading">"Preview of the request"</h3>
                {request_preview(preview, "Fix the highlighted fields to see the request.")}
            </section>

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

/// The inputs of one header row of `headers`. Its index (for error paths) follows the row
/// as rows above it are removed; `is_edit` says whether a blank secret keeps its value.
fn header_row_fields(
    row: HeaderRow,
    headers: RwSignal<Vec<HeaderRow>>,
    errors: FormErrors,
    is_edit: bool,
) -> AnyView {
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
            {TextBox::new(name_id, "Header name", row.name)
                .code()
                .placeholder("X-Api-Key")
                .message(name_error, name_message)
                .view()}
            {TextBox::new(value_id, "Header value", row.value)
                .code()
                .secret(row.secret)
                .placeholder(if keeps_stored { "Leave blank to keep the stored value" } else { "" })
                .message(value_error, value_message)
                .view()}
            {check_box(secret_id, "Secret", row.secret)}
            {small_button(
                "Remove",
                None,
                Signal::stored(false),
                Callback::new(move |()| {
                    headers.update(|rows| rows.retain(|other| other.key != key));
                    focus_later(ADD_HEADER_ID.to_owned());
                }),
            )}
        </div>
    }
    .into_any()
}
