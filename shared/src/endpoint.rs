//! Which URLs an action may POST to: the endpoint guard.
//!
//! A worker that POSTs wherever it is told is a way into places its users cannot reach
//! themselves (server-side request forgery), so every endpoint is checked on save and again
//! before each send. The checks run on the URL as a WHATWG parser reads it
//! ([`crate::whatwg_url`]), not on the text: `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` all parse to
//! `127.0.0.1`, and `[::ffff:a9fe:a9fe]` is judged as the IPv4 address it embeds.
//!
//! An endpoint must be `https` on port 443 or from 1024 up, without credentials, and its host
//! must not be a loopback, private, link-local, shared (CGNAT), multicast, broadcast,
//! documentation, benchmarking, reserved, NAT64, 6to4 or Teredo address, a cloud metadata
//! host, `localhost` (or a name under it), a single-label name, or one of this deployment's
//! own hosts (`OWN_HOSTS`). A host in the worker's `PRIVATE_ENDPOINT_ALLOWLIST` is exempt from
//! the host and port rules and may use plain `http`: that is how a local receiver, the demo
//! and the tests are reached, through the same code production uses.
//!
//! What this cannot see is where a public name resolves to; the README says why that is
//! acceptable on Workers.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::limits::MAX_ENDPOINT_URL_CHARS;
use crate::whatwg_url::{self, ParsedUrl, UrlHost};
use crate::ValidationError;

/// One allowlist entry: a host, optionally pinned to one port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllowedHost {
    /// Lower-case host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// The only port allowed, or any port when `None`.
    pub port: Option<u16>,
}

/// The endpoint rules of one deployment: `PRIVATE_ENDPOINT_ALLOWLIST` and `OWN_HOSTS`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointPolicy {
    /// Hosts that may be reached over plain `http` and are exempt from the host and port
    /// rules.
    pub private_allowlist: Vec<AllowedHost>,
    /// This deployment's own host names (lower case, without a trailing dot), which an
    /// action must not call: a run would be a request to Incident Actions itself.
    #[serde(default)]
    pub own_hosts: Vec<String>,
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
        Self {
            private_allowlist,
            own_hosts: Vec::new(),
        }
    }

    /// Adds `OWN_HOSTS`, a comma-separated list of this deployment's host names. Entries
    /// are normalised as endpoint hosts are, so `Actions.Example.com.` matches
    /// `actions.example.com`; a port, if given, is ignored (any port of an own host is
    /// refused).
    #[must_use]
    pub fn with_own_hosts(mut self, raw: &str) -> Self {
        self.own_hosts = raw
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .filter_map(|entry| parse_allowed_host(entry).map(|allowed| allowed.host))
            .map(|host| host.trim_end_matches('.').to_owned())
            .filter(|host| !host.is_empty())
            .collect();
        self
    }

    /// Whether `url`'s host (and port) is on the allowlist.
    pub fn allows_private(&self, url: &ParsedUrl) -> bool {
        if url.hostname.is_empty() {
            return false;
        }
        let host = bare_host(&url.hostname);
        let port = url.port_or_default();
        self.private_allowlist.iter().any(|allowed| {
            allowed.host.eq_ignore_ascii_case(host)
                && allowed.port.is_none_or(|only| Some(only) == port)
        })
    }

    /// Whether `host` (as `URL.hostname` gives it) is one of this deployment's own.
    fn is_own_host(&self, host: &str) -> bool {
        let host = bare_host(host).trim_end_matches('.');
        self.own_hosts
            .iter()
            .any(|own| own.eq_ignore_ascii_case(host))
    }
}

fn parse_allowed_host(entry: &str) -> Option<AllowedHost> {
    // Parse as a URL so an entry is normalised exactly as endpoints are.
    let url = whatwg_url::parse(&format!("http://{entry}/"))?;
    if url.hostname.is_empty() {
        return None;
    }
    Some(AllowedHost {
        host: bare_host(&url.hostname).to_ascii_lowercase(),
        port: url.port,
    })
}

/// An IPv6 host without its brackets; any other host as it is.
fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// An endpoint URL that passed the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(ParsedUrl);

