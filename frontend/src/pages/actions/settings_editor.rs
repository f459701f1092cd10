//! The action form's live state for what a run asks first, when the action applies and
//! what it sends ([`SettingsSignals`]), and its editors ([`settings_editors`]): the form
//! shows them as one block, so a new setting is added here alone.
//!
//! An action whose configuration did not come back (unreadable, or still spreading) has
//! no settings to start from: the editors are not shown then, and an edit leaves those
//! fields out so the stored ones stay.

use leptos::prelude::*;
use shared::incident::Urgency;
use shared::run_words;

use super::draft::{
    AvailabilityDraft, ConfirmDraft, OfferedVariable, RunSettingsDraft, STATUSES, URGENCIES,
};
use super::inputs_editor::{inputs_editor, InputRow};
use super::template_editor::template_editor;
use crate::components::{check_box, group, TextBox, TextKind};
use crate::format::status_label;
use crate::forms::{error_id, FormErrors};

/// The editors' signals, one set per form.
#[derive(Debug, Clone, Copy)]
pub struct SettingsSignals {
    /// Whether the loaded action carried its settings (a new one always does).
    pub editable: RwSignal<bool>,
    /// The inputs editor's rows.
    pub inputs: RwSignal<Vec<InputRow>>,
    /// The next input row id.
    pub next_input: StoredValue<usize>,
    /// "Ask for confirmation".
    pub asks: RwSignal<bool>,
    /// The confirmation message.
    pub confirm_message: RwSignal<String>,
    /// "Type the action's name to confirm".
    pub type_to_confirm: RwSignal<bool>,
    /// Whether each of [`STATUSES`] is ticked.
    pub statuses: [RwSignal<bool>; 3],
    /// Whether each of [`URGENCIES`] is ticked.
    pub urgencies: [RwSignal<bool>; 2],
    /// The body template.
    pub body_template: RwSignal<String>,
    /// The deadline, in seconds.
    pub timeout_seconds: RwSignal<String>,
}

impl SettingsSignals {
    /// The editors showing `draft`.
    pub fn new(draft: Option<RunSettingsDraft>) -> Self {
        let signals = Self {
            editable: RwSignal::new(false),
            inputs: RwSignal::new(Vec::new()),
            next_input: StoredValue::new(0),
            asks: RwSignal::new(false),
            confirm_message: RwSignal::new(String::new()),
            type_to_confirm: RwSignal::new(false),
            statuses: STATUSES.map(|_| RwSignal::new(false)),
            urgencies: URGENCIES.map(|_| RwSignal::new(false)),
            body_template: RwSignal::new(String::new()),
            timeout_seconds: RwSignal::new(String::new()),
        };
        signals.load(draft);
        signals
    }

    /// Puts `draft` in every editor; new row ids, so no row keeps an input (or an error)
    /// of the old list.
    pub fn load(self, draft: Option<RunSettingsDraft>) {
        self.editable.try_set(draft.is_some());
        let draft = draft.unwrap_or_default();
        let first = self.next_input.try_get_value().unwrap_or_default();
        self.next_input.try_set_value(first + draft.inputs.len());
        self.inputs.try_set(
            draft
                .inputs
                .into_iter()
                .enumerate()
                .map(|(offset, input)| InputRow::new(first + offset, input))
                .collect(),
        );
        self.asks.try_set(draft.confirm.asks);
        self.confirm_message.try_set(draft.confirm.message);
        self.type_to_confirm.try_set(draft.confirm.type_to_confirm);
        for (status, ticked) in STATUSES.into_iter().zip(self.statuses) {
            ticked.try_set(draft.availability.statuses.contains(&status));
        }
        for (urgency, ticked) in URGENCIES.into_iter().zip(self.urgencies) {
            ticked.try_set(draft.availability.urgencies.contains(&urgency));
        }
        self.body_template.try_set(draft.body_template);
        self.timeout_seconds.try_set(draft.timeout_seconds);
    }

