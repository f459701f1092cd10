//! Browser-side protections: the rule that keeps other sites from riding on the session
//! cookie (CSRF), and the security headers every answer carries.
//!
//! The cookie is `SameSite=Strict` already; this is the second, independent layer, and
//! the one that still holds for a sibling origin on the same site (`SameSite` only looks
//! at sites). A cookie-authenticated request that changes something must come from this
//! origin (`Origin` and `Sec-Fetch-Site` say so when present) and must declare
//! `Content-Type: application/json`, which a cross-site HTML form cannot send and a
//! cross-site `fetch` cannot send without a CORS preflight that is never granted.
//! Bearer-token callers are API clients, not browsers riding on ambient credentials, so
//! the rule does not apply to them, nor to `/v2/enqueue`, whose routing key is the
//! credential.

use worker::{Headers, Method, Request};

use crate::error::{ApiError, ApiResult};
use crate::http::{header, is_json_content_type};

/// What the pages and the API answers allow: this origin's scripts and wasm, no inline
/// script, no plugins, no framing. `frontend/_headers` sends the same on the SPA's files.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
    script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// The headers every answer carries, worker answers and static files alike.
pub const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
];

/// Sets [`SECURITY_HEADERS`] on a response about to leave the worker.
pub fn add_security_headers(headers: &Headers) -> worker::Result<()> {
    for (name, value) in SECURITY_HEADERS {
        headers.set(name, value)?;
    }
    Ok(())
}

/// Whether a method may change something (everything but GET, HEAD and OPTIONS).
pub fn is_unsafe_method(method: &Method) -> bool {
    !matches!(method, Method::Get | Method::Head | Method::Options)
}

/// Whether the browser's own headers say the request comes from another origin.
/// `own_origin` is the request URL's scheme, host and port (`http://127.0.0.1:8787`).
/// An absent header says nothing (older browsers, non-browser clients); a present one
/// must say "this origin" (`Sec-Fetch-Site: none` is the user typing the address).
pub fn is_cross_origin(
    own_origin: &str,
    origin: Option<&str>,
    sec_fetch_site: Option<&str>,
) -> bool {
    let foreign_fetch = sec_fetch_site.is_some_and(|site| {
        let site = site.trim();
        !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none")
    });
    let foreign_origin =
        origin.is_some_and(|origin| !origin.trim().eq_ignore_ascii_case(own_origin));
    foreign_fetch || foreign_origin
}

/// Why a cookie-authenticated request is refused, if it is.
pub fn check_cookie_request(
    unsafe_method: bool,
    own_origin: &str,
    origin: Option<&str>,
    sec_fetch_site: Option<&str>,
    content_type: Option<&str>,
) -> ApiResult<()> {
    if !unsafe_method {
        return Ok(());
    }
    if is_cross_origin(own_origin, origin, sec_fetch_site) {
        return Err(ApiError::CrossSiteRequest);
    }
    if !content_type.is_some_and(is_json_content_type) {
        return Err(ApiError::UnsupportedMediaType);
    }
    Ok(())
}

/// The request URL's origin, as a browser serialises it in `Origin`.
fn own_origin(req: &Request) -> ApiResult<String> {
    Ok(req.url()?.origin().ascii_serialization())
}

/// Refuses a cookie-authenticated request that changes something unless it comes from
/// this origin and declares JSON (with or without a body).
pub fn guard_cookie_request(req: &Request) -> ApiResult<()> {
    check_cookie_request(
        is_unsafe_method(&req.method()),
        &own_origin(req)?,
        header(req, "Origin").as_deref(),
        header(req, "Sec-Fetch-Site").as_deref(),
        header(req, "Content-Type").as_deref(),
    )
}

/// Refuses a sign-in posted from another origin (login CSRF: signing the victim into a
/// session the attacker chose). The body rules are the usual ones of `read_json`.
pub fn guard_sign_in(req: &Request) -> ApiResult<()> {
    if is_cross_origin(
        &own_origin(req)?,
        header(req, "Origin").as_deref(),
        header(req, "Sec-Fetch-Site").as_deref(),
    ) {
        return Err(ApiError::CrossSiteRequest);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "http://127.0.0.1:8787";
    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn a_same_origin_json_request_passes() {
        let check = |origin, site| check_cookie_request(true, OWN, origin, site, JSON);
        assert!(check(Some(OWN), Some("same-origin")).is_ok());
        assert!(check(None, None).is_ok());
        assert!(check(Some(OWN), None).is_ok());
        assert!(check(None, Some("none")).is_ok());
    }

    #[test]
    fn a_foreign_origin_is_refused_whatever_it_sends() {
        for origin in [
            "http://evil.example",
            "http://localhost:8787",
            "https://127.0.0.1:8787",
            "http://127.0.0.1:8788",
            "null",
        ] {
            let result = check_cookie_request(true, OWN, Some(origin), None, JSON);
            assert!(
                matches!(result, Err(ApiError::CrossSiteRequest)),
                "{origin}"
            );
        }
    }

    #[test]
    fn sec_fetch_site_other_than_same_origin_or_none_is_refused() {
        for site in ["cross-site", "same-site", "something-new"] {
            let result = check_cookie_request(true, OWN, Some(OWN), Some(site), JSON);
            assert!(matches!(result, Err(ApiError::CrossSiteRequest)), "{site}");
        }
    }

    #[test]
    fn an_unsafe_request_without_json_content_type_is_415_even_without_a_body() {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
        ] {
            let result = check_cookie_request(true, OWN, None, None, content_type);
            assert!(
                matches!(result, Err(ApiError::UnsupportedMediaType)),
                "{content_type:?}"
            );
        }
    }

    #[test]
    fn a_cross_site_form_post_is_refused_as_cross_site_first() {
        let result = check_cookie_request(
            true,
            OWN,
            Some("http://evil.example"),
            Some("cross-site"),
            Some("application/x-www-form-urlencoded"),
        );
        assert!(matches!(result, Err(ApiError::CrossSiteRequest)));
    }

    #[test]
    fn reads_are_not_checked() {
        assert!(check_cookie_request(
            false,
            OWN,
            Some("http://evil.example"),
            Some("cross-site"),
            None
        )
        .is_ok());
        assert!(!is_unsafe_method(&Method::Get));
        assert!(!is_unsafe_method(&Method::Head));
        assert!(!is_unsafe_method(&Method::Options));
        for method in [Method::Post, Method::Patch, Method::Put, Method::Delete] {
            assert!(is_unsafe_method(&method));
        }
    }

    #[test]
    fn the_static_files_carry_the_same_headers_as_the_api() {
        // Static files are served before the worker runs, so `_headers` must say the same.
        let file = include_str!("../../frontend/_headers");
        for (name, value) in SECURITY_HEADERS {
            let line = format!("  {name}: {value}");
            assert!(file.lines().any(|l| l == line), "_headers lacks {line}");
        }
    }

    #[test]
    fn the_policy_allows_no_inline_script_and_no_framing() {
        let script_src = CONTENT_SECURITY_POLICY
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("unsafe-inline") && !script_src.contains("'unsafe-eval'"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
        assert!(
            !CONTENT_SECURITY_POLICY.contains("  "),
            "one space between words"
        );
    }
}
