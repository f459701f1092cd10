//! The `Idempotency-Key` of a run or a redelivery, parsed once at the edge: past it, a key
//! is an [`IdempotencyKey`], never an unchecked string.

use crate::limits::MAX_IDEMPOTENCY_KEY_CHARS;

/// A checked `Idempotency-Key`: 1 to [`MAX_IDEMPOTENCY_KEY_CHARS`] visible ASCII
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks a header's value; the error is the message for a 400
    /// `invalid_idempotency_key`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_IDEMPOTENCY_KEY_CHARS
            && raw.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"
            ))
        }
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_1_and_255_visible_characters_are_accepted() {
        assert_eq!(IdempotencyKey::parse("k").unwrap().as_str(), "k");
        let longest = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS);
        assert_eq!(IdempotencyKey::parse(&longest).unwrap().as_str(), longest);
        assert!(IdempotencyKey::parse("~!{}-_.0Z").is_ok());
    }

    #[test]
    fn keys_that_are_empty_long_spaced_or_not_ascii_are_refused() {
        for bad in [
            String::new(),
            "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS + 1),
            "a b".to_owned(),
            "tab\there".to_owned(),
            "é".to_owned(),
        ] {
            let error = IdempotencyKey::parse(&bad).unwrap_err();
            assert!(error.contains("1 to 255 visible ASCII"), "{bad:?}: {error}");
        }
    }
}
