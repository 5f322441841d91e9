//! The gateway: one inbound SMS in, one stored conversation step and (maybe) a reply out.
//!
//! [`Gateway::receive`] runs in one database transaction and does no network I/O, so a message is
//! either wholly recorded with its reply or not at all, and a provider's retry is safe:
//! 1. dedupe on (provider, provider message id): a replay returns the first answer again;
//! 2. find or create the citizen by E.164 number and store the inbound message;
//! 3. parse the text into a [`Command`] and apply it;
//! 4. consent: an opted-out citizen gets no reply until they opt in again;
//! 5. store the reply as an outbound message.

pub mod catalog;
pub mod commands;
pub mod replies;

use crate::sms::InboundSms;
use crate::store::{self, Store, citizens, messages};
use catalog::Catalog;
use commands::{Command, Context};
use replies::Replies;
use std::sync::Arc;

/// What the gateway decided for one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The text to answer with; `None` for silence (opted out, or a STOP already confirmed).
    pub reply: Option<String>,
    /// True when this message had been received before and nothing new was stored.
    pub replayed: bool,
}

/// Long-lived, shared state of the gateway: built once at start.
#[derive(Clone)]
pub struct Gateway {
    store: Store,
    catalog: Arc<Catalog>,
    replies: Arc<Replies>,
    /// Key for citizen pseudonyms, kept in the database so every replica agrees.
    pseudonym_key: Arc<[u8]>,
    followup_window_ms: i64,
}

impl Gateway {
    pub async fn new(
        store: Store,
        catalog: Catalog,
        replies: Replies,
        followup_window_hours: u32,
    ) -> store::Result<Gateway> {
        let key = store::settings::get_or_insert(&store, "pseudonym_key", random_key).await?;
        Ok(Gateway {
            store,
            catalog: Arc::new(catalog),
            replies: Arc::new(replies),
            pseudonym_key: key.into_bytes().into(),
            followup_window_ms: i64::from(followup_window_hours) * 3_600_000,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    #[tracing::instrument(name = "gateway.receive", skip_all, fields(
        provider = sms.provider().as_str(),
        from = %sms.from(),
        id = sms.provider_message_id(),
        command,
    ))]
    pub async fn receive(&self, sms: &InboundSms) -> store::Result<Received> {
        let now = store::now_ms();
        let mut tx = self.store.begin().await?;

        if let Some(earlier) =
            messages::find_inbound(&mut tx, sms.provider(), sms.provider_message_id()).await?
        {
            return Ok(replay(earlier));
        }

        let pseudonym = sms.from().pseudonym(&self.pseudonym_key);
        let citizen = citizens::find_or_create(&mut tx, sms.from(), &pseudonym, now).await?;
        let inbound = messages::NewInbound {
            citizen_id: citizen.citizen_id,
            provider: sms.provider(),
            provider_message_id: sms.provider_message_id(),
            body: sms.body(),
            now,
        };
        let Some(message_id) = messages::insert_inbound(&mut tx, inbound).await? else {
            // A concurrent delivery of the same webhook committed first (Postgres waits on the
            // unique key, then sees its row): answer as it did, and roll back our upsert.
            let earlier =
                messages::find_inbound(&mut tx, sms.provider(), sms.provider_message_id())
                    .await?
                    .ok_or_else(|| sqlx::Error::RowNotFound)?;
            return Ok(replay(earlier));
        };

        let command = Command::parse(sms.body(), &self.catalog);
        tracing::Span::current().record("command", command.name());
        let resubscribes = matches!(command, Command::OptIn(_));
        let mut ctx = Context {
            tx: &mut tx,
            citizen: &citizen,
            message_id,
            now,
            catalog: &self.catalog,
            replies: &self.replies,
            followup_window_ms: self.followup_window_ms,
        };
        let outcome = command.apply(&mut ctx).await?;

        if let Some(issue_id) = outcome.issue_id {
            messages::attach_to_issue(&mut tx, message_id, issue_id).await?;
        }
        // An opted-out number hears nothing until it opts in again, whatever it texts; what it
        // texts is still stored and filed.
        let reply = if citizen.is_opted_out() && !resubscribes {
            None
        } else {
            outcome.reply
        };
        if let Some(body) = &reply {
            let outbound = messages::NewOutbound {
                citizen_id: citizen.citizen_id,
                issue_id: outcome.issue_id,
                // Replies ride back on the provider that delivered the message.
                provider: sms.provider(),
                in_reply_to: Some(message_id),
                body,
                status: "sent",
                now,
            };
            messages::insert_outbound(&mut tx, outbound).await?;
        }
        tx.commit().await?;
        Ok(Received {
            reply,
            replayed: false,
        })
    }
}

fn replay(earlier: messages::Delivered) -> Received {
    tracing::info!(
        message_id = earlier.message_id,
        "replayed webhook: answering as before"
    );
    Received {
        reply: earlier.reply,
        replayed: true,
    }
}

fn random_key() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
