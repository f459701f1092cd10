//! The action form's inputs editor: what a run asks the clicker for, up to
//! `MAX_INPUTS_PER_ACTION`, in the order the run dialog shows them.
//!
//! Each input is a fieldset with its key, label, type, required and help, then the fields
//! its type has (a select's options and default, a number's bounds and default, ...).
//! Inputs are added, moved up and down and removed with buttons, so the order is set
//! from the keyboard as easily as with a pointer; focus stays on the button pressed as
//! its input moves (and goes to "Add input" when it is removed). The messages are the shared validation's, keyed `inputs[i].<field>`.

use leptos::prelude::*;
use shared::inputs::InputType;
use shared::limits::MAX_INPUTS_PER_ACTION;

use super::draft::InputDraft;
use crate::components::{check_box, group, small_button, Field, FieldAria, TextBox, TextKind};
use crate::forms::FormErrors;

/// One input's live fields. `id` identifies the row while rows come, go and move.
#[derive(Debug, Clone, Copy)]
pub struct InputRow {
    id: usize,
    key: RwSignal<String>,
    label: RwSignal<String>,
    input_type: RwSignal<InputType>,
    required: RwSignal<bool>,
    help: RwSignal<String>,
    options: RwSignal<String>,
    default_text: RwSignal<String>,
    default_checked: RwSignal<bool>,
    min: RwSignal<String>,
    max: RwSignal<String>,
}

impl InputRow {
    /// A row showing `draft`.
    pub fn new(id: usize, draft: InputDraft) -> Self {
        Self {
            id,
            key: RwSignal::new(draft.key),
            label: RwSignal::new(draft.label),
            input_type: RwSignal::new(draft.input_type),
            required: RwSignal::new(draft.required),
            help: RwSignal::new(draft.help),
            options: RwSignal::new(draft.options),
            default_text: RwSignal::new(draft.default_text),
            default_checked: RwSignal::new(draft.default_checked),
            min: RwSignal::new(draft.min),
            max: RwSignal::new(draft.max),
        }
    }

    /// What the row holds now.
    pub fn draft(&self) -> InputDraft {
        InputDraft {
            key: self.key.get(),
            label: self.label.get(),
            input_type: self.input_type.get(),
            required: self.required.get(),
            help: self.help.get(),
            options: self.options.get(),
            default_text: self.default_text.get(),
            default_checked: self.default_checked.get(),
            min: self.min.get(),
            max: self.max.get(),
        }
    }
}

/// The list of inputs (`rows`, in order; `next_id` numbers the next one) and the button
/// that adds one; `errors` are the form's problems. A plain function rather than a
/// component, like the other editors: a component's props and wrapper cost the bundle more
/// than they give here.
pub fn inputs_editor(
    rows: RwSignal<Vec<InputRow>>,
    next_id: StoredValue<usize>,
    errors: FormErrors,
) -> AnyView {
    let add = move |()| {
        let id = next_id.get_value();
        next_id.set_value(id + 1);
        rows.update(|rows| rows.push(InputRow::new(id, InputDraft::default())));
        focus_later(format!("input-{id}-key"));
    };
    let body = view! {
        // Redrawn whole when a row comes, goes or moves (each row's values live in its
        // signals): cheaper in the bundle than a keyed list, and focus is put back by id
        // after each of those.
        {move || rows.get().into_iter().map(|row| input_row_fields(row, rows, errors)).collect_view()}
        {small_button(
            "Add input",
            Some(ADD_INPUT_ID.to_owned()),
            Signal::derive(move || rows.with(Vec::len) >= MAX_INPUTS_PER_ACTION),
            Callback::new(add),
        )}
    };
    group(
        "group inputs",
        "Inputs",
        Some("What a run asks for before it is sent, in this order. The key names the value: inputs.key in a template, event.inputs in the default payload."),
        body.into_any(),
    )
}

/// The "Add input" button's id, where focus goes when an input is removed.
const ADD_INPUT_ID: &str = "action-add-input";

/// Moves focus to the element with `id` once the page has drawn the change that made it
/// (a row added or moved).
pub fn focus_later(id: String) {
    request_animation_frame(move || {
        if let Some(element) = document().get_element_by_id(&id).and_then(|element| {
            wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element).ok()
        }) {
            let _ = element.focus();
        }
    });
}

/// Which way a row moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    Up,
    Down,
}

