//! civicline: an SMS civic feedback gateway.
//!
//! A tour in reading order, following one text message:
//! - [`cli`] and [`config`]: the command line and the layered settings (file + `CIVICLINE_*`).
//! - [`startup`]: builds the [`startup::Application`] (store, catalog, gateway, router) and
//!   serves it until SIGTERM.
//! - [`web`]: HTTP handlers. [`web::webhooks`] takes a provider's POST, has [`providers`] verify
//!   and decode it into an [`sms::InboundSms`], and hands it to the gateway; a provider's routes
//!   exist only when its secret is configured. [`web::input`] spells U+0000 as U+FFFD in every
//!   other input; [`web::queue`] holds the officials' pages, [`web::open311`],
//!   [`web::exports`] and [`web::dashboard`] the open data.
//! - [`gateway`]: [`gateway::Gateway::receive`] runs one transaction: dedupe, citizen, message,
//!   [`gateway::commands::Command`] parse and apply, reply. Keywords come from
//!   [`gateway::catalog`], sentences from [`gateway::replies`] (Fluent).
//! - [`store`]: one `Store` over SQLite or Postgres, one file per aggregate, SQL beside its
//!   function.
//! - [`delivery`]: the outbox worker: claim with a lease, check consent, send through
//!   [`providers`], retry with backoff, record the outcome; and status callbacks.
//! - [`sms`]: pure types: phone numbers (E.164, masked), segment arithmetic.
//! - [`simulate`]: a Twilio-shaped client for trying the server locally.
//!
//! Dependencies run one way: web -> gateway -> commands -> store; web -> providers;
//! `providers` and `sms` import nothing of the rest.

#[cfg(test)]
mod architecture;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod gateway;
pub mod metrics;
pub mod providers;
pub mod secret;
pub mod simulate;
pub mod sms;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
