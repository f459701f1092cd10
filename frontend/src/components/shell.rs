//! The frame around every signed-in page: the header with navigation and sign-out, and
//! the session check that sends a signed-out visitor to the sign-in page.

use leptos::prelude::*;
use shared::api::SessionInfo;
use shared::roles::Permission;

use crate::api::{self, encode_component};
use crate::browser::current_path;
use crate::components::{ErrorNotice, Loading};
use crate::pages::{
    ActionsPage, AuditPage, IncidentPage, IncidentsPage, ServicesPage, UserTokensPage, UsersPage,
};
use crate::router::{NavLink, Page, Router};
use crate::session::Session;

/// The header's "Signed in as Ada (responder)"; without a role from the worker, the name only.
pub fn signed_in_as(session: &SessionInfo) -> String {
    match session.role {
        Some(role) => format!("Signed in as {} ({role})", session.user_name),
        None => format!("Signed in as {}", session.user_name),
    }
}

/// Header, navigation and the current page.
#[component]
pub fn Shell() -> impl IntoView {
    let session = Session::expect();
    let router = Router::expect();

    let go_to_sign_in = move || {
        session.clear();
        let next = current_path();
        let url = if next.is_empty() || next == "/" {
            "/sign-in".to_owned()
        } else {
            format!("/sign-in?next={}", encode_component(&next))
        };
        router.navigate(&url);
    };
    // Any call that answers 401 from here on lands on the sign-in page.
    api::set_unauthorized_hook(go_to_sign_in);

    // Known right after sign-in; otherwise ask the worker once per visit.
    let check = LocalResource::new(move || {
        let known = session.get_untracked();
        async move {
            match known {
                Some(known) => Ok(known),
                None => api::get_session().await,
            }
        }
    });
    Effect::new(move |_| match check.get() {
        Some(Ok(answer)) => session.set(answer),
        Some(Err(error)) if error.is_unauthorized() => go_to_sign_in(),
        _ => {}
    });

    // Pages appear once the session (and so the role) is recorded, so no control is drawn
    // for a role it does not belong to, and no call is made that the role may not make.
    let known = Memo::new(move |_| session.get().is_some());

    let sign_out = Action::new_local(move |(): &()| async move {
        // Whether or not the worker could be reached, leave: a stale cookie expires.
        let result = api::sign_out().await;
        session.clear();
        router.navigate("/sign-in");
        result
    });

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="header-inner">
                <a class="brand" href="/incidents">"Incident Actions"</a>
                <nav aria-label="Main">
                    <ul>
                        <li><NavLink href="/incidents">"Incidents"</NavLink></li>
                        {move || session.may(Permission::ReadServices).then(|| view! {
                            <li><NavLink href="/services">"Services"</NavLink></li>
                        })}
                        {move || session.may(Permission::ManageUsers).then(|| view! {
                            <li><NavLink href="/users">"Users"</NavLink></li>
                        })}
                        {move || session.may(Permission::ReadAudit).then(|| view! {
                            <li><NavLink href="/audit">"Audit"</NavLink></li>
                        })}
                    </ul>
                </nav>
                <div class="account">
                    <span class="user-name">
                        {move || session.get().map(|s| signed_in_as(&s.session))}
                    </span>
                    <button
                        type="button"
                        class="button small secondary"
                        disabled=move || sign_out.pending().get()
                        on:click=move |_| {
                            sign_out.dispatch(());
                        }
                    >
                        "Sign out"
                    </button>
                </div>
            </div>
        </header>
        <main id="main" tabindex="-1">
            {move || match (check.get(), known.get()) {
                (Some(Err(error)), _) => view! { <ErrorNotice error /> }.into_any(),
                (Some(Ok(_)), true) => view! { <CurrentPage page=router.page() /> }.into_any(),
                _ => view! { <Loading what="Checking your session…" /> }.into_any(),
            }}
        </main>
    }
}

/// The signed-in page the address shows; drawn again only when the page changes, not its
/// `:id` or query (the page reads those itself).
#[component]
fn CurrentPage(
    /// From the router.
    page: Memo<Page>,
) -> impl IntoView {
    move || match page.get() {
        Page::Incident => view! { <IncidentPage /> }.into_any(),
        Page::Services => view! { <ServicesPage /> }.into_any(),
        Page::Actions => view! { <ActionsPage /> }.into_any(),
        Page::Users => view! { <UsersPage /> }.into_any(),
        Page::UserTokens => view! { <UserTokensPage /> }.into_any(),
        Page::Audit => view! { <AuditPage /> }.into_any(),
        // The frame is not drawn for the others; `/` lists incidents.
        Page::Incidents | Page::SignIn | Page::NotFound => view! { <IncidentsPage /> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::roles::Role;

    #[test]
    fn the_header_names_the_user_and_their_role() {
        let mut info = SessionInfo {
            user_id: "usr_1".to_owned(),
            user_name: "Ada".to_owned(),
            role: Some(Role::Responder),
            expires_at: None,
        };
        assert_eq!(signed_in_as(&info), "Signed in as Ada (responder)");
        info.role = None;
        assert_eq!(signed_in_as(&info), "Signed in as Ada");
    }
}
