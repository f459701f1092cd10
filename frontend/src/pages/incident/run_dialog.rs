//! The small form a run opens when its action asks first: the inputs in order with their
//! defaults filled in, the action's confirmation, and for a type-to-confirm action the box
//! its name must be typed into before Run is enabled; under them, the request that will
//! be sent, rendered by the worker for these values and this incident.
//!
//! Keyboard and phone first: focus moves into the form when it opens and to the first
//! field with a problem after a refused attempt, Escape closes it, every control has its
//! label, hint and error tied to it, and Enter runs. The values are checked with the
//! worker's own rules before anything is sent; the worker's 422 lands on the same fields.

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::prelude::*;
use shared::api::{ActionSummary, PreviewRequest, RunRequest};
use shared::inputs::{InputDefinition, InputType};
use shared::FieldError;
use wasm_bindgen::JsCast;

use crate::components::{
    live_preview, request_preview, Field, FieldAria, FieldLayout, PreviewCall,
};
use crate::forms::{error_id, message_for, FormErrors};
use crate::numbers::number_text;

use super::run_values::{field_of, initial, name_matches, run_inputs, Typed};

/// The form, open under the action's button.
#[component]
pub fn RunDialog(
    /// The form's element id (the action button's `aria-controls`).
    id: String,
    /// The service the action belongs to, for the preview.
    service_id: String,
    /// The incident the run is for, which the preview renders against.
    incident_id: String,
    /// The action to run.
    action: ActionSummary,
    /// While a run is on its way, Run waits.
    #[prop(into)]
    busy: Signal<bool>,
    /// The worker's per-field answer to the last attempt (`inputs.<key>`).
    server_errors: RwSignal<Vec<FieldError>>,
    /// Send the run.
    on_run: Callback<RunRequest>,
    /// Close without running.
    on_cancel: Callback<()>,
) -> impl IntoView {
    let ActionSummary {
        id: action_id,
        name,
        inputs,
        confirm,
        ..
    } = action;
    let form = format!("run-{action_id}");
    let title_id = format!("{form}-title");
    let typed: Vec<RwSignal<Typed>> = inputs
        .iter()
        .map(|input| RwSignal::new(initial(input)))
        .collect();
    let inputs = StoredValue::new(inputs);
    let typed = StoredValue::new(typed);
    let values = move || {
        let now: Vec<Typed> =
            typed.with_value(|typed| typed.iter().map(|value| value.get()).collect());
        inputs.with_value(|inputs| run_inputs(inputs, &now))
    };

    // Once the values are valid, the request they make, rendered by the worker.
    let preview_call = Memo::new(move |_| {
        values().ok().map(|inputs| {
            let body = PreviewRequest {
                incident_id: Some(incident_id.clone()),
                inputs: Some(inputs),
                draft: None,
            };
            PreviewCall::new(&service_id, Some(&action_id), &body)
        })
    });
    let preview = live_preview(preview_call);

    // Checked on every change once Run has been pressed, so a fixed field clears.
    let attempted = RwSignal::new(false);
    let client_errors = Memo::new(move |_| {
        if attempted.get() {
            values().err().unwrap_or_default()
        } else {
            Vec::new()
        }
    });
    let errors = FormErrors {
        client: client_errors,
        server: server_errors,
    };
    let fields = inputs.with_value(|inputs| {
        typed.with_value(|typed| {
            inputs
                .iter()
                .zip(typed)
                .map(|(input, value)| {
                    view! { <InputField form=form.clone() input=input.clone() value=*value errors /> }
                })
                .collect_view()
        })
    });

    let asks_confirmation = confirm.is_some();
    let must_type = confirm
        .as_ref()
        .is_some_and(|confirm| confirm.type_to_confirm);
    let typed_name = RwSignal::new(String::new());
    let confirmed = Memo::new({
        let name = name.clone();
        move |_| !must_type || typed_name.with(|typed| name_matches(typed, &name))
    });

    let focus_first_problem = {
        let form = form.clone();
        move |problems: &[FieldError]| {
            let first = inputs.with_value(|inputs| {
                inputs
                    .iter()
                    .find(|input| message_for(problems, &field_of(input)).is_some())
                    .map(|input| control_id(&form, input))
            });
            if let Some(element) = first
                .and_then(|id| document().get_element_by_id(&id))
                .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = element.focus();
            }
        }
    };
    // The worker's refusal names fields too: take the keyboard to the first.
    Effect::new({
        let focus_first_problem = focus_first_problem.clone();
        move |_| {
            let problems = server_errors.get();
            if !problems.is_empty() {
                focus_first_problem(&problems);
            }
        }
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        attempted.set(true);
        server_errors.set(Vec::new());
        if busy.get_untracked() || !confirmed.get_untracked() {
            return;
        }
        match untrack(values) {
            Ok(inputs) => on_run.run(RunRequest {
                inputs,
                confirmed: asks_confirmation,
            }),
            Err(problems) => focus_first_problem(&problems),
        }
    };

    let form_ref = NodeRef::<leptos::html::Form>::new();
    // Into the form as it opens: its first control (or Run, when it asks no input).
    Effect::new(move |_| {
        if let Some(element) = form_ref
            .get()
            .and_then(|form| {
                form.query_selector("input, select, textarea, button")
                    .ok()
                    .flatten()
            })
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });

    let message_id = format!("{form}-confirm-message");
    let type_id = format!("{form}-type-name");
    let type_hint_id = format!("{form}-type-name-hint");
    let confirm_view = confirm.map(|confirm| {
        view! {
            <p class="run-confirm-message" id=message_id.clone()>
                <strong>{confirm.message}</strong>
            </p>
        }
    });
    let type_view = must_type.then(|| {
        let described = format!("{message_id} {type_hint_id}");
        view! {
            <div class="field">
                <label for=type_id.clone()>"Type " <strong>{name.clone()}</strong> " to confirm"</label>
                <input
                    id=type_id
                    type="text"
                    autocomplete="off"
                    autocapitalize="off"
                    spellcheck="false"
                    bind:value=typed_name
                    aria-describedby=described
                />
                <p class="hint" id=type_hint_id>"Run is enabled once this is the action's name exactly."</p>
            </div>
        }
    });

    view! {
        <form
            id=id
            class="run-dialog"
            node_ref=form_ref
            novalidate
            aria-labelledby=title_id
            on:submit=submit
            on:keydown=move |ev: KeyboardEvent| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    on_cancel.run(());
                }
            }
        >
            <h3 id=title_id.clone()>"Run “" {name.clone()} "”"</h3>
            {fields}
            {confirm_view}
            {type_view}
            <details class="request-preview-details">
                <summary>"The request that will be sent"</summary>
                {request_preview(preview, "Fill in the required fields to see the request.")}
            </details>
            <div class="form-actions">
                <button
                    type="submit"
                    class=if asks_confirmation { "button danger" } else { "button" }
                    disabled=move || busy.get() || !confirmed.get()
                >
                    "Run" <span class="visually-hidden">" " {name}</span>
                </button>
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

