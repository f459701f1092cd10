//! What a run keeps of its request so that it can be redelivered, sealed: the body
//! exactly as sent, the endpoint origin it was sent to, and, when the body was rendered
//! by a template that names `secrets`, a digest of the secret values it could see.
//!
//! A kept body may carry a secret (`{{ secrets["X-Git-Token"] }}`). Redelivering it
//! anywhere else, or after that secret was changed or removed, would hand the old secret
//! to whoever the endpoint now is. So a redelivery goes ahead only to the same origin
//! and, for a body that could see secrets, with the same secret values
//! ([`KeptRequest::check_target`], 409 `redelivery_target_changed` otherwise). As the
//! secrets are then the ones the body was rendered with, the answer's excerpt is
//! redacted with exactly those.
//!
//! Bodies kept before this record existed hold only the body; they are redelivered only
//! while the action is still at the revision that sent them ([`Kept::Legacy`]).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::limits::MAX_KEPT_REQUEST_BYTES;

use crate::domain::OpenedAction;
use crate::sealed::{Keyring, SealContext};
use crate::template::references_secrets;

/// The record a run keeps, sealed as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptRequest {
    /// `scheme://host:port` of the endpoint the body was sent to.
    pub origin: String,
    /// Hex SHA-256 of the secret header values (by name) the body's template could see;
    /// `None` when the body was not rendered by a template that names `secrets`. Sealed
    /// with the body, so it never sits in storage where a guess could be checked.
    pub secrets_digest: Option<String>,
    /// The body exactly as signed and sent.
    pub body: String,
}

/// A kept body as it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Kept with its origin and secrets.
    Request(KeptRequest),
    /// Kept before the record existed: the body only.
    Legacy(String),
}

/// Why a kept body is not sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetChange {
    /// The endpoint now has another origin.
    Origin,
    /// A secret the body could see was changed or removed.
    Secrets,
    /// A body kept before origins were recorded, and the action changed since.
    ActionChanged,
}

impl TargetChange {
    /// The message of the 409, fit to show the person redelivering.
    pub fn message(self) -> &'static str {
        match self {
            Self::Origin => {
                "The action's endpoint has moved to another origin since this run was sent; \
                 its kept body is only sent again where it went first. Nothing was sent. Run \
                 the action again from the incident"
            }
            Self::Secrets => {
                "A secret this run's body was made with has been changed or removed since; \
                 its kept body is not sent with other secrets. Nothing was sent. Run the \
                 action again from the incident"
            }
            Self::ActionChanged => {
                "The action has changed since this run was sent, and the run was kept \
                 before redelivery recorded where a body may go. Nothing was sent. Run the \
                 action again from the incident"
            }
        }
    }
}

/// The seal field of a run's kept request (its associated data binds it to the run).
fn seal_field(run_id: &str) -> String {
    format!("run_request:{run_id}")
}

/// The seal field of a body kept before [`KeptRequest`] (the body alone).
fn legacy_seal_field(run_id: &str) -> String {
    format!("run_body:{run_id}")
}

/// `scheme://host:port` of `url`, or the URL itself when it does not parse (it then
/// matches only itself).
pub fn origin_of(url: &str) -> String {
    match shared::whatwg_url::parse(url.trim()) {
        Some(parsed) => {
            let (scheme, host, port) = parsed.origin();
            match port {
                Some(port) => format!("{scheme}://{host}:{port}"),
                None => format!("{scheme}://{host}"),
            }
        }
        None => url.to_owned(),
    }
}

