//! The buttons under a paged list (incidents, a timeline, the audit log): "Older …" shows the page after
//! this one, "Newest …" goes back to the first. The list's resource reads `cursor`, so a
//! press is a fetch of that page, with the list's own loading and error states.

use leptos::prelude::*;

/// "Older" while the list has more, "Newest" when an older page is shown.
#[component]
pub fn PageButtons(
    /// The page the list shows: `None` for the newest.
    cursor: RwSignal<Option<String>>,
    /// The next (older) page's cursor; `None` on the oldest page.
    next: Option<String>,
    /// The label of the button to the next page ("Older incidents").
    older: &'static str,
    /// The label of the button back to the first page ("Newest incidents").
    newest: &'static str,
) -> impl IntoView {
    let paged = cursor.with_untracked(Option::is_some);
    (paged || next.is_some()).then(|| {
        view! {
            <p class="older">
                {paged.then(|| view! {
                    <button type="button" class="button secondary" on:click=move |_| cursor.set(None)>{newest}</button>
                })}
                {next.map(|next| view! {
                    <button type="button" class="button secondary" on:click=move |_| cursor.set(Some(next.clone()))>{older}</button>
                })}
            </p>
        }
    })
}