/// One input's fields. Its index in `rows` (for error paths and its title) follows the
/// row.
fn input_row_fields(row: InputRow, rows: RwSignal<Vec<InputRow>>, errors: FormErrors) -> AnyView {
    let id = row.id;
    let index = Memo::new(move |_| {
        rows.with(|rows| rows.iter().position(|other| other.id == id).unwrap_or(0))
    });
    let count = move || rows.with(Vec::len);
    let message = move |field: &'static str| {
        Signal::derive(move || errors.message(&format!("inputs[{}].{field}", index.get())))
    };
    let control = move |field: &str| format!("input-{id}-{field}");
    let shift = move |direction: Move| {
        let from = index.get_untracked();
        let to = match direction {
            Move::Up => from.checked_sub(1),
            Move::Down => Some(from + 1).filter(|to| *to < untrack(count)),
        };
        if let Some(to) = to {
            rows.update(|rows| rows.swap(from, to));
            // At the end of the list this button turns off: the other one takes focus.
            let stays = match direction {
                Move::Up => to > 0,
                Move::Down => to + 1 < untrack(count),
            };
            let button = match (direction, stays) {
                (Move::Up, true) | (Move::Down, false) => "up",
                (Move::Down, true) | (Move::Up, false) => "down",
            };
            focus_later(control(button));
        }
    };
    let title = move || {
        let key = row.key.get();
        let number = index.get() + 1;
        if key.trim().is_empty() {
            format!("Input {number}")
        } else {
            format!("Input {number}: {}", key.trim())
        }
    };
    let type_id = control("type");

    view! {
        <fieldset class="input-row">
            <legend>{title}</legend>
            <div class="input-grid">
                {TextBox::new(control("key"), "Key", row.key)
                    .code()
                    .placeholder("region")
                    .message(control("key-error"), message("key"))
                    .view()}
                {TextBox::new(control("label"), "Label", row.label)
                    .placeholder("Region")
                    .message(control("label-error"), message("label"))
                    .view()}
                <Field id=type_id.clone() label="Type" let(aria: FieldAria)>
                    <select
                        id=type_id.clone()
                        aria-describedby=aria.described_by
                        on:change=move |ev| {
                            let chosen = event_target_value(&ev);
                            if let Some(kind) = InputType::ALL.into_iter().find(|kind| kind.as_str() == chosen) {
                                row.input_type.set(kind);
                            }
                        }
                    >
                        {InputType::ALL.into_iter().map(|kind| view! {
                            <option value=kind.as_str() selected=row.input_type.get_untracked() == kind>
                                {type_label(kind)}
                            </option>
                        }).collect_view()}
                    </select>
                </Field>
            </div>
            {check_box(control("required"), "Required", row.required)}
            {TextBox::new(control("help"), "Help", row.help)
                .optional()
                .placeholder("Shown under the field")
                .message(control("help-error"), message("help"))
                .view()}
            {move || type_fields(row, control, message)}
            <div class="row-buttons">
                {small_button(
                    "Move up",
                    Some(control("up")),
                    Signal::derive(move || index.get() == 0),
                    Callback::new(move |()| shift(Move::Up)),
                )}
                {small_button(
                    "Move down",
                    Some(control("down")),
                    Signal::derive(move || index.get() + 1 >= count()),
                    Callback::new(move |()| shift(Move::Down)),
                )}
                {small_button(
                    "Remove",
                    None,
                    Signal::stored(false),
                    Callback::new(move |()| {
                        rows.update(|rows| rows.retain(|other| other.id != id));
                        focus_later(ADD_INPUT_ID.to_owned());
                    }),
                )}
            </div>
        </fieldset>
    }
    .into_any()
}

/// What the type selector calls a type.
fn type_label(kind: InputType) -> &'static str {
    match kind {
        InputType::String => "Text (one line)",
        InputType::Text => "Text (several lines)",
        InputType::Number => "Number",
        InputType::Boolean => "Yes or no (checkbox)",
        InputType::Select => "Choice from a list",
    }
}

/// The fields only the row's type has, redrawn when the type changes (what was typed in
/// the others stays in the row).
fn type_fields(
    row: InputRow,
    control: impl Fn(&str) -> String,
    message: impl Fn(&'static str) -> Signal<Option<String>>,
) -> AnyView {
    let default = |kind: TextKind| {
        TextBox::new(control("default"), "Default", row.default_text)
            .kind(kind)
            .optional()
            .message(control("default-error"), message("default"))
            .view()
    };
    match row.input_type.get() {
        InputType::String => default(TextKind::Line),
        InputType::Text => default(TextKind::Lines(2)),
        InputType::Boolean => {
            check_box(control("default"), "Ticked by default", row.default_checked)
        }
        InputType::Number => {
            let bound = |field: &'static str, label: &'static str, value: RwSignal<String>| {
                TextBox::new(control(field), label, value)
                    .kind(TextKind::Decimal)
                    .optional()
                    .message(control(&format!("{field}-error")), message(field))
                    .view()
            };
            view! {
                <div class="input-grid">
                    {bound("min", "Min", row.min)}
                    {bound("max", "Max", row.max)}
                    {default(TextKind::Decimal)}
                </div>
            }
            .into_any()
        }
        InputType::Select => {
            let choices = move || {
                row.options
                    .get()
                    .lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            };
            let default_id = control("default");
            view! {
                {TextBox::new(control("options"), "Options", row.options)
                    .kind(TextKind::Lines(3))
                    .code()
                    .hint("One per line.")
                    .message(control("options-error"), message("options"))
                    .view()}
                <Field
                    id=default_id.clone()
                    label="Default"
                    note=" (optional)"
                    error_id=control("default-error")
                    message=message("default")
                    let(aria: FieldAria)
                >
                    <select
                        id=default_id.clone()
                        aria-invalid=aria.invalid
                        aria-describedby=aria.described_by
                        on:change=move |ev| row.default_text.set(event_target_value(&ev))
                    >
                        <option value="" selected=move || row.default_text.with(String::is_empty)>"No default"</option>
                        {move || choices().into_iter().map(|choice| {
                            let (value, text) = (choice.clone(), choice.clone());
                            view! {
                                <option
                                    value=choice
                                    selected=move || row.default_text.with(|chosen| *chosen == value)
                                >
                                    {text}
                                </option>
                            }
                        }).collect_view()}
                    </select>
                </Field>
            }
            .into_any()
        }
    }
}
