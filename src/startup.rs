//! Building and running the application: settings in, a bound listener and a router out.
//! `Application::build` binds its own listener, so tests ask for port 0 and read the port back.

use crate::config::Settings;
use crate::delivery::Worker;
use crate::gateway::catalog::Catalog;
use crate::gateway::replies::Replies;
use crate::gateway::routing::Routing;
use crate::gateway::{Gateway, ReplyRouting};
use crate::providers::{self, Sender};
use crate::seal::Seal;
use crate::secret::Secret;
use crate::sms::Provider;
use crate::store::Store;
use crate::web;
use anyhow::Context as _;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Store,
    /// `None` when `delivery.enabled` is false (another process drains the outbox).
    worker: Option<Worker>,
    background: Background,
    shutdown_grace: Duration,
}

/// The outbound provider client the settings describe.
pub fn sender(settings: &Settings) -> anyhow::Result<Sender> {
    Ok(match settings.provider().map_err(anyhow::Error::msg)? {
        Provider::Console => Sender::Console(providers::console::Console),
        Provider::Twilio => {
            let t = &settings.twilio;
            let token = t
                .auth_token
                .clone()
                .context("twilio.auth_token is required")?;
            if t.account_sid.is_empty() || t.from.is_empty() {
                tracing::warn!(
                    "twilio.account_sid or twilio.from is empty: messages from the outbox will fail"
                );
            }
            Sender::Twilio(providers::twilio::client::Client::new(
                &t.api_base,
                &t.account_sid,
                token,
                &t.from,
            ))
        }
        Provider::AfricasTalking => {
            let a = &settings.africastalking;
            let key = a
                .api_key
                .clone()
                .context("africastalking.api_key is required")?;
            Sender::AfricasTalking(providers::africastalking::Client::new(
                &a.api_base,
                &a.username,
                key,
                &a.from,
            ))
        }
        Provider::Smsgate => {
            let s = &settings.smsgate;
            let password = s.password.clone().context("smsgate.password is required")?;
            anyhow::ensure!(
                !s.url.is_empty(),
                "smsgate.url is required (the phone's API)"
            );
            Sender::Smsgate(providers::smsgate::Client::new(
                &s.url,
                &s.username,
                password,
                std::time::Duration::from_millis(s.send_interval_ms),
            ))
        }
    })
}

impl Application {
    /// Connects to the database, applies migrations, loads the catalog and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let provider = settings.provider().map_err(anyhow::Error::msg)?;
        let inbound =
            web::webhooks::Inbound::from_settings(&settings).map_err(anyhow::Error::msg)?;
        if matches!(
            inbound.twilio,
            Some(web::webhooks::TwilioAuth::UnsignedTrial)
        ) {
            tracing::warn!(
                "console provider without twilio.auth_token: /sms/twilio accepts UNSIGNED requests (local trial only)"
            );
        }
        let sender = sender(&settings)?;

        crate::metrics::handle(); // the recorder exists before anything counts
        let store = Store::connect(&settings.database.url, settings.database.max_connections)
            .await
            .with_context(|| format!("connecting to {}", settings.database.url.redacted()))?;
        store.migrate().await.context("applying migrations")?;
        let store = sealed(store, &settings).await?;

