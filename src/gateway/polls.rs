//! Polls (issue 18): the city asks back. An admin writes a question with 2 to 5 options per
//! language for a topic's subscribers, an area's citizens, or both; [`Gateway::poll_texts`]
//! checks it and composes each language's SMS (shown with its cost before sending), and
//! [`Gateway::ask`] queues it in one transaction. A reply is read on the writer lane
//! (`commands::PollAnswer`) against the poll's [`Choices`], which are read once per process
//! and kept: a poll's options never change once it is sent.

use super::catalog::DEFAULT_LANGUAGE;
use super::poll_answers::Choices;
use super::replies::ReplyKey;
use super::{Gateway, Inner};
use crate::store::{self, polls};
use std::sync::Arc;

pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 5;
/// How long a poll may stay open.
pub const MAX_DAYS: u32 = 30;
const MAX_QUESTION_CHARS: usize = 320;
const MAX_LABEL_CHARS: usize = 60;

/// A poll as an admin wrote it.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub topic: Option<String>,
    pub area: Option<String>,
    pub public: bool,
    /// How many days replies count.
    pub days: u32,
    /// Per language; the default language's is required.
    pub texts: Vec<DraftText>,
}

#[derive(Debug, Clone, Default)]
pub struct DraftText {
    pub language: String,
    pub question: String,
    /// The options' labels, in order.
    pub options: Vec<String>,
}

/// Why a poll was refused; nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("Choose a topic, an area, or both.")]
    NoAudience,
    #[error("There is no topic named that.")]
    UnknownTopic,
    #[error("There is no area named that among the places loaded.")]
    UnknownArea,
    #[error(
        "Write the question in the default language ({DEFAULT_LANGUAGE}): it goes to everyone without a text in theirs."
    )]
    NoQuestion,
    #[error("A poll has 2 to 5 options, one per line.")]
    Options,
    #[error("The {0} text has another number of options than the default language's.")]
    OptionsDiffer(String),
    #[error("A question is at most 320 characters, an option at most 60.")]
    TooLong,
    #[error("A poll stays open 1 to 30 days.")]
    Days,
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl Gateway {
    /// Checks `draft` and composes each language's SMS: the question, the numbered options
    /// and how to answer. The default language's comes first; a language with no question is
    /// left out (its citizens get the default text).
    pub fn poll_texts(&self, draft: &Draft) -> Result<Vec<polls::PollText>, PollError> {
        match (&draft.topic, &draft.area) {
            (None, None) => return Err(PollError::NoAudience),
            (Some(topic), _) if !self.catalog().topics().iter().any(|t| &t.code == topic) => {
                return Err(PollError::UnknownTopic);
            }
            (_, Some(area)) if !self.places().has_area(area) => {
                return Err(PollError::UnknownArea);
            }
            _ => {}
        }
        if !(1..=MAX_DAYS).contains(&draft.days) {
            return Err(PollError::Days);
        }
        let default = draft
            .texts
            .iter()
            .find(|t| t.language == DEFAULT_LANGUAGE && !t.question.trim().is_empty())
            .ok_or(PollError::NoQuestion)?;
        let options = clean(&default.options);
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&options.len()) {
            return Err(PollError::Options);
        }
        let mut texts = Vec::new();
        let others = draft
            .texts
            .iter()
            .filter(|t| t.language != DEFAULT_LANGUAGE && !t.question.trim().is_empty());
        for text in std::iter::once(default).chain(others) {
            let labels = clean(&text.options);
            if labels.len() != options.len() {
                return Err(PollError::OptionsDiffer(text.language.clone()));
            }
            let question = one_line(&text.question);
            if question.chars().count() > MAX_QUESTION_CHARS
                || labels.iter().any(|l| l.chars().count() > MAX_LABEL_CHARS)
            {
                return Err(PollError::TooLong);
            }
            let body = self.poll_body(&text.language, &question, &labels);
            texts.push(polls::PollText {
                language: text.language.clone(),
                question,
                labels,
                body,
            });
        }
        Ok(texts)
    }

    /// The SMS of a poll in `language`.
    fn poll_body(&self, language: &str, question: &str, labels: &[String]) -> String {
        let mut body = question.to_owned();
        for (i, label) in labels.iter().enumerate() {
            body.push_str(&format!("\n{} {label}", i + 1));
        }
        let last = labels.len().to_string();
        let invite = self
            .inner
            .replies
            .render(language, ReplyKey::PollInvite, &[("last", &last)]);
        body.push('\n');
        body.push_str(&invite);
        body
    }

    /// How many citizens `draft` would reach, per language.
    pub async fn poll_audience(&self, draft: &Draft) -> store::Result<Vec<(String, i64)>> {
        polls::audience(self.store(), draft.topic.as_deref(), draft.area.as_deref()).await
    }

    /// Sends a poll: recorded, its recipients chosen and their messages queued at bulk
    /// priority, in one transaction. Returns the poll's id and how many were asked.
    #[tracing::instrument(name = "gateway.ask", skip_all)]
    pub async fn ask(&self, draft: &Draft, official_id: i64) -> Result<(i64, i64), PollError> {
        let texts = self.poll_texts(draft)?;
        let now = store::now_ms();
        let poll = polls::NewPoll {
            topic: draft.topic.as_deref(),
            area: draft.area.as_deref(),
            official_id: Some(official_id),
            public: draft.public,
            closes_at: now + i64::from(draft.days) * 86_400_000,
            texts: &texts,
        };
        let mut tx = self.inner.store.begin().await?;
        let (poll_id, recipients) =
            polls::create(&mut tx, &poll, self.inner.routing.outbound, now).await?;
        tx.commit().await?;
        self.inner.routing.wake.notify_one();
        metrics::counter!("civicline_polls_total").increment(1);
        tracing::info!(poll_id, recipients, "poll queued");
        Ok((poll_id, recipients))
    }
}

impl Inner {
    /// Poll `poll_id`'s choices: kept once read (a sent poll's options never change).
    pub(super) async fn poll_choices(
        &self,
        tx: &mut store::LaneTx,
        poll_id: i64,
    ) -> store::Result<Arc<Choices>> {
        if let Some(choices) = self.lock_polls().get(&poll_id) {
            return Ok(Arc::clone(choices));
        }
        let choices = Arc::new(Choices::new(polls::choices(tx, poll_id).await?));
        self.lock_polls().insert(poll_id, Arc::clone(&choices));
        Ok(choices)
    }

    fn lock_polls(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, Arc<Choices>>> {
        self.polls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The options of a text area: one per line, trimmed, blank lines left out; tabs are spaces.
fn clean(options: &[String]) -> Vec<String> {
    options
        .iter()
        .map(|o| one_line(o))
        .filter(|o| !o.is_empty())
        .collect()
}

/// `text` on one line, its runs of white space one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
