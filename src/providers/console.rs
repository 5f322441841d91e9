//! The console provider for local trials: nothing leaves the machine. A "sent" message is
//! logged (number masked) and counts as delivered; the database keeps it, so `simulate` and the
//! officials' pages can show it.

use super::{Accepted, OutboundSms, SendError};

#[derive(Debug, Default)]
pub struct Console;

impl Console {
    pub async fn send(&self, sms: &OutboundSms<'_>) -> Result<Accepted, SendError> {
        let masked = crate::sms::PhoneNumber::parse(sms.to, None)
            .map(|p| p.masked())
            .unwrap_or_else(|_| "(invalid number)".to_owned());
        tracing::info!(to = %masked, message_id = sms.message_id, body = sms.body, "console: would send SMS");
        Ok(Accepted {
            provider_message_id: format!("console-{}", sms.message_id),
            status: "delivered".to_owned(),
        })
    }
}
