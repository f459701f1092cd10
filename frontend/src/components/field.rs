//! One form field: its label, the control, an optional hint and the message under it,
//! with the control's `aria-invalid` and `aria-describedby` wired to them.
//!
//! Every form used to repeat this block, and each copy had to remember the ids. The
//! control stays the caller's own element (an input, a textarea, a select), so its
//! binding and type are written where they matter; it takes its aria wiring through
//! `let(aria: FieldAria)`:
//!
//! ```ignore
//! <Field id="service-name" label="Name" error_id=error_id("service", "name") message let(aria: FieldAria)>
//!     <input id="service-name" type="text" bind:value=name
//!         aria-invalid=aria.invalid aria-describedby=aria.described_by />
//! </Field>
//! ```
//!
//! The component is not generic: the closure is erased ([`FieldControl`]) and the frame
//! around it is built once, by [`field_frame`], to keep the bundle small.

use leptos::prelude::*;

use crate::components::FieldMessage;
use crate::forms::{aria_invalid, described_by};

/// What a field's control carries so that assistive technology reads its hint and its
/// problem with it.
#[derive(Debug, Clone, Copy)]
pub struct FieldAria {
    /// `"true"` while the field has a problem.
    pub invalid: Signal<&'static str>,
    /// The hint's id, the message's id while there is a problem, and any extra ids.
    pub described_by: Signal<Option<String>>,
}

/// How the label sits next to the control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldLayout {
    /// Label above the control (text boxes, selects).
    #[default]
    Stacked,
    /// Control, then its label on the same line (a checkbox).
    Checkbox,
}

/// A field's control, built once its aria wiring is known: whatever
/// `let(aria: FieldAria)` builds, erased, so that [`Field`] itself is compiled once.
pub struct FieldControl(Box<dyn FnOnce(FieldAria) -> AnyView>);

impl<C, V> From<C> for FieldControl
where
    C: FnOnce(FieldAria) -> V + 'static,
    V: IntoView + 'static,
{
    fn from(build: C) -> Self {
        Self(Box::new(move |aria| build(aria).into_any()))
    }
}

/// A labelled control with its hint and message; see the module documentation.
#[component]
pub fn Field(
    /// The control's element id, which the label points at.
    #[prop(into)]
    id: String,
    /// The label text.
    #[prop(into)]
    label: String,
    /// A muted note after the label, e.g. " (optional)".
    #[prop(optional, into)]
    note: MaybeProp<String>,
    /// The hint under the control; its element id is `{id}-hint`. Whether there is one
    /// is settled when the field is drawn; its text may change.
    #[prop(optional, into)]
    hint: MaybeProp<String>,
    /// The message element's id (`forms::error_id`); without one the field has no message.
    #[prop(optional, into)]
    error_id: Option<String>,
    /// The field's problem, if any.
    #[prop(optional, into)]
    message: Option<Signal<Option<String>>>,
    /// More ids the control is described by while they are `Some` (a reason it is off).
    #[prop(optional, into)]
    also_described_by: Option<Signal<Option<String>>>,
    /// Label above, or checkbox style.
    #[prop(optional)]
    layout: FieldLayout,
    /// The control, given its aria wiring.
    #[prop(into)]
    children: FieldControl,
) -> impl IntoView {
    let (aria, parts) = field_parts(id, hint, error_id, message, also_described_by);
    let control = (children.0)(aria);
    field_frame(FieldParts {
        label,
        note,
        layout,
        control,
        ..parts
    })
}

/// The aria wiring of a field, and its parts but for the control.
fn field_parts(
    id: String,
    hint: MaybeProp<String>,
    error_id: Option<String>,
    message: Option<Signal<Option<String>>>,
    also_described_by: Option<Signal<Option<String>>>,
) -> (FieldAria, FieldParts) {
    let message = message.unwrap_or_else(|| Signal::stored(None));
    let hint_id = hint
        .with_untracked(Option::is_some)
        .then(|| format!("{id}-hint"));
    let error_id = error_id.unwrap_or_else(|| format!("{id}-error"));
    let described = described_by(hint_id.clone(), error_id.clone(), message);
    let aria = FieldAria {
        invalid: Signal::derive(aria_invalid(message)),
        described_by: Signal::derive(move || {
            let extra = also_described_by.and_then(|extra| extra.get());
            match (described(), extra) {
                (Some(ids), Some(extra)) => Some(format!("{ids} {extra}")),
                (ids, extra) => ids.or(extra),
            }
        }),
    };
    let parts = FieldParts {
        id,
        label: String::new(),
        note: MaybeProp::default(),
        hint: hint_id.map(|hint_id| (hint, hint_id)),
        error_id,
        message,
        layout: FieldLayout::Stacked,
        control: ().into_any(),
    };
    (aria, parts)
}

