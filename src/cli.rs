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
    /// Manage officials' accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage Open311 API keys (for `POST /open311/v2/requests`).
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// The city's places (areas, streets, landmarks) that reports are routed by.
    Places {
        #[command(subcommand)]
        command: PlacesCommand,
    },
    /// Seal keys for citizens' numbers at rest (README: "Numbers sealed at rest").
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// A citizen's rights: everything held about a number, or its erasure (README: "A
    /// citizen's rights, and retention"). Both are recorded in the audit log.
    Citizen {
        #[command(subcommand)]
        command: CitizenCommand,
    },
    /// Anonymize the citizens whose reports were all closed, and who last texted, longer ago
    /// than `privacy.anonymize_after_days` (the housekeeping does it hourly when it is set).
    Retention {
        /// Print what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Days, instead of `privacy.anonymize_after_days`.
        #[arg(long)]
        days: Option<f64>,
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
        /// Dial this USSD code instead (`*384*12#`) and answer its menus, one stdin line per
        /// input, until the session ends: through `/ussd/africastalking` when
        /// africastalking.webhook_token is set, else the console trial's `/console/ussd`.
        #[arg(long)]
        ussd: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account, or set the password and role of an existing one. The password comes
    /// from CIVICLINE_USER_PASSWORD, else from the first line of stdin.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "agent", "viewer"])]
        role: String,
        /// The department they work in (a `[[department]]` name): their queue opens on its
        /// work. Without it, the whole city's.
        #[arg(long)]
        department: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Print everything held about this number as JSON (messages, issues, consent,
    /// subscriptions).
    Export { number: String },
    /// Erase this number: its messages and reports' words read [erased], the number is removed
    /// (unless it opted out: then it stays, sealed, only to refuse sends), consent kept.
    Forget { number: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new random key (base64 of 32 bytes) for CIVICLINE_PRIVACY__SEAL_KEY.
    New,
    /// Re-seal every number under CIVICLINE_PRIVACY__NEW_SEAL_KEY (the current key in
    /// CIVICLINE_PRIVACY__SEAL_KEY), in batches, while servers run with both keys set. Safe to
    /// run again after an interruption; when it has finished, servers need only the new key.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum PlacesCommand {
    /// Import a GeoJSON FeatureCollection (README: "Places"). It is checked whole first: a
    /// refused file changes nothing. Running servers put it in force within seconds; reports
    /// already filed keep where they were routed.
    Import {
        /// The FeatureCollection.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create a key for another channel (a web form, a CRM); it is printed once.
    Add {
        /// Who uses it (shown in the issue's trail as `api:<name>`).
        #[arg(long)]
        name: String,
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
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    department,
                },
        } => {
            if let Some(department) = &department
                && !settings.department.iter().any(|d| d.name == *department)
            {
                anyhow::bail!("no [[department]] is named {department:?} in the settings");
            }
            let password = match std::env::var("CIVICLINE_USER_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from stdin")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            if password.chars().count() < 10 {
                anyhow::bail!("the password must have at least 10 characters");
            }
            let email = email.trim().to_owned();
            if !email.contains('@') {
                anyhow::bail!("{email:?} is not an email address");
            }
            let store = Store::connect(&settings.database.url, 1)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("applying migrations")?;
            // argon2id with a random salt; slow on purpose, so off the async runtime.
            let hash = tokio::task::spawn_blocking(move || password_auth::generate_hash(&password))
                .await?;
            let id = crate::store::officials::upsert(
                &store,
                &email,
                &hash,
                &role,
                department.as_deref(),
                crate::store::now_ms(),
            )
            .await
            .context("saving the account")?;
            println!("official {id}: {email} ({role})");
            Ok(())
        }
        Command::Apikey {
            command: ApikeyCommand::Add { name },
        } => {
            let store = Store::connect(&settings.database.url, 1)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("applying migrations")?;
            let key =
                crate::store::open_data::create_api_key(&store, &name, crate::store::now_ms())
                    .await?;
            println!("{key}");
            eprintln!("API key for {name:?}: shown once, keep it safe.");
            Ok(())
        }
        Command::Places {
            command: PlacesCommand::Import { file },
        } => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let store = Store::connect(&settings.database.url, 1)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("applying migrations")?;
            let (places, id) = crate::city::import(&store, &source)
                .await
                .with_context(|| format!("{} was not imported", file.display()))?;
            let (areas, streets, landmarks) = places.counts();
            println!(
                "places {id}: {areas} areas, {streets} streets, {landmarks} landmarks from {}",
                file.display()
            );
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::New,
        } => {
            println!("{}", crate::seal::SealKey::generate());
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let store = open_sealed(&settings).await?;
            let moved = crate::store::seal::rotate(&store, store.seal()).await?;
            let ids = store.seal().key_ids();
            println!(
                "{moved} numbers moved from key {} to key {}: set CIVICLINE_PRIVACY__SEAL_KEY to the new key and unset CIVICLINE_PRIVACY__NEW_SEAL_KEY on every server",
                ids[0],
                ids.get(1).copied().unwrap_or("?")
            );
            Ok(())
        }
        Command::Citizen { command } => {
            let (number, export) = match &command {
                CitizenCommand::Export { number } => (number, true),
                CitizenCommand::Forget { number } => (number, false),
            };
            let phone = crate::sms::PhoneNumber::parse(number, Some(&settings.sms.default_region))
                .map_err(|e| anyhow::anyhow!("{number:?} is not a phone number: {e}"))?;
            let store = open_sealed(&settings).await?;
            let Some(citizen) = crate::store::privacy::find(&store, phone.e164()).await? else {
                anyhow::bail!("no citizen has texted from {}", phone.masked());
            };
            let now = crate::store::now_ms();
            if export {
                let json = crate::store::privacy::export(&store, citizen, now).await?;
                println!("{}", serde_json::to_string_pretty(&json)?);
            } else {
                let done = crate::store::privacy::anonymize(
                    &store,
                    citizen,
                    crate::store::privacy::Words::Erase,
                    "citizen.forgotten",
                    false,
                    now,
                )
                .await?;
                println!(
                    "citizen {citizen} forgotten: {} messages and {} reports erased{}",
                    done.messages,
                    done.issues,
                    if done.opted_out_kept > 0 {
                        "; the number opted out, so it stays, sealed, only to refuse sends"
                    } else {
                        "; the number removed"
                    }
                );
            }
            Ok(())
        }
        Command::Retention { dry_run, days } => {
            let mut privacy = settings.privacy.clone();
            privacy.anonymize_after_days = days.or(privacy.anonymize_after_days);
            let now = crate::store::now_ms();
            let Some(before) = privacy.retention_before(now) else {
                anyhow::bail!(
                    "retention is off: set privacy.anonymize_after_days (CIVICLINE_PRIVACY__ANONYMIZE_AFTER_DAYS) or pass --days"
                );
            };
            let store = open_sealed(&settings).await?;
            let scrubber = crate::scrub::Scrubber::new(&privacy.scrub_words);
            let done =
                crate::store::privacy::retain(&store, &scrubber, before, dry_run, now).await?;
            println!(
                "{} {} citizens ({} opted out: number kept, sealed), {} messages and {} reports scrubbed",
                if dry_run {
                    "would anonymize"
                } else {
                    "anonymized"
                },
                done.citizens,
                done.opted_out_kept,
                done.messages,
                done.issues
            );
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
        Command::Simulate {
            from,
            url,
            wait: _,
            ussd: Some(code),
        } => simulate::dial(&settings, &url, &from, &code).await,
        Command::Simulate {
            from,
            url,
            wait,
            ussd: None,
        } => simulate::run(&settings, simulate::SimulateArgs { from, url, wait }).await,
    }
}

/// The database, migrated, its numbers kept as the settings say (see `startup::sealed`).
async fn open_sealed(settings: &Settings) -> anyhow::Result<Store> {
    telemetry::init(&settings.log);
    let store = Store::connect(&settings.database.url, 2)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("applying migrations")?;
    crate::startup::sealed(store, settings).await
}