impl EndpointUrl {
    /// Parses and checks `raw` against `policy`. A URL that is well formed but refused by
    /// the endpoint guard is [`ValidationError::EndpointNotAllowed`], whose message names
    /// the rule; a blank, overlong or unparseable one is an ordinary validation error.
    pub fn parse(raw: &str, policy: &EndpointPolicy) -> Result<Self, ValidationError> {
        if raw.trim().is_empty() {
            return Err(ValidationError::Required("Endpoint URL"));
        }
        if raw.chars().count() > MAX_ENDPOINT_URL_CHARS {
            return Err(ValidationError::TooLong {
                what: "Endpoint URL",
                max: MAX_ENDPOINT_URL_CHARS,
                unit: "characters",
            });
        }
        // The parser would quietly drop tabs and line breaks anywhere, and spaces and
        // control characters at either end, so the text a person reviews and the URL that
        // is called could differ; refuse rather than guess. (Forms trim what is typed
        // before sending; the API takes the text as given.)
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refused(
                "Endpoint URL must not contain spaces, tabs, line breaks, NUL or other control characters".to_owned(),
            ));
        }
        if host_part(raw).is_some_and(|host| !host.is_ascii()) {
            return Err(invalid(
                "Write an international host name in its ASCII (xn--) form, e.g. https://xn--bcher-kva.example/hook",
            ));
        }
        let url = whatwg_url::parse(raw).ok_or_else(|| {
            invalid("Endpoint URL must be an absolute URL such as https://example.com/hook")
        })?;
        let allowlisted = policy.allows_private(&url);
        match url.scheme.as_str() {
            "https" => {}
            "http" if allowlisted => {}
            "http" => {
                return Err(refused(
                    "Endpoint URL must use https:// (plain http is allowed only for hosts in PRIVATE_ENDPOINT_ALLOWLIST)".to_owned(),
                ))
            }
            _ => {
                return Err(refused(
                    "Endpoint URL must start with https://".to_owned(),
                ))
            }
        }
        let Some(host) = &url.host else {
            return Err(invalid("Endpoint URL must name a host"));
        };
        if url.has_credentials {
            return Err(refused(
                "Endpoint URL must not contain a user name or password; send credentials in a custom header".to_owned(),
            ));
        }
        if allowlisted {
            return Ok(Self(url));
        }
        let shown = &url.hostname;
        let host_rule = if policy.is_own_host(shown) {
            Some(
                "this deployment's own host (OWN_HOSTS); an action cannot call Incident Actions itself"
                    .to_owned(),
            )
        } else {
            match host {
                UrlHost::Domain(name) => domain_rule(name),
                UrlHost::Ipv4(ip) => ipv4_rule(*ip).map(public_only),
                UrlHost::Ipv6(ip) => ipv6_rule(*ip).map(public_only),
            }
        };
        if let Some(rule) = host_rule {
            return Err(refused(format!("Endpoint host {shown} is {rule}")));
        }
        if let Some(port) = url.port.filter(|&port| port != 443 && port < 1024) {
            return Err(refused(format!(
                "Endpoint port {port} is not allowed; use 443 (the https default) or a port from 1024 up"
            )));
        }
        Ok(Self(url))
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        &self.0.href
    }
}

/// Why a host name is refused, if it is. Trailing dots are dropped first: `localhost.` is
/// the same host as `localhost` to a resolver.
fn domain_rule(name: &str) -> Option<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "metadata.google.internal" {
        return Some(public_only("a cloud metadata host".to_owned()));
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return Some(public_only(
            "localhost, which names the machine itself".to_owned(),
        ));
    }
    if !name.contains('.') {
        return Some(
            "a single-label name; use a fully qualified name such as hooks.example.com".to_owned(),
        );
    }
    None
}

/// Metadata services of the big clouds, refused by name before their ranges are judged.
const METADATA_V4: [Ipv4Addr; 3] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(100, 100, 100, 200),
    Ipv4Addr::new(192, 0, 0, 192),
];
/// AWS's IPv6 instance metadata address, `fd00:ec2::254`.
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

