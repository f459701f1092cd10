//! "Older": the button under a paged list (incidents, a timeline) that fetches the next
//! page and adds it below, with its own loading and error state. Not generic, so the
//! bundle holds one copy of it whatever the lists.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;

/// Loads the page after `cursor`, adds its rows, and answers the next cursor.
pub type LoadOlder =
    Box<dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<Option<String>, ApiError>>>>>;

/// The button, shown while the list has more; `what` names the rows ("incidents").
#[component]
pub fn OlderButton(
    /// The next page's cursor; `None` once the oldest page is shown.
    next: RwSignal<Option<String>>,
    /// Fetches and adds a page.
    load: LoadOlder,
    /// What the rows are, for the label.
    what: &'static str,
) -> impl IntoView {
    let loading = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let load = StoredValue::new_local(load);
    let on_click = move |_| {
        let Some(cursor) = next.get_untracked() else {
            return;
        };
        loading.set(true);
        failed.set(None);
        let page = load.with_value(|load| load(cursor));
        spawn_local(async move {
            match page.await {
                Ok(cursor) => next.set(cursor),
                Err(error) => failed.set(Some(error.message)),
            }
            loading.set(false);
        });
    };
    view! {
        <Show when=move || next.with(Option::is_some)>
            <p class="older">
                <button type="button" class="button secondary" on:click=on_click disabled=move || loading.get()>
                    {move || if loading.get() { format!("Loading older {what}…") } else { format!("Older {what}") }}
                </button>
            </p>
        </Show>
        {move || failed.get().map(|message| view! {
            <div class="notice error" role="alert"><p>{message}</p></div>
        })}
    }
}
