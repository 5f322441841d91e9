//! One integration-test binary: a real server over loopback HTTP on real SQLite files and a
//! real Postgres server. `both_backends!` runs each test on both.

mod helpers;

mod conversation;
mod health;
mod simulate;
mod startup;
mod webhook_input;
