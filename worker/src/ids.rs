//! Random identifiers and secrets. All randomness comes from the platform CSPRNG
//! (`crypto.getRandomValues` in Workers, via getrandom).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};

/// `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    // getrandom only fails when the platform has no CSPRNG, which Workers always provide;
    // failing loudly is the only safe answer if it ever does.
    #[expect(clippy::expect_used, reason = "no CSPRNG means no safe way to go on")]
    getrandom::getrandom(&mut bytes).expect("the platform CSPRNG is available");
    bytes
}

const ID_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A prefixed identifier such as `inc_3k9x…`: 16 random bytes in lower-case base32
/// (Crockford's alphabet), so ids are URL-safe and unguessable.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", base32(&random_bytes(16)))
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ID_ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(
            ID_ALPHABET[((buffer << (5 - bits)) & 31) as usize],
        ));
    }
    out
}

/// A 32-character integration key, as PagerDuty's routing keys are.
pub fn new_routing_key() -> String {
    hex(&random_bytes(16))
}

/// A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_signing_secret() -> String {
    format!("whsec_{}", STANDARD.encode(random_bytes(32)))
}

/// An API token secret: `iat_` + base64url of 32 random bytes (43 characters).
pub fn new_api_token_secret() -> String {
    format!(
        "{}{}",
        shared::user::TOKEN_PREFIX,
        URL_SAFE_NO_PAD.encode(random_bytes(32))
    )
}

/// A session cookie value: 32 random bytes, hex.
pub fn new_session_token() -> String {
    hex(&random_bytes(32))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What storage keeps instead of a token (a session cookie, an API token, a routing key):
/// its SHA-256, in hex.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_26_base32_characters() {
        let id = new_id("run");
        assert!(id.starts_with("run_"));
        assert_eq!(id.len(), 4 + 26);
        assert!(id[4..].bytes().all(|b| ID_ALPHABET.contains(&b)));
    }

    #[test]
    fn two_ids_differ() {
        assert_ne!(new_id("x"), new_id("x"));
    }

    #[test]
    fn routing_keys_are_32_hex_characters() {
        let key = new_routing_key();
        assert_eq!(key.len(), 32);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn signing_secrets_decode_to_32_bytes() {
        let secret = new_signing_secret();
        let raw = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(raw.len(), 32);
    }

    #[test]
    fn api_token_secrets_carry_their_prefix_and_decode_to_32_bytes() {
        let secret = new_api_token_secret();
        let raw = URL_SAFE_NO_PAD
            .decode(secret.strip_prefix("iat_").unwrap())
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(secret, new_api_token_secret());
    }

    #[test]
    fn base32_of_known_bytes() {
        assert_eq!(base32(&[0xff]), "zw");
        assert_eq!(base32(&[0, 0, 0, 0, 0]), "00000000");
    }
}
