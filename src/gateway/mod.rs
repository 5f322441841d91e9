//! The gateway: one inbound SMS in, one stored conversation step and (maybe) a reply out.
//!
//! Each message is applied inside a database transaction and with no network I/O, so it is
//! either wholly recorded with its reply or not at all, and a provider's retry is safe:
//! 1. dedupe on (provider, provider message id): a replay returns the first answer again;
//! 2. find or create the citizen by E.164 number and store the inbound message;
//! 3. flood guard: a number texting faster than `gateway.flood_per_minute` gets no auto-replies;
//! 4. parse the text into a [`Command`] (with the citizen's pending question and language) and
//!    apply it; the language of the keyword used becomes the citizen's, unless they chose one
//!    with LANG;
//! 5. consent: an opted-out citizen gets no reply until they opt in again;
//! 6. store the reply as an outbound message: inline (TwiML in the webhook's response) or on the
//!    outbox, in the same transaction, for the delivery worker.
//!
//! Messages reach the database through [`lanes`]: writer tasks that apply whatever webhooks are
//! waiting, one after the other, in one transaction and one commit (group commit), and only then
//! answer each webhook; a batch is applied in rounds (`round`), and officials act through
//! `actions`, one transaction each.

mod actions;
pub mod calendar;
pub mod catalog;
pub mod commands;
mod crowd;
pub mod delivery_status;
mod escalations;
mod lanes;
mod notices;
pub mod poll_answers;
pub mod polls;
mod round;
pub mod spikes;

pub use actions::ActionError;
pub mod replies;
pub mod routing;
pub mod ussd;

use crate::config::{CrowdSettings, GatewaySettings, SpikeSettings};
use crate::places::Places;
use crate::sms::{InboundSms, Provider};
use crate::store::{self, Store, citizens, messages, outbox};
use catalog::Catalog;
use commands::{Command, Context, Parsed};
use replies::Replies;
use routing::Routing;
use std::sync::Arc;
use tokio::sync::Notify;

/// What the gateway decided for one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The text to answer with in the webhook's response; `None` for silence (opted out, a STOP
    /// already confirmed) or when the reply went on the outbox.
    pub reply: Option<String>,
    /// The stored reply's id, for the status callback URL.
    pub reply_message_id: Option<i64>,
    /// True when this message had been received before and nothing new was stored.
    pub replayed: bool,
}

/// How replies leave.
#[derive(Clone)]
pub struct ReplyRouting {
    /// Replies to Twilio webhooks ride on the HTTP response as TwiML (`twilio.reply = twiml`).
    /// Otherwise, and always for providers without inline replies, they go on the outbox.
    pub twilio_inline: bool,
    /// The provider the delivery worker sends with.
    pub outbound: Provider,
    /// Wakes the delivery worker when a reply is queued.
    pub wake: Arc<Notify>,
}

impl ReplyRouting {
    /// Console messages come from the web simulator, which shows the reply at once.
    fn inline_for(&self, inbound: Provider) -> bool {
        (inbound == Provider::Twilio && self.twilio_inline) || inbound == Provider::Console
    }
}

/// Long-lived, shared state of the gateway: built once at start.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
    lanes: lanes::Lanes,
}

/// What the writer lanes need: everything but the lanes themselves, so the lanes end when the
/// last `Gateway` is dropped.
struct Inner {
    store: Store,
    catalog: Catalog,
    replies: Replies,
    /// Key for citizen pseudonyms, kept in the database so every replica agrees.
    pseudonym_key: Box<[u8]>,
    settings: GatewaySettings,
    crowd: CrowdSettings,
    /// When many reports at once are a spike.
    spikes: SpikeSettings,
    routing: ReplyRouting,
    /// The city's places in force (replaced whole when an import is newer).
    places: std::sync::RwLock<Arc<Places>>,
    /// Who takes a report, by when.
    departments: Routing,
    /// Issue ids that just changed, for live pages in this process (others poll).
    changes: tokio::sync::broadcast::Sender<i64>,
    /// The options of the polls replies came in for (`polls`).
    polls: std::sync::Mutex<std::collections::HashMap<i64, Arc<poll_answers::Choices>>>,
}

