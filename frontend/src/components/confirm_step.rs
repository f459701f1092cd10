//! The one way a destructive step asks "are you sure?": the question and its consequence,
//! the step's own button and Cancel. Keyboard first: the step's button takes focus when
//! the question appears, Escape cancels, and cancelling hands focus back to the control
//! that asked.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The confirmation group.
#[component]
pub fn ConfirmStep(
    /// What the step does, e.g. "Delete user": the group's name and the button's text.
    label: &'static str,
    /// The question, e.g. `Delete “Ada”?`.
    question: String,
    /// What follows if the step is taken.
    consequence: &'static str,
    /// Whether the step destroys something (a red button).
    #[prop(optional)]
    danger: bool,
    /// While the step runs, its button waits.
    #[prop(into)]
    busy: Signal<bool>,
    /// Take the step.
    on_confirm: Callback<()>,
    /// Close the question without doing anything.
    on_cancel: Callback<()>,
) -> impl IntoView {
    // Whatever had focus when the question appeared (the button that asked) gets it back
    // on Cancel, so a keyboard user is not dropped at the top of the page.
    let asked_from = StoredValue::new_local(
        document()
            .active_element()
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok()),
    );
    let cancel = move || {
        on_cancel.run(());
        if let Some(element) = asked_from.get_value() {
            let _ = element.focus();
        }
    };
    let confirm_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = confirm_button.get() {
            let _ = button.focus();
        }
    });
    view! {
        <div
            class="confirm"
            role="group"
            aria-label=label
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    cancel();
                }
            }
        >
            <p><strong>{question}</strong> " " {consequence}</p>
            <button
                type="button"
                class=if danger { "button small danger" } else { "button small" }
                node_ref=confirm_button
                disabled=busy
                on:click=move |_| on_confirm.run(())
            >
                {label}
            </button>
            <button type="button" class="button small secondary" on:click=move |_| cancel()>
                "Cancel"
            </button>
        </div>
    }
}
