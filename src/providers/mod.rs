//! The edge to SMS providers: one file per provider with its inbound form, its signature and
//! (later) its outbound client and status table. Nothing here knows about the store or the
//! gateway; handlers in `web` call in here and hand an [`crate::sms::InboundSms`] on.

pub mod form;
pub mod twilio;
