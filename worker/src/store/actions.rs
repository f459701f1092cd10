//! Custom incident actions: configuration in Workers KV as immutable revisions, indexed by
//! one D1 row per action (`action_slots`) that names the current revision.
//!
//! Why this shape:
//! - KV is eventually consistent across locations (about 60 s) and has no transactions, so
//!   it is never read-modified-written. Every create, edit and rotation writes a new value
//!   under a key of its own (`action:{id}:r{revision}:{nonce}`); nothing is overwritten.
//! - D1 is strongly consistent. The row names the current key and moves only by a
//!   statement conditional on the revision the editor read: the compare-and-swap point.
//!   Listing, counting, naming, enabling and running all go through it, so a deleted
//!   action can never run, and of two edits of one revision exactly one lands.
//! - The KV value is written before the row points at it, so a row never names a value
//!   that was not written. Values no row points at (a refused create, the loser of a race,
//!   superseded revisions) are removed by the scheduled handler after a grace period,
//!   which also lets a run that resolved a revision just before an edit still read it.
//!
//! Secrets stay sealed (`sealed.rs`) inside records. Listing, reading and editing copy
//! sealed values as they are; only the run path opens them ([`ActionRecord::open`]).
//!
//! Its parts:
//! - [`record`]: one revision as KV stores it, and opening it;
//! - [`revisions`]: KV keys, reading and writing revisions, the sweep;
//! - [`slots`]: the D1 row and the statements that move it;
//! - [`views`]: an action as a request sees it, and its API shapes.

mod record;
mod revisions;
mod slots;
mod views;

pub use record::ActionRecord;
pub use revisions::{discard_revision, read_config_for_run, sweep, write_revision};
pub use slots::{
    advance, insert, remove, row_from_json, row_of, rows_of_incident, rows_of_service, ActionRow,
    Advance, SlotRefusal, WithActionRow, ROW_AS_JSON,
};
pub use views::{view, view_of_row, views, ActionView, Config};
