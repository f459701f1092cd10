//! The request headers a run sent, as its record keeps them: secret values arrive from the
//! worker already replaced by `[redacted]`, so there is nothing here to hide.

use leptos::prelude::*;
use shared::api::SentHeader;

use crate::components::header_list;

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
                    {header_list(headers)}
                </details>
            }
        })
}