/// Hex SHA-256 over the action's secret header values, each with its lower-case name and
/// both length-prefixed, in name order.
fn secrets_digest(action: &OpenedAction) -> String {
    let mut secrets: Vec<(String, &str)> = action
        .spec
        .headers
        .iter()
        .filter(|header| header.secret)
        .map(|header| (header.name.to_ascii_lowercase(), header.value.0.as_str()))
        .collect();
    secrets.sort();
    let mut hasher = Sha256::new();
    for (name, value) in secrets {
        for part in [name.as_str(), value] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether the body `action` renders can see its secrets.
fn body_sees_secrets(action: &OpenedAction) -> bool {
    action
        .spec
        .settings
        .body_template
        .as_deref()
        .is_some_and(references_secrets)
}

impl KeptRequest {
    /// What a run of `action` keeps of the `body` it sends.
    pub fn of(action: &OpenedAction, body: &str) -> Self {
        Self {
            origin: origin_of(&action.spec.endpoint_url),
            secrets_digest: body_sees_secrets(action).then(|| secrets_digest(action)),
            body: body.to_owned(),
        }
    }

    /// Sealed for keeping; `None` when it is too large to keep (it is still sent, and
    /// the run is simply not redeliverable) or cannot be sealed.
    pub fn seal(
        &self,
        keyring: &Keyring,
        service_id: &str,
        run_id: &str,
        action_id: &str,
    ) -> Option<String> {
        let json = serde_json::to_string(self).ok()?;
        if json.len() > MAX_KEPT_REQUEST_BYTES {
            return None;
        }
        let field = seal_field(run_id);
        keyring
            .seal(
                &json,
                SealContext {
                    service_id,
                    action_id,
                    field: &field,
                },
            )
            .map_err(|error| worker::console_error!("keeping the body of run {run_id}: {error}"))
            .ok()
    }
}

impl Kept {
    /// Opens a kept body, in either format; `None` when the configured keys cannot.
    pub fn open(
        sealed: &str,
        keyring: &Keyring,
        service_id: &str,
        run_id: &str,
        action_id: &str,
    ) -> Option<Self> {
        let open = |field: String| {
            keyring
                .open(
                    sealed,
                    SealContext {
                        service_id,
                        action_id,
                        field: &field,
                    },
                )
                .ok()
        };
        if let Some(json) = open(seal_field(run_id)) {
            return serde_json::from_str(&json).ok().map(Self::Request);
        }
        open(legacy_seal_field(run_id)).map(Self::Legacy)
    }

    /// The body to send again.
    pub fn body(&self) -> &str {
        match self {
            Self::Request(request) => &request.body,
            Self::Legacy(body) => body,
        }
    }

    /// Whether the body may go to `action` as it is now. `sent_revision` is the revision
    /// of the run's latest attempt.
    pub fn check_target(
        &self,
        action: &OpenedAction,
        sent_revision: u64,
    ) -> Result<(), TargetChange> {
        match self {
            Self::Request(request) => {
                if request.origin != origin_of(&action.spec.endpoint_url) {
                    return Err(TargetChange::Origin);
                }
                match &request.secrets_digest {
                    Some(digest) if *digest != secrets_digest(action) => Err(TargetChange::Secrets),
                    Some(_) | None => Ok(()),
                }
            }
            Self::Legacy(_) if sent_revision == action.revision => Ok(()),
            Self::Legacy(_) => Err(TargetChange::ActionChanged),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::action::{ActionSpec, Header, Opened};

    fn action(url: &str, secret: &str, template: Option<&str>) -> OpenedAction {
        OpenedAction {
            id: "act_1".into(),
            revision: 3,
            spec: ActionSpec {
                name: "Revert".into(),
                description: None,
                endpoint_url: url.into(),
                headers: vec![Header {
                    name: "X-Git-Token".into(),
                    value: Opened(secret.into()),
                    secret: true,
                }],
                settings: shared::action::RunSettings {
                    body_template: template.map(str::to_owned),
                    ..Default::default()
                },
            },
            signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        }
    }

    const WITH_SECRET: Option<&str> = Some(r#"{"token": "{{ secrets["X-Git-Token"] }}"}"#);

    #[test]
    fn a_body_goes_again_to_the_same_origin_on_another_path() {
        let kept = Kept::Request(KeptRequest::of(
            &action("https://ci.example.com/a", "t0ken", WITH_SECRET),
            "{}",
        ));
        let moved = action("https://ci.example.com:443/b?x=1", "t0ken", WITH_SECRET);
        assert_eq!(kept.check_target(&moved, 1), Ok(()));
    }

    #[test]
    fn a_body_does_not_go_to_another_origin() {
        let kept = Kept::Request(KeptRequest::of(
            &action("https://ci.example.com/a", "t0ken", None),
            "{}",
        ));
        for url in [
            "https://evil.example.net/a",
            "http://ci.example.com/a",
            "https://ci.example.com:8443/a",
        ] {
            assert_eq!(
                kept.check_target(&action(url, "t0ken", None), 3),
                Err(TargetChange::Origin),
                "{url}"
            );
        }
    }

    #[test]
    fn a_body_that_saw_secrets_does_not_go_once_they_changed_or_went() {
        let url = "https://ci.example.com/a";
        let kept = Kept::Request(KeptRequest::of(&action(url, "t0ken", WITH_SECRET), "{}"));
        assert_eq!(
            kept.check_target(&action(url, "other", WITH_SECRET), 3),
            Err(TargetChange::Secrets)
        );
        let mut without = action(url, "t0ken", WITH_SECRET);
        without.spec.headers.clear();
        assert_eq!(kept.check_target(&without, 3), Err(TargetChange::Secrets));
    }

    #[test]
    fn a_body_that_saw_no_secrets_goes_whatever_the_secrets_are_now() {
        let url = "https://ci.example.com/a";
        let kept = KeptRequest::of(&action(url, "t0ken", None), "{}");
        assert_eq!(kept.secrets_digest, None);
        assert_eq!(
            Kept::Request(kept).check_target(&action(url, "rotated", None), 3),
            Ok(())
        );
    }

    #[test]
    fn a_legacy_body_goes_only_while_the_action_is_at_the_revision_that_sent_it() {
        let legacy = Kept::Legacy("{}".into());
        let now = action("https://ci.example.com/a", "t0ken", None);
        assert_eq!(legacy.check_target(&now, 3), Ok(()));
        assert_eq!(
            legacy.check_target(&now, 2),
            Err(TargetChange::ActionChanged)
        );
    }

    #[test]
    fn the_digest_depends_on_names_and_values_not_their_order() {
        let one = action("https://a.example/", "x", None);
        let mut two = one.clone();
        two.spec.headers.push(Header {
            name: "X-B".into(),
            value: Opened("y".into()),
            secret: true,
        });
        let mut swapped = one.clone();
        swapped.spec.headers.insert(
            0,
            Header {
                name: "X-B".into(),
                value: Opened("y".into()),
                secret: true,
            },
        );
        assert_ne!(secrets_digest(&one), secrets_digest(&two));
        assert_eq!(secrets_digest(&two), secrets_digest(&swapped));
    }
}
