//! HTTP plumbing shared by every handler: reading a JSON body within a size limit,
//! writing JSON responses, and the pure header parsing behind them.

use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::errors::ErrorCode;
use shared::idempotency::IdempotencyKey;
use shared::limits::parse_page_limit;
use shared::paging::{PageRequest, PagedList};
use worker::{Headers, Request, Response};

use crate::error::{ApiError, ApiResult};

/// A JSON response with `Cache-Control: no-store` (answers carry incident data).
pub fn json_response<T: Serialize>(body: &T, status: u16) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    Ok(Response::from_bytes(serde_json::to_vec(body)?)?
        .with_status(status)
        .with_headers(headers))
}

/// `204 No Content`.
pub fn no_content() -> worker::Result<Response> {
    Ok(Response::empty()?.with_status(204))
}

/// Whether a `Content-Type` value names JSON (`application/json`, any parameters).
pub fn is_json_content_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Why a body could not be read, before it is turned into the caller's error shape.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Not `application/json`.
    NotJson,
    /// Over the limit.
    TooLarge,
    /// The stream broke off (the client went away mid-body).
    Unreadable,
}

/// Reads the raw body, refusing a wrong content type and anything over `limit` bytes.
/// The body is counted as it streams in and reading stops at the first byte past the
/// limit, so a chunked body (no `Content-Length`) or one that lies about its length is
/// never buffered whole. A declared length over the limit is refused without reading.
pub async fn read_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, BodyError> {
    let content_type = req.headers().get("Content-Type").ok().flatten();
    if !content_type.as_deref().is_some_and(is_json_content_type) {
        return Err(BodyError::NotJson);
    }
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|len| len.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(BodyError::TooLarge);
    }
    // A request without a body has no stream: it reads as empty (and fails to parse).
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if !fits(bytes.len(), chunk.len(), limit) {
            return Err(BodyError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Whether `chunk` more bytes still fit under `limit` after `read` bytes.
fn fits(read: usize, chunk: usize, limit: usize) -> bool {
    read.checked_add(chunk).is_some_and(|total| total <= limit)
}

/// Reads and parses an `/api/*` JSON body of type `T`.
pub async fn read_json<T: DeserializeOwned>(req: &mut Request) -> ApiResult<T> {
    let limit = shared::limits::MAX_API_BODY_BYTES;
    let bytes = read_body(req, limit).await.map_err(|error| match error {
        BodyError::NotJson => ApiError::UnsupportedMediaType,
        BodyError::TooLarge => ApiError::PayloadTooLarge(limit),
        BodyError::Unreadable => ApiError::InvalidJson("the body broke off before its end".into()),
    })?;
    parse_json(&bytes)
}

/// Reads an optional JSON body: a request without one (no `Content-Length`, or 0, and
/// not chunked) reads as `T::default()`.
pub async fn read_optional_json<T: DeserializeOwned + Default>(req: &mut Request) -> ApiResult<T> {
    let declared = header(req, "Content-Length");
    let chunked = header(req, "Transfer-Encoding").is_some();
    if !chunked && declared.as_deref().is_none_or(|len| len.trim() == "0") {
        return Ok(T::default());
    }
    read_json(req).await
}

/// Parses a JSON body, describing the problem in words a developer can act on.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|error| ApiError::InvalidJson(describe_json_error(&error)))
}

/// What is wrong with a body, without repeating any value it carried: serde's message
/// quotes the offending value (`invalid type: string "…", expected a boolean`), and that
/// value may be a secret header sent in the wrong place. Field names are kept, because
/// they come from the API's own vocabulary and make a typo obvious.
fn describe_json_error(error: &serde_json::Error) -> String {
    let position = format!("line {}, column {}", error.line(), error.column());
    if !error.is_data() {
        return format!("malformed JSON at {position}");
    }
    let message = error.to_string();
    // serde appends " at line L column C"; the position is given in our own words.
    let message = message
        .rfind(" at line ")
        .map_or(message.as_str(), |at| &message[..at]);
    // What the API expected is ours to repeat; what was received is not.
    let (received, expected) = message
        .rfind(", expected")
        .map_or((message, ""), |at| message.split_at(at));
    let received = if received.starts_with("unknown field") || received.starts_with("missing field")
    {
        received
    } else {
        received
            .find(['"', '`'])
            .map_or(received, |quote| received[..quote].trim_end())
    };
    format!("{received}{expected} at {position}")
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Whether the request came over https, where the session cookie is `__Host-` and
/// `Secure`.
pub fn is_https(req: &Request) -> bool {
    req.url().is_ok_and(|url| url.scheme() == "https")
}

/// A header's value, if present and readable.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The request's `Idempotency-Key`, checked (400 `invalid_idempotency_key` when it is
/// not one); `None` when none was sent. The one reader, for runs and redeliveries.
pub fn idempotency_key(req: &Request) -> ApiResult<Option<IdempotencyKey>> {
    header(req, "Idempotency-Key")
        .map(|raw| {
            IdempotencyKey::parse(&raw)
                .map_err(|message| ApiError::Refused(ErrorCode::InvalidIdempotencyKey, message))
        })
        .transpose()
}

/// The version an `If-Match` header names (`"3"`, `W/"3"` or `3`), if the request sent
/// one; 400 `invalid_if_match` naming `what` (e.g. "action revision") when it is not one.
pub fn if_match(req: &Request, what: &str) -> ApiResult<Option<u64>> {
    header(req, "If-Match")
        .map(|raw| {
            parse_if_match(&raw).ok_or_else(|| {
                ApiError::Refused(
                    ErrorCode::InvalidIfMatch,
                    format!("If-Match must name one {what}, e.g. If-Match: \"3\""),
                )
            })
        })
        .transpose()
}

/// Parses an `If-Match` value naming one version.
pub fn parse_if_match(raw: &str) -> Option<u64> {
    let tag = raw.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let tag = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag);
    tag.parse().ok()
}

/// The `?limit=` of a list: `default` when absent, else a whole number in 1..=`max`
/// (400 `invalid_query` otherwise).
pub fn query_limit(req: &Request, default: i64, max: i64) -> ApiResult<i64> {
    let url = req.url()?;
    let Some((_, raw)) = url.query_pairs().find(|(key, _)| key == "limit") else {
        return Ok(default);
    };
    parse_page_limit(&raw, max).ok_or_else(|| {
        ApiError::Refused(
            ErrorCode::InvalidQuery,
            format!("limit must be a whole number from 1 to {max}"),
        )
    })
}

/// The `?limit=` and `?cursor=` of a paged list (400 `invalid_limit` or `invalid_cursor`).
pub fn page_request(req: &Request, list: PagedList) -> ApiResult<PageRequest> {
    let url = req.url()?;
    let query = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    PageRequest::parse(list, query("limit").as_deref(), query("cursor").as_deref())
        .map_err(|error| ApiError::Refused(error.code(), error.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_names_a_version_quoted_weak_or_bare() {
        assert_eq!(parse_if_match("\"3\""), Some(3));
        assert_eq!(parse_if_match("W/\"12\""), Some(12));
        assert_eq!(parse_if_match(" 7 "), Some(7));
        assert_eq!(parse_if_match("\"x\""), None);
        assert_eq!(parse_if_match("*"), None);
    }

    #[test]
    fn json_content_types_are_recognised_with_parameters() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("Application/JSON; charset=utf-8"));
        assert!(!is_json_content_type("text/plain"));
        assert!(!is_json_content_type("application/jsonp"));
        assert!(!is_json_content_type("application/x-www-form-urlencoded"));
    }

    #[test]
    fn a_body_fits_up_to_its_limit_and_not_one_byte_past_it() {
        assert!(fits(0, 10, 10));
        assert!(fits(6, 4, 10));
        assert!(!fits(6, 5, 10));
        assert!(!fits(usize::MAX, 1, usize::MAX));
    }

    #[test]
    fn a_bearer_token_is_taken_from_the_header() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }

    #[test]
    fn malformed_json_is_reported_as_invalid_json() {
        let result: ApiResult<serde_json::Value> = parse_json(b"{\"name\": ");
        assert!(matches!(result, Err(ApiError::InvalidJson(_))));
    }

    fn invalid_json_message<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
        match parse_json::<T>(body.as_bytes()) {
            Err(ApiError::InvalidJson(message)) => message,
            other => panic!("expected invalid_json, got {other:?}"),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Patch {
        enabled: Option<bool>,
        role: Option<shared::roles::Role>,
    }

    #[test]
    fn a_wrongly_typed_value_is_described_without_repeating_it() {
        let message = invalid_json_message::<Patch>(r#"{"enabled": "s3cret-value"}"#);
        assert!(!message.contains("s3cret"), "{message}");
        assert!(message.contains("invalid type: string"), "{message}");
        assert!(message.contains("expected a boolean"), "{message}");
        assert!(message.contains("line 1, column"), "{message}");
        let variant = invalid_json_message::<Patch>(r#"{"role": "s3cret-value"}"#);
        assert!(!variant.contains("s3cret"), "{variant}");
        assert!(variant.contains("expected one of"), "{variant}");
    }

    #[test]
    fn an_unknown_field_is_named_and_malformed_json_located() {
        let unknown = invalid_json_message::<Patch>(r#"{"enabeld": true}"#);
        assert!(unknown.contains("unknown field `enabeld`"), "{unknown}");
        let malformed = invalid_json_message::<Patch>("{\"enabled\": \"s3cret");
        assert!(!malformed.contains("s3cret"), "{malformed}");
        assert!(
            malformed.starts_with("malformed JSON at line 1"),
            "{malformed}"
        );
    }
}