/// Special-purpose IPv4 ranges (IANA registry): network, prefix length, what it is. The
/// broadcast address comes before the reserved 240.0.0.0/4 that holds it, so the message
/// names the narrower rule.
const V4_RANGES: &[(Ipv4Addr, u8, &str)] = &[
    (
        Ipv4Addr::new(255, 255, 255, 255),
        32,
        "the broadcast address",
    ),
    (
        Ipv4Addr::new(0, 0, 0, 0),
        8,
        "a reserved address (\"this network\")",
    ),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "a private address"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "a shared (CGNAT) address"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "a loopback address"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "a link-local address"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "a private address"),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "a reserved address (IETF protocol assignments)",
    ),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "a documentation address"),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "a reserved address (former 6to4 relays)",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "a private address"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "a benchmarking address"),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "a documentation address",
    ),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "a documentation address"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "a multicast address"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "a reserved address"),
];

/// Why an IPv4 address is refused, if it is, naming the range, e.g.
/// `a private address (10.0.0.0/8)`.
fn ipv4_rule(ip: Ipv4Addr) -> Option<String> {
    if METADATA_V4.contains(&ip) {
        return Some("a cloud metadata address".to_owned());
    }
    V4_RANGES
        .iter()
        .find(|(net, prefix, _)| in_v4_range(ip, *net, *prefix))
        .map(|(net, prefix, what)| format!("{what} ({net}/{prefix})"))
}

fn in_v4_range(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

/// Special-purpose IPv6 ranges, most specific first. Everything outside global unicast
/// (2000::/3) is refused after these as reserved, so this list only needs the ranges worth
/// naming and the special ones inside 2000::/3.
const V6_RANGES: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, "the unspecified address"),
    (Ipv6Addr::LOCALHOST, 128, "the loopback address"),
    // NAT64 is refused whole rather than judged by the IPv4 address it embeds: no endpoint
    // needs it (Cloudflare reaches IPv4 directly), and a translator on some path could
    // turn it into any address at all.
    (
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
        96,
        "a NAT64 address",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "a NAT64 address",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "a discard-only address",
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        32,
        "a Teredo tunnel address",
    ),
    (
        Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0),
        48,
        "a benchmarking address",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "a documentation address",
    ),
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        "a 6to4 address",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "a documentation address",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "a unique local (private) address",
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        "a link-local address",
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "a site-local address",
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        "a multicast address",
    ),
];

/// Why an IPv6 address is refused, if it is, naming the range. An IPv4-mapped address
/// (`::ffff:a.b.c.d`) reaches its IPv4 address, so that address is judged instead.
fn ipv6_rule(ip: Ipv6Addr) -> Option<String> {
    if ip == METADATA_V6 {
        return Some("a cloud metadata address".to_owned());
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return ipv4_rule(v4).map(|rule| format!("an IPv4-mapped address of {v4}, {rule}"));
    }
    if let Some((net, prefix, what)) = V6_RANGES
        .iter()
        .find(|(net, prefix, _)| in_v6_range(ip, *net, *prefix))
    {
        return Some(format!("{what} ({net}/{prefix})"));
    }
    if !in_v6_range(ip, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3) {
        return Some("a reserved address (outside global unicast 2000::/3)".to_owned());
    }
    None
}

