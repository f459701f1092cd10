//! An action ready to send: its specification with secrets opened and its signing
//! secret. Made by `store::actions` (which opens the stored record), sent by `delivery`.
//! Exists only on the run path: never stored, serialized or answered.

use shared::action::{ActionSpec, Opened};

/// An action ready to send: its secrets opened. Exists only on the run path, never
/// stored, serialized or answered.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedAction {
    /// Identifier.
    pub id: String,
    /// The revision being sent.
    pub revision: u64,
    /// What the manager configured, secret values in clear.
    pub spec: ActionSpec<Opened>,
    /// `whsec_…`.
    pub signing_secret: String,
}

impl OpenedAction {
    /// Every secret value this action holds (secret header values and the signing
    /// secret): what must never appear in anything recorded.
    pub fn secret_values(&self) -> Vec<&str> {
        self.spec
            .secret_values()
            .chain(std::iter::once(self.signing_secret.as_str()))
            .collect()
    }
}
