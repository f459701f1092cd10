//! Incident Actions in the browser: the app component and its route table.
//!
//! A client-side rendered Leptos app, served as static files by the worker that also
//! answers `/api/*`. Pages live in `pages/`, one per route; the route table is
//! `router::match_path`; what several pages share is in `components/`; every call to the
//! API goes through `api`.

pub mod api;
mod browser;
mod components;
pub mod format;
pub mod forms;
pub mod numbers;
mod pages;
pub mod permissions;
mod router;
mod session;

use leptos::prelude::*;

use crate::components::{Clock, Shell};
use crate::pages::{NotFoundPage, SignInPage};
use crate::router::{Page, Router};
use crate::session::Session;

/// The whole app: the session and router contexts, and the page the address shows. Every
/// signed-in page is drawn inside the one `Shell`, which stays as pages change.
#[component]
pub fn App() -> impl IntoView {
    Session::provide();
    Clock::provide();
    let page = Router::provide().page();
    // `None` inside the frame, so moving between signed-in pages keeps it.
    let outside = Memo::new(move |_| Some(page.get()).filter(|page| !page.in_shell()));
    move || match outside.get() {
        None => view! { <Shell /> }.into_any(),
        Some(Page::SignIn) => view! { <SignInPage /> }.into_any(),
        Some(_) => view! { <NotFoundPage /> }.into_any(),
    }
}
