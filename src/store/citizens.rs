//! Citizens (one per phone number) and their consent ledger.

use super::query::{Row, Target, query};
use super::{Exec, LaneTx, Result, Tx, on_tx};
use crate::seal::Seal;
use crate::sms::PhoneNumber;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Citizen {
    pub citizen_id: i64,
    pub language: String,
    /// When the citizen chose `language` with LANG: a choice no keyword's language overrides.
    pub language_chosen_at: Option<i64>,
    /// When the citizen last texted STOP (or the provider told us they did); `None` when they
    /// may receive messages.
    pub opted_out_at: Option<i64>,
    /// The question we wait on (`location`, `fixed`), its issue and its expiry.
    pub pending_question: Option<String>,
    pub pending_issue_id: Option<i64>,
    pub pending_until: Option<i64>,
    /// The poll the citizen was asked and has not answered, and when it closes.
    pub poll_id: Option<i64>,
    pub poll_until: Option<i64>,
    /// Set by the flood guard.
    pub flagged_at: Option<i64>,
    /// When the number's `gateway.flood_per_minute`-th most recent inbound message arrived
    /// (before the one being handled), read with the row: the flood guard's question is only
    /// whether that was within the last minute ([`Citizen::is_flooding`]). `None` when the
    /// number sent fewer. Reading it takes at most that many index entries, whatever the number
    /// sent: a count of its messages of the minute made a number texting 80 times a second pay
    /// for thousands of them on each text.
    pub flood_mark: Option<i64>,
}
super::query::row!(Citizen {
    citizen_id,
    language,
    language_chosen_at,
    opted_out_at,
    pending_question,
    pending_issue_id,
    pending_until,
    poll_id,
    poll_until,
    flagged_at,
    flood_mark
});

/// A question the citizen may answer with their next message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub question: String,
    pub issue_id: i64,
}

impl Citizen {
    pub fn is_opted_out(&self) -> bool {
        self.opted_out_at.is_some()
    }

    /// True when the number sent `limit` or more messages in the minute before `now` (the one
    /// being handled makes one more); never with the guard off (`limit` 0). `limit` must be the
    /// one the row was read with.
    pub fn is_flooding(&self, limit: u32, now: i64) -> bool {
        limit > 0 && self.flood_mark.is_some_and(|at| at >= now - 60_000)
    }

    /// The poll still waiting for this citizen's answer at `now`, if any. An opted-out citizen
    /// has none: what they text is read as usual (START opts in).
    pub fn open_poll(&self, now: i64) -> Option<i64> {
        match (self.poll_id, self.poll_until) {
            (Some(poll_id), Some(until)) if until > now && !self.is_opted_out() => Some(poll_id),
            _ => None,
        }
    }

    /// The question still open at `now`, if any.
    pub fn pending(&self, now: i64) -> Option<Pending> {
        match (
            &self.pending_question,
            self.pending_issue_id,
            self.pending_until,
        ) {
            (Some(question), Some(issue_id), Some(until)) if until > now => Some(Pending {
                question: question.clone(),
                issue_id,
            }),
            _ => None,
        }
    }
}

/// Asks (or, with `None`, forgets) the citizen's pending question.
pub async fn set_pending(
    tx: &mut LaneTx,
    citizen_id: i64,
    pending: Option<(&str, i64, i64)>,
) -> Result<()> {
    const SQL: &str = "update citizen set pending_question = $2, pending_issue_id = $3, pending_until = $4 where citizen_id = $1";
    let (question, issue_id, until) = match pending {
        Some((q, i, u)) => (Some(q), Some(i), Some(u)),
        None => (None, None, None),
    };
    query(SQL)
        .bind(citizen_id)
        .bind(question)
        .bind(issue_id)
        .bind(until)
        .execute(tx)
        .await?;
    Ok(())
}

