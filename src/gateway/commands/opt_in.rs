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

#[cfg(test)]
mod tests {
    use super::super::desk::Desk;

    #[tokio::test]
    async fn start_without_a_stop_before_it_confirms_and_records_nothing() {
        let desk = Desk::new().await;
        let start = desk.reply("+14155550101", "START").await;
        assert!(
            start.contains("START") || start.contains("subscribed"),
            "{start}"
        );
        assert_eq!(desk.scalar("select count(*) from consent_event").await, 0);
        desk.text("+14155550101", "STOP").await;
        desk.text("+14155550101", "UNSTOP").await;
        let ledger = "select group_concat(kind || ':' || keyword) from consent_event";
        let ledger = desk.text_of(ledger).await;
        assert_eq!(ledger.as_deref(), Some("opt_out:STOP,opt_in:UNSTOP"));
    }
}
