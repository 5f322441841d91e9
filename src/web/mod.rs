//! HTTP handlers. Each submodule exports the routes it serves; [`router`] assembles them with
//! the shared middleware.

mod app;
pub mod console;
pub mod dashboard;
pub mod error;
pub mod exports;
pub mod health;
pub mod input;
pub mod open311;
mod params;
pub mod poll_results;
pub mod queue;
pub mod reports;
pub mod simulator;
pub mod webhooks;

pub use app::{AppState, BODY_LIMIT_BYTES, router};
