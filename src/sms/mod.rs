//! Pure SMS types: phone numbers, the inbound message as the gateway sees it, and segment
//! arithmetic. Nothing here touches the network or the database, so every rule is unit-tested
//! in place.

mod phone;
mod segments;
mod status;
mod text;

pub use phone::{PhoneError, PhoneNumber};
pub use segments::{Encoding, Segments};
pub use status::{is_final, status_rank};
pub use text::replace_lookalikes;

/// The SMS providers civicline speaks to. Stored in `message.provider` as [`Provider::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Local development: nothing leaves the machine.
    Console,
    Twilio,
    AfricasTalking,
    /// SMS Gateway for Android: a phone with a SIM.
    Smsgate,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Console => "console",
            Provider::Twilio => "twilio",
            Provider::AfricasTalking => "africastalking",
            Provider::Smsgate => "smsgate",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "console" => Ok(Provider::Console),
            "twilio" => Ok(Provider::Twilio),
            "africastalking" => Ok(Provider::AfricasTalking),
            "smsgate" => Ok(Provider::Smsgate),
            other => Err(format!(
                "unknown SMS provider {other:?} (expected console, twilio, africastalking or smsgate)"
            )),
        }
    }
}

/// One text message from a citizen, parsed and verified at the provider edge.
/// Fields are private so that only a provider's parser can make one.
#[derive(Debug, Clone)]
pub struct InboundSms {
    provider: Provider,
    provider_message_id: String,
    from: PhoneNumber,
    to: String,
    body: String,
}

impl InboundSms {
    pub fn new(
        provider: Provider,
        provider_message_id: String,
        from: PhoneNumber,
        to: String,
        body: String,
    ) -> Self {
        Self {
            provider,
            provider_message_id: without_nul(provider_message_id),
            from,
            to: without_nul(to),
            body: without_nul(body),
        }
    }
    pub fn provider(&self) -> Provider {
        self.provider
    }
    /// The provider's id for this message (Twilio `MessageSid`): the deduplication key.
    pub fn provider_message_id(&self) -> &str {
        &self.provider_message_id
    }
    pub fn from(&self) -> &PhoneNumber {
        &self.from
    }
    /// Our number that the citizen texted (kept for multi-number deployments).
    pub fn to(&self) -> &str {
        &self.to
    }
    pub fn body(&self) -> &str {
        &self.body
    }
}

/// The text with U+0000 replaced by U+FFFD: PostgreSQL's text cannot hold it, and a message
/// refused for it would be retried by the provider forever and never stored. Both backends
/// store the same.
fn without_nul(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    }
}
