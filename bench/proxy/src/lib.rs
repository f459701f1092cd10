//! A bare workers-rs proxy, the yardstick of `scripts/bench`: it reads the request body,
//! POSTs it with the request's headers to `TARGET_URL` + the request path (and query),
//! and answers with the target's status and body. No storage, no signing, no parsing:
//! what it costs over a direct POST is what any Rust worker forwarding a POST costs
//! under the same runtime, so Incident Actions' own overhead is judged against it.

use worker::js_sys::Uint8Array;
use worker::{
    event, Context, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response,
    Result,
};

/// Request headers not forwarded: hop-by-hop ones, the ones the runtime sets for the new
/// request itself, and the ones the local runtime adds on the way in.
const DROPPED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "x-real-ip",
];

/// Whether a request header goes on to the target: everything the caller chose
/// (`content-type`, `user-agent`, `webhook-*`, custom headers), not what the transport or
/// the runtime put there.
pub fn is_forwarded(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !DROPPED_HEADERS.contains(&name.as_str())
        && !name.starts_with("cf-")
        && !name.starts_with("x-forwarded-")
}

/// The URL a request to `path` (with `query`, if any) is forwarded to: `target` without
/// its trailing slashes, then the path and the query.
pub fn target_url(target: &str, path: &str, query: Option<&str>) -> String {
    let mut url = target.trim_end_matches('/').to_owned();
    if !path.starts_with('/') {
        url.push('/');
    }
    url.push_str(path);
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    url
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let target = env.var("TARGET_URL")?.to_string();
    if target.is_empty() {
        return Response::error("TARGET_URL is not set", 500);
    }
    let url = req.url()?;
    let destination = target_url(&target, url.path(), url.query());

    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if is_forwarded(&name) {
            headers.set(&name, &value)?;
        }
    }
    let body = req.bytes().await?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(Uint8Array::from(body.as_slice()).into()));
    let mut answer = Fetch::Request(Request::new_with_init(&destination, &init)?)
        .send()
        .await?;
    let status = answer.status_code();
    let body = answer.bytes().await?;
    Ok(Response::from_bytes(body)?.with_status(status))
}

#[cfg(test)]
mod tests {
    use super::{is_forwarded, target_url};

    #[test]
    fn forwards_the_callers_headers_only() {
        for name in [
            "Content-Type",
            "webhook-id",
            "webhook-signature",
            "X-Api-Key",
            "User-Agent",
        ] {
            assert!(is_forwarded(name), "{name}");
        }
        for name in [
            "Host",
            "content-length",
            "Connection",
            "CF-Connecting-IP",
            "X-Forwarded-Proto",
        ] {
            assert!(!is_forwarded(name), "{name}");
        }
    }

    #[test]
    fn appends_path_and_query_to_the_target() {
        assert_eq!(
            target_url("http://127.0.0.1:9000/", "/ok", None),
            "http://127.0.0.1:9000/ok"
        );
        assert_eq!(
            target_url("http://127.0.0.1:9000", "/ok", Some("a=1")),
            "http://127.0.0.1:9000/ok?a=1"
        );
        assert_eq!(target_url("http://h", "ok", Some("")), "http://h/ok");
    }
}
