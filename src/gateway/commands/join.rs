//! JOIN topic: receive the broadcasts officials send to that topic. (UNSUBSCRIBE is a carrier
//! opt-out word, not the opposite of JOIN: that is LEAVE.)

use super::{Context, Outcome};
use crate::gateway::catalog::Catalog;
use crate::gateway::replies::ReplyKey;
use crate::store::{self, citizens};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    /// The topic's code; `None` when the word is not a topic (or missing).
    topic: Option<String>,
}

impl Join {
    pub fn parse(rest: &str, catalog: &Catalog) -> Join {
        let topic = catalog.topic_in(rest).map(|t| t.code.clone());
        Join { topic }
    }

    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        let Some(topic) = self
            .topic
            .as_deref()
            .and_then(|code| ctx.catalog.topic_by_code(code))
        else {
            return Ok(topic_unknown(ctx));
        };
        citizens::subscribe(ctx.tx, ctx.citizen.citizen_id, &topic.code, ctx.now).await?;
        let (name, keyword) = (
            topic.name_in(&ctx.language),
            topic.keyword_in(&ctx.language),
        );
        Ok(Outcome {
            reply: ctx.reply(ReplyKey::Joined, &[("topic", name), ("keyword", keyword)]),
            ..Outcome::default()
        })
    }
}

/// "Topics you can join: ROADS, WATER, ALERTS ...", in the citizen's language.
pub(super) fn topic_unknown(ctx: &Context<'_>) -> Outcome {
    let topics: Vec<&str> = ctx
        .catalog
        .topics()
        .iter()
        .map(|t| t.keyword_in(&ctx.language))
        .collect();
    let example = topics.first().copied().unwrap_or_default();
    Outcome {
        reply: ctx.reply(
            ReplyKey::TopicUnknown,
            &[("topics", &topics.join(", ")), ("example", example)],
        ),
        ..Outcome::default()
    }
}
