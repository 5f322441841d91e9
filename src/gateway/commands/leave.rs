//! LEAVE topic: no more broadcasts on that topic (other texts still come; STOP stops all).

use super::{Context, Outcome};
use crate::gateway::catalog::Catalog;
use crate::gateway::replies::ReplyKey;
use crate::store::{self, citizens};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leave {
    topic: Option<String>,
}

impl Leave {
    pub fn parse(rest: &str, catalog: &Catalog) -> Leave {
        let topic = catalog.topic_in(rest).map(|t| t.code.clone());
        Leave { topic }
    }

    /// Answers the same whether or not they had joined: leaving is what they want either way.
    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        let Some(topic) = self
            .topic
            .as_deref()
            .and_then(|code| ctx.catalog.topic_by_code(code))
        else {
            return Ok(super::join::topic_unknown(ctx));
        };
        citizens::unsubscribe(ctx.tx, ctx.citizen.citizen_id, &topic.code).await?;
        let (name, keyword) = (
            topic.name_in(&ctx.language),
            topic.keyword_in(&ctx.language),
        );
        Ok(Outcome {
            reply: ctx.reply(ReplyKey::Left, &[("topic", name), ("keyword", keyword)]),
            ..Outcome::default()
        })
    }
}
