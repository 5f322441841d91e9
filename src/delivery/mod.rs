//! The delivery worker: drains the outbox into the SMS provider.
//!
//! Each tick claims a batch of due rows (replies before bulk) under a lease, then sends them
//! concurrently, outside any database transaction, and records each outcome:
//! - accepted: the message takes the provider's id and status; the row leaves the outbox;
//! - transient or throttled: tried again after an exponential, jittered delay (or the
//!   provider's `Retry-After`), until `max_attempts` or `max_age_secs`, then failed;
//! - opted out at the carrier: never retried; the citizen is opted out (consent ledger,
//!   source `provider`);
//! - rejected or misconfigured: failed with the provider's code and words;
//! - the gateway unreachable (a phone as the gateway, switched off): the row goes back as it
//!   was, counting no attempt, and the worker pauses, probing again after a growing delay
//!   (up to a minute); when the phone answers the backlog drains in the outbox's order,
//!   replies before bulk.
//!
//! A gateway with a pace of its own (a SIM: one message every few seconds) gets its rows one at
//! a time, so a claim never outlives its lease waiting for its turn.
//!
//! A citizen who opted out after the message was queued gets nothing: consent is read when the
//! row is claimed (only the one opt-out confirmation is exempt). The worker wakes when the
//! gateway queues something and polls as a fallback, so rows queued by another instance or
//! left by a dead worker (whose lease ran out) still go out.

mod backoff;

use crate::config::DeliverySettings;
use crate::providers::{OutboundSms, SendError, Sender};
use crate::sms::Provider;
use crate::store::citizens::{self, Consent, ConsentSource};
use crate::store::messages::{self, StatusChange};
use crate::store::outbox::{self, Claimed, Lease};
use crate::store::{self, Store};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    sender: Sender,
    settings: DeliverySettings,
    /// Signalled by the gateway when it queues a message.
    wake: Arc<Notify>,
    /// Messages per second for this sender; `None` when unlimited.
    limiter: Option<DefaultDirectRateLimiter>,
    /// Base of the status callback URLs we give Twilio.
    public_url: String,
    /// This worker's name on the leases it takes.
    owner: String,
    /// Rows claimed at a time.
    batch: i64,
    /// Set while the gateway cannot be reached.
    paused: std::sync::Mutex<Option<Pause>>,
}

/// The gateway could not be reached: no claims before `until`; `times` in a row.
#[derive(Clone, Copy)]
struct Pause {
    until: tokio::time::Instant,
    times: u32,
}

