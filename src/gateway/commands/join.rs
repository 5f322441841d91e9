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
        change_subscription(ctx, self.topic.as_deref(), true).await
    }
}

/// What JOIN and LEAVE share: find the topic, subscribe or unsubscribe, answer with the topic's
/// name and word in the citizen's language; an unknown topic gets the list of topics.
pub(super) async fn change_subscription(
    ctx: &mut Context<'_>,
    code: Option<&str>,
    join: bool,
) -> store::Result<Outcome> {
    let Some(topic) = code.and_then(|code| ctx.catalog.topic_by_code(code)) else {
        return Ok(topic_unknown(ctx));
    };
    let citizen_id = ctx.citizen.citizen_id;
    if join {
        citizens::subscribe(ctx.tx, citizen_id, &topic.code, ctx.now).await?;
    } else {
        citizens::unsubscribe(ctx.tx, citizen_id, &topic.code).await?;
    }
    let key = if join {
        ReplyKey::Joined
    } else {
        ReplyKey::Left
    };
    let (name, keyword) = (
        topic.name_in(&ctx.language),
        topic.keyword_in(&ctx.language),
    );
    Ok(Outcome {
        reply: ctx.reply(key, &[("topic", name), ("keyword", keyword)]),
        ..Outcome::default()
    })
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

#[cfg(test)]
mod tests {
    use super::super::desk::Desk;

    #[tokio::test]
    async fn join_subscribes_once_leave_unsubscribes_an_unknown_topic_lists_them() {
        let desk = Desk::new().await;
        let subscribed = "select count(*) from subscription where topic = 'roads'";
        assert!(
            desk.reply("+14155550101", "JOIN ROADS")
                .await
                .contains("Roads alerts")
        );
        desk.text("+14155550101", "JOIN TRAFFIC").await;
        assert_eq!(
            desk.scalar(subscribed).await,
            1,
            "two words, one topic, one row"
        );
        let left = desk.reply("+14155550101", "LEAVE ROADS").await;
        assert!(left.contains("no more Roads alerts"), "{left}");
        assert_eq!(desk.scalar(subscribed).await, 0);
        let unknown = desk.reply("+14155550101", "JOIN PARKS").await;
        assert!(
            unknown.contains("ROADS") && unknown.contains("WATER"),
            "{unknown}"
        );
        assert_eq!(desk.scalar("select count(*) from subscription").await, 0);
    }
}
