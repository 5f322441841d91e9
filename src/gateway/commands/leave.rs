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