impl Worker {
    pub fn new(
        store: Store,
        sender: Sender,
        settings: DeliverySettings,
        wake: Arc<Notify>,
        public_url: &str,
    ) -> Worker {
        // Burst of one: the limit holds over any window, not just on average.
        let per_rate = NonZeroU32::new(settings.rate_per_second)
            .map(|rate| Duration::from_secs(1) / rate.get());
        let period = match (per_rate, sender.min_interval()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let limiter = period
            .and_then(Quota::with_period)
            .map(|quota| RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN)));
        let batch = match sender.min_interval() {
            Some(_) => 1,
            None => i64::from(settings.batch_size.max(1)),
        };
        let owner = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        Worker {
            inner: Arc::new(Inner {
                store,
                sender,
                settings,
                wake,
                limiter,
                public_url: public_url.to_owned(),
                owner,
                batch,
                paused: std::sync::Mutex::new(None),
            }),
        }
    }

    /// Delivers until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.inner.settings.poll_interval_ms);
        tracing::info!(owner = %self.inner.owner, provider = self.inner.sender.provider().as_str(), "delivery worker started");
        while !*stop.borrow() {
            // Register for a wake-up before looking, so a message queued in between is not missed.
            let notified = self.inner.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.tick().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "delivery: claiming from the outbox failed"),
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(poll) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        break; // the application is gone
                    }
                }
            }
        }
        tracing::info!("delivery worker stopped");
    }

    /// Claims one batch and delivers it; returns how many rows it claimed.
    pub async fn tick(&self) -> store::Result<usize> {
        let settings = &self.inner.settings;
        let paused = *self.inner.paused.lock().expect("not poisoned");
        if paused.is_some_and(|p| tokio::time::Instant::now() < p.until) {
            return Ok(0);
        }
        let batch = outbox::claim(
            &self.inner.store,
            &self.inner.owner,
            store::now_ms(),
            settings.lease_ms as i64,
            self.inner.batch,
        )
        .await?;
        let claimed = batch.len();
        let mut sends = tokio::task::JoinSet::new();
        for job in batch {
            let worker = self.clone();
            sends.spawn(async move { worker.deliver(job).await });
        }
        while let Some(result) = sends.join_next().await {
            if let Err(panic) = result {
                tracing::error!(%panic, "delivery: a send task failed");
            }
        }
        Ok(claimed)
    }

    /// Ticks until nothing is due now (for tests, benchmarks and one-shot runs).
    pub async fn drain(&self) -> store::Result<usize> {
        let mut total = 0;
        loop {
            let n = self.tick().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    async fn deliver(&self, job: Claimed) {
        let message_id = job.message_id;
        if let Err(error) = self.try_deliver(job).await {
            // The lease runs out and the row is claimed again: a send may repeat, none is lost.
            tracing::error!(message_id, %error, "delivery: recording the outcome failed");
        }
    }

    #[tracing::instrument(name = "delivery.send", skip_all, fields(message_id = job.message_id, attempt = job.attempts + 1))]
    async fn try_deliver(&self, job: Claimed) -> store::Result<()> {
        let lease = Lease {
            owner: &self.inner.owner,
            until: job.lease_until,
        };
        if job.opted_out_at.is_some() && job.kind != outbox::Kind::Consent.as_str() {
            tracing::info!("recipient opted out after this was queued: not sending");
            metrics::counter!("civicline_sends_total", "outcome" => "canceled").increment(1);
            return self
                .finish(
                    &job,
                    &lease,
                    "canceled",
                    "opted-out",
                    "the citizen opted out",
                )
                .await;
        }
        if let Some(limiter) = &self.inner.limiter {
            limiter.until_ready().await;
        }
        let callback = (self.inner.sender.provider() == Provider::Twilio).then(|| {
            crate::providers::twilio::status_callback_url(&self.inner.public_url, job.message_id)
        });
        let sms = OutboundSms {
            message_id: job.message_id,
            to: &job.phone,
            body: &job.body,
            status_callback: callback,
        };
        let result = self.inner.sender.send(&sms).await;
        let outcome = match &result {
            Ok(_) => "accepted",
            Err(SendError::Transient(_)) => "transient",
            Err(SendError::Unavailable(_)) => "unavailable",
            Err(SendError::Throttled { .. }) => "throttled",
            Err(SendError::Rejected { .. }) => "rejected",
            Err(SendError::OptedOut { .. }) => "opted_out",
            Err(SendError::Config { .. }) => "config",
        };
        metrics::counter!("civicline_sends_total", "outcome" => outcome).increment(1);
        let now = store::now_ms();
        if !matches!(result, Err(SendError::Unavailable(_))) {
            *self.inner.paused.lock().expect("not poisoned") = None;
        }
        match result {
            Err(SendError::Unavailable(error)) => {
                let wait = self.pause();
                tracing::warn!(%error, wait_ms = wait.as_millis() as u64, "the gateway cannot be reached: the outbox waits");
                outbox::release(&self.inner.store, job.outbox_id, &lease, &error).await?;
                Ok(())
            }
            Ok(accepted) => {
                let mut tx = self.inner.store.begin().await?;
                let change = StatusChange {
                    status: &accepted.status,
                    provider_message_id: Some(&accepted.provider_message_id),
                    ..StatusChange::default()
                };
                messages::advance_status(&mut tx, job.message_id, change, now).await?;
                outbox::remove(&mut tx, job.outbox_id, &lease).await?;
                tx.commit().await?;
                tracing::debug!(status = %accepted.status, "sent");
                Ok(())
            }
            Err(error) if error.is_retryable() => {
                self.retry_or_give_up(&job, &lease, &error, now).await
            }
            Err(SendError::OptedOut { code }) => {
                let mut tx = self.inner.store.begin().await?;
                citizens::set_consent(
                    &mut tx,
                    job.citizen_id,
                    Consent::OptOut,
                    &code,
                    ConsentSource::Provider,
                    now,
                )
                .await?;
                let change = StatusChange {
                    status: "failed",
                    error_code: Some(&code),
                    error_detail: Some("the recipient opted out with the carrier"),
                    provider_message_id: None,
                };
                messages::advance_status(&mut tx, job.message_id, change, now).await?;
                outbox::remove(&mut tx, job.outbox_id, &lease).await?;
                tx.commit().await?;
                tracing::info!(%code, "provider says the recipient opted out: recorded, not retrying");
                Ok(())
            }
            Err(error) => {
                if matches!(error, SendError::Config { .. }) {
                    tracing::error!(%error, "the provider refused our credentials or settings: fix the configuration");
                } else {
                    tracing::warn!(%error, "the provider rejected the message");
                }
                self.finish(&job, &lease, "failed", error.code(), &error.to_string())
                    .await
            }
        }
    }

    /// Pauses claiming after the gateway could not be reached; returns for how long.
    fn pause(&self) -> Duration {
        let settings = &self.inner.settings;
        let mut paused = self.inner.paused.lock().expect("not poisoned");
        let times = paused.map_or(1, |p| p.times.saturating_add(1));
        let wait = backoff::delay(
            times,
            Duration::from_millis(settings.backoff_base_ms),
            Duration::from_millis(settings.backoff_max_ms.min(60_000)),
        );
        *paused = Some(Pause {
            until: tokio::time::Instant::now() + wait,
            times,
        });
        wait
    }

    async fn retry_or_give_up(
        &self,
        job: &Claimed,
        lease: &Lease<'_>,
        error: &SendError,
        now: i64,
    ) -> store::Result<()> {
        let settings = &self.inner.settings;
        let attempts = u32::try_from(job.attempts + 1).unwrap_or(u32::MAX);
        let too_old = now - job.created_at >= (settings.max_age_secs as i64) * 1000;
        if attempts >= settings.max_attempts || too_old {
            tracing::warn!(%error, attempts, "giving up on the message");
            let detail = format!("gave up after {attempts} attempts: {error}");
            return self
                .finish(job, lease, "failed", error.code(), &detail)
                .await;
        }
        let mut wait = backoff::delay(
            attempts,
            Duration::from_millis(settings.backoff_base_ms),
            Duration::from_millis(settings.backoff_max_ms),
        );
        if let SendError::Throttled {
            retry_after: Some(after),
            ..
        } = error
        {
            wait = wait.max(*after);
        }
        tracing::info!(%error, wait_ms = wait.as_millis() as u64, "will retry");
        outbox::retry_later(
            &self.inner.store,
            job.outbox_id,
            lease,
            now + wait.as_millis() as i64,
            &error.to_string(),
        )
        .await?;
        Ok(())
    }

    /// Records a final outcome that is not a send and takes the row off the outbox.
    async fn finish(
        &self,
        job: &Claimed,
        lease: &Lease<'_>,
        status: &str,
        code: &str,
        detail: &str,
    ) -> store::Result<()> {
        let mut tx = self.inner.store.begin().await?;
        let change = StatusChange {
            status,
            error_code: Some(code),
            error_detail: Some(detail),
            provider_message_id: None,
        };
        messages::advance_status(&mut tx, job.message_id, change, store::now_ms()).await?;
        outbox::remove(&mut tx, job.outbox_id, lease).await?;
        tx.commit().await
    }
}
