//! LEAVE topic: no more broadcasts on that topic (other texts still come; STOP stops all).

use super::{Context, Outcome};
use crate::gateway::catalog::Catalog;
use crate::store;

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
        super::join::change_subscription(ctx, self.topic.as_deref(), false).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::desk::Desk;

    #[tokio::test]
    async fn leave_ends_only_the_topic_named() {
        let desk = Desk::new().await;
        desk.text("+14155550101", "JOIN ROADS").await;
        desk.text("+14155550101", "JOIN WATER").await;
        let left = desk.reply("+14155550101", "LEAVE WATER").await;
        assert!(left.contains("no more Water alerts"), "{left}");
        let topics = desk
            .text_of("select group_concat(topic) from subscription")
            .await;
        assert_eq!(topics.as_deref(), Some("roads"));
        let unknown = desk.reply("+14155550101", "LEAVE").await;
        assert!(unknown.contains("Topics you can join"), "{unknown}");
        assert_eq!(desk.scalar("select count(*) from subscription").await, 1);
    }
}
