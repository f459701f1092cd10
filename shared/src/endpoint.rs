//! Which URLs an action may POST to.
//!
//! Endpoints must be absolute `https://` URLs. The one exception is a host named in the
//! worker's `PRIVATE_ENDPOINT_ALLOWLIST`, which may also use plain `http`: that is how a
//! local receiver, the demo and the tests are reached, through the same rule production
//! uses, never through a special code path.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::limits::MAX_ENDPOINT_URL_CHARS;
use crate::ValidationError;

/// One allowlist entry: a host, optionally pinned to one port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedHost {
    /// Lower-case host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// The only port allowed, or any port when `None`.
    pub port: Option<u16>,
}

/// The parsed `PRIVATE_ENDPOINT_ALLOWLIST`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointPolicy {
    /// Hosts that may be reached over plain `http`.
    pub private_allowlist: Vec<AllowedHost>,
}

impl EndpointPolicy {
    /// Parses a comma-separated list of `host` or `host:port` entries
    /// (`[v6]` or `[v6]:port` for IPv6). Blank entries are ignored; an entry that does
    /// not parse is ignored too, because an allowlist must never widen by accident.
    pub fn from_allowlist(raw: &str) -> Self {
        let private_allowlist = raw
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .filter_map(parse_allowed_host)
            .collect();
        Self { private_allowlist }
    }

    /// Whether `url`'s host (and port) is on the allowlist.
    pub fn allows_private(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url.port_or_known_default();
        self.private_allowlist.iter().any(|allowed| {
            allowed.host.eq_ignore_ascii_case(host)
                && allowed.port.is_none_or(|only| Some(only) == port)
        })
    }
}

fn parse_allowed_host(entry: &str) -> Option<AllowedHost> {
    // Parse through `Url` so an entry is normalised exactly as endpoints are.
    let url = Url::parse(&format!("http://{entry}/")).ok()?;
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    Some(AllowedHost {
        host: host.to_ascii_lowercase(),
        port: url.port(),
    })
}

/// An endpoint URL that passed the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(Url);

impl EndpointUrl {
    /// Parses and checks `raw` against `policy`.
    pub fn parse(raw: &str, policy: &EndpointPolicy) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ValidationError::Required("Endpoint URL"));
        }
        if raw.chars().count() > MAX_ENDPOINT_URL_CHARS {
            return Err(ValidationError::TooLong {
                what: "Endpoint URL",
                max: MAX_ENDPOINT_URL_CHARS,
                unit: "characters",
            });
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(
                "Endpoint URL must not contain spaces or control characters",
            ));
        }
        if host_part(raw).is_some_and(|host| !host.is_ascii()) {
            return Err(invalid(
                "Write an international host name in its ASCII (xn--) form, e.g. https://xn--bcher-kva.example/hook",
            ));
        }
        let url = Url::parse(raw).map_err(|_| {
            invalid("Endpoint URL must be an absolute URL such as https://example.com/hook")
        })?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("Endpoint URL must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "Endpoint URL must not contain a user name or password; use a custom header",
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if policy.allows_private(&url) => {}
            "http" => {
                return Err(invalid(
                    "Endpoint URL must use https:// (plain http is allowed only for hosts in PRIVATE_ENDPOINT_ALLOWLIST)",
                ))
            }
            _ => return Err(invalid("Endpoint URL must start with https://")),
        }
        Ok(Self(url))
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// The authority of `scheme://authority/...`, if the text has that shape.
fn host_part(raw: &str) -> Option<&str> {
    let rest = raw.split_once("://")?.1;
    rest.split(['/', '?', '#']).next()
}

fn invalid(message: &str) -> ValidationError {
    ValidationError::Invalid(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(raw: &str) -> EndpointPolicy {
        EndpointPolicy::from_allowlist(raw)
    }

    #[test]
    fn an_https_url_is_accepted_and_normalised() {
        let url = EndpointUrl::parse(" https://Example.COM/hook ", &policy("")).unwrap();
        assert_eq!(url.as_str(), "https://example.com/hook");
    }

    #[test]
    fn plain_http_is_refused_without_the_allowlist() {
        let error = EndpointUrl::parse("http://example.com/hook", &policy("")).unwrap_err();
        assert!(error.to_string().contains("https://"));
    }

    #[test]
    fn plain_http_is_accepted_for_an_allowlisted_host_on_any_port() {
        let policy = policy("127.0.0.1, localhost:9100");
        assert!(EndpointUrl::parse("http://127.0.0.1:4000/x", &policy).is_ok());
        assert!(EndpointUrl::parse("http://localhost:9100/x", &policy).is_ok());
    }

    #[test]
    fn an_allowlist_entry_with_a_port_allows_only_that_port() {
        let policy = policy("localhost:9100");
        assert!(EndpointUrl::parse("http://localhost:9101/x", &policy).is_err());
        assert!(EndpointUrl::parse("http://localhost/x", &policy).is_err());
    }

    #[test]
    fn ipv6_allowlist_entries_match_bracketed_hosts() {
        let policy = policy("[::1]:8000");
        assert!(EndpointUrl::parse("http://[::1]:8000/x", &policy).is_ok());
    }

    #[test]
    fn relative_and_schemeless_urls_are_refused() {
        for raw in [
            "/hook",
            "example.com/hook",
            "ftp://example.com/x",
            "javascript:alert(1)",
        ] {
            assert!(EndpointUrl::parse(raw, &policy("")).is_err(), "{raw}");
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        assert!(EndpointUrl::parse("https://user:pw@example.com/", &policy("")).is_err());
    }

    #[test]
    fn spaces_and_control_characters_are_refused() {
        assert!(EndpointUrl::parse("https://example.com/a b", &policy("")).is_err());
        assert!(EndpointUrl::parse("https://example.com/\r\nx", &policy("")).is_err());
    }

    #[test]
    fn an_international_host_name_must_be_written_in_its_ascii_form() {
        let error = EndpointUrl::parse("https://bücher.example/hook", &policy("")).unwrap_err();
        assert!(error.to_string().contains("xn--"));
        assert!(EndpointUrl::parse("https://xn--bcher-kva.example/hook", &policy("")).is_ok());
    }

    #[test]
    fn an_empty_url_is_required() {
        assert_eq!(
            EndpointUrl::parse("  ", &policy("")),
            Err(ValidationError::Required("Endpoint URL"))
        );
    }

    #[test]
    fn the_url_length_limit_is_inclusive() {
        let base = "https://example.com/";
        let at_limit = format!("{base}{}", "a".repeat(MAX_ENDPOINT_URL_CHARS - base.len()));
        assert!(EndpointUrl::parse(&at_limit, &policy("")).is_ok());
        assert!(EndpointUrl::parse(&format!("{at_limit}a"), &policy("")).is_err());
    }
}