        let catalog = match settings.gateway.keywords_path() {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading keyword catalog {}", path.display()))?;
                Catalog::from_toml(&text)
                    .with_context(|| format!("keyword catalog {}", path.display()))?
            }
            None => Catalog::builtin(),
        };
        let wake = Arc::new(tokio::sync::Notify::new());
        let routing = ReplyRouting {
            twilio_inline: settings.twilio.reply != "api",
            outbound: sender.provider(),
            wake: wake.clone(),
        };
        let trial = provider == Provider::Console;
        let (places, places_id) = crate::city::load(&store, &settings, trial).await?;
        // A rule naming a category, an area or an assignee that does not exist stops the
        // server here, naming the line of the config file.
        let officials = crate::store::officials::all(&store).await?;
        let departments =
            Routing::new(&settings, &catalog, &places, &officials).map_err(|error| {
                let at = error.names().zip(settings.file.as_deref()).and_then(
                    |((department, value), path)| {
                        let text = std::fs::read_to_string(path).ok()?;
                        let line = crate::config::department_line(&text, department, value)?;
                        Some(format!("{}:{line}", path.display()))
                    },
                );
                match at {
                    Some(at) => anyhow::anyhow!("{at}: {error}"),
                    None => anyhow::anyhow!(error),
                }
            })?;
        tracing::info!(
            places = ?places,
            departments = departments.departments().len(),
            "routing"
        );
        let gateway = Gateway::new(
            store.clone(),
            catalog,
            Replies::builtin(),
            settings.gateway.clone(),
            settings.crowd.clone(),
            settings.spikes.clone(),
            routing,
            places,
            departments,
        )
        .await
        .context("starting the gateway")?;
        let mailer = crate::mail::Mailer::new(&settings.smtp)?;
        if mailer.is_none() && !gateway.departments().departments().is_empty() {
            tracing::warn!("smtp.url is not set: escalations are recorded and wait, unsent");
        }
        let background = Background {
            gateway: gateway.clone(),
            places_id,
            places_every: Duration::from_secs(settings.places.check_interval_secs.max(1)),
            sla_every: Duration::from_secs(settings.sla.check_interval_secs.max(1)),
            spikes_every: Duration::from_secs(settings.spikes.check_interval_secs.max(1)),
            public_url: settings.server.public_url.clone(),
            mailer,
            privacy: settings.privacy.clone(),
        };
        let worker = settings.delivery.enabled.then(|| {
            Worker::new(
                store.clone(),
                sender,
                settings.delivery.clone(),
                wake,
                &settings.server.public_url,
            )
        });

        let state = web::AppState {
            gateway,
            inbound: inbound.clone(),
            public_url: settings.server.public_url.as_str().into(),
            default_region: settings.sms.default_region.as_str().into(),
            console: provider == Provider::Console,
            client_ip_header: settings.server.client_ip_header.to_ascii_lowercase().into(),
            dashboard: Arc::new(web::dashboard::Cache::new(Duration::from_secs(
                settings.server.dashboard_cache_secs,
            ))),
            metrics_token: settings.server.metrics_token.clone().map(Arc::new),
            scrubber: Arc::new(crate::scrub::Scrubber::new(&settings.privacy.scrub_words)),
        };
        let listener = TcpListener::bind(&settings.server.bind)
            .await
            .with_context(|| format!("binding {}", settings.server.bind))?;
        let router = web::router(
            state,
            Duration::from_secs(settings.server.request_timeout_secs),
        );
        tracing::info!(
            address = %listener.local_addr()?,
            database = store.backend_name(),
            provider = provider.as_str(),
            webhooks = ?inbound.paths(),
            "civicline is listening"
        );
        Ok(Application {
            listener,
            router,
            store,
            worker,
            background,
            shutdown_grace: Duration::from_secs(settings.server.shutdown_grace_secs),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes; in-flight requests get `server.shutdown_grace_secs`.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
        let worker = self
            .worker
            .map(|worker| tokio::spawn(worker.run(worker_stopped)));
        // `into_make_service*`: each connection gets a clone of the router's `Arc`. Served as a
        // bare `Router`, axum rebuilt the whole route table for every connection (`with_state`
        // per connection: 2 MB of heap at 64 connections, measured with massif).
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stop_worker.send(true);
            let _ = stopping_tx.send(());
        });
        let grace = self.shutdown_grace;
        let deadline = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            result = serve => result.context("serving HTTP")?,
            () = deadline => tracing::warn!("shutdown grace period over: dropping open connections"),
            () = housekeeping(self.store.clone(), self.background) => {
                unreachable!("housekeeping runs until dropped")
            }
        }
        if let Some(worker) = worker {
            // Sends in flight finish (or their lease runs out and another instance takes over).
            if tokio::time::timeout(grace, worker).await.is_err() {
                tracing::warn!("delivery worker still sending after the grace period: leaving it");
            }
        }
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// What the housekeeping needs beside the store.
struct Background {
    gateway: Gateway,
    /// The import of places the server started with: newer ones are put in force.
    places_id: i64,
    places_every: Duration,
    sla_every: Duration,
    spikes_every: Duration,
    public_url: String,
    /// `None` without `smtp.url`: escalations wait, unsent.
    mailer: Option<crate::mail::Mailer>,
    /// Retention (`privacy.anonymize_after_days`) and what it scrubs.
    privacy: crate::config::PrivacySettings,
}

