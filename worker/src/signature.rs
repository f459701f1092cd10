//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): the endpoint checks
//! `webhook-signature` against `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")),
//! where the secret is the base64 after `whsec_`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a signing secret could not be used.
#[derive(Debug, PartialEq, Eq)]
pub struct BadSigningSecret;

/// Signs one delivery and returns the `webhook-signature` header value.
pub fn sign(
    signing_secret: &str,
    message_id: &str,
    timestamp_secs: i64,
    body: &str,
) -> Result<String, BadSigningSecret> {
    let encoded = signing_secret
        .strip_prefix("whsec_")
        .unwrap_or(signing_secret);
    let key = STANDARD.decode(encoded).map_err(|_| BadSigningSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| BadSigningSecret)?;
    mac.update(format!("{message_id}.{timestamp_secs}.").as_bytes());
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector published with the Standard Webhooks reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_standard_webhooks_test_vector_is_reproduced() {
        assert_eq!(sign(SECRET, MSG_ID, TIMESTAMP, BODY).unwrap(), EXPECTED);
    }

    #[test]
    fn the_whsec_prefix_is_optional() {
        let bare = SECRET.strip_prefix("whsec_").unwrap();
        assert_eq!(sign(bare, MSG_ID, TIMESTAMP, BODY).unwrap(), EXPECTED);
    }

    #[test]
    fn any_change_to_id_timestamp_or_body_changes_the_signature() {
        assert_ne!(
            sign(SECRET, "msg_other", TIMESTAMP, BODY).unwrap(),
            EXPECTED
        );
        assert_ne!(sign(SECRET, MSG_ID, TIMESTAMP + 1, BODY).unwrap(), EXPECTED);
        assert_ne!(sign(SECRET, MSG_ID, TIMESTAMP, "{}").unwrap(), EXPECTED);
    }

    #[test]
    fn a_secret_that_is_not_base64_is_refused() {
        assert_eq!(
            sign("whsec_***", MSG_ID, TIMESTAMP, BODY),
            Err(BadSigningSecret)
        );
    }
}
