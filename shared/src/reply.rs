//! The reply contract: what an endpoint's answer may write back to the incident, when its
//! action has `accept_reply` on.
//!
//! Only a 2xx answer with `Content-Type: application/json` whose top level is an object is
//! read as a reply; anything else is never one. Of that object, three fields count:
//! - `note`: a string of 1–2000 characters (after trimming), which becomes a note on the
//!   incident's timeline;
//! - `links`: up to 5 `{"href", "text"}` objects, `href` an absolute `https` URL of at most
//!   2048 characters and `text` 1–100 characters, attached to the incident;
//! - `summary`: one line of at most 140 characters, the run's result in place of "HTTP 200".
//!
//! A field that breaks these rules is ignored as a whole, and [`Reply::ignored`] says which
//! and why (the run stays `succeeded`); other fields are no concern of ours. Everything
//! kept is plain text: shown as text everywhere, never followed by the worker.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::limits::{
    MAX_REPLY_LINKS, MAX_REPLY_LINK_HREF_CHARS, MAX_REPLY_LINK_TEXT_CHARS, MAX_REPLY_NOTE_CHARS,
    MAX_REPLY_SUMMARY_CHARS,
};
use crate::whatwg_url;

/// A link a reply attaches to the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyLink {
    /// An absolute `https` URL.
    pub href: String,
    /// What to show for it.
    pub text: String,
}

/// What a reply writes back, once its fields are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// The note for the timeline, trimmed.
    pub note: Option<String>,
    /// The links for the incident, in the order sent.
    pub links: Vec<ReplyLink>,
    /// The run's one-line result.
    pub summary: Option<String>,
    /// One sentence per field ignored, naming it and why.
    pub ignored: Vec<String>,
}

impl Reply {
    /// What the run records as `reply_error`: every field ignored, or `None`.
    pub fn reply_error(&self) -> Option<String> {
        (!self.ignored.is_empty()).then(|| self.ignored.join("; "))
    }
}

/// Reads an endpoint's answer as a reply: `None` unless it is a 2xx with a JSON content
/// type whose body is a JSON object.
pub fn read_reply(status: u16, content_type: Option<&str>, body: &[u8]) -> Option<Reply> {
    if !(200..=299).contains(&status) || !content_type.is_some_and(is_json_media_type) {
        return None;
    }
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    Some(reply_of(&object))
}

