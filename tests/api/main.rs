//! One integration-test binary: a real server over loopback HTTP on real SQLite files and a
//! real Postgres server. `both_backends!` runs each test on both.

mod fake_provider;
mod helpers;

mod browser;
mod closed_by_default;
mod consent;
mod conversation;
mod crash;
mod crowd;
mod delivery;
mod health;
mod languages;
mod open_data;
mod polls;
mod privacy;
mod queue;
mod reports;
mod routing;
mod sealed;
mod simulate;
mod smsgate;
mod spikes;
mod startup;
mod storm;
mod ussd;
mod webhook_input;
