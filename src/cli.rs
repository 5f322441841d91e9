//! The command line (shared/DESIGN.md section 3). No subcommand means `serve`.

use crate::config::{DEFAULTS_TOML, Settings};
use crate::startup::Application;
use crate::store::Store;
use crate::{simulate, telemetry};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "civicline", version, about = "SMS civic feedback gateway")]
pub struct Cli {
    /// A TOML settings file; environment variables CIVICLINE_<SECTION>__<KEY> override it.
    #[arg(long, env = "CIVICLINE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrations are applied at start). The default.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective settings, secrets redacted. `--defaults` prints the commented defaults.
    Config {
        #[arg(long)]
        defaults: bool,
    },
    /// Text a running server: each stdin line is sent as a signed Twilio webhook; replies are printed.
    Simulate {
        /// The citizen's number.
        #[arg(long, default_value = "+15555550100")]
        from: String,
        /// Where the server listens.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// After the last line, keep printing what the server sends this number (officials'
        /// replies, notices) for this many seconds. Console provider only.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref()).context("loading settings")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init(&settings.log);
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate => {
            telemetry::init(&settings.log);
            let store = Store::connect(&settings.database.url, 1).await?;
            store.migrate().await?;
            println!("migrations applied to {}", settings.database.url.redacted());
            Ok(())
        }
        Command::Config { defaults: true } => {
            print!("{DEFAULTS_TOML}");
            Ok(())
        }
        Command::Config { defaults: false } => {
            print!("{}", settings.to_redacted_toml());
            Ok(())
        }
        Command::Simulate { from, url, wait } => {
            simulate::run(&settings, simulate::SimulateArgs { from, url, wait }).await
        }
    }
}