/// `application/json`, in any case, with or without parameters (`; charset=utf-8`).
fn is_json_media_type(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

fn reply_of(object: &Map<String, Value>) -> Reply {
    let mut reply = Reply::default();
    match object.get("note").map(note_of) {
        None => {}
        Some(Ok(note)) => reply.note = Some(note),
        Some(Err(why)) => reply.ignored.push(format!("note ignored: {why}")),
    }
    match object.get("links").map(links_of) {
        None => {}
        Some(Ok(links)) => reply.links = links,
        Some(Err(why)) => reply.ignored.push(format!("links ignored: {why}")),
    }
    match object.get("summary").map(summary_of) {
        None => {}
        Some(Ok(summary)) => reply.summary = summary,
        Some(Err(why)) => reply.ignored.push(format!("summary ignored: {why}")),
    }
    reply
}

fn note_of(value: &Value) -> Result<String, String> {
    let text = value.as_str().ok_or("it must be a string")?.trim();
    let length = text.chars().count();
    if length == 0 || length > MAX_REPLY_NOTE_CHARS {
        return Err(format!(
            "it must be 1–{MAX_REPLY_NOTE_CHARS} characters, not {length}"
        ));
    }
    Ok(text.to_owned())
}

fn links_of(value: &Value) -> Result<Vec<ReplyLink>, String> {
    let list = value.as_array().ok_or("it must be a list")?;
    if list.len() > MAX_REPLY_LINKS {
        return Err(format!(
            "at most {MAX_REPLY_LINKS} links, not {}",
            list.len()
        ));
    }
    list.iter()
        .enumerate()
        .map(|(index, link)| link_of(link).map_err(|why| format!("link {}: {why}", index + 1)))
        .collect()
}

fn link_of(value: &Value) -> Result<ReplyLink, String> {
    let field = |key: &str| value.get(key).and_then(Value::as_str);
    let href = field("href").ok_or("href must be a string")?;
    let text = field("text").ok_or("text must be a string")?.trim();
    if href.chars().count() > MAX_REPLY_LINK_HREF_CHARS {
        return Err(format!(
            "href must be at most {MAX_REPLY_LINK_HREF_CHARS} characters"
        ));
    }
    // A parser drops spaces and line breaks quietly; a link shown must be the link kept.
    let parsed = whatwg_url::parse(href)
        .filter(|url| url.scheme == "https" && url.host.is_some())
        .filter(|_| !href.chars().any(|c| c.is_whitespace() || c.is_control()));
    let Some(url) = parsed else {
        return Err("href must be an absolute https URL".to_owned());
    };
    let length = text.chars().count();
    if length == 0 || length > MAX_REPLY_LINK_TEXT_CHARS {
        return Err(format!(
            "text must be 1–{MAX_REPLY_LINK_TEXT_CHARS} characters, not {length}"
        ));
    }
    Ok(ReplyLink {
        href: url.href,
        text: text.to_owned(),
    })
}

fn summary_of(value: &Value) -> Result<Option<String>, String> {
    let text = value.as_str().ok_or("it must be a string")?.trim();
    if text.chars().any(char::is_control) {
        return Err("it must be one line".to_owned());
    }
    let length = text.chars().count();
    if length > MAX_REPLY_SUMMARY_CHARS {
        return Err(format!(
            "it must be at most {MAX_REPLY_SUMMARY_CHARS} characters, not {length}"
        ));
    }
    Ok((length > 0).then(|| text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JSON: Option<&str> = Some("application/json");

    fn reply(body: &Value) -> Reply {
        read_reply(200, JSON, body.to_string().as_bytes()).unwrap()
    }

    fn link(n: usize) -> Value {
        json!({"href": format!("https://grafana.example.com/d/{n}"), "text": format!("Dashboard {n}")})
    }

    #[test]
    fn only_a_2xx_json_object_is_a_reply() {
        let body = br#"{"note": "Disk at 91%"}"#;
        assert!(read_reply(200, JSON, body).is_some());
        assert!(read_reply(201, Some("Application/JSON; charset=utf-8"), body).is_some());
        assert_eq!(read_reply(500, JSON, body), None, "a non-2xx answer");
        assert_eq!(
            read_reply(200, Some("text/plain"), body),
            None,
            "not JSON by type"
        );
        assert_eq!(read_reply(200, None, body), None, "no type");
        assert_eq!(read_reply(200, Some("application/json-seq"), body), None);
        assert_eq!(read_reply(200, JSON, b"[1, 2]"), None, "not an object");
        assert_eq!(read_reply(200, JSON, b"{not json"), None);
    }

    #[test]
    fn a_full_reply_keeps_its_note_links_and_summary() {
        let got = reply(&json!({
            "note": "  Disk at 91% on web-1\nTop: /var/log  ",
            "links": [link(1)],
            "summary": "Diagnostics attached",
            "other": "ignored without a word",
        }));
        assert_eq!(
            got.note.as_deref(),
            Some("Disk at 91% on web-1\nTop: /var/log")
        );
        assert_eq!(
            got.links,
            vec![ReplyLink {
                href: "https://grafana.example.com/d/1".into(),
                text: "Dashboard 1".into(),
            }]
        );
        assert_eq!(got.summary.as_deref(), Some("Diagnostics attached"));
        assert_eq!(got.reply_error(), None);
    }

    #[test]
    fn a_note_of_2000_characters_is_kept_and_2001_or_blank_is_ignored() {
        let at_limit = "n".repeat(MAX_REPLY_NOTE_CHARS);
        assert_eq!(
            reply(&json!({"note": at_limit})).note,
            Some(at_limit.clone())
        );
        let over = reply(&json!({"note": format!("{at_limit}n")}));
        assert_eq!(over.note, None);
        assert_eq!(
            over.reply_error().unwrap(),
            "note ignored: it must be 1–2000 characters, not 2001"
        );
        assert!(reply(&json!({"note": "   "}))
            .reply_error()
            .unwrap()
            .starts_with("note ignored"));
        assert!(reply(&json!({"note": 7}))
            .reply_error()
            .unwrap()
            .contains("must be a string"));
    }

    #[test]
    fn five_links_are_kept_and_six_are_ignored_as_a_whole() {
        let five: Vec<Value> = (1..=5).map(link).collect();
        assert_eq!(reply(&json!({ "links": five })).links.len(), 5);
        let six: Vec<Value> = (1..=6).map(link).collect();
        let got = reply(&json!({ "links": six }));
        assert!(got.links.is_empty());
        assert_eq!(
            got.reply_error().unwrap(),
            "links ignored: at most 5 links, not 6"
        );
    }

    #[test]
    fn a_link_must_be_absolute_https_with_short_text() {
        let problem = |link: Value| reply(&json!({ "links": [link] })).reply_error().unwrap();
        assert!(problem(json!({"href": "http://a.example/x", "text": "t"})).contains("https"));
        assert!(problem(json!({"href": "javascript:alert(1)", "text": "t"})).contains("https"));
        assert!(problem(json!({"href": "/relative", "text": "t"})).contains("https"));
        assert!(problem(json!({"href": " https://a.example/x", "text": "t"})).contains("https"));
        assert!(problem(json!({"href": "https://a.example/x", "text": ""})).contains("text"));
        assert!(problem(json!({"href": "https://a.example/x"})).contains("text must be"));
        let text_at_limit = "t".repeat(MAX_REPLY_LINK_TEXT_CHARS);
        assert!(
            reply(&json!({"links": [{"href": "https://a.example/x", "text": text_at_limit}]}))
                .reply_error()
                .is_none()
        );
        assert!(problem(
            json!({"href": "https://a.example/x", "text": format!("{text_at_limit}t")})
        )
        .contains("1–100 characters, not 101"));
        let long_path = "p".repeat(MAX_REPLY_LINK_HREF_CHARS - "https://a.example/".len());
        let at_limit = format!("https://a.example/{long_path}");
        assert!(reply(&json!({"links": [{"href": at_limit, "text": "t"}]}))
            .reply_error()
            .is_none());
        assert!(problem(json!({"href": format!("{at_limit}p"), "text": "t"})).contains("2048"));
    }

    #[test]
    fn a_summary_is_one_line_of_at_most_140_characters() {
        let at_limit = "s".repeat(MAX_REPLY_SUMMARY_CHARS);
        assert_eq!(
            reply(&json!({"summary": at_limit})).summary,
            Some(at_limit.clone())
        );
        let over = reply(&json!({"summary": format!("{at_limit}s")}));
        assert_eq!(over.summary, None);
        assert!(over.reply_error().unwrap().starts_with("summary ignored"));
        assert!(reply(&json!({"summary": "two\nlines"}))
            .reply_error()
            .unwrap()
            .contains("one line"));
        let blank = reply(&json!({"summary": ""}));
        assert_eq!((blank.reply_error(), blank.summary), (None, None));
    }

    #[test]
    fn each_bad_field_is_named_and_the_good_ones_kept() {
        let got = reply(&json!({"note": "ok", "links": "nope", "summary": 3}));
        assert_eq!(got.note.as_deref(), Some("ok"));
        assert_eq!(
            got.reply_error().unwrap(),
            "links ignored: it must be a list; summary ignored: it must be a string"
        );
    }
}
