//! The WHATWG URL parser the endpoint guard reads URLs with.
//!
//! In wasm it is the JavaScript runtime's own `URL`: the browser's in the app, workerd's in
//! the worker, which is the parser the worker's `fetch` then connects with, so the guard
//! judges exactly the host that would be called. Natively (the unit tests and tools) it is
//! the `url` crate, an implementation of the same standard. Using the browser's parser keeps
//! the `url` crate and its IDNA code out of the app's download (about 20 KB brotli).
//! `shared/fixtures/endpoint_cases.json` is checked through all three: natively by
//! `endpoint.rs`, in the worker by `e2e/endpoint_guard.test.mjs`, in the browser by
//! `e2e/endpoint_guard-browser.test.mjs`.

use std::net::{Ipv4Addr, Ipv6Addr};

/// What the guard needs of a parsed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    /// The serialized URL (`href`).
    pub href: String,
    /// The scheme without its colon, lower case: `https`.
    pub scheme: String,
    /// The host as the parser serializes it (`URL.hostname`: IPv6 in brackets), or empty.
    pub hostname: String,
    /// The host, classified, if the URL has one.
    pub host: Option<UrlHost>,
    /// The port, when the URL names one that is not its scheme's default.
    pub port: Option<u16>,
    /// Whether the URL carries a user name or password.
    pub has_credentials: bool,
}

/// A parsed host, as the standard classifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlHost {
    /// A domain name, lower case.
    Domain(String),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

impl UrlHost {
    /// Classifies a serialized host (`URL.hostname`). The parser has already turned every
    /// IPv4 spelling (`0x7f.1`, `2130706433`) into dotted decimal, so a host that reads as
    /// dotted decimal is an IPv4 address, and one in brackets an IPv6 address.
    fn from_serialized(host: &str) -> Option<Self> {
        if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return inner.parse().ok().map(Self::Ipv6);
        }
        if host.is_empty() {
            return None;
        }
        Some(
            host.parse()
                .map_or_else(|_| Self::Domain(host.to_owned()), Self::Ipv4),
        )
    }
}

impl ParsedUrl {
    /// The port, or the scheme's default for `http` and `https`.
    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or(match self.scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        })
    }

    /// Scheme, host and port: what decides where a request goes.
    pub fn origin(&self) -> (&str, &str, Option<u16>) {
        (&self.scheme, &self.hostname, self.port_or_default())
    }
}

/// Parses `raw` as an absolute URL, or `None` if it is not one.
#[cfg(not(target_arch = "wasm32"))]
pub fn parse(raw: &str) -> Option<ParsedUrl> {
    let url = url::Url::parse(raw).ok()?;
    let hostname = url.host_str().unwrap_or_default().to_owned();
    Some(ParsedUrl {
        href: url.as_str().to_owned(),
        scheme: url.scheme().to_owned(),
        host: UrlHost::from_serialized(&hostname),
        hostname,
        port: url.port(),
        has_credentials: !url.username().is_empty() || url.password().is_some(),
    })
}

/// Parses `raw` as an absolute URL, or `None` if it is not one.
#[cfg(target_arch = "wasm32")]
pub fn parse(raw: &str) -> Option<ParsedUrl> {
    let url = web_sys::Url::new(raw).ok()?;
    let protocol = url.protocol();
    let hostname = url.hostname();
    Some(ParsedUrl {
        href: url.href(),
        scheme: protocol.strip_suffix(':').unwrap_or(&protocol).to_owned(),
        host: UrlHost::from_serialized(&hostname),
        hostname,
        // `URL.port` is empty for the scheme's default port, as `url::Url::port` is `None`.
        port: url.port().parse().ok(),
        has_credentials: !url.username().is_empty() || !url.password().is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serialized_host_is_classified_as_the_standard_does() {
        assert_eq!(
            UrlHost::from_serialized("127.0.0.1"),
            Some(UrlHost::Ipv4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(
            UrlHost::from_serialized("[::1]"),
            Some(UrlHost::Ipv6(Ipv6Addr::LOCALHOST))
        );
        assert_eq!(
            UrlHost::from_serialized("hooks.example.com"),
            Some(UrlHost::Domain("hooks.example.com".to_owned()))
        );
        assert_eq!(UrlHost::from_serialized(""), None);
    }

    #[test]
    fn the_native_parser_reads_every_ipv4_spelling_as_dotted_decimal() {
        for raw in ["https://0x7f.1/", "https://2130706433/", "https://127.1/"] {
            let parsed = parse(raw).unwrap();
            assert_eq!(parsed.host, Some(UrlHost::Ipv4(Ipv4Addr::LOCALHOST)));
            assert_eq!(parsed.hostname, "127.0.0.1");
        }
        let mapped = parse("https://[::ffff:127.0.0.1]/").unwrap();
        assert_eq!(mapped.hostname, "[::ffff:7f00:1]");
    }

    #[test]
    fn default_ports_are_not_named_and_credentials_are_seen() {
        let parsed = parse("https://user:pw@example.com:443/x").unwrap();
        assert_eq!(parsed.port, None);
        assert_eq!(parsed.port_or_default(), Some(443));
        assert!(parsed.has_credentials);
        assert_eq!(parse("http://example.com:8080/").unwrap().port, Some(8080));
        assert_eq!(parse("not a url"), None);
    }
}
