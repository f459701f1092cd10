//! The action form's body template editor: a monospace box for the Jinja template of the
//! JSON body, the variables it can use (each inserted at the cursor with one press), how
//! values print, and the worker's "Line N: ..." when the template does not render.
//!
//! The template is only compiled and rendered by the worker (the engine does not fit the
//! browser's bundle); its problems arrive with the live preview or a save, keyed
//! `body_template`, and are shown under the box like any other field's.

use leptos::prelude::*;

use super::draft::OfferedVariable;
use wasm_bindgen::JsCast;

use crate::components::{group, TextBox, TextKind};
use crate::forms::error_id;

/// `text` with `insertion` put in place of the selection `start..end`, and the cursor
/// after it. Positions are UTF-16 code units, as the browser counts them; positions past
/// the end (or a reversed selection) are clamped.
pub fn insert_at(text: &str, start: u32, end: u32, insertion: &str) -> (String, u32) {
    let byte_at = |position: u32| {
        let mut units = 0_u32;
        for (byte, c) in text.char_indices() {
            if units >= position {
                return byte;
            }
            units += u32::try_from(c.len_utf16()).unwrap_or(2);
        }
        text.len()
    };
    let (from, to) = (byte_at(start), byte_at(end.max(start)));
    let mut out = String::with_capacity(text.len() + insertion.len());
    out.push_str(&text[..from]);
    out.push_str(insertion);
    let cursor = out.encode_utf16().count();
    out.push_str(&text[to..]);
    (out, u32::try_from(cursor).unwrap_or(u32::MAX))
}

/// The template box's element id.
const TEMPLATE_ID: &str = "action-body-template";

/// What the box says under it: what a blank template sends, and how values print.
const TEMPLATE_HINT: &str = "Leave blank to send the default payload (see “What your endpoint receives”). Jinja syntax. Strings print escaped for use inside JSON quotes, as in \"{{ incident.title }}\"; add | tojson to print any value as JSON, as in {{ incident.custom_details | tojson }}.";

/// The `{{ path }}` an insertion writes.
pub fn expression(path: &str) -> String {
    format!("{{{{ {path} }}}}")
}

/// The template box (bound to `template`), its problem (`message`) and the `variables` it
/// can use.
pub fn template_editor(
    template: RwSignal<String>,
    variables: Signal<Vec<OfferedVariable>>,
    message: Signal<Option<String>>,
) -> AnyView {
    let insert = move |path: &str| {
        let Some(element) = document()
            .get_element_by_id(TEMPLATE_ID)
            .and_then(|element| element.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        else {
            return;
        };
        let text = element.value();
        let length = u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX);
        let start = element.selection_start().ok().flatten().unwrap_or(length);
        let end = element.selection_end().ok().flatten().unwrap_or(start);
        let (inserted, cursor) = insert_at(&text, start, end, &expression(path));
        // The box first, then the signal: the binding then finds the same text and leaves
        // the cursor where it is put here.
        element.set_value(&inserted);
        let _ = element.focus();
        let _ = element.set_selection_range(cursor, cursor);
        template.set(inserted);
    };
    let body = view! {
            {TextBox::new(TEMPLATE_ID, "Body template", template)
                .kind(TextKind::Lines(8))
                .code()
                .optional()
                .hint(TEMPLATE_HINT)
                .message(error_id("action", "body_template"), message)
                .view()}
            <p class="hint" id="template-variables-heading">"Variables: press one to insert it at the cursor."</p>
            <ul class="variables" aria-labelledby="template-variables-heading">
                {move || variables.get().into_iter().map(|variable| {
                    let path = variable.path.clone();
                    view! {
                        <li>
                            <button type="button" class="variable" on:click=move |_| insert(&path)>
                                <span class="visually-hidden">"Insert "</span>
                                <code>{variable.path}</code>
                            </button>
                            " "
                            <span class="hint">{variable.meaning}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
    };
    group("group template", "Request body", None, body.into_any())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expression_goes_in_at_the_cursor_and_the_cursor_follows_it() {
        let (text, cursor) = insert_at("{\"t\": \"\"}", 7, 7, &expression("incident.title"));
        assert_eq!(text, "{\"t\": \"{{ incident.title }}\"}");
        assert_eq!(cursor, 7 + 20);
    }

    #[test]
    fn an_expression_replaces_the_selection() {
        let (text, _) = insert_at("say XX now", 4, 6, "{{ a }}");
        assert_eq!(text, "say {{ a }} now");
    }

    #[test]
    fn positions_count_utf16_units_as_the_browser_does() {
        // "é" is one unit, "🔥" two.
        let (text, cursor) = insert_at("é🔥x", 3, 3, "{{ a }}");
        assert_eq!(text, "é🔥{{ a }}x");
        assert_eq!(cursor, 10);
    }

    #[test]
    fn positions_past_the_end_append() {
        let (text, cursor) = insert_at("ab", 9, 2, "{{ a }}");
        assert_eq!(text, "ab{{ a }}");
        assert_eq!(cursor, 9);
    }
}
