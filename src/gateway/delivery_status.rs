//! Delivery status callbacks, a write from outside like an inbound message: every one is stored
//! as received; the message's status only moves forward (see `sms::status_rank`), so callbacks
//! in any order end in the right final status; the issue's open pages are told.

use super::Gateway;
use crate::sms::Provider;
use crate::store::messages::{self, NewDeliveryEvent, StatusChange};
use crate::store::{self, Store};

/// One callback, decoded by the provider's module.
#[derive(Debug)]
pub struct StatusReport<'a> {
    pub provider: Provider,
    /// Our id, when the callback URL carries it (Twilio); untrusted until found.
    pub message_id: Option<i64>,
    pub provider_message_id: Option<&'a str>,
    /// In Twilio's vocabulary; unknown words are stored and change nothing.
    pub status: &'a str,
    pub error_code: Option<&'a str>,
    /// The callback's form, encoded.
    pub payload: &'a str,
}

/// What a callback matched: the message and its issue (whose open pages show the new status).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    pub message_id: Option<i64>,
    pub issue_id: Option<i64>,
}

impl Gateway {
    /// Stores a delivery status callback and applies it; tells the open pages of its issue.
    /// Returns the message it matched, if any, and its issue.
    pub async fn record_delivery(&self, report: StatusReport<'_>) -> store::Result<Matched> {
        let matched = record(&self.inner.store, report).await?;
        self.announce(matched.issue_id);
        Ok(matched)
    }
}

/// Stores the callback and applies it; returns the message it matched, if any, and its issue.
#[tracing::instrument(name = "delivery.callback", skip_all, fields(provider = report.provider.as_str(), status = report.status))]
async fn record(store: &Store, report: StatusReport<'_>) -> store::Result<Matched> {
    let now = store::now_ms();
    let mut tx = store.begin().await?;
    let mut matched = None;
    if let Some(id) = report.message_id
        && messages::outbound_exists(&mut tx, id).await?
    {
        matched = Some(id);
    }
    if matched.is_none()
        && let Some(pmid) = report.provider_message_id
    {
        matched = messages::find_outbound(&mut tx, report.provider, pmid).await?;
    }
    // Kept as received, less the numbers in it (a Twilio callback names the citizen in `To`).
    let payload = crate::seal::without_numbers(report.payload);
    let event = NewDeliveryEvent {
        message_id: matched,
        provider: report.provider,
        provider_message_id: report.provider_message_id,
        status: report.status,
        error_code: report.error_code,
        payload: &payload,
        now,
    };
    messages::insert_delivery_event(&mut tx, event).await?;
    let mut issue_id = None;
    if let Some(id) = matched {
        issue_id = messages::issue_of(&mut tx, id).await?;
        let change = StatusChange {
            status: report.status,
            error_code: report.error_code,
            error_detail: None,
            provider_message_id: report.provider_message_id,
        };
        let moved = messages::advance_status(&mut tx, id, change, now).await?;
        tracing::debug!(message_id = id, moved, "status callback applied");
    } else {
        tracing::warn!("status callback for a message we do not know: stored");
    }
    tx.commit().await?;
    Ok(Matched {
        message_id: matched,
        issue_id,
    })
}
