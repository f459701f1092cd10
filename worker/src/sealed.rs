//! Secrets at rest: AES-256-GCM with the key from the `ENCRYPTION_KEY` Worker secret.
//!
//! A sealed value reads `v1.<key id>.<nonce>.<ciphertext>` (base64url). Each value has a
//! fresh 96-bit nonce, and its associated data names the service, action and field it
//! belongs to (a service's routing key: the service and `routing_key`), so a ciphertext
//! copied into another service, action or field does not open. The key
//! id is a fingerprint of the key itself, so rotating is: set the new `ENCRYPTION_KEY`,
//! move the old one to `ENCRYPTION_KEYS_PREVIOUS`; values sealed with either still open,
//! and every write seals with the new one.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::app::{App, Setting};
use crate::error::{ApiError, ApiResult};
use crate::ids::{hex, random_bytes};

/// The keyring of this deployment. Without a usable `ENCRYPTION_KEY` no secret can be
/// stored or read, so this fails loudly (500, with the cause in the log).
pub fn keyring(app: &App) -> ApiResult<Keyring> {
    let current = app
        .setting(Setting::EncryptionKey)
        .ok_or_else(|| ApiError::Internal("ENCRYPTION_KEY is not set".into()))?;
    let previous = app
        .setting(Setting::EncryptionKeysPrevious)
        .unwrap_or_default();
    Keyring::new(&current, &previous).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Why a key or a sealed value could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// `ENCRYPTION_KEY` is unset or not 32 bytes of base64.
    BadKey(String),
    /// The value is not in the sealed format.
    Malformed,
    /// No configured key has this id.
    UnknownKey(String),
    /// Wrong key, wrong associated data, or tampered ciphertext.
    Rejected,
}

impl std::fmt::Display for SealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadKey(why) => write!(f, "encryption key: {why}"),
            Self::Malformed => write!(f, "sealed value is malformed"),
            Self::UnknownKey(id) => write!(f, "no configured encryption key has id {id}"),
            Self::Rejected => write!(f, "sealed value does not open with its key and context"),
        }
    }
}

/// How every sealed value starts: a stored value without it was stored in clear (a
/// routing key from before keys were sealed).
pub const SEALED_PREFIX: &str = "v1.";

/// Where a sealed value belongs; bound into the ciphertext as associated data.
#[derive(Debug, Clone, Copy)]
pub struct SealContext<'a> {
    /// The owning service.
    pub service_id: &'a str,
    /// The owning action; empty (which no action id is) for the service's own values.
    pub action_id: &'a str,
    /// `signing_secret`, `header:<lower-case name>`, or `routing_key`.
    pub field: &'a str,
}

impl<'a> SealContext<'a> {
    /// The routing key of `service_id`: the service's own, no action's.
    pub fn routing_key(service_id: &'a str) -> Self {
        Self {
            service_id,
            action_id: "",
            field: "routing_key",
        }
    }

    fn associated_data(&self) -> String {
        format!(
            "incident-actions/v1|{}|{}|{}",
            self.service_id, self.action_id, self.field
        )
    }
}

struct Key {
    id: String,
    cipher: Aes256Gcm,
}

impl Key {
    fn parse(base64_key: &str) -> Result<Self, SealError> {
        let bytes = STANDARD
            .decode(base64_key.trim())
            .map_err(|_| SealError::BadKey("not base64".into()))?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey(format!(
                "{} bytes, expected 32",
                bytes.len()
            )));
        }
        let cipher =
            Aes256Gcm::new_from_slice(&bytes).map_err(|_| SealError::BadKey("rejected".into()))?;
        // A fingerprint, not the key: 8 bytes of SHA-256 cannot be turned back into it.
        let id = hex(&Sha256::digest(&bytes)[..8]);
        Ok(Self { id, cipher })
    }
}

/// The keys in force: one to seal with, older ones still able to open.
pub struct Keyring {
    current: Key,
    previous: Vec<Key>,
}

