//! Messages the city starts: a status change texted to the citizen who reported the issue, in
//! their language, through the outbox. Resolving a report also asks "Is it fixed? Reply 1 for
//! yes, 2 for no"; a 2 reopens it for officials (see `commands::answer`).

use super::Gateway;
use super::commands::answer;
use super::replies::ReplyKey;
use crate::store::issues::{self, IssueSummary};
use crate::store::messages::NewOutbound;
use crate::store::{self, citizens, outbox};

/// Why an official's SMS was not queued.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
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
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl Gateway {
    /// The text a citizen writing in `language` gets when their report moves to `status`
    /// (before any public note): the composer counts the note's segments against it.
    pub fn notice_text(
        &self,
        language: &str,
        service_code: Option<&str>,
        issue_id: i64,
        status: &str,
    ) -> String {
        let replies = &self.inner.replies;
        let number = issue_id.to_string();
        let category = service_code
            .and_then(|code| self.inner.catalog.category_by_code(code))
            .map(|c| c.name_in(language).to_owned())
            .unwrap_or_else(|| replies.render(language, ReplyKey::Uncategorized, &[]));
        let args = [
            ("number", number.as_str()),
            ("category", category.as_str()),
            ("status", status),
        ];
        let key = if status == "resolved" {
            ReplyKey::ResolvedQuestion
        } else {
            ReplyKey::StatusNotice
        };
        replies.render(language, key, &args)
    }
}

/// A status notice with an official's public note may take this many segments; past it the
/// change is refused (and the composer's counter says so before sending).
pub const MAX_NOTICE_SEGMENTS: usize = 2;

/// The notice the citizen gets: the note as the official wrote it, after a status notice, or
/// before the "Is it fixed?" question, so the question is what the text ends with.
fn with_note(notice: String, note: &str, resolved: bool) -> String {
    match (note.trim(), resolved) {
        ("", _) => notice,
        (note, true) => format!("{note} {notice}"),
        (note, false) => format!("{notice} {note}"),
    }
}

impl Gateway {
    /// Queues an official's SMS to the citizen who filed `issue_id`, through the outbox, and
    /// records it in the issue's trail.
    #[tracing::instrument(name = "gateway.official_reply", skip(self, body))]
    pub async fn official_reply(
        &self,
        issue_id: i64,
        actor: &str,
        body: &str,
    ) -> Result<i64, ReplyError> {
        let body = body.trim();
        if body.is_empty() {
            return Err(ReplyError::Empty);
        }
        if body.chars().count() > 1600 {
            return Err(ReplyError::TooLong);
        }
        let now = store::now_ms();
        let mut tx = self.inner.store.begin().await?;
        let detail = issues::reporter(&mut tx, issue_id).await?;
        let Some(citizen) = detail else {
            return Err(if issues::exists(&mut tx, issue_id).await? {
                ReplyError::NoCitizen
            } else {
                ReplyError::NoIssue
            });
        };
        if citizen.opted_out {
            return Err(ReplyError::OptedOut);
        }
        let message = NewOutbound {
            citizen_id: citizen.citizen_id,
            issue_id: Some(issue_id),
            provider: self.inner.routing.outbound,
            in_reply_to: None,
            body,
            status: "queued",
            now,
        };
        let message_id = outbox::queue(&mut tx, message, outbox::Kind::Official).await?;
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
        self.inner.routing.wake.notify_one();
        self.announce(Some(issue_id));
        Ok(message_id)
    }

    /// Moves issue `issue_id` to `status` on behalf of `actor` and tells the citizen who filed
    /// it; `public_note` (may be empty) goes in the SMS as written, which may then take up to
    /// [`MAX_NOTICE_SEGMENTS`] segments; a longer one refuses the change and stores nothing.
    /// Returns the issue, or `None` when there is no such issue.
    #[tracing::instrument(name = "gateway.change_status", skip(self, public_note))]
    pub async fn change_status(
        &self,
        issue_id: i64,
        status: &str,
        actor: &str,
        public_note: &str,
    ) -> Result<Option<IssueSummary>, ReplyError> {
        let now = store::now_ms();
        let mut tx = self.inner.store.begin().await?;
        let Some(issue) =
            issues::set_status(&mut tx, issue_id, status, actor, public_note, now).await?
        else {
            return Ok(None);
        };
        let Some(citizen) = issues::reporter(&mut tx, issue_id).await? else {
            tx.commit().await?;
            return Ok(Some(issue)); // filed without a phone (Open311): nobody to text
        };
        let resolved = status == "resolved";
        if resolved {
            let until = now + i64::from(self.inner.settings.fixed_question_days) * 86_400_000;
            citizens::ask_about_issue(&mut tx, issue_id, answer::FIXED, until).await?;
        }
        let notice = self.notice_text(
            &citizen.language,
            issue.service_code.as_deref(),
            issue_id,
            status,
        );
        let body = with_note(notice, public_note, resolved);
        if crate::sms::Segments::of(&crate::sms::replace_lookalikes(&body)).count
            > MAX_NOTICE_SEGMENTS
        {
            return Err(ReplyError::NoteTooLong); // dropped: the transaction rolls back
        }
        let message = NewOutbound {
            citizen_id: citizen.citizen_id,
            issue_id: Some(issue_id),
            provider: self.inner.routing.outbound,
            in_reply_to: None,
            body: &body,
            status: "queued",
            now,
        };
        outbox::queue(&mut tx, message, outbox::Kind::Notice).await?;
        tx.commit().await?;
        self.inner.routing.wake.notify_one();
        self.announce(Some(issue_id));
        Ok(Some(issue))
    }
}

impl Gateway {
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
