//! Emails to departments (an overdue report's escalation, a spike), through the operator's mail
//! server (SMTP, with `lettre`). Each email is a row (`store::mail`) until the server has taken it: claimed with a lease (so replicas never
//! send one twice at once), sent, and marked sent; one the server refuses or cannot be reached
//! for is tried again later, the wait doubling up to an hour, for as long as it takes.

use crate::config::SmtpSettings;
use crate::store::mail::{self as kept, Kind};
use crate::store::{self, Store};
use anyhow::Context as _;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long a claimed email is ours before another replica may try it.
const LEASE: Duration = Duration::from_secs(120);
/// Emails claimed at once.
const BATCH: i64 = 20;
/// The longest wait between two tries of one email.
const MAX_RETRY: Duration = Duration::from_secs(3600);

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    retry: Duration,
    /// This process, as the owner of its leases.
    owner: String,
}

impl Mailer {
    /// The mailer of `smtp`, or `None` when no server is configured (escalations then wait).
    pub fn new(smtp: &SmtpSettings) -> anyhow::Result<Option<Mailer>> {
        let Some(url) = smtp.url.as_ref().filter(|url| !url.expose().is_empty()) else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .context("smtp.url is not an smtp:// or smtps:// URL")?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = smtp
            .from
            .parse()
            .with_context(|| format!("smtp.from {:?} is not an email address", smtp.from))?;
        let bytes: [u8; 8] = rand::random();
        Ok(Some(Mailer {
            transport,
            from,
            retry: Duration::from_secs(smtp.retry_secs.max(1)),
            owner: format!("mail-{}", u64::from_le_bytes(bytes)),
        }))
    }

    /// Sends every email that is due now; returns how many the server took.
    pub async fn send_due(&self, store: &Store) -> store::Result<usize> {
        let mut sent = 0;
        for kind in Kind::ALL {
            sent += self.send_due_of(store, kind).await?;
        }
        Ok(sent)
    }

    async fn send_due_of(&self, store: &Store, kind: Kind) -> store::Result<usize> {
        let mut sent = 0;
        loop {
            let now = store::now_ms();
            let lease = LEASE.as_millis() as i64;
            let mails = kept::claim(store, kind, &self.owner, now, lease, BATCH).await?;
            if mails.is_empty() {
                return Ok(sent);
            }
            for mail in mails {
                match self.send(&mail).await {
                    Ok(()) => {
                        kept::sent(store, kind, mail.id, &self.owner, store::now_ms()).await?;
                        metrics::counter!("civicline_emails_total", "kind" => kind.as_str(), "result" => "sent")
                            .increment(1);
                        sent += 1;
                    }
                    Err(error) => {
                        let wait = self
                            .retry
                            .saturating_mul(1 << mail.attempts.clamp(0, 16))
                            .min(MAX_RETRY);
                        let next = store::now_ms() + wait.as_millis() as i64;
                        tracing::warn!(
                            kind = kind.as_str(),
                            id = mail.id,
                            %error,
                            retry_in_secs = wait.as_secs(),
                            "an email was not sent"
                        );
                        metrics::counter!("civicline_emails_total", "kind" => kind.as_str(), "result" => "retry")
                            .increment(1);
                        let error = error.to_string();
                        kept::retry_later(store, kind, mail.id, &self.owner, &error, next).await?;
                    }
                }
            }
        }
    }

    async fn send(&self, mail: &kept::Mail) -> anyhow::Result<()> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .with_context(|| format!("{:?} is not an email address", mail.recipient))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.as_str())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())?;
        self.transport.send(message).await?;
        Ok(())
    }
}
