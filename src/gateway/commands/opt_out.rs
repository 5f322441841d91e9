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

#[cfg(test)]
mod tests {
    use super::super::desk::Desk;

    #[tokio::test]
    async fn stop_opts_out_once_in_the_ledger_and_start_opts_back_in() {
        let desk = Desk::new().await;
        let stop = desk.text("+14155550101", "STOP").await;
        assert!(
            stop.consent,
            "the confirmation is the one text an opted-out number gets"
        );
        assert!(stop.reply.unwrap().contains("unsubscribed"));
        let out = "select count(*) from citizen where opted_out_at is not null";
        assert_eq!(desk.scalar(out).await, 1);
        desk.text("+14155550101", "STOP").await;
        let ledger = "select count(*) from consent_event where kind = 'opt_out' and source = 'sms'";
        assert_eq!(
            desk.scalar(ledger).await,
            1,
            "a second STOP changes nothing"
        );
        desk.text("+14155550101", "START").await;
        assert_eq!(desk.scalar(out).await, 0);
        let back = "select count(*) from consent_event where kind = 'opt_in' and keyword = 'START'";
        assert_eq!(desk.scalar(back).await, 1);
    }
}
