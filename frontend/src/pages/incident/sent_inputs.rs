//! The input values a run sent, as its record keeps them: shown with the result and on
//! the timeline, as text.

use leptos::prelude::*;
use serde_json::{Map, Value};

use crate::format::run_input_pairs;

/// A small list of `key: value`; nothing when the run sent no inputs.
#[component]
pub fn SentInputs(
    /// From the run record.
    inputs: Option<Map<String, Value>>,
) -> impl IntoView {
    let pairs = run_input_pairs(inputs.as_ref());
    (!pairs.is_empty()).then(|| {
        view! {
            <div class="run-inputs">
                <p class="excerpt-label">"Inputs sent"</p>
                <dl class="facts inputs">
                    {pairs.into_iter().map(|(key, value)| view! {
                        <dt><code>{key}</code></dt>
                        // Text, never markup.
                        <dd>{value}</dd>
                    }).collect_view()}
                </dl>
            </div>
        }
    })
}