/// The element id of an input's control.
fn control_id(form: &str, input: &InputDefinition) -> String {
    format!("{form}-{}", input.key)
}

/// One input: its label, the control its type calls for, its hint and its error.
#[component]
fn InputField(
    /// The form's id prefix.
    form: String,
    /// The input.
    input: InputDefinition,
    /// What the control holds.
    value: RwSignal<Typed>,
    /// The form's problems, keyed `inputs.<key>`.
    errors: FormErrors,
) -> impl IntoView {
    let id = control_id(&form, &input);
    let field = field_of(&input);
    let error = error_id(&form, &field);
    let message = errors.signal_for(field);
    let hint = input.help.clone();
    let label = input.label.trim().to_owned();
    let note = (!input.required).then(|| " (optional)".to_owned());
    let start = match value.get_untracked() {
        Typed::Text(text) => text,
        Typed::Checked(_) | Typed::NotANumber => String::new(),
    };
    let set_text = move |ev| value.set(Typed::Text(event_target_value(&ev)));
    let control_id = id.clone();

    if input.input_type == InputType::Boolean {
        let checked = value.get_untracked() == Typed::Checked(true);
        return view! {
            <Field id label layout=FieldLayout::Checkbox hint=hint error_id=error message let(aria: FieldAria)>
                <input
                    id=control_id
                    type="checkbox"
                    checked=checked
                    aria-invalid=aria.invalid
                    aria-describedby=aria.described_by
                    on:change=move |ev| value.set(Typed::Checked(event_target_checked(&ev)))
                />
            </Field>
        }
        .into_any();
    }

    view! {
        <Field id label note=note hint=hint error_id=error message let(aria: FieldAria)>
            {match input.input_type {
                InputType::Text => view! {
                    <textarea
                        id=control_id.clone()
                        rows="3"
                        prop:value=start.clone()
                        aria-invalid=aria.invalid
                        aria-describedby=aria.described_by
                        on:input=set_text
                    ></textarea>
                }
                .into_any(),
                InputType::Number => view! {
                    <input
                        id=control_id.clone()
                        type="number"
                        step="any"
                        inputmode="decimal"
                        min=input.min.and_then(number_text)
                        max=input.max.and_then(number_text)
                        value=start.clone()
                        aria-invalid=aria.invalid
                        aria-describedby=aria.described_by
                        on:input=move |ev| {
                            // Text the browser cannot read as a number reads back as "", which
                            // must not pass for a field left blank.
                            let unreadable = event_target::<web_sys::HtmlInputElement>(&ev)
                                .validity()
                                .bad_input();
                            value.set(if unreadable {
                                Typed::NotANumber
                            } else {
                                Typed::Text(event_target_value(&ev))
                            });
                        }
                    />
                }
                .into_any(),
                InputType::Select => {
                    // Without a default the list starts on a blank choice, so nothing is picked
                    // for the clicker; with one, blank would only mean the default again.
                    let blank = input.default.is_none().then(|| {
                        let text = if input.required { "Choose…" } else { "None" };
                        view! { <option value="" selected=start.is_empty()>{text}</option> }
                    });
                    let options = input
                        .options
                        .iter()
                        .map(|option| {
                            view! { <option value=option.clone() selected=*option == start>{option.clone()}</option> }
                        })
                        .collect_view();
                    view! {
                        <select
                            id=control_id.clone()
                            aria-invalid=aria.invalid
                            aria-describedby=aria.described_by
                            on:change=set_text
                        >
                            {blank}
                            {options}
                        </select>
                    }
                    .into_any()
                }
                InputType::String | InputType::Boolean => view! {
                    <input
                        id=control_id.clone()
                        type="text"
                        autocomplete="off"
                        value=start.clone()
                        aria-invalid=aria.invalid
                        aria-describedby=aria.described_by
                        on:input=set_text
                    />
                }
                .into_any(),
            }}
        </Field>
    }
    .into_any()
}