/// Asks a question of everyone who reported `issue_id`, the citizen who filed it and every
/// supporter (the `fixed` question after a report is resolved); returns how many were asked.
pub async fn ask_about_issue(
    tx: &mut Tx,
    issue_id: i64,
    question: &str,
    until: i64,
) -> Result<u64> {
    const SQL: &str = "update citizen set pending_question = $2, pending_issue_id = $1, pending_until = $3 \
         where citizen_id = (select citizen_id from issue where issue_id = $1) \
         or citizen_id in (select citizen_id from supporter where issue_id = $1)";
    let n = on_tx!(tx, conn => sqlx::query(SQL)
        .bind(issue_id)
        .bind(question)
        .bind(until)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(n)
}

/// Remembers the language the citizen writes in (on the writer lane's Postgres transaction,
/// when its round ends).
pub async fn set_language(tx: &mut LaneTx, citizen_id: i64, language: &str) -> Result<()> {
    if let Some(deferred) = tx.deferred() {
        deferred.language(citizen_id, language);
        return Ok(());
    }
    const SQL: &str = "update citizen set language = $2 where citizen_id = $1";
    query(SQL)
        .bind(citizen_id)
        .bind(language)
        .execute(tx)
        .await?;
    Ok(())
}

/// Records the language the citizen chose with LANG: kept until they choose again, whatever
/// language their keywords are in. At once, on every kind of transaction (LANG is rare).
pub async fn choose_language(
    tx: &mut LaneTx,
    citizen_id: i64,
    language: &str,
    now: i64,
) -> Result<()> {
    const SQL: &str =
        "update citizen set language = $2, language_chosen_at = $3 where citizen_id = $1";
    query(SQL)
        .bind(citizen_id)
        .bind(language)
        .bind(now)
        .execute(tx)
        .await?;
    Ok(())
}

/// Flags the number as flooding (once: the first time is what officials need to see).
pub async fn flag_flood(tx: &mut LaneTx, citizen_id: i64, now: i64) -> Result<bool> {
    const SQL: &str =
        "update citizen set flagged_at = $2 where citizen_id = $1 and flagged_at is null";
    let n = query(SQL).bind(citizen_id).bind(now).execute(tx).await?;
    Ok(n == 1)
}

/// Joins a topic; `false` when already subscribed.
pub async fn subscribe(tx: &mut LaneTx, citizen_id: i64, topic: &str, now: i64) -> Result<bool> {
    const SQL: &str = "insert into subscription (citizen_id, topic, created_at) values ($1, $2, $3) \
         on conflict (citizen_id, topic) do nothing";
    let n = query(SQL)
        .bind(citizen_id)
        .bind(topic)
        .bind(now)
        .execute(tx)
        .await?;
    Ok(n == 1)
}

/// Leaves a topic; `false` when not subscribed.
pub async fn unsubscribe(tx: &mut LaneTx, citizen_id: i64, topic: &str) -> Result<bool> {
    const SQL: &str = "delete from subscription where citizen_id = $1 and topic = $2";
    let n = query(SQL).bind(citizen_id).bind(topic).execute(tx).await?;
    Ok(n == 1)
}

/// The citizens matching a condition on `c`, as [`Citizen`] reads them, and each one's number
/// key after those columns. `$2` is the offset of the flood mark: the flood guard's limit
/// less one.
///
/// The mark is read newest first through `message_citizen` (this number's messages) and stops
/// at the limit-th inbound one; `$inbound` tells inbound messages. On SQLite it is
/// `direction = 'in'`, and the index is (citizen_id, direction, created_at) (migration 0024):
/// at most `limit` entries of the index alone. On Postgres the index is (citizen_id,
/// created_at) and the direction is compared as an expression (`direction || ''`), which no
/// index's predicate matches: with `direction = 'in'` Postgres may read the partial index
/// `message_inbound_time` (everyone's inbound messages of the minute) and filter by citizen,
/// which it did on a new database before its first ANALYZE (1 ms per message at 9,000
/// messages). (A bounded count in a subquery of its own cost SQLite a co-routine per message,
/// 12 % of the webhook's CPU at 50,000 numbers.)
macro_rules! select_citizens {
    ($inbound:literal, $condition:literal) => {
        concat!(
            "select c.citizen_id, c.language, c.language_chosen_at, c.opted_out_at, \
             c.pending_question, c.pending_issue_id, c.pending_until, c.poll_id, c.poll_until, \
             c.flagged_at, \
             (select m.created_at from message m \
              where m.citizen_id = c.citizen_id and ",
            $inbound,
            " order by m.created_at desc limit 1 offset $2), \
             c.number_key from citizen c where ",
            $condition
        )
    };
}

/// The offset of the flood mark for the guard's `limit` (see [`select_citizens`]).
fn mark_offset(limit: u32) -> i64 {
    i64::from(limit.max(1)) - 1
}

/// Finds the citizen with this number or creates one, for callers outside the inbound path
/// (its flood mark is read for a limit of one).
pub async fn find_or_create(
    tx: &mut Tx,
    seal: &Seal,
    phone: &PhoneNumber,
    pseudonym: &str,
    now: i64,
) -> Result<Citizen> {
    find_or_create_marked(tx, seal, phone, pseudonym, now, 1).await
}

/// Finds the citizen with this number or creates one. Reading first writes nothing for a number
/// we know (most messages). Concurrent first messages from one number (two replicas) meet on
/// the unique `number_key`: one insert wins, the other does nothing and reads the winner's row.
/// While a seal key rotates a number is looked up under both keys, the new one first.
async fn find_or_create_marked(
    tx: &mut impl Exec,
    seal: &Seal,
    phone: &PhoneNumber,
    pseudonym: &str,
    now: i64,
    flood_limit: u32,
) -> Result<Citizen> {
    const FIND_SQLITE: &str = select_citizens!("m.direction = 'in'", "c.number_key = $1");
    const FIND_POSTGRES: &str = select_citizens!("m.direction || '' = 'in'", "c.number_key = $1");
    const INSERT: &str = "insert into citizen (number_key, number_sealed, pseudonym, created_at) \
         values ($1, $2, $3, $4) on conflict (number_key) do nothing returning citizen_id";
    let sql = match tx.target() {
        Target::Postgres(_) => FIND_POSTGRES,
        Target::Sqlite(_) | Target::Direct(_) => FIND_SQLITE,
    };
    let find = |key| query(sql).bind(key).bind(mark_offset(flood_limit));
    let keys = seal.lookup_keys(phone.e164());
    for key in &keys {
        if let Some(citizen) = find(key.as_str()).fetch_optional(tx).await? {
            return Ok(citizen);
        }
    }
    // Inserted, or another replica's insert won: either way the row is there now, with the
    // columns' defaults.
    let (key, sealed) = seal.store(phone.e164());
    query(INSERT)
        .bind(key.as_str())
        .bind(sealed.as_deref())
        .bind(pseudonym)
        .bind(now)
        .fetch_inserted_id(tx)
        .await?;
    find(key.as_str()).fetch_one(tx).await
}

/// [`find_or_create`] for several numbers, each once, in their order. On the writer lane's
/// Postgres transaction one statement reads them all and one more stores the new ones (see
/// `store::batch`); elsewhere one number after the other.
pub async fn find_or_create_all(
    tx: &mut LaneTx,
    seal: &Seal,
    numbers: &[(&PhoneNumber, &str)],
    now: i64,
    flood_limit: u32,
) -> Result<Vec<Citizen>> {
    // One number: the prepared statement for one, as on the other kinds of transaction.
    let (LaneTx::Round(batch), 2..) = (&mut *tx, numbers.len()) else {
        let mut found = Vec::with_capacity(numbers.len());
        for (phone, pseudonym) in numbers {
            found.push(find_or_create_marked(tx, seal, phone, pseudonym, now, flood_limit).await?);
        }
        return Ok(found);
    };
    const FIND_ALL: &str = select_citizens!("m.direction || '' = 'in'", "c.number_key = any($1)");
    const INSERT_ALL: &str = "insert into citizen (number_key, number_sealed, pseudonym, created_at) \
         select k, s, p, $4::bigint from unnest($1::text[], $2::text[], $3::text[]) as n(k, s, p) \
         on conflict (number_key) do nothing";
    let read =
        async |tx: &mut sqlx::PgConnection, keys: Vec<&str>| -> Result<Vec<(String, Citizen)>> {
            // Planned for its arguments each time (see `store::batch`).
            let rows = sqlx::query(FIND_ALL)
                .persistent(false)
                .bind(keys)
                .bind(mark_offset(flood_limit))
                .fetch_all(tx)
                .await?;
            rows.iter()
                .map(|row| Ok((sqlx::Row::try_get(row, 11)?, <Citizen as Row>::read(row)?)))
                .collect()
        };
    // Each number's keys, the writing key's first (two while a seal key rotates).
    let keys: Vec<Vec<String>> = numbers
        .iter()
        .map(|(phone, _)| seal.lookup_keys(phone.e164()))
        .collect();
    let all: Vec<&str> = keys.iter().flatten().map(String::as_str).collect();
    let mut found: HashMap<String, Citizen> =
        read(&mut *batch.tx, all).await?.into_iter().collect();
    let known = |found: &HashMap<String, Citizen>, keys: &[String]| {
        keys.iter().any(|k| found.contains_key(k))
    };
    let new: Vec<(String, Option<String>, &str)> = numbers
        .iter()
        .zip(&keys)
        .filter(|(_, keys)| !known(&found, keys))
        .map(|((phone, pseudonym), _)| {
            let (key, sealed) = seal.store(phone.e164());
            (key, sealed, *pseudonym)
        })
        .collect();
    if !new.is_empty() {
        // Inserted, or another replica's insert won: either way the rows are there now.
        sqlx::query(INSERT_ALL)
            .bind(super::batch::column(&new, |(key, _, _)| key.as_str()))
            .bind(super::batch::column(&new, |(_, sealed, _)| {
                sealed.as_deref()
            }))
            .bind(super::batch::column(&new, |(_, _, pseudonym)| *pseudonym))
            .bind(now)
            .execute(&mut *batch.tx)
            .await?;
        let keys = new.iter().map(|(key, _, _)| key.as_str()).collect();
        found.extend(read(&mut *batch.tx, keys).await?);
    }
    keys.iter()
        .map(|keys| {
            keys.iter()
                .find_map(|k| found.get(k).cloned())
                .ok_or(super::StoreError::Database(sqlx::Error::RowNotFound))
        })
        .collect()
}

/// Which way consent moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    OptOut,
    OptIn,
}

