//! How a page says "loading", "that failed" and "this field is wrong".

use leptos::prelude::*;

use crate::api::ApiError;

/// A polite loading line, announced to screen readers.
#[component]
pub fn Loading(
    /// What is loading, e.g. "Loading incidents…".
    #[prop(into)]
    what: String,
) -> impl IntoView {
    view! {
        <p class="loading" role="status">
            <span class="spinner" aria-hidden="true"></span>
            {what}
        </p>
    }
}

/// A failed call's message. 401s are not shown: the app is already on its way to the
/// sign-in page.
#[component]
pub fn ErrorNotice(
    /// The failure.
    error: ApiError,
) -> impl IntoView {
    (!error.is_unauthorized()).then(|| {
        view! {
            <div class="notice error" role="alert">
                <p>{error.message}</p>
            </div>
        }
    })
}

/// The error under one input, or nothing; `id` is what the input's `aria-describedby`
/// names.
#[component]
pub fn FieldMessage(
    /// Element id, from `forms::error_id`.
    #[prop(into)]
    id: String,
    /// The message, if the field has a problem.
    message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <p class="field-error" id=id hidden=move || message.with(Option::is_none)>
            {move || message.get()}
        </p>
    }
}
