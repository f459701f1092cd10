//! Storage: D1 for services, incidents, timelines, runs, users, tokens and sessions; KV for action
//! configuration. Each submodule owns its tables (or keys) and its SQL; handlers never
//! write SQL themselves.

pub mod actions;
pub mod audit;
pub mod batch;
pub mod caller;
pub mod changes;
pub mod claims;
pub mod incidents;
pub mod intake;
pub mod kv;
pub mod rate_limits;
pub mod runs;
pub mod services;
pub mod sessions;
pub mod sql;
pub mod tokens;
pub mod users;
