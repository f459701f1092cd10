//! The request headers a run sent, as its record keeps them: secret values arrive from the
//! worker already replaced by `[redacted]`, so there is nothing here to hide.

use leptos::prelude::*;
use shared::api::{SentHeader, REDACTED};

/// A collapsed list of the headers sent; nothing when the run sent nothing or the role
/// may not see run details.
#[component]
pub fn RequestHeaders(
    /// From the run record.
    headers: Option<Vec<SentHeader>>,
) -> impl IntoView {
    headers
        .filter(|headers| !headers.is_empty())
        .map(|headers| {
            view! {
                <details class="request-headers">
                    <summary>"Request headers sent (" {headers.len()} ")"</summary>
                    <dl class="facts headers">
                        {headers.into_iter().map(|header| {
                            let class = if header.value == REDACTED { "redacted" } else { "" };
                            view! {
                                <dt><code>{header.name}</code></dt>
                                // Text, never markup.
                                <dd class=class><code>{header.value}</code></dd>
                            }
                        }).collect_view()}
                    </dl>
                </details>
            }
        })
}