fn in_v6_range(ip: Ipv6Addr, net: Ipv6Addr, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// The authority of `scheme://authority/...`, if the text has that shape.
fn host_part(raw: &str) -> Option<&str> {
    let rest = raw.split_once("://")?.1;
    rest.split(['/', '?', '#']).next()
}

fn invalid(message: &str) -> ValidationError {
    ValidationError::Invalid(message.to_owned())
}

fn refused(message: String) -> ValidationError {
    ValidationError::EndpointNotAllowed(message)
}

/// Ends a rule about a non-public host with what to do instead.
fn public_only(rule: String) -> String {
    format!("{rule}; actions may only call public hosts")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(raw: &str) -> EndpointPolicy {
        EndpointPolicy::from_allowlist(raw)
    }

    #[test]
    fn an_https_url_is_accepted_and_normalised() {
        let url = EndpointUrl::parse("https://Example.COM/hook", &policy("")).unwrap();
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

    /// The shared table: the same file drives `e2e/endpoint_guard.test.mjs` through the API.
    #[derive(Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    struct Table {
        private_endpoint_allowlist: String,
        own_hosts: String,
        refused: Vec<RefusedCase>,
        accepted: Vec<String>,
    }

    #[derive(Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    struct RefusedCase {
        url: String,
        rule: String,
    }

    fn table() -> Table {
        serde_json::from_str(include_str!("../fixtures/endpoint_cases.json")).unwrap()
    }

    #[test]
    fn every_url_in_the_shared_table_gets_its_verdict() {
        let table = table();
        assert!(table.refused.len() + table.accepted.len() >= 40);
        let policy = EndpointPolicy::from_allowlist(&table.private_endpoint_allowlist)
            .with_own_hosts(&table.own_hosts);
        for case in &table.refused {
            match EndpointUrl::parse(&case.url, &policy) {
                Err(ValidationError::EndpointNotAllowed(message)) => assert!(
                    message.contains(&case.rule),
                    "{:?}: expected the rule {:?} in {message:?}",
                    case.url,
                    case.rule
                ),
                other => panic!(
                    "{:?} should be refused by the guard, got {other:?}",
                    case.url
                ),
            }
        }
        for url in &table.accepted {
            assert!(
                EndpointUrl::parse(url, &policy).is_ok(),
                "{url:?}: {:?}",
                EndpointUrl::parse(url, &policy)
            );
        }
    }

    #[test]
    fn a_refusal_names_the_host_and_the_range() {
        let error = EndpointUrl::parse("https://10.0.0.5/hook", &policy("")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Endpoint host 10.0.0.5 is a private address (10.0.0.0/8); actions may only call public hosts"
        );
    }

    #[test]
    fn every_ipv4_notation_is_judged_as_the_address_it_parses_to() {
        for raw in [
            "https://2130706433/",
            "https://0x7f.1/",
            "https://0177.0.0.1/",
            "https://127.1/",
        ] {
            let error = EndpointUrl::parse(raw, &policy("")).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("Endpoint host 127.0.0.1 is a loopback"),
                "{raw}: {error}"
            );
        }
    }

    #[test]
    fn an_ipv4_mapped_address_is_judged_by_the_address_it_embeds() {
        let error = EndpointUrl::parse("https://[::ffff:a9fe:a9fe]/", &policy("")).unwrap_err();
        assert!(error
            .to_string()
            .contains("169.254.169.254, a cloud metadata address"));
        assert!(EndpointUrl::parse("https://[::ffff:8.8.8.8]/", &policy("")).is_ok());
    }

    #[test]
    fn an_allowlisted_host_is_exempt_from_the_host_and_port_rules_but_not_the_others() {
        let policy = policy("localhost, 10.0.0.5:8080");
        assert!(EndpointUrl::parse("http://localhost:80/x", &policy).is_ok());
        assert!(EndpointUrl::parse("https://10.0.0.5:8080/x", &policy).is_ok());
        assert!(EndpointUrl::parse("https://10.0.0.5:8081/x", &policy).is_err());
        assert!(matches!(
            EndpointUrl::parse("http://user@localhost/x", &policy),
            Err(ValidationError::EndpointNotAllowed(_))
        ));
    }

    #[test]
    fn own_hosts_are_normalised_like_endpoint_hosts() {
        let policy = policy("").with_own_hosts(" Actions.Example.COM. , ,[2606:4700::1]:443");
        assert_eq!(policy.own_hosts, ["actions.example.com", "2606:4700::1"]);
        assert!(EndpointUrl::parse("https://[2606:4700::1]/x", &policy).is_err());
        assert!(EndpointUrl::parse("https://hooks.example.com/x", &policy).is_ok());
    }

    #[test]
    fn malformed_urls_are_ordinary_validation_errors_not_guard_refusals() {
        for raw in ["", "/hook", "example.com/hook", "https://bücher.example/"] {
            let error = EndpointUrl::parse(raw, &policy("")).unwrap_err();
            assert!(
                !matches!(error, ValidationError::EndpointNotAllowed(_)),
                "{raw}: {error}"
            );
        }
    }
}
