//! HTTP handlers. Each submodule exports the routes it serves; [`crate::startup::router`]
//! assembles them with the shared middleware.

pub mod console;
pub mod dashboard;
pub mod error;
pub mod exports;
pub mod health;
pub mod open311;
mod params;
pub mod queue;
pub mod simulator;
pub mod webhooks;

/// `2026-11-25` for a day counted from the epoch (chart labels).
pub(crate) fn queue_view_day(day: i64) -> String {
    queue::view_when(day * 86_400_000)
        .chars()
        .take(10)
        .collect()
}

/// The label of a status word.
pub(crate) fn queue_view_status(status: &str) -> &str {
    queue::view_status_label(status)
}