/// What a newly stored message did: counted, logged and announced once its transaction has
/// committed (a batch that is rolled back and applied again must not count twice). A replay
/// stores nothing and has none.
struct Stored {
    message_id: i64,
    issue_id: Option<i64>,
    provider: &'static str,
    command: &'static str,
    /// A reply was stored, inline or on the outbox.
    replied: bool,
    inline: bool,
}

impl Gateway {
    /// Builds the gateway and starts its writer lanes (one for SQLite, one per spare
    /// connection for Postgres): call it inside the Tokio runtime.
    #[allow(clippy::too_many_arguments)] // each part is the settings' own section
    pub async fn new(
        store: Store,
        catalog: Catalog,
        replies: Replies,
        settings: GatewaySettings,
        crowd: CrowdSettings,
        spikes: SpikeSettings,
        routing: ReplyRouting,
        places: Places,
        departments: Routing,
    ) -> store::Result<Gateway> {
        let key = store::settings::get_or_insert(&store, "pseudonym_key", random_key).await?;
        let writers = store.writers();
        let inner = Arc::new(Inner {
            store,
            catalog,
            replies,
            pseudonym_key: key.into_bytes().into(),
            settings,
            crowd,
            spikes,
            routing,
            places: std::sync::RwLock::new(Arc::new(places)),
            departments,
            changes: tokio::sync::broadcast::channel(256).0,
            polls: std::sync::Mutex::default(),
        });
        let lanes = lanes::Lanes::start(&inner, writers);
        Ok(Gateway { inner, lanes })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// The places in force.
    pub fn places(&self) -> Arc<Places> {
        self.inner.places()
    }

    /// Puts `places` in force for every report from now on; reports already filed keep where
    /// they were routed.
    pub fn replace_places(&self, places: Places) {
        let mut now = self.inner.places.write().unwrap_or_else(|e| e.into_inner());
        *now = Arc::new(places);
    }

    pub fn departments(&self) -> &Routing {
        &self.inner.departments
    }

    /// Issue ids as they change (a citizen texted, an official acted): for live pages.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.inner.changes.subscribe()
    }

    /// Announces a change; nobody listening is fine.
    fn announce(&self, issue_id: Option<i64>) {
        self.inner.announce(issue_id);
    }

    /// Records one inbound message and decides the reply. Returns once the message is
    /// committed: an `Ok` is safe to acknowledge to the provider.
    #[tracing::instrument(name = "gateway.receive", skip_all, fields(
        provider = sms.provider().as_str(),
        from = %sms.from(),
        id = sms.provider_message_id(),
        command,
    ))]
    pub async fn receive(&self, sms: InboundSms) -> store::Result<Received> {
        let provider = sms.provider().as_str();
        let received = self.lanes.submit(sms).await;
        if received.is_err() {
            metrics::counter!("civicline_inbound_unstored_total", "provider" => provider)
                .increment(1);
        }
        received
    }
}

impl Inner {
    fn announce(&self, issue_id: Option<i64>) {
        if let Some(id) = issue_id {
            let _ = self.changes.send(id);
        }
    }

    fn after_commit(&self, stored: Stored) {
        metrics::counter!("civicline_inbound_messages_total", "provider" => stored.provider, "command" => stored.command)
            .increment(1);
        if stored.replied {
            if !stored.inline {
                self.routing.wake.notify_one();
            }
            metrics::counter!("civicline_replies_total", "path" => if stored.inline { "inline" } else { "outbox" }).increment(1);
        }
        self.announce(stored.issue_id);
        tracing::info!(
            message_id = stored.message_id,
            issue_id = stored.issue_id,
            replied = stored.replied,
            inline = stored.inline,
            "sms received"
        );
    }

