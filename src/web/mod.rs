//! HTTP handlers. Each submodule exports the routes it serves; [`crate::startup::router`]
//! assembles them with the shared middleware.

pub mod console;
pub mod dashboard;
pub mod error;
pub mod exports;
pub mod health;
pub mod input;
pub mod open311;
mod params;
pub mod queue;
pub mod simulator;
pub mod webhooks;
