//! The answer to a poll the city asked ("Should the market open on Sundays? 1 Yes 2 No"):
//! the option's number, letter or words in any language count for that option
//! ([`Choices`]); anything else is kept as "other" and shown to the city. Either way the
//! poll is closed for the citizen, so their next text is read as usual, and no issue is filed.

use super::{Context, Outcome};
use crate::gateway::poll_answers::Choices;
use crate::gateway::replies::ReplyKey;
use crate::store::{self, polls};

/// A poll waiting for the citizen's answer.
#[derive(Debug, Clone, Copy)]
pub struct OpenPoll<'a> {
    pub poll_id: i64,
    pub choices: &'a Choices,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollAnswer {
    pub poll_id: i64,
    /// The option chosen, from 0; `None` for "other".
    pub choice: Option<usize>,
    pub text: String,
}

impl PollAnswer {
    /// The message as an answer to `poll`; an empty message is not one.
    pub fn parse(poll: OpenPoll<'_>, text: &str) -> Option<PollAnswer> {
        let text = text.trim();
        (!text.is_empty()).then(|| PollAnswer {
            poll_id: poll.poll_id,
            choice: poll.choices.chosen(text),
            text: text.to_owned(),
        })
    }

    /// A whole-message word that would otherwise be a consent word ("YES" opts in) is the
    /// answer only when it names an option.
    pub fn parse_option(poll: OpenPoll<'_>, text: &str) -> Option<PollAnswer> {
        PollAnswer::parse(poll, text).filter(|a| a.choice.is_some())
    }

    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        let answer = polls::NewAnswer {
            poll_id: self.poll_id,
            citizen_id: ctx.citizen.citizen_id,
            message_id: ctx.message_id,
            choice: self.choice.map(|i| i as i64 + 1),
            body: &self.text,
            language: &ctx.language,
            now: ctx.now,
        };
        if polls::answer(ctx.tx, answer).await? {
            let choice = if self.choice.is_some() {
                "option"
            } else {
                "other"
            };
            metrics::counter!("civicline_poll_answers_total", "choice" => choice).increment(1);
        }
        let key = match self.choice {
            Some(_) => ReplyKey::PollCounted,
            None => ReplyKey::PollNoted,
        };
        let number = self.poll_id.to_string();
        Ok(Outcome {
            reply: ctx.reply(key, &[("number", &number)]),
            issue_id: None,
            consent: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::desk::Desk;

    const ALICE: &str = "+14155550101";

    /// Poll 1, "Open the market on Sundays?" (Yes / No in en, es, fr), open for ALICE.
    async fn asked(desk: &Desk) {
        desk.text(ALICE, "JOIN ROADS").await;
        desk.execute(
            "insert into poll (poll_id, topic, created_at, closes_at, choices) \
             values (1, 'roads', 0, 9000000000000, 'Yes\tSí\tOui\nNo\tNo\tNon')",
        )
        .await;
        desk.execute("update citizen set poll_id = 1, poll_until = 9000000000000")
            .await;
    }

    #[tokio::test]
    async fn an_answer_counts_once_and_the_next_text_is_read_as_usual() {
        let desk = Desk::new().await;
        asked(&desk).await;
        let thanks = desk.reply(ALICE, "oui").await;
        assert_eq!(thanks, "Thanks! Your answer to poll #1 is counted.");
        assert_eq!(
            desk.scalar("select choice from poll_answer where poll_id = 1")
                .await,
            1
        );
        assert_eq!(
            desk.scalar("select count(*) from citizen where poll_id is not null")
                .await,
            0,
            "answered: the poll is closed for her"
        );
        let next = desk.text(ALICE, "oui").await;
        assert!(next.issue_id.is_some(), "free text again: {next:?}");
        assert_eq!(desk.scalar("select count(*) from poll_answer").await, 1);
    }

    #[tokio::test]
    async fn other_words_are_kept_and_a_closed_poll_takes_nothing() {
        let desk = Desk::new().await;
        asked(&desk).await;
        let noted = desk.reply(ALICE, "only in summer <b>please</b>").await;
        assert!(
            noted.starts_with("Thanks, we noted your reply to poll #1"),
            "{noted}"
        );
        assert_eq!(
            desk.text_of("select body from poll_answer where choice is null")
                .await
                .as_deref(),
            Some("only in summer <b>please</b>")
        );
        desk.execute("delete from poll_answer").await;
        desk.execute("update citizen set poll_id = 1, poll_until = 1")
            .await;
        desk.text(ALICE, "2").await;
        assert_eq!(desk.scalar("select count(*) from poll_answer").await, 0);
    }
}
