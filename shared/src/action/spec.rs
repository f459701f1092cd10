//! One action specification: what a manager configures on an action, in one type.
//!
//! [`ActionSpec`] is generic over what a header's value is at each stage of its life:
//! - [`Submitted`]: as a create or an edit sends it, after validation (a blank secret on
//!   an edit keeps the stored value);
//! - [`Sealed`]: as Workers KV stores it, a secret's value sealed;
//! - [`Opened`]: in clear, on the run path only, about to be sent;
//! - [`Redacted`]: as the API and previews show it, a secret's value hidden.
//!
//! The stages are connected by the one header loop, [`ActionSpec::try_map_headers`]: each
//! stage's code says what happens to one value, never how to walk the list. Validation
//! (`super::validate_action`), the stored record, opening, delivery, the preview, the
//! wire `Action` and the SPA's form are all built from it.

use serde::{Deserialize, Serialize};

use super::settings::RunSettings;
use crate::api::{ActionHeader, HeaderInput, REDACTED};

/// What a manager configures on an action. `V` is what a header's value is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSpec<V> {
    /// Button label.
    pub name: String,
    /// Help text shown with the button.
    #[serde(default)]
    pub description: Option<String>,
    /// Where the worker POSTs.
    pub endpoint_url: String,
    /// Custom headers, in order.
    #[serde(default = "Vec::new")]
    pub headers: Vec<Header<V>>,
    /// How it runs.
    #[serde(flatten)]
    pub settings: RunSettings,
}

/// A custom header. `V` is what its value is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header<V> {
    /// Header name.
    pub name: String,
    /// The value, in the form of its stage.
    pub value: V,
    /// Whether the value is a secret: sealed at rest, hidden when shown, never recorded.
    pub secret: bool,
}

/// A header value as submitted, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// A value typed now.
    Typed(String),
    /// A secret header sent blank on an edit: it keeps the value stored under the same
    /// name (the rule is [`super::edit::keeps_stored_secret`]).
    KeepStored,
}

/// A header value as stored: sealed when the header is secret, else as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(pub String);

/// A header value in clear, about to be sent. Never stored, serialized or answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened(pub String);

/// A header value as shown: a secret's is hidden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redacted {
    /// A plain header's value.
    Plain(String),
    /// A secret header's value, never shown.
    Hidden,
}

/// What a request carries for a header value: the value itself, or for a hidden secret
/// [`REDACTED`]. Delivery and the preview are written once over it.
pub trait SentText {
    /// The text to send (or to show a preview of).
    fn sent_text(&self) -> &str;
}

impl SentText for Opened {
    fn sent_text(&self) -> &str {
        &self.0
    }
}

impl SentText for Redacted {
    fn sent_text(&self) -> &str {
        match self {
            Self::Plain(value) => value,
            Self::Hidden => REDACTED,
        }
    }
}

impl<V> ActionSpec<V> {
    /// The same specification with every header value turned by `value`: the one loop
    /// over headers. The first error stops it.
    pub fn try_map_headers<W, E>(
        &self,
        mut value: impl FnMut(&Header<V>) -> Result<W, E>,
    ) -> Result<ActionSpec<W>, E> {
        let headers = self
            .headers
            .iter()
            .map(|header| {
                Ok(Header {
                    name: header.name.clone(),
                    value: value(header)?,
                    secret: header.secret,
                })
            })
            .collect::<Result<_, E>>()?;
        Ok(ActionSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            endpoint_url: self.endpoint_url.clone(),
            headers,
            settings: self.settings.clone(),
        })
    }

    /// [`Self::try_map_headers`] for a turn that cannot fail.
    pub fn map_headers<W>(&self, mut value: impl FnMut(&Header<V>) -> W) -> ActionSpec<W> {
        self.try_map_headers(|header| Ok::<W, std::convert::Infallible>(value(header)))
            .unwrap_or_else(|never| match never {})
    }

    /// The names of the secret headers.
    pub fn secret_header_names(&self) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(|header| header.secret)
            .map(|header| header.name.as_str())
    }
}

impl ActionSpec<Sealed> {
    /// As shown: a secret's sealed value hidden, nothing opened.
    pub fn redacted(&self) -> ActionSpec<Redacted> {
        self.map_headers(|header| match header.secret {
            true => Redacted::Hidden,
            false => Redacted::Plain(header.value.0.clone()),
        })
    }
}

impl ActionSpec<Submitted> {
    /// As a preview of the submission shows it: every secret value, typed or kept,
    /// hidden.
    pub fn redacted(&self) -> ActionSpec<Redacted> {
        self.map_headers(|header| match (&header.value, header.secret) {
            (Submitted::Typed(value), false) => Redacted::Plain(value.clone()),
            (_, true) | (Submitted::KeepStored, false) => Redacted::Hidden,
        })
    }

