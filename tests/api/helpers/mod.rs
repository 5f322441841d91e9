//! The test app: a real server on a loopback port over a fresh database (an SQLite file, or a
//! Postgres schema of its own), and clients that text it as Twilio would and browse it as an
//! official would. One file per concern:
//! - `db`: the backends, a database that disappears with the test, assertions on its rows;
//! - `app`: settings, spawning the app, its teardown check, helpers that drive it;
//! - `sms`: Twilio's webhook fields, signatures, what a webhook answered;
//! - `pages`: officials' accounts, logins and pages;
//! - `smtp`: a real local SMTP server (aiosmtpd) and the mail it received;
//! - `macros`: `both_backends!` and `each_backend!`.

mod app;
mod db;
mod macros;
mod pages;
mod sms;
mod smtp;

pub use app::*;
pub use db::*;
pub use pages::*;
pub use sms::*;
pub use smtp::*;

pub const AUTH_TOKEN: &str = "test-auth-token-12345";
/// What the provider "sees": the app listens on a random loopback port behind it.
pub const PUBLIC_URL: &str = "https://sms.civicline.test";
pub const OUR_NUMBER: &str = "+18005551212";

/// Polls `check` every 20 ms until it holds, for at most 10 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}