/// Everything [`field_frame`] lays out.
struct FieldParts {
    id: String,
    label: String,
    note: MaybeProp<String>,
    hint: Option<(MaybeProp<String>, String)>,
    error_id: String,
    message: Signal<Option<String>>,
    layout: FieldLayout,
    control: AnyView,
}

/// The frame around a control: one non-generic function for every field of the app.
fn field_frame(parts: FieldParts) -> AnyView {
    let FieldParts {
        id,
        label,
        note,
        hint,
        error_id,
        message,
        layout,
        control,
    } = parts;
    let label = view! {
        <label for=id>{label} {move || note.get().map(|note| view! { <span class="optional">{note}</span> })}</label>
    };
    let hint =
        hint.map(|(text, hint_id)| view! { <p class="hint" id=hint_id>{move || text.get()}</p> });
    let message = view! { <FieldMessage id=error_id message /> };
    match layout {
        FieldLayout::Stacked => view! {
            <div class="field">{label} {control} {hint} {message}</div>
        }
        .into_any(),
        FieldLayout::Checkbox => view! {
            <div class="field">
                <div class="field checkbox">{control} {label}</div>
                {hint}
                {message}
            </div>
        }
        .into_any(),
    }
}

/// What a [`TextBox`] is for, which sets its element and keyboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TextKind {
    /// One line of text.
    #[default]
    Line,
    /// A URL.
    Url,
    /// An e-mail address.
    Email,
    /// A number typed as text, so that what is not one can be said so.
    Decimal,
    /// Several lines, this many rows high.
    Lines(u8),
}

/// The commonest field: a text box bound to a string, with its label, hint and message.
/// Built by one non-generic function however many forms use it, which keeps the bundle
/// small; controls with needs of their own use [`Field`].
#[derive(Debug, Clone)]
pub struct TextBox {
    id: String,
    label: String,
    value: RwSignal<String>,
    kind: TextKind,
    note: Option<&'static str>,
    hint: MaybeProp<String>,
    error_id: Option<String>,
    message: Option<Signal<Option<String>>>,
    placeholder: Option<&'static str>,
    max_length: Option<&'static str>,
    code: bool,
    secret: Option<RwSignal<bool>>,
}

