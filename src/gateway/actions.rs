//! What officials do, as gateway operations beside the inbound path: reply by SMS, change a
//! status (with its notice), assign, note, hide from open data, broadcast; and a report filed
//! from another channel (Open311). Merging reports and splitting one off are in `crowd`.
//! Each is one transaction, so it happens whole or not at all, and is announced to open pages
//! (and wakes the delivery worker) once committed. The web layer reads from the store and writes
//! only through these.

use super::Gateway;
use super::notices::MAX_NOTICE_SEGMENTS;
use crate::store::issues::{self, IssueSummary};
use crate::store::outbox::Kind;
use crate::store::{self, officials};

/// Why an official's action was refused; nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("no such issue")]
    NoIssue,
    #[error("this issue has no phone number to answer")]
    NoCitizen,
    #[error("the citizen opted out (STOP): nothing can be sent until they text START")]
    OptedOut,
    #[error("the message is empty")]
    Empty,
    #[error("the message is longer than 1600 characters")]
    TooLong,
    #[error("the notice with its public note is longer than {MAX_NOTICE_SEGMENTS} SMS segments")]
    NoteTooLong,
    #[error("no such official")]
    NoOfficial,
    #[error("an issue is a duplicate of another issue that exists")]
    NotADuplicate,
    #[error("only two open reports merge")]
    MergeClosed,
    #[error("that citizen is not a supporter of this report")]
    NotASupporter,
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl Gateway {
    /// After an action committed: the worker sends what it queued, open pages reload.
    pub(super) fn acted(&self, issue_id: i64, queued: bool) {
        if queued {
            self.inner.routing.wake.notify_one();
        }
        self.announce(Some(issue_id));
    }

    /// Queues an official's SMS to the citizen who filed `issue_id`, through the outbox, and
    /// records it in the issue's trail.
    #[tracing::instrument(name = "gateway.official_reply", skip(self, body))]
    pub async fn official_reply(
        &self,
        issue_id: i64,
        actor: &str,
        body: &str,
    ) -> Result<i64, ActionError> {
        let body = body.trim();
        if body.is_empty() {
            return Err(ActionError::Empty);
        }
        if body.chars().count() > 1600 {
            return Err(ActionError::TooLong);
        }
        let now = store::now_ms();
        let mut tx = self.inner.store.begin().await?;
        let Some(citizen) = issues::reporter(&mut tx, issue_id).await? else {
            return Err(if issues::exists(&mut tx, issue_id).await? {
                ActionError::NoCitizen
            } else {
                ActionError::NoIssue
            });
        };
        if citizen.opted_out {
            return Err(ActionError::OptedOut);
        }
        let message_id = self
            .queue_text(
                &mut tx,
                citizen.citizen_id,
                issue_id,
                body,
                Kind::Official,
                now,
            )
            .await?;
        issues::add_event(
            &mut tx,
            issue_id,
            "reply",
            actor,
            body,
            Some(message_id),
            now,
        )
        .await?;
        issues::mark_answered(&mut tx, issue_id, now).await?;
        tx.commit().await?;
        self.acted(issue_id, true);
        Ok(message_id)
    }

    /// Moves issue `issue_id` to `status` and texts the citizen who filed it (see
    /// `Gateway::change_status_in`). Returns the issue, or `None` when there is no such issue.
    #[tracing::instrument(name = "gateway.change_status", skip(self, public_note))]
    pub async fn change_status(
        &self,
        issue_id: i64,
        status: &str,
        actor: &str,
        public_note: &str,
    ) -> Result<Option<IssueSummary>, ActionError> {
        let now = store::now_ms();
        let mut tx = self.inner.store.begin().await?;
        let changed = self
            .change_status_in(&mut tx, issue_id, status, actor, public_note, now)
            .await?;
        tx.commit().await?;
        if changed.is_some() {
            self.acted(issue_id, true);
        }
        Ok(changed)
    }

    /// Assigns issue `issue_id` to an official (or, with `None`, to nobody).
    #[tracing::instrument(name = "gateway.assign", skip(self))]
    pub async fn assign(
        &self,
        issue_id: i64,
        assignee: Option<i64>,
        actor: &str,
    ) -> Result<(), ActionError> {
        let mut tx = self.inner.store.begin().await?;
        if let Some(assignee) = assignee
            && !officials::is_active(&mut tx, assignee).await?
        {
            return Err(ActionError::NoOfficial);
        }
        if !issues::assign(&mut tx, issue_id, assignee, actor, store::now_ms()).await? {
            return Err(ActionError::NoIssue);
        }
        tx.commit().await?;
        self.acted(issue_id, false);
        Ok(())
    }

    /// An internal note in the issue's trail: never sent. An empty one is nothing to do.
    #[tracing::instrument(name = "gateway.note", skip(self, body))]
    pub async fn note(&self, issue_id: i64, actor: &str, body: &str) -> Result<(), ActionError> {
        let body = body.trim();
        if body.is_empty() {
            return Ok(());
        }
        let mut tx = self.inner.store.begin().await?;
        if !issues::exists(&mut tx, issue_id).await? {
            return Err(ActionError::NoIssue);
        }
        issues::add_event(
            &mut tx,
            issue_id,
            "note",
            actor,
            body,
            None,
            store::now_ms(),
        )
        .await?;
        tx.commit().await?;
        self.acted(issue_id, false);
        Ok(())
    }

    /// Keeps what a citizen wrote out of public output (Open311, exports), or publishes it
    /// again; the issue stays counted either way.
    #[tracing::instrument(name = "gateway.publish", skip(self))]
    pub async fn set_hidden(
        &self,
        issue_id: i64,
        hidden: bool,
        actor: &str,
    ) -> Result<(), ActionError> {
        let now = store::now_ms();
        let mut tx = self.inner.store.begin().await?;
        if !store::open_data::set_hidden(&mut tx, issue_id, hidden, now).await? {
            return Err(ActionError::NoIssue);
        }
        let what = if hidden {
            "hidden from open data"
        } else {
            "published as open data"
        };
        issues::add_event(&mut tx, issue_id, "publication", actor, what, None, now).await?;
        tx.commit().await?;
        self.acted(issue_id, false);
        Ok(())
    }

    /// Records in the audit log that an admin saw the whole phone number behind `issue_id`:
    /// every view of a whole number is accounted for.
    pub async fn phone_viewed(&self, official_id: i64, issue_id: i64) -> store::Result<()> {
        officials::audit(
            &self.inner.store,
            Some(official_id),
            "phone.viewed",
            &format!("issue {issue_id}"),
            store::now_ms(),
        )
        .await
    }

    /// Files a report that came from another channel (Open311 `POST requests`, with an API
    /// key; `source` names it in the trail), with no citizen to text. Returns its number.
    #[tracing::instrument(name = "gateway.file_report", skip(self, description))]
    pub async fn file_report(
        &self,
        service_code: &str,
        description: &str,
        location: Option<&str>,
        lat_long: Option<(f64, f64)>,
        source: &str,
    ) -> store::Result<i64> {
        let id = store::open_data::create_issue(
            &self.inner.store,
            service_code,
            description,
            location,
            lat_long,
            source,
            store::now_ms(),
        )
        .await?;
        self.acted(id, false);
        Ok(id)
    }

    /// Sends an alert to every reachable subscriber of `topic` through the outbox at bulk
    /// priority. `texts` are (language, text), the default language first. Returns the
    /// broadcast's id and how many messages were queued.
    #[tracing::instrument(name = "gateway.broadcast", skip(self, texts))]
    pub async fn broadcast(
        &self,
        topic: &str,
        official_id: i64,
        texts: &[(String, String)],
    ) -> store::Result<(i64, i64)> {
        let now = store::now_ms();
        let mut tx = self.inner.store.begin().await?;
        let result = store::broadcasts::create(
            &mut tx,
            topic,
            Some(official_id),
            texts,
            self.inner.routing.outbound,
            now,
        )
        .await?;
        tx.commit().await?;
        self.inner.routing.wake.notify_one();
        Ok(result)
    }
}
