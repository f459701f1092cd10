//! Types and validation shared by the worker and the frontend.
//!
//! Everything a user can type is parsed here, once, so the form in the browser and the
//! worker behind it give the same answer with the same words. The wire types (`api`) are
//! the JSON contract of `/api/*`; `events` is the PagerDuty Events API v2 contract of
//! `/v2/enqueue`.

pub mod action;
pub mod api;
pub mod audit;
pub mod endpoint;
pub mod errors;
pub mod events;
pub mod idempotency;
pub mod incident;
pub mod inputs;
pub mod limits;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod pagerduty;
pub mod paging;
#[cfg(test)]
mod readme;
pub mod reply;
pub mod roles;
pub mod routes;
pub mod run_history;
pub mod run_rules;
pub mod run_words;
pub mod service;
mod spelled;
pub mod template;
pub mod time;
pub mod user;
pub mod validation;
pub mod view;
pub mod whatwg_url;

pub use validation::{FieldError, ValidationError};
