//! The rules of changing an action, once, for the worker and the form alike:
//! - a PATCH changes only the fields it sends ([`UpdateActionRequest::merged_onto`]);
//! - a secret header sent blank on an edit keeps the value stored under the same name
//!   ([`keeps_stored_secret`]);
//! - a stored secret never follows the endpoint to another origin ([`secrets_to_reenter`]).
//!
//! What a submission may keep depends on what it was made on: [`Submission`].

use crate::api::{CreateActionRequest, HeaderInput, UpdateActionRequest};
use crate::FieldError;

use super::spec::{ActionSpec, Redacted};

/// What a create, an edit or a preview was made on: it decides what a blank secret means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission<'a> {
    /// A new action: every header needs its value.
    New,
    /// An edit of a stored revision.
    Edit(EditBase<'a>),
    /// A preview of a form: a blank secret shows as `[redacted]`, whatever is stored, and
    /// nothing is sent anywhere, so nothing has to be typed again.
    Preview,
}

/// The stored revision an edit was made on, as far as the edit rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditBase<'a> {
    /// The stored endpoint, whose origin the stored secret values belong to; `None` when
    /// it is not known (an action whose configuration cannot be read).
    pub endpoint_url: Option<&'a str>,
    /// The secret headers stored.
    pub secrets: &'a [String],
}

/// Whether `header`, sent blank on an edit of `base`, keeps the stored secret: it is
/// secret, and a secret of the same name (header names are case-insensitive) is stored.
pub fn keeps_stored_secret(header: &HeaderInput, base: &EditBase<'_>) -> bool {
    let name = header.name.trim();
    header.secret.unwrap_or(false)
        && header.value.as_deref().unwrap_or("").is_empty()
        && base
            .secrets
            .iter()
            .any(|stored| stored.eq_ignore_ascii_case(name))
}

/// The secret headers an edit would carry to a different endpoint origin without their
/// values being typed again, as `(index, name)` in `headers`.
///
/// A secret value was entered for one endpoint. Sending it to another origin (scheme,
/// host, port) would hand it to whoever runs that origin, so moving an action there takes
/// every secret header it keeps to be re-entered (or removed). A `new_url` that does not
/// parse yields nothing here: validation reports it.
pub fn secrets_to_reenter(
    stored_url: &str,
    new_url: &str,
    headers: &[HeaderInput],
) -> Vec<(usize, String)> {
    let (Some(stored), Some(new)) = (
        crate::whatwg_url::parse(stored_url.trim()),
        crate::whatwg_url::parse(new_url.trim()),
    ) else {
        return Vec::new();
    };
    if stored.origin() == new.origin() {
        return Vec::new();
    }
    headers
        .iter()
        .enumerate()
        .filter(|(_, header)| {
            header.secret.unwrap_or(false) && header.value.as_deref().unwrap_or("").is_empty()
        })
        .map(|(index, header)| (index, header.name.trim().to_owned()))
        .collect()
}

/// The field errors of [`secrets_to_reenter`]: one per header, naming it.
pub fn reenter_errors(missing: &[(usize, String)]) -> Vec<FieldError> {
    missing
        .iter()
        .map(|(index, name)| FieldError {
            field: format!("headers[{index}].value"),
            message: format!(
                "Re-enter the value of secret header {name}: the endpoint moved to another \
                 origin, and a stored secret never follows it there"
            ),
        })
        .collect()
}

