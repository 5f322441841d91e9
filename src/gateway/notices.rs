//! Messages the city starts about a report: a status change texted to the citizen who reported
//! it and to every supporter ("me too"), each in their language, through the outbox, with the
//! official's public note as written.
//! Resolving a report also asks "Is it fixed? Reply 1 for yes, 2 for no"; a 2 reopens it for
//! officials (see `commands::answer`).

use super::Gateway;
use super::actions::ActionError;
use super::commands::answer;
use super::replies::ReplyKey;
use crate::store::issues::{self, IssueSummary};
use crate::store::messages::NewOutbound;
use crate::store::outbox::{self, Kind};
use crate::store::{Tx, citizens, crowd};

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
        let category = self.category_in(language, service_code);
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

    /// A category's name in `language` ("Report" in it without one).
    fn category_in(&self, language: &str, service_code: Option<&str>) -> String {
        service_code
            .and_then(|code| self.inner.catalog.category_by_code(code))
            .map(|c| c.name_in(language).to_owned())
            .unwrap_or_else(|| {
                self.inner
                    .replies
                    .render(language, ReplyKey::Uncategorized, &[])
            })
    }

    /// "Thanks! Report #N (Pothole) is logged. ...": what a citizen hears of a report filed
    /// for them, in `language`.
    pub(super) fn logged_text(
        &self,
        language: &str,
        service_code: Option<&str>,
        issue_id: i64,
    ) -> String {
        let number = issue_id.to_string();
        match service_code {
            Some(_) => {
                let category = self.category_in(language, service_code);
                let args = [("number", number.as_str()), ("category", category.as_str())];
                self.inner
                    .replies
                    .render(language, ReplyKey::ReportLogged, &args)
            }
            None => self.inner.replies.render(
                language,
                ReplyKey::ReportLoggedUncategorized,
                &[("number", &number)],
            ),
        }
    }

    /// Inside `tx`: moves issue `issue_id` to `status` on behalf of `actor` and queues the
    /// notice to the citizen who filed it; `public_note` (may be empty) goes in the SMS as
    /// written, which may then take up to [`MAX_NOTICE_SEGMENTS`] segments; a longer one is
    /// refused (the caller's transaction, dropped, stores nothing). `None` when there is no such
    /// issue. The caller commits, then wakes the worker and announces.
    pub(super) async fn change_status_in(
        &self,
        tx: &mut Tx,
        issue_id: i64,
        status: &str,
        actor: &str,
        public_note: &str,
        now: i64,
    ) -> Result<Option<IssueSummary>, ActionError> {
        let Some(issue) = issues::set_status(tx, issue_id, status, actor, public_note, now).await?
        else {
            return Ok(None);
        };
        // Filed without a phone (Open311) and joined by nobody: no one to text.
        let reporters = crowd::reporters(tx, issue_id).await?;
        let resolved = status == "resolved";
        if resolved {
            let until = now + i64::from(self.inner.settings.fixed_question_days) * 86_400_000;
            citizens::ask_about_issue(tx, issue_id, answer::FIXED, until).await?;
        }
        for citizen in &reporters {
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
                return Err(ActionError::NoteTooLong);
            }
            self.queue_text(tx, citizen.citizen_id, issue_id, &body, Kind::Notice, now)
                .await?;
        }
        Ok(Some(issue))
    }

    /// Queues `body` to `citizen_id` about issue `issue_id` on the outbox as `kind` (the
    /// delivery worker skips a citizen who opted out); returns the message's id.
    pub(super) async fn queue_text(
        &self,
        tx: &mut Tx,
        citizen_id: i64,
        issue_id: i64,
        body: &str,
        kind: Kind,
        now: i64,
    ) -> crate::store::Result<i64> {
        let message = NewOutbound {
            citizen_id,
            issue_id: Some(issue_id),
            provider: self.inner.routing.outbound,
            in_reply_to: None,
            body,
            status: "queued",
            now,
        };
        outbox::queue(tx, message, kind).await
    }
}
