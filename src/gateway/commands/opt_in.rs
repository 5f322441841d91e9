//! START, YES, UNSTOP: the citizen may receive texts again.

use super::{Context, Outcome};
use crate::gateway::replies::ReplyKey;
use crate::store::{self, citizens};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptIn {
    /// The word they used, kept in the consent ledger.
    keyword: String,
}

impl OptIn {
    pub fn new(keyword: String) -> Self {
        Self { keyword }
    }

    /// Confirms whether or not they were opted out: a START is always worth an answer.
    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        citizens::set_consent(
            ctx.tx,
            ctx.citizen.citizen_id,
            citizens::Consent::OptIn,
            &self.keyword,
            citizens::ConsentSource::Sms,
            ctx.now,
        )
        .await?;
        Ok(Outcome {
            reply: ctx.reply(ReplyKey::OptedIn, &[]),
            ..Outcome::default()
        })
    }
}