impl Keyring {
    /// Builds the keyring from `ENCRYPTION_KEY` and the comma-separated
    /// `ENCRYPTION_KEYS_PREVIOUS` (both base64 of 32 bytes).
    pub fn new(current: &str, previous: &str) -> Result<Self, SealError> {
        Ok(Self {
            current: Key::parse(current)?,
            previous: previous
                .split(',')
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .map(Key::parse)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Seals `plaintext` for `context` with the current key.
    pub fn seal(&self, plaintext: &str, context: SealContext<'_>) -> Result<String, SealError> {
        let nonce_bytes = random_bytes(12);
        let aad = context.associated_data();
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce_bytes),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError::Rejected)?;
        Ok(format!(
            "{SEALED_PREFIX}{}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(nonce_bytes),
            URL_SAFE_NO_PAD.encode(ciphertext)
        ))
    }

    /// Whether `sealed` names a key of this ring, so that it can be opened (unless it was
    /// tampered with). Decides an action's health without opening any secret.
    pub fn knows_key_of(&self, sealed: &str) -> bool {
        let mut parts = sealed.split('.');
        match (parts.next(), parts.next()) {
            (Some("v1"), Some(key_id)) => std::iter::once(&self.current)
                .chain(&self.previous)
                .any(|key| key.id == key_id),
            _ => false,
        }
    }

    /// Opens a value sealed for `context` with any key of the ring.
    pub fn open(&self, sealed: &str, context: SealContext<'_>) -> Result<String, SealError> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(key_id), Some(nonce), Some(ciphertext), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(SealError::Malformed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == key_id)
            .ok_or_else(|| SealError::UnknownKey(key_id.to_owned()))?;
        let nonce = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| SealError::Malformed)?;
        let ciphertext = URL_SAFE_NO_PAD
            .decode(ciphertext)
            .map_err(|_| SealError::Malformed)?;
        if nonce.len() != 12 {
            return Err(SealError::Malformed);
        }
        let aad = context.associated_data();
        let plaintext = key
            .cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError::Rejected)?;
        String::from_utf8(plaintext).map_err(|_| SealError::Rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; 32])
    }

    fn context(field: &str) -> SealContext<'_> {
        SealContext {
            service_id: "svc_1",
            action_id: "act_1",
            field,
        }
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_context() {
        let ring = Keyring::new(&key(1), "").unwrap();
        let sealed = ring
            .seal("Bearer t0p-secret", context("header:authorization"))
            .unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("t0p-secret"));
        assert_eq!(
            ring.open(&sealed, context("header:authorization")).unwrap(),
            "Bearer t0p-secret"
        );
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let ring = Keyring::new(&key(1), "").unwrap();
        let a = ring.seal("same", context("signing_secret")).unwrap();
        let b = ring.seal("same", context("signing_secret")).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn a_value_moved_to_another_field_or_action_does_not_open() {
        let ring = Keyring::new(&key(1), "").unwrap();
        let sealed = ring.seal("x", context("signing_secret")).unwrap();
        assert_eq!(
            ring.open(&sealed, context("header:x-key")),
            Err(SealError::Rejected)
        );
        let other_action = SealContext {
            action_id: "act_2",
            ..context("signing_secret")
        };
        assert_eq!(ring.open(&sealed, other_action), Err(SealError::Rejected));
    }

    #[test]
    fn a_routing_key_opens_only_as_its_own_services_routing_key() {
        let ring = Keyring::new(&key(1), "").unwrap();
        let sealed = ring
            .seal("0123456789abcdef", SealContext::routing_key("svc_1"))
            .unwrap();
        assert!(sealed.starts_with(SEALED_PREFIX));
        assert_eq!(
            ring.open(&sealed, SealContext::routing_key("svc_1"))
                .unwrap(),
            "0123456789abcdef"
        );
        assert_eq!(
            ring.open(&sealed, SealContext::routing_key("svc_2")),
            Err(SealError::Rejected)
        );
        assert_eq!(
            ring.open(&sealed, context("routing_key")),
            Err(SealError::Rejected),
            "nor as a field of an action of the service"
        );
    }

    #[test]
    fn a_tampered_value_does_not_open() {
        let ring = Keyring::new(&key(1), "").unwrap();
        let sealed = ring.seal("x", context("signing_secret")).unwrap();
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 1;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(ring.open(&tampered, context("signing_secret")).is_err());
    }

    #[test]
    fn after_rotation_old_values_open_and_new_ones_use_the_new_key() {
        let old_ring = Keyring::new(&key(1), "").unwrap();
        let old_value = old_ring.seal("kept", context("signing_secret")).unwrap();
        let rotated = Keyring::new(&key(2), &key(1)).unwrap();
        assert_eq!(
            rotated.open(&old_value, context("signing_secret")).unwrap(),
            "kept"
        );
        let new_value = rotated.seal("new", context("signing_secret")).unwrap();
        assert_ne!(new_value.split('.').nth(1), old_value.split('.').nth(1));
        let without_old = Keyring::new(&key(2), "").unwrap();
        assert!(matches!(
            without_old.open(&old_value, context("signing_secret")),
            Err(SealError::UnknownKey(_))
        ));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(Keyring::new("not base64!", "").is_err());
        assert!(Keyring::new(&STANDARD.encode([1u8; 16]), "").is_err());
        assert!(Keyring::new(&key(1), "garbage").is_err());
    }
}
