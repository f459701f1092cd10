//! A secret shown once (an action's signing secret, a user's API token): the value with a
//! copy button and "I have saved it". Focus moves to its heading so keyboard and
//! screen-reader users learn that it appeared.

use leptos::prelude::*;

use crate::components::CopyButton;

/// The panel; `on_dismiss` forgets the secret, after which no page shows it again.
#[component]
pub fn OneTimeSecret(
    /// The heading, e.g. `Signing secret for “Restart”`.
    heading: String,
    /// What the secret is for, after "Copy it now: it is shown only this once."
    purpose: &'static str,
    /// The secret.
    secret: String,
    /// What is copied, for the copy button's accessible name.
    what: &'static str,
    /// Called by "I have saved it".
    on_dismiss: Callback<()>,
) -> impl IntoView {
    let heading_ref = NodeRef::<leptos::html::H2>::new();
    Effect::new(move |_| {
        if let Some(heading) = heading_ref.get() {
            let _ = heading.focus();
        }
    });
    view! {
        <section class="notice secret" aria-labelledby="secret-heading">
            <h2 id="secret-heading" tabindex="-1" node_ref=heading_ref>
                {heading}
            </h2>
            <p>"Copy it now: it is shown only this once. " {purpose}</p>
            <div class="key-row">
                <code class="key">{secret.clone()}</code>
                <CopyButton text=secret what />
            </div>
            <button type="button" class="button small secondary" on:click=move |_| on_dismiss.run(())>
                "I have saved it"
            </button>
        </section>
    }
}
