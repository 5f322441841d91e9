//! civicline: an SMS civic feedback gateway.
//!
//! A tour in reading order, following one text message:
//! - [`cli`] and [`config`]: the command line and the layered settings (file + `CIVICLINE_*`);
//!   [`secret`], the leaf type every secret is held in; [`scrub`], the leaf that keeps phone
//!   numbers, emails and listed names out of open data; [`seal`], the leaf that seals
//!   citizens' numbers at rest ([`store::seal`] checks, seals and rotates a database).
//! - [`startup`]: the application's life: builds the [`startup::Application`] (store,
//!   migrations, catalog, gateway, listener), serves it with its housekeeping until SIGTERM.
//! - [`web`]: HTTP. [`web::AppState`] and [`web::router`] put every module's routes behind the
//!   shared middleware. [`web::webhooks`] takes a provider's POST, has [`providers`] verify and
//!   decode it into an [`sms::InboundSms`], and hands it to the gateway; a provider's routes
//!   exist only when its secret is configured. [`web::input`] spells U+0000 as U+FFFD in every
//!   other input; [`web::queue`] holds the officials' pages (polls among them, their results
//!   in [`web::poll_results`], shared with the dashboard), [`web::open311`],
//!   [`web::exports`], [`web::dashboard`] and [`web::reports`] (a report's public page) the
//!   open data.
//! - [`gateway`]: [`gateway::Gateway::receive`] hands a message to its number's writer lane,
//!   which applies it in a round of one transaction: dedupe, citizen, message,
//!   [`gateway::commands::Command`] parse and apply, reply. Keywords come from
//!   [`gateway::catalog`], sentences from [`gateway::replies`] (Fluent). Officials' actions
//!   (reply, status and its notice, assign, note, hide, broadcast; merge and split in
//!   `gateway::crowd`) and delivery
//!   status callbacks ([`gateway::delivery_status`]) are gateway operations too, one
//!   transaction each. [`gateway::routing`] says which department takes a report and by when
//!   ([`gateway::calendar`]: the promise in working time);
//!   the escalation of overdue work is a gateway operation too. [`gateway::ussd`]: the USSD
//!   menus, a confirmed report filed through `receive` like an SMS. A report that repeats an
//!   open one joins it as a supporter ("me too", `commands::report`, `store::crowd::crowd_match`),
//!   and the notices go to every supporter; [`gateway::spikes`] notices many reports at once;
//!   [`gateway::polls`] asks citizens a question (queued in one transaction, like a
//!   broadcast), and a reply to an open poll is counted on the writer lane
//!   (`commands::PollAnswer`, with [`gateway::poll_answers`] reading what it chose).
//! - [`places`]: the city's areas, streets and landmarks (GeoJSON), and where a report's words
//!   put it; a leaf. [`city`] loads them at start, imports new ones and follows other
//!   replicas' imports.
//! - [`mail`]: escalation and spike emails through SMTP, kept (`store::mail`) until the mail
//!   server takes them.
//! - [`store`]: one `Store` over SQLite or Postgres, one file per aggregate, SQL beside its
//!   function; two kinds of transaction the compiler keeps apart: [`store::Tx`] for everything
//!   but the inbound path, [`store::LaneTx`] for the writer lane ([`store::lane`]).
//! - [`delivery`]: the outbox worker: claim with a lease, check consent, send through
//!   [`providers`], retry with backoff, record the outcome; a gateway that cannot be reached
//!   (a phone as the gateway, [`providers::smsgate`]) pauses it without spending attempts.
//! - [`sms`]: pure types: phone numbers (E.164, masked), segment arithmetic.
//! - [`simulate`]: a Twilio-shaped client (and a USSD dialler) for trying the server locally.
//!
//! Dependencies run one way: web -> gateway -> commands -> store; web reads from the store and
//! writes only through the gateway (its own sessions and login attempts excepted); web ->
//! providers to verify and decode; delivery -> providers, store; mail -> store; `providers`,
//! `sms` and `places` import only leaves; nothing imports `web` but `startup`. A test (`architecture`) reads every
//! `crate::` path and fails on an arrow against this rule.

#[cfg(test)]
mod architecture;
pub mod city;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod gateway;
pub mod mail;
pub mod metrics;
pub mod places;
pub mod providers;
pub mod scrub;
pub mod seal;
pub mod secret;
pub mod simulate;
pub mod sms;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
