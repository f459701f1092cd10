//! What a run came to, ready to store: judged by `delivery` from the endpoint's answer
//! (or from why nothing was sent), recorded by `store::runs`.

use shared::api::{RunOutcome, RunStatus};

/// A run's result, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Succeeded or failed.
    pub status: RunStatus,
    /// How the endpoint answered.
    pub outcome: RunOutcome,
    /// The status code, when there was an answer.
    pub http_status: Option<u16>,
    /// The start of the answer, or what went wrong, as text.
    pub excerpt: Option<String>,
}