/// What the server does in the background while it serves, until dropped: histogram samples
/// folded into their histograms; a newer import of places put in force
/// (`places.check_interval_secs`); overdue work escalated and escalation emails sent
/// (`sla.check_interval_secs`); spikes raised and emailed (`spikes.check_interval_secs`);
/// hourly, expired officials' sessions and login attempts older than an hour deleted, the
/// dashboard's past days of reports kept (`store::stats::keep_days`), and citizens due for
/// retention anonymized.
async fn housekeeping(store: Store, background: Background) {
    let Background {
        gateway,
        places_id,
        places_every,
        sla_every,
        spikes_every,
        public_url,
        mailer,
        privacy,
    } = background;
    let hourly = async {
        let scrubber = crate::scrub::Scrubber::new(&privacy.scrub_words);
        let sessions = crate::store::sessions::SessionStore::new(store.clone());
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match sessions.delete_expired().await {
                Ok(deleted) => tracing::debug!(deleted, "expired sessions deleted"),
                Err(error) => tracing::warn!(%error, "deleting expired sessions failed"),
            }
            let hour_ago = crate::store::now_ms() - 3_600_000;
            match crate::store::login_attempts::delete_older_than(&store, hour_ago).await {
                Ok(deleted) => tracing::debug!(deleted, "old login attempts deleted"),
                Err(error) => tracing::warn!(%error, "deleting old login attempts failed"),
            }
            let now = crate::store::now_ms();
            // The dashboard's 90 days of reports per day, kept once each day is over.
            let from = now - 90 * 86_400_000;
            match crate::store::stats::keep_days(&store, from, now).await {
                Ok(kept) => tracing::debug!(kept, "days of reports kept for the dashboard"),
                Err(error) => tracing::warn!(%error, "keeping days of reports failed"),
            }
            if let Some(before) = privacy.retention_before(now) {
                match crate::store::privacy::retain(&store, &scrubber, before, false, now).await {
                    Ok(done) => tracing::info!(citizens = done.citizens, "retention"),
                    Err(error) => tracing::warn!(%error, "retention failed"),
                }
            }
        }
    };

    let places = crate::city::follow_imports(gateway.clone(), places_id, places_every);
    let promises = async {
        let mut every = tokio::time::interval(sla_every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let now = crate::store::now_ms();
            if let Err(error) = gateway.escalate_overdue(&public_url, now).await {
                tracing::warn!(%error, "escalating overdue work");
            }
            match crate::store::escalations::overdue_count(&store, now).await {
                Ok(n) => metrics::gauge!("civicline_overdue_issues").set(n as f64),
                Err(error) => tracing::debug!(%error, "counting overdue work"),
            }
            if let Some(mailer) = &mailer
                && let Err(error) = mailer.send_due(&store).await
            {
                tracing::warn!(%error, "sending escalation emails");
            }
        }
    };
    let spikes = async {
        let mut every = tokio::time::interval(spikes_every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match gateway
                .check_spikes(&public_url, crate::store::now_ms())
                .await
            {
                // The department hears of it now, not at the next promise check.
                Ok(1..) => {
                    if let Some(mailer) = &mailer
                        && let Err(error) = mailer.send_due(&store).await
                    {
                        tracing::warn!(%error, "sending spike emails");
                    }
                }
                Ok(0) => {}
                Err(error) => tracing::warn!(%error, "checking for spikes"),
            }
        }
    };
    tokio::join!(crate::metrics::upkeep(), hourly, places, promises, spikes);
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The store with its numbers sealed as the settings say: a database kept in clear is sealed
/// in place when a key is set, and a missing or wrong key stops the server here.
pub async fn sealed(store: Store, settings: &Settings) -> anyhow::Result<Store> {
    let privacy = &settings.privacy;
    let seal = Seal::from_keys(
        privacy.seal_key.as_ref().map(Secret::expose),
        privacy.new_seal_key.as_ref().map(Secret::expose),
    )?;
    let checked = crate::store::seal::check(&store, &seal).await?;
    match seal.writing_key() {
        None => tracing::warn!(
            "privacy.seal_key is not set: citizens' numbers are stored in clear (a trial; `civicline keys new` prints a key for CIVICLINE_PRIVACY__SEAL_KEY)"
        ),
        Some(key) => tracing::info!(
            key = key.id(),
            keys = seal.key_ids().join(","),
            sealed_now = checked.sealed_now,
            "citizens' numbers sealed at rest"
        ),
    }
    Ok(store.with_seal(seal))
}
