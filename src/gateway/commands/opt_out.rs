//! STOP and its carrier synonyms: the citizen will get nothing more until they opt in again.
//! See <https://help.twilio.com/articles/223134027>.

use super::{Context, Outcome};
use crate::gateway::replies::ReplyKey;
use crate::store::{self, citizens};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    /// The word they used, kept in the consent ledger.
    keyword: String,
}

impl OptOut {
    pub fn new(keyword: String) -> Self {
        Self { keyword }
    }

    /// Exactly one confirmation: a second STOP changes nothing and is answered with silence.
    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        let changed = citizens::set_consent(
            ctx.tx,
            ctx.citizen.citizen_id,
            citizens::Consent::OptOut,
            &self.keyword,
            citizens::ConsentSource::Sms,
            ctx.now,
        )
        .await?;
        let reply = if changed {
            ctx.reply(ReplyKey::OptedOut, &[])
        } else {
            None
        };
        Ok(Outcome {
            reply,
            issue_id: None,
            consent: true,
        })
    }
}