impl TextBox {
    /// A one-line box with id `id`, labelled `label`, holding `value`.
    pub fn new(id: impl Into<String>, label: impl Into<String>, value: RwSignal<String>) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            value,
            kind: TextKind::Line,
            note: None,
            hint: MaybeProp::default(),
            error_id: None,
            message: None,
            placeholder: None,
            max_length: None,
            code: false,
            secret: None,
        }
    }

    /// Hides what is typed while `secret` is set.
    pub fn secret(mut self, secret: RwSignal<bool>) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Its kind.
    pub fn kind(mut self, kind: TextKind) -> Self {
        self.kind = kind;
        self
    }

    /// Marks it optional after the label.
    pub fn optional(mut self) -> Self {
        self.note = Some(" (optional)");
        self
    }

    /// The hint under it.
    pub fn hint(mut self, hint: impl Into<MaybeProp<String>>) -> Self {
        self.hint = hint.into();
        self
    }

    /// Its message element's id and its problem.
    pub fn message(mut self, error_id: String, message: Signal<Option<String>>) -> Self {
        self.error_id = Some(error_id);
        self.message = Some(message);
        self
    }

    /// An example shown while it is empty; an empty one shows none.
    pub fn placeholder(mut self, placeholder: &'static str) -> Self {
        self.placeholder = Some(placeholder);
        self
    }

    /// The most characters it takes.
    pub fn max_length(mut self, max_length: &'static str) -> Self {
        self.max_length = Some(max_length);
        self
    }

    /// Monospace, no spelling checks: for code and keys.
    pub fn code(mut self) -> Self {
        self.code = true;
        self
    }

    /// The field.
    pub fn view(self) -> AnyView {
        let Self {
            id,
            label,
            value,
            kind,
            note,
            hint,
            error_id,
            message,
            placeholder,
            max_length,
            code,
            secret,
        } = self;
        let (aria, parts) = field_parts(id.clone(), hint, error_id, message, None);
        let placeholder = placeholder.filter(|text| !text.is_empty());
        let spellcheck = (code || kind != TextKind::Line).then_some("false");
        let control = match kind {
            TextKind::Lines(rows) => view! {
                <textarea
                    id=id
                    rows=rows
                    class=code.then_some("code")
                    spellcheck=spellcheck
                    placeholder=placeholder
                    bind:value=value
                    aria-invalid=aria.invalid
                    aria-describedby=aria.described_by
                ></textarea>
            }
            .into_any(),
            TextKind::Line | TextKind::Url | TextKind::Email | TextKind::Decimal => {
                let (input_type, input_mode) = match kind {
                    TextKind::Url => ("url", Some("url")),
                    TextKind::Email => ("email", Some("email")),
                    TextKind::Decimal => ("text", Some("decimal")),
                    TextKind::Line | TextKind::Lines(_) => ("text", None),
                };
                view! {
                    <input
                        id=id
                        type=move || {
                            if secret.is_some_and(|secret| secret.get()) {
                                "password"
                            } else {
                                input_type
                            }
                        }
                        inputmode=input_mode
                        autocomplete="off"
                        autocapitalize=code.then_some("off")
                        spellcheck=spellcheck
                        maxlength=max_length
                        placeholder=placeholder
                        bind:value=value
                        aria-invalid=aria.invalid
                        aria-describedby=aria.described_by
                    />
                }
                .into_any()
            }
        };
        field_frame(FieldParts {
            label,
            note: note.map(str::to_owned).into(),
            control,
            ..parts
        })
    }
}

/// A checkbox bound to a flag, with its label after it.
pub fn check_box(
    id: impl Into<String>,
    label: impl Into<String>,
    checked: RwSignal<bool>,
) -> AnyView {
    let id = id.into();
    let (aria, parts) = field_parts(id.clone(), MaybeProp::default(), None, None, None);
    let control = view! {
        <input id=id type="checkbox" bind:checked=checked aria-describedby=aria.described_by />
    }
    .into_any();
    field_frame(FieldParts {
        label: label.into(),
        layout: FieldLayout::Checkbox,
        control,
        ..parts
    })
}

/// A titled group of fields (a `<fieldset>`), with an optional hint under its title.
/// One non-generic function for every group of the action form.
pub fn group(
    class: &'static str,
    legend: &'static str,
    hint: Option<&'static str>,
    body: AnyView,
) -> AnyView {
    view! {
        <fieldset class=class>
            <legend>{legend}</legend>
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
            {body}
        </fieldset>
    }
    .into_any()
}

/// A small secondary button: add, remove and move in the editors' lists.
pub fn small_button(
    label: &'static str,
    id: Option<String>,
    disabled: Signal<bool>,
    on_press: Callback<()>,
) -> AnyView {
    view! {
        <button
            type="button"
            id=id
            class="button small secondary"
            disabled=disabled
            on:click=move |_| on_press.run(())
        >
            {label}
        </button>
    }
    .into_any()
}

/// A `<select>` bound to a string, with its label and, optionally, its message element's
/// id and problem. `options` are `(value, text)`, in order.
pub fn select_box(
    id: String,
    label: &'static str,
    value: RwSignal<String>,
    options: Vec<(String, String)>,
    message: Option<(String, Signal<Option<String>>)>,
) -> AnyView {
    let (error_id, message) = message.unzip();
    let (aria, parts) = field_parts(id.clone(), MaybeProp::default(), error_id, message, None);
    let control = view! {
        <select
            id=id
            on:change=move |ev| value.set(event_target_value(&ev))
            prop:value=move || value.get()
            aria-invalid=aria.invalid
            aria-describedby=aria.described_by
        >
            {options.into_iter().map(|(option, text)| {
                let this = option.clone();
                view! {
                    <option value=option selected=move || value.with(|chosen| *chosen == this)>
                        {text}
                    </option>
                }
            }).collect_view()}
        </select>
    }
    .into_any();
    field_frame(FieldParts {
        label: label.to_owned(),
        control,
        ..parts
    })
}
