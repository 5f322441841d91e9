//! A real store for the commands' own tests: a fresh SQLite file, migrated, where each text is
//! parsed (against the citizen's pending question and open poll) and applied in a writer lane
//! transaction, as the gateway applies it (the reply and
//! the filing of the message are the gateway's, not the command's, and are left out).

use super::{Command, Context, OpenPoll, Outcome};
use crate::gateway::catalog::Catalog;
use crate::gateway::poll_answers::Choices;
use crate::gateway::replies::Replies;
use crate::gateway::routing::Routing;
use crate::places::{DEMO_CITY, Places};
use crate::sms::{PhoneNumber, Provider};
use crate::store::{self, LaneTx, LaneWork, Scratch, Store, citizens, messages, polls};
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Desk {
    pub store: Store,
    catalog: Catalog,
    replies: Replies,
    places: Places,
    pub routing: Routing,
    /// Keeps the database's files until the desk is dropped.
    _scratch: Scratch,
}

impl Desk {
    pub async fn new() -> Desk {
        let scratch = Scratch::new().await;
        Desk {
            store: scratch.store.clone(),
            catalog: Catalog::builtin(),
            replies: Replies::builtin(),
            places: Places::from_geojson(DEMO_CITY).unwrap(),
            routing: Routing::default(),
            _scratch: scratch,
        }
    }

    /// Texts `body` from `phone`: the message is stored, parsed against the citizen's pending
    /// question and language, and its command applied; returns what the command produced.
    pub async fn text(&self, phone: &str, body: &str) -> Outcome {
        let mut one = One {
            desk: self,
            phone: PhoneNumber::parse(phone, None).unwrap(),
            body,
            outcome: None,
        };
        self.store.run_lane(&mut one).await.unwrap();
        one.outcome.unwrap()
    }

    /// The reply to `body`, which must have one.
    pub async fn reply(&self, phone: &str, body: &str) -> String {
        self.text(phone, body).await.reply.unwrap()
    }

    /// Changes the database behind the commands' back (to set up a case).
    pub async fn execute(&self, sql: &str) {
        let mut tx = self.store.begin().await.unwrap();
        let store::Tx::Sqlite(conn) = &mut tx else {
            unreachable!("a desk is SQLite")
        };
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        sqlx::query(sql).execute(&mut **conn).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// One number from the database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        self.fetch(sql).await
    }

    /// One text from the database.
    pub async fn text_of(&self, sql: &str) -> Option<String> {
        self.fetch(sql).await
    }

    async fn fetch<T>(&self, sql: &str) -> T
    where
        T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    {
        let store::Pools::Sqlite(pool) = self.store.pools() else {
            unreachable!("a desk is SQLite")
        };
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(pool)
            .await
            .unwrap()
    }
}

/// One text's lane transaction.
struct One<'a> {
    desk: &'a Desk,
    phone: PhoneNumber,
    body: &'a str,
    outcome: Option<Outcome>,
}

impl LaneWork for One<'_> {
    async fn apply(&mut self, tx: &mut LaneTx) -> store::Result<bool> {
        let now = store::now_ms();
        let numbers = [(&self.phone, "desk")];
        let citizen = citizens::find_or_create_all(tx, self.desk.store.seal(), &numbers, now, 10)
            .await?
            .remove(0);
        static SID: AtomicU32 = AtomicU32::new(0);
        let id = format!("SMdesk{}", SID.fetch_add(1, Ordering::Relaxed));
        let new = messages::NewInbound {
            citizen_id: citizen.citizen_id,
            provider: Provider::Twilio,
            provider_message_id: &id,
            body: self.body,
            now,
        };
        let message_id = messages::insert_inbound(tx, new).await?.unwrap();
        let pending = citizen.pending(now);
        let choices = match citizen.open_poll(now) {
            Some(poll_id) => Some((poll_id, Choices::new(polls::choices(tx, poll_id).await?))),
            None => None,
        };
        let poll = choices.as_ref().map(|(poll_id, choices)| OpenPoll {
            poll_id: *poll_id,
            choices,
        });
        let parsed = Command::parse(
            self.body,
            &self.desk.catalog,
            pending.as_ref(),
            poll,
            &citizen.language,
        );
        let language = parsed
            .language
            .clone()
            .unwrap_or_else(|| citizen.language.clone());
        let mut ctx = Context {
            tx,
            citizen: &citizen,
            language,
            language_chosen: false,
            message_id,
            now,
            catalog: &self.desk.catalog,
            replies: &self.desk.replies,
            places: &self.desk.places,
            routing: &self.desk.routing,
            followup_window_ms: 3_600_000,
            question_timeout_ms: 600_000,
            merge_window_ms: 7 * 86_400_000,
            merge_distance_m: 50.0,
        };
        let outcome = parsed.command.apply(&mut ctx).await?;
        if ctx.language_chosen {
            citizens::choose_language(ctx.tx, citizen.citizen_id, &ctx.language, now).await?;
        }
        self.outcome = Some(outcome);
        Ok(true)
    }

    fn finished(&mut self) {}

    async fn again(&mut self) -> bool {
        false
    }
}
