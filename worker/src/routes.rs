//! Request handlers, one module per resource. Each handler parses its input, calls the
//! store, and returns `ApiResult<Response>`; `lib.rs` maps routes to them.

pub mod actions;
pub mod audit;
pub mod events;
pub mod incidents;
pub mod openapi;
pub mod pagerduty;
pub mod preview;
pub mod runs;
pub mod services;
pub mod session;
pub mod users;
