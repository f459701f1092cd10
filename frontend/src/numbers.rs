//! Numbers as people type them and as the page writes them back: the number inputs of the
//! run dialog and the action form's bounds and defaults.
//!
//! Both directions go through JSON's own number grammar, which the app carries anyway,
//! rather than `f64`'s `FromStr` and `Display`, which would bring in a second float
//! parser and formatter.

use serde_json::Value;

/// A number as a number box gives it (`12`, `-0.5`, `.5`, `007`, `1e3`), as JSON: an
/// integer stays an integer. `None` for anything else.
///
/// The text goes through JSON's own number grammar (the parser the app already carries)
/// after the two forms HTML allows and JSON does not are rewritten: a leading `.` and
/// leading zeros.
pub fn parse_number(text: &str) -> Option<Value> {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let digits_end = unsigned
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unsigned.len());
    let (whole, rest) = unsigned.split_at(digits_end);
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    if digits_end == 0 && !rest.starts_with('.') {
        return None;
    }
    match serde_json::from_str::<Value>(&format!("{sign}{whole}{rest}")) {
        Ok(number @ Value::Number(_)) => Some(number),
        _ => None,
    }
}

/// A number as text, for an attribute or a form field: `1`, `2.5`; `None` for a value JSON
/// cannot hold (NaN, infinity).
pub fn number_text(value: f64) -> Option<String> {
    serde_json::Number::from_f64(value).map(|number| {
        let text = number.to_string();
        // An `f64` that holds an integer prints as `1.0`; a person typed `1`.
        match text.strip_suffix(".0") {
            Some(whole) => whole.to_owned(),
            None => text,
        }
    })
}

/// Text typed as a number, as an `f64`; `None` when it is not a number.
pub fn parse_f64(text: &str) -> Option<f64> {
    parse_number(text.trim()).and_then(|number| number.as_f64())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_are_parsed_and_integers_stay_integers() {
        assert_eq!(parse_number("12"), Some(json!(12)));
        assert_eq!(parse_number("-3"), Some(json!(-3)));
        assert_eq!(parse_number("2.5"), Some(json!(2.5)));
        assert_eq!(parse_number(".5"), Some(json!(0.5)));
        assert_eq!(parse_number("-.5"), Some(json!(-0.5)));
        assert_eq!(parse_number("007"), Some(json!(7)));
        assert_eq!(parse_number("0"), Some(json!(0)));
        assert_eq!(parse_number("1e3"), Some(json!(1000.0)));
        for bad in [
            "", "-", "abc", "1,5", "+1", "1.", "0x10", "1 2", "true", "\"1\"", ".",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn bounds_are_written_as_a_person_would_type_them() {
        assert_eq!(number_text(1.0).as_deref(), Some("1"));
        assert_eq!(number_text(-2.5).as_deref(), Some("-2.5"));
        assert_eq!(number_text(f64::NAN), None);
        assert_eq!(parse_f64(" 10 "), Some(10.0));
        assert_eq!(parse_f64("ten"), None);
    }
}
