//! The sign-in page: trades the sign-in token for the session cookie.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::api;
use crate::components::{Field, FieldAria};
use crate::format::safe_next_path;
use crate::router::Router;
use crate::session::Session;

/// A single password-style field and a button.
#[component]
pub fn SignInPage() -> impl IntoView {
    let session = Session::expect();
    let router = Router::expect();
    let token = RwSignal::new(String::new());
    let missing = RwSignal::new(false);

    let sign_in = Action::new_local(move |token: &String| {
        let token = token.clone();
        async move {
            let answer = api::sign_in(token).await?;
            session.set(answer);
            let next = router.query_now("next");
            router.navigate(&safe_next_path(next.as_deref()));
            Ok::<(), api::ApiError>(())
        }
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let typed = token.get_untracked().trim().to_owned();
        missing.set(typed.is_empty());
        if !typed.is_empty() && !sign_in.pending().get_untracked() {
            // The token is not kept in the page once it has been sent.
            token.set(String::new());
            sign_in.dispatch(typed);
        }
    };

    view! {
        <main id="main" class="sign-in">
            <h1>"Incident Actions"</h1>
            <form class="card" on:submit=submit novalidate>
                <h2>"Sign in"</h2>
                <Field
                    id="sign-in-token"
                    label="Sign-in token"
                    hint=Signal::stored("The admin token of this deployment (ADMIN_TOKEN). The dev command prints it.".to_owned())
                    message=Signal::derive(move || missing.get().then(|| "Enter the sign-in token.".to_owned()))
                    let(aria: FieldAria)
                >
                    <input
                        id="sign-in-token"
                        type="password"
                        autocomplete="current-password"
                        aria-invalid=aria.invalid
                        aria-describedby=aria.described_by
                        bind:value=token
                    />
                </Field>
                <button type="submit" class="button" disabled=move || sign_in.pending().get()>
                    "Sign in"
                </button>
                {move || sign_in.pending().get().then(|| view! { <p role="status">"Signing in…"</p> })}
                {move || match sign_in.value().get() {
                    // Shown even for a 401: here it means the token was wrong.
                    Some(Err(error)) => Some(view! {
                        <div class="notice error" role="alert"><p>{error.message}</p></div>
                    }),
                    _ => None,
                }}
            </form>
        </main>
    }
}
