//! What an unknown address shows.

use leptos::prelude::*;

/// "Page not found", with a way back.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <main id="main" class="narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><a href="/incidents">"Go to incidents"</a></p>
        </main>
    }
}
