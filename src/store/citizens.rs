//! Citizens (one per phone number) and their consent ledger.

use super::{Result, Tx, on_tx};
use crate::sms::PhoneNumber;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Citizen {
    pub citizen_id: i64,
    pub language: String,
    /// When the citizen last texted STOP (or the provider told us they did); `None` when they
    /// may receive messages.
    pub opted_out_at: Option<i64>,
}

impl Citizen {
    pub fn is_opted_out(&self) -> bool {
        self.opted_out_at.is_some()
    }
}

/// Finds the citizen with this number or creates one, and records that they just texted.
/// Concurrent first messages from one number meet on the unique `phone` key: one insert wins,
/// the other does nothing and both return the same row.
#[tracing::instrument(skip_all, fields(phone = %phone))]
pub async fn find_or_create(
    tx: &mut Tx,
    phone: &PhoneNumber,
    pseudonym: &str,
    now: i64,
) -> Result<Citizen> {
    const UPSERT: &str = "insert into citizen (phone, pseudonym, created_at, last_message_at) \
         values ($1, $2, $3, $3) \
         on conflict (phone) do update set last_message_at = excluded.last_message_at \
         returning citizen_id, language, opted_out_at";
    let citizen = on_tx!(tx, conn => sqlx::query_as::<_, Citizen>(UPSERT)
        .bind(phone.e164())
        .bind(pseudonym)
        .bind(now)
        .fetch_one(conn)
        .await?);
    Ok(citizen)
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
    tx: &mut Tx,
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
            on_tx!(tx, conn => sqlx::query(OPT_OUT).bind(citizen_id).bind(now).execute(conn).await?.rows_affected())
        }
        Consent::OptIn => {
            on_tx!(tx, conn => sqlx::query(OPT_IN).bind(citizen_id).execute(conn).await?.rows_affected())
        }
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
    on_tx!(tx, conn => sqlx::query(LEDGER)
        .bind(citizen_id)
        .bind(kind)
        .bind(keyword)
        .bind(source)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(true)
}
