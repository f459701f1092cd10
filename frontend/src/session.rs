//! Who is signed in, shared by every page through context.
//!
//! The session itself is the `HttpOnly` cookie, which this code never sees; what the app
//! keeps is the worker's answer to `GET /api/session`: the user's name and the settings the
//! forms need to validate exactly as the worker will.

use leptos::prelude::*;
use shared::api::SessionResponse;
use shared::endpoint::EndpointPolicy;
use shared::roles::{Permission, Role};

use crate::permissions::{denial, effective_role};

/// The signed-in session, or `None` before it is known or after sign-out.
#[derive(Debug, Clone, Copy)]
pub struct Session(RwSignal<Option<SessionResponse>>);

impl Session {
    /// Makes an empty session available to every component below.
    pub fn provide() {
        provide_context(Self(RwSignal::new(None)));
    }

    /// The app's session.
    pub fn expect() -> Self {
        expect_context()
    }

    /// The current answer to `GET /api/session`, tracked.
    pub fn get(self) -> Option<SessionResponse> {
        self.0.get()
    }

    /// The current answer without subscribing to changes.
    pub fn get_untracked(self) -> Option<SessionResponse> {
        self.0.get_untracked()
    }

    /// Records a fresh session (after sign-in or a successful check).
    pub fn set(self, session: SessionResponse) {
        self.0.set(Some(session));
    }

    /// Forgets the session (after sign-out or a 401).
    pub fn clear(self) {
        self.0.set(None);
    }

    /// The endpoint rules of this deployment (`PRIVATE_ENDPOINT_ALLOWLIST` and `OWN_HOSTS`),
    /// for validating action forms; tracked.
    pub fn endpoint_policy(self) -> EndpointPolicy {
        self.0.with(|session| {
            session
                .as_ref()
                .map_or_else(EndpointPolicy::default, |session| {
                    EndpointPolicy::from_allowlist(&session.settings.private_endpoint_allowlist)
                        .with_own_hosts(&session.settings.own_hosts)
                })
        })
    }

    /// The signed-in role (see `permissions::effective_role`); tracked.
    pub fn role(self) -> Role {
        self.0
            .with(|session| effective_role(session.as_ref().and_then(|s| s.session.role)))
    }

    /// Whether the signed-in role holds `permission`; tracked.
    pub fn may(self, permission: Permission) -> bool {
        self.role().can(permission)
    }

    /// Why the signed-in role cannot do `what`, or `None`; tracked.
    pub fn denial(self, permission: Permission, what: &str) -> Option<String> {
        denial(self.role(), permission, what)
    }
}
