//! Incident Actions in the browser: the app component and its route table.
//!
//! A client-side rendered Leptos app, served as static files by the worker that also
//! answers `/api/*`. Pages live in `pages/`, one per route; what several pages share is in
//! `components/`; every call to the API goes through `api`.

pub mod api;
mod browser;
mod components;
pub mod format;
pub mod forms;
mod pages;
pub mod permissions;
mod session;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::components::Shell;
use crate::pages::{
    ActionsPage, AuditPage, IncidentPage, IncidentsPage, NotFoundPage, ServicesPage, SignInPage,
    UserTokensPage, UsersPage,
};
use crate::session::Session;

/// The whole app: the session context and the routes.
#[component]
pub fn App() -> impl IntoView {
    Session::provide();
    view! {
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/sign-in") view=SignInPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=IncidentsPage />
                    <Route path=path!("/incidents") view=IncidentsPage />
                    <Route path=path!("/incidents/:id") view=IncidentPage />
                    <Route path=path!("/services") view=ServicesPage />
                    <Route path=path!("/services/:id/actions") view=ActionsPage />
                    <Route path=path!("/users") view=UsersPage />
                    <Route path=path!("/users/:id/tokens") view=UserTokensPage />
                    <Route path=path!("/audit") view=AuditPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
