//! JSON for reading: custom details and request bodies, indented, every value as sent.

use serde_json::Value;

/// Compact JSON text. Every JSON the app writes goes through this one serializer (the one
/// request bodies use): `Value`'s `Display` and `to_string_pretty` would each bring a
/// second and third copy of it into the bundle.
pub(super) fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `value` as `serde_json::to_string_pretty` writes it (two spaces a level), built on
/// [`json_text`] for the leaves.
fn write_pretty(out: &mut String, value: &Value, depth: usize) {
    let (open, close, entries): (char, char, Vec<(Option<&String>, &Value)>) = match value {
        Value::Array(items) if !items.is_empty() => {
            ('[', ']', items.iter().map(|item| (None, item)).collect())
        }
        Value::Object(map) if !map.is_empty() => (
            '{',
            '}',
            map.iter().map(|(key, item)| (Some(key), item)).collect(),
        ),
        leaf => {
            out.push_str(&json_text(leaf));
            return;
        }
    };
    out.push(open);
    for (index, (key, item)) in entries.into_iter().enumerate() {
        out.push_str(if index == 0 { "\n" } else { ",\n" });
        out.push_str(&"  ".repeat(depth + 1));
        if let Some(key) = key {
            out.push_str(&json_text(key.as_str()));
            out.push_str(": ");
        }
        write_pretty(out, item, depth + 1);
    }
    out.push('\n');
    out.push_str(&"  ".repeat(depth));
    out.push(close);
}

/// Custom details as indented JSON text; `None` when there are none.
pub fn pretty_details(details: &Value) -> Option<String> {
    match details {
        Value::Null => None,
        Value::Object(map) if map.is_empty() => None,
        other => {
            let mut text = String::new();
            write_pretty(&mut text, other, 0);
            Some(text)
        }
    }
}

/// A request body for reading: indented when it is JSON, as sent otherwise. The JSON is
/// re-laid out token by token, never parsed into numbers and printed again, so every
/// value reads exactly as it is sent (`1.0` stays `1.0`, a long integer keeps its digits).
pub fn readable_body(body: &str) -> String {
    // The parser to `Value` is in the bundle already; a validating-only one is not.
    if serde_json::from_str::<Value>(body).is_err() {
        return body.to_owned();
    }
    let mut out = String::with_capacity(body.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = body.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                (false, _) => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.next_if(|next| next.is_ascii_whitespace()).is_some() {}
                if chars.next_if(|next| matches!(next, '}' | ']')).is_some() {
                    out.push(if c == '{' { '}' } else { ']' });
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}