impl UpdateActionRequest {
    /// The whole action this PATCH asks for: each field it sends, and the `current` one
    /// where it sends none. Headers left out stay as they are (secrets kept); an `enabled`
    /// left out is `None`, for the caller to keep.
    pub fn merged_onto(&self, current: &ActionSpec<Redacted>) -> CreateActionRequest {
        fn or_current<T: Clone>(sent: &Option<T>, current: &T) -> T {
            sent.as_ref().unwrap_or(current).clone()
        }
        CreateActionRequest {
            name: or_current(&self.name, &current.name),
            endpoint_url: or_current(&self.endpoint_url, &current.endpoint_url),
            description: self.description.clone().or(current.description.clone()),
            enabled: self.enabled,
            headers: Some(
                self.headers
                    .clone()
                    .unwrap_or_else(|| current.header_inputs()),
            ),
            settings: self.settings.applied_to(&current.settings),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::settings::RunSettings;
    use crate::action::spec::Header;
    use crate::action::tests::header;
    use crate::run_rules::Confirm;

    fn current() -> ActionSpec<Redacted> {
        ActionSpec {
            name: "Restart".into(),
            description: Some("Restarts web".into()),
            endpoint_url: "https://a.example.com/x".into(),
            headers: vec![Header {
                name: "Authorization".into(),
                value: Redacted::Hidden,
                secret: true,
            }],
            settings: RunSettings {
                confirm: Some(Confirm {
                    message: "Sure?".into(),
                    type_to_confirm: false,
                }),
                body_template: Some("{}".into()),
                accept_reply: true,
                ..RunSettings::default()
            },
        }
    }

    #[test]
    fn fields_a_patch_leaves_out_stay_and_a_null_clears() {
        let patch: UpdateActionRequest =
            serde_json::from_str(r#"{"name": "Restart web", "confirm": null}"#).unwrap();
        let merged = patch.merged_onto(&current());
        assert_eq!(merged.name, "Restart web");
        assert_eq!(merged.endpoint_url, "https://a.example.com/x");
        assert_eq!(merged.description.as_deref(), Some("Restarts web"));
        assert_eq!(
            merged.settings.confirm, None,
            "null removes the confirmation"
        );
        assert_eq!(merged.settings.body_template.as_deref(), Some("{}"));
        assert!(merged.settings.accept_reply);
        assert_eq!(merged.enabled, None, "the caller keeps enabled");
        assert_eq!(
            merged.headers.unwrap(),
            [header("Authorization", None, true)],
            "headers left out keep their secrets"
        );
    }

    #[test]
    fn a_blank_secret_keeps_only_a_secret_stored_under_its_name() {
        let secrets = ["Authorization".to_owned()];
        let base = EditBase {
            endpoint_url: Some("https://a.example.com/x"),
            secrets: &secrets,
        };
        assert!(keeps_stored_secret(
            &header("authorization", None, true),
            &base
        ));
        assert!(keeps_stored_secret(
            &header("Authorization", Some(""), true),
            &base
        ));
        assert!(!keeps_stored_secret(&header("X-Key", None, true), &base));
        assert!(!keeps_stored_secret(
            &header("Authorization", None, false),
            &base
        ));
        assert!(!keeps_stored_secret(
            &header("Authorization", Some("new"), true),
            &base
        ));
    }

    #[test]
    fn a_new_origin_needs_every_kept_secret_retyped() {
        let headers = [
            header("Authorization", None, true),
            header("X-Key", Some("new"), true),
            header("X-Team", Some("sre"), false),
        ];
        let moved = secrets_to_reenter(
            "https://a.example.com/x",
            "https://b.example.com/x",
            &headers,
        );
        assert_eq!(moved, [(0, "Authorization".to_owned())]);
        assert!(reenter_errors(&moved)[0].message.contains("Authorization"));
        assert_eq!(reenter_errors(&moved)[0].field, "headers[0].value");
    }

    #[test]
    fn the_same_origin_with_another_path_keeps_secrets() {
        let headers = [header("Authorization", None, true)];
        for same in [
            "https://a.example.com/other",
            "https://A.example.com:443/x?q=1",
        ] {
            assert!(
                secrets_to_reenter("https://a.example.com/x", same, &headers).is_empty(),
                "{same}"
            );
        }
    }

    #[test]
    fn a_new_scheme_or_port_is_a_new_origin() {
        let headers = [header("Authorization", Some(""), true)];
        for other in ["http://a.example.com/x", "https://a.example.com:8443/x"] {
            assert_eq!(
                secrets_to_reenter("https://a.example.com/x", other, &headers).len(),
                1,
                "{other}"
            );
        }
    }
}