/// Who told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentSource {
    /// The citizen texted a keyword.
    Sms,
    /// The provider refused a send because the number opted out with the carrier.
    Provider,
    /// An official recorded it (for example after a phone call).
    Official,
}

/// Records a change of consent in the ledger and on the citizen. A no-op (STOP when already
/// opted out) is not a change and returns `false`.
pub async fn set_consent(
    tx: &mut impl Exec,
    citizen_id: i64,
    consent: Consent,
    keyword: &str,
    source: ConsentSource,
    now: i64,
) -> Result<bool> {
    const OPT_OUT: &str =
        "update citizen set opted_out_at = $2 where citizen_id = $1 and opted_out_at is null";
    const OPT_IN: &str =
        "update citizen set opted_out_at = null where citizen_id = $1 and opted_out_at is not null";
    const LEDGER: &str = "insert into consent_event (citizen_id, kind, keyword, source, created_at) \
         values ($1, $2, $3, $4, $5)";
    let changed = match consent {
        Consent::OptOut => {
            query(OPT_OUT)
                .bind(citizen_id)
                .bind(now)
                .execute(tx)
                .await?
        }
        Consent::OptIn => query(OPT_IN).bind(citizen_id).execute(tx).await?,
    };
    let kind = match consent {
        Consent::OptOut => "opt_out",
        Consent::OptIn => "opt_in",
    };
    let source = match source {
        ConsentSource::Sms => "sms",
        ConsentSource::Provider => "provider",
        ConsentSource::Official => "official",
    };
    if changed == 0 {
        return Ok(false);
    }
    query(LEDGER)
        .bind(citizen_id)
        .bind(kind)
        .bind(keyword)
        .bind(source)
        .bind(now)
        .execute(tx)
        .await?;
    Ok(true)
}

/// The language a citizen is answered in (for screens outside a text, such as USSD menus).
pub async fn language_of(store: &super::Store, citizen_id: i64) -> Result<Option<String>> {
    const SQL: &str = "select language from citizen where citizen_id = $1";
    Ok(
        super::on_pool!(store, pool => sqlx::query_scalar(SQL).bind(citizen_id).fetch_optional(pool).await?),
    )
}