    fn places(&self) -> Arc<Places> {
        Arc::clone(&self.places.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Applies one stored message of a round: runs its (parsed) command, stores the reply.
    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        tx: &mut store::LaneTx,
        places: &Places,
        sms: &InboundSms,
        citizen: citizens::Citizen,
        parsed: Parsed,
        message_id: i64,
        now: i64,
    ) -> store::Result<(Received, Option<Stored>)> {
        let flooding = self.flood_guard(tx, &citizen, message_id, now).await?;
        let command = parsed.command.name();
        tracing::Span::current().record("command", command);
        if parsed.possible_opt_out {
            messages::set_flag(tx, message_id, "possible_opt_out").await?;
        }
        let resubscribes = matches!(parsed.command, Command::OptIn(_));
        // A language chosen with LANG stays until the citizen chooses again; the language of
        // the keywords they use is theirs only while they have never chosen.
        let language = match parsed.language {
            Some(keyword_language) if citizen.language_chosen_at.is_none() => keyword_language,
            _ => citizen.language.clone(),
        };
        let mut ctx = Context {
            tx,
            citizen: &citizen,
            language,
            language_chosen: false,
            message_id,
            now,
            catalog: &self.catalog,
            replies: &self.replies,
            places,
            routing: &self.departments,
            followup_window_ms: i64::from(self.settings.followup_window_hours) * 3_600_000,
            question_timeout_ms: i64::from(self.settings.question_timeout_minutes) * 60_000,
            merge_window_ms: self.crowd.window_ms(),
            merge_distance_m: self.crowd.merge_distance_m,
        };
        let outcome = parsed.command.apply(&mut ctx).await?;
        if ctx.language_chosen {
            citizens::choose_language(ctx.tx, citizen.citizen_id, &ctx.language, now).await?;
        } else if ctx.language != citizen.language {
            citizens::set_language(ctx.tx, citizen.citizen_id, &ctx.language).await?;
        }

        if let Some(issue_id) = outcome.issue_id {
            messages::attach_to_issue(ctx.tx, message_id, issue_id).await?;
        }
        // An opted-out number hears nothing until it opts in again, whatever it texts; what it
        // texts is still stored and filed.
        let reply = if (citizen.is_opted_out() && !resubscribes) || flooding {
            None
        } else {
            outcome.reply
        };
        let inline = self.routing.inline_for(sms.provider());
        let mut reply_message_id = None;
        if let Some(body) = &reply {
            let (provider, status) = match (inline, self.routing.outbound) {
                // Nothing leaves the machine with the console provider: printed means delivered.
                (true, Provider::Console) => (sms.provider(), "delivered"),
                (true, _) => (sms.provider(), "accepted"),
                (false, outbound) => (outbound, "queued"),
            };
            let outbound = messages::NewOutbound {
                citizen_id: citizen.citizen_id,
                issue_id: outcome.issue_id,
                provider,
                in_reply_to: Some(message_id),
                body,
                status,
                now,
            };
            let outbox = match (inline, outcome.consent) {
                (true, _) => None,
                (false, true) => Some(outbox::Kind::Consent),
                (false, false) => Some(outbox::Kind::Reply),
            };
            // `None` when the round stores it at its end (the id is filled in then).
            reply_message_id = outbox::reply(ctx.tx, outbound, outbox).await?;
        }
        let stored = Stored {
            message_id,
            issue_id: outcome.issue_id,
            provider: sms.provider().as_str(),
            command,
            replied: reply.is_some(),
            inline,
        };
        let received = Received {
            reply: reply.filter(|_| inline),
            reply_message_id,
            replayed: false,
        };
        Ok((received, Some(stored)))
    }

    /// True when the number has sent more than `flood_per_minute` messages in the last minute
    /// (this one included): the message is flagged, the number too (once), and no auto-reply
    /// goes out. Counted in the database, so every replica agrees.
    async fn flood_guard(
        &self,
        tx: &mut store::LaneTx,
        citizen: &citizens::Citizen,
        message_id: i64,
        now: i64,
    ) -> store::Result<bool> {
        let limit = self.settings.flood_per_minute;
        // The mark was read before this message was stored: this one makes one more.
        if !citizen.is_flooding(limit, now) {
            return Ok(false);
        }
        messages::set_flag(tx, message_id, "flood").await?;
        if citizens::flag_flood(tx, citizen.citizen_id, now).await? {
            tracing::warn!(
                "flood guard: more than {limit} messages in a minute from one number; auto-replies stop"
            );
        }
        Ok(true)
    }

    fn replay(&self, sms: &InboundSms, earlier: messages::Delivered) -> Received {
        tracing::info!(
            message_id = earlier.message_id,
            "replayed webhook: answering as before"
        );
        let inline = self.routing.inline_for(sms.provider());
        Received {
            reply: earlier.reply.filter(|_| inline),
            reply_message_id: earlier.reply_message_id,
            replayed: true,
        }
    }
}

fn random_key() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