    /// The secret headers given a new value: what the audit record names as renewed.
    pub fn renewed_secrets(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|header| header.secret && matches!(header.value, Submitted::Typed(_)))
            .map(|header| header.name.clone())
            .collect()
    }
}

impl ActionSpec<Opened> {
    /// Every secret value it holds in clear: what must never appear in anything recorded.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(|header| header.secret)
            .map(|header| header.value.0.as_str())
    }
}

impl ActionSpec<Redacted> {
    /// The headers as the API shows them.
    pub fn wire_headers(&self) -> Vec<ActionHeader> {
        self.headers
            .iter()
            .map(|header| ActionHeader {
                name: header.name.clone(),
                value: match &header.value {
                    Redacted::Plain(value) => Some(value.clone()),
                    Redacted::Hidden => None,
                },
                secret: header.secret,
            })
            .collect()
    }

    /// The headers as an edit that changes none of them sends them: a secret blank, so
    /// it keeps its stored value.
    pub fn header_inputs(&self) -> Vec<HeaderInput> {
        self.headers
            .iter()
            .map(|header| HeaderInput {
                name: header.name.clone(),
                value: match &header.value {
                    Redacted::Plain(value) => Some(value.clone()),
                    Redacted::Hidden => None,
                },
                secret: Some(header.secret),
            })
            .collect()
    }
}

impl crate::api::Action {
    /// Its specification as shown, when the answer carried it: roles that may not read
    /// action configuration, and an action whose configuration cannot be read, get
    /// `None`.
    pub fn spec(&self) -> Option<ActionSpec<Redacted>> {
        if self.config_health != crate::api::ConfigHealth::Ok {
            return None;
        }
        let headers = self.headers.as_ref()?;
        Some(ActionSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            endpoint_url: self.endpoint_url.clone()?,
            headers: headers
                .iter()
                .map(|header| Header {
                    name: header.name.clone(),
                    value: match (&header.value, header.secret) {
                        (Some(value), false) => Redacted::Plain(value.clone()),
                        (_, true) | (None, false) => Redacted::Hidden,
                    },
                    secret: header.secret,
                })
                .collect(),
            settings: self.settings.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_with(headers: Vec<Header<Sealed>>) -> ActionSpec<Sealed> {
        ActionSpec {
            name: "Restart".into(),
            description: None,
            endpoint_url: "https://hooks.example.com/x".into(),
            headers,
            settings: RunSettings::default(),
        }
    }

    fn sealed(name: &str, value: &str, secret: bool) -> Header<Sealed> {
        Header {
            name: name.into(),
            value: Sealed(value.into()),
            secret,
        }
    }

    #[test]
    fn a_redacted_spec_hides_secret_values_and_keeps_plain_ones() {
        let spec = spec_with(vec![
            sealed("Authorization", "v1.sealed", true),
            sealed("X-Team", "sre", false),
        ]);
        let shown = spec.redacted();
        assert_eq!(shown.headers[0].value.sent_text(), REDACTED);
        assert_eq!(shown.headers[1].value.sent_text(), "sre");
        let wire = shown.wire_headers();
        assert_eq!(wire[0].value, None);
        assert_eq!(wire[1].value.as_deref(), Some("sre"));
        assert_eq!(
            shown.header_inputs()[0].value,
            None,
            "an untouched secret is kept"
        );
    }

    #[test]
    fn the_header_loop_stops_at_the_first_error_and_keeps_order() {
        let spec = spec_with(vec![
            sealed("A", "1", false),
            sealed("B", "2", true),
            sealed("C", "3", false),
        ]);
        let names: Vec<String> = spec
            .map_headers(|header| header.name.clone())
            .headers
            .into_iter()
            .map(|header| header.value)
            .collect();
        assert_eq!(names, ["A", "B", "C"]);
        let failed = spec.try_map_headers(|header| match header.secret {
            true => Err(header.name.clone()),
            false => Ok(()),
        });
        assert_eq!(failed.unwrap_err(), "B");
    }

    #[test]
    fn a_stored_spec_reads_back_as_it_was_written() {
        let spec = spec_with(vec![sealed("Authorization", "v1.sealed", true)]);
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json
            .contains(r#""headers":[{"name":"Authorization","value":"v1.sealed","secret":true}]"#));
        assert_eq!(
            serde_json::from_str::<ActionSpec<Sealed>>(&json).unwrap(),
            spec
        );
    }
}
