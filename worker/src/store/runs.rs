//! Action runs (D1): claimed as `running` before the POST, finished by one statement
//! after it. Each attempt of a run is its own line on the incident's timeline ([`attempt_line`]):
//! "Running …" while it runs, then its result, so the two can never disagree.
//!
//! Claiming first is what makes `Idempotency-Key` safe: the unique index on
//! (incident, action, key) lets exactly one of two concurrent identical requests send.
//! The claim acts as the caller in the very batch that looks the caller's credential up,
//! and counts the rate limit there too, so a run costs one D1 round trip before its POST
//! leaves. Finishing only moves a run out of `running`, so it can be retried
//! safely; a run nobody finished is settled as `unknown` by the scheduled handler.
//!
//! A finished run can be redelivered ([`redelivery_claim`]): its kept body is sent again
//! as a new attempt of the same run. The claim moves the run back to `running` and the
//! latest attempt into `attempts`, so the same [`finish`] records every attempt. An
//! action's history ([`history_page`]) and the figures of its latest finished runs
//! ([`recent_finished_of_service`], [`recent_finished_of_action`]) are read here too.
//!
//! Its parts:
//! - [`rows`]: the row and its reads;
//! - [`claim`]: claiming, finishing and settling;
//! - [`redelivery`]: sending a finished run again;
//! - [`history`]: an action's history and health.

mod claim;
mod history;
mod redelivery;
mod rows;

pub use claim::*;
pub use history::*;
pub use redelivery::*;
pub use rows::*;
