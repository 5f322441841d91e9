//! HELP and INFO: what this number is and what to text.

use super::{Context, Outcome};
use crate::gateway::replies::ReplyKey;
use crate::store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help;

impl Help {
    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        Ok(Outcome {
            reply: ctx.reply(ReplyKey::Help, &[]),
            ..Outcome::default()
        })
    }
}