    /// What the editors hold now; `None` when they are not shown.
    pub fn draft(self) -> Option<RunSettingsDraft> {
        self.editable.get().then(|| RunSettingsDraft {
            inputs: self.inputs.get().iter().map(InputRow::draft).collect(),
            confirm: ConfirmDraft {
                asks: self.asks.get(),
                message: self.confirm_message.get(),
                type_to_confirm: self.type_to_confirm.get(),
            },
            availability: AvailabilityDraft {
                statuses: ticked(&STATUSES, &self.statuses),
                urgencies: ticked(&URGENCIES, &self.urgencies),
            },
            body_template: self.body_template.get(),
            timeout_seconds: self.timeout_seconds.get(),
        })
    }
}

/// Every settings editor, in form order; a note instead when the loaded action did not
/// carry its settings (saving then keeps them).
pub fn settings_editors(
    settings: SettingsSignals,
    errors: FormErrors,
    variables: Signal<Vec<OfferedVariable>>,
) -> AnyView {
    if !settings.editable.get() {
        return view! {
            <p class="notice warning">
                "This action's inputs, confirmation, availability and body template could not be read, so they are not shown; saving keeps them as they are."
            </p>
        }
        .into_any();
    }
    view! {
        {inputs_editor(settings.inputs, settings.next_input, errors)}
        {confirm_editor(settings, errors)}
        {availability_editor(settings)}
        {template_editor(settings.body_template, variables, errors.signal("body_template"))}
        {TextBox::new("action-timeout", "Deadline (seconds)", settings.timeout_seconds)
            .kind(TextKind::Decimal)
            .hint(format!(
                "How long a run waits for the endpoint's answer: 1 to {}. Past it the run fails as “no answer”, and the endpoint may still act on it.",
                run_words::deadline()
            ))
            .message(error_id("action", "timeout_ms"), errors.signal("timeout_ms"))
            .view()}
    }
    .into_any()
}

/// The items whose box is ticked, in the order offered.
fn ticked<T: Copy>(all: &[T], boxes: &[RwSignal<bool>]) -> Vec<T> {
    all.iter()
        .zip(boxes)
        .filter(|(_, ticked)| ticked.get())
        .map(|(item, _)| *item)
        .collect()
}

/// "Ask for confirmation", its message and whether the name must be typed.
fn confirm_editor(settings: SettingsSignals, errors: FormErrors) -> AnyView {
    let body = view! {
        {check_box("action-confirm", "Ask for confirmation before each run", settings.asks)}
        <div hidden=move || !settings.asks.get()>
            {TextBox::new("action-confirm-message", "Message", settings.confirm_message)
                .hint("Shown next to the Run button, e.g. “Rolls production back to the last release”.")
                .message(error_id("action", "confirm.message"), errors.signal("confirm.message"))
                .view()}
            {check_box("action-type-to-confirm", "Make them type the action's name to confirm", settings.type_to_confirm)}
        </div>
    };
    group("group", "Confirmation", None, body.into_any())
}

/// The statuses and urgencies the action is offered for.
fn availability_editor(settings: SettingsSignals) -> AnyView {
    let status_boxes = STATUSES
        .into_iter()
        .zip(settings.statuses)
        .map(|(status, ticked)| {
            check_box(
                format!("action-status-{}", status.as_str()),
                status_label(status),
                ticked,
            )
        })
        .collect_view();
    let urgency_boxes = URGENCIES
        .into_iter()
        .zip(settings.urgencies)
        .map(|(urgency, ticked)| {
            let label = match urgency {
                Urgency::High => "High urgency",
                Urgency::Low => "Low urgency",
            };
            check_box(
                format!("action-urgency-{}", urgency.as_str()),
                label,
                ticked,
            )
        })
        .collect_view();
    let body = view! {
        <div class="checkbox-row" role="group" aria-label="Statuses">{status_boxes}</div>
        <div class="checkbox-row" role="group" aria-label="Urgencies">{urgency_boxes}</div>
    };
    group(
        "group",
        "Offered on",
        Some("Tick none in a list to offer the action whatever the incident's status or urgency."),
        body.into_any(),
    )
}
