//! Africa's Talking USSD, the wire format: a session callback's form in, a screen out.
//! <https://developers.africastalking.com/docs/ussd/overview>
//!
//! Each request carries the whole session so far: `text` joins every input with `*` (empty on
//! the first request). The answer is `text/plain`, `CON <screen>` to wait for input or
//! `END <screen>` to close; a screen shows about 182 characters. The state of a session is
//! rebuilt from `text` on every request, so nothing is kept between them.

use super::africastalking::CallbackError;
use super::form::Form;
use crate::sms::PhoneNumber;

/// The screen for a request we cannot read (no language known yet: English, GSM-7).
pub const UNREADABLE: &str = "Sorry, we could not read that. Please dial again.";

/// The screen when the store cannot take the session now.
pub const UNAVAILABLE: &str = "Sorry, we cannot take this now. Please try again soon, or text us.";

/// What a screen may hold.
pub const SCREEN_CHARS: usize = 182;

/// One request of a USSD session.
#[derive(Debug, Clone)]
pub struct Session {
    pub session_id: String,
    pub service_code: String,
    pub phone: PhoneNumber,
    /// The inputs so far, as typed (the menus apply "0" back and "00" main menu).
    pub inputs: Vec<String>,
}

/// Parses a session callback (`sessionId`, `serviceCode`, `phoneNumber`, `text`;
/// `networkCode` is not needed).
pub fn parse_session(form: &Form, default_region: Option<&str>) -> Result<Session, CallbackError> {
    let session_id = form
        .get("sessionId")
        .ok_or(CallbackError::Missing("sessionId"))?;
    if session_id.is_empty()
        || session_id.len() > 100
        || !session_id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(CallbackError::BadId);
    }
    let service_code = form
        .get("serviceCode")
        .ok_or(CallbackError::Missing("serviceCode"))?;
    let phone = form
        .get("phoneNumber")
        .ok_or(CallbackError::Missing("phoneNumber"))?;
    let phone = PhoneNumber::parse(phone, default_region).map_err(|_| CallbackError::BadFrom)?;
    let text = form.get("text").ok_or(CallbackError::Missing("text"))?;
    Ok(Session {
        session_id: session_id.to_owned(),
        service_code: service_code.to_owned(),
        phone,
        inputs: inputs(text),
    })
}

/// The inputs of `text`, in the order they were typed (none on a session's first request).
pub fn inputs(text: &str) -> Vec<String> {
    match text.is_empty() {
        true => Vec::new(),
        false => text.split('*').map(|i| i.trim().to_owned()).collect(),
    }
}

/// A screen to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub text: String,
    /// `END`: the session closes after it.
    pub end: bool,
}

impl Screen {
    pub fn more(text: impl Into<String>) -> Screen {
        Screen {
            text: text.into(),
            end: false,
        }
    }

    pub fn end(text: impl Into<String>) -> Screen {
        Screen {
            text: text.into(),
            end: true,
        }
    }

    /// The response body: `CON ` or `END ` and the screen, [`SCREEN_CHARS`] characters at
    /// most in all (cut at a line break when one is near, so a menu loses whole lines).
    pub fn body(&self) -> String {
        let room = SCREEN_CHARS - 4;
        let text: String = if self.text.chars().count() <= room {
            self.text.clone()
        } else {
            let cut: String = self.text.chars().take(room).collect();
            match cut.rfind('\n') {
                Some(at) if at > room / 2 => cut[..at].to_owned(),
                _ => cut,
            }
        };
        format!("{} {text}", if self.end { "END" } else { "CON" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_splits_into_the_inputs_as_typed() {
        for (text, typed) in [
            ("", vec![]),
            ("1", vec!["1"]),
            ("1*2*Main St ", vec!["1", "2", "Main St"]),
            ("1*2*0*00", vec!["1", "2", "0", "00"]),
        ] {
            assert_eq!(inputs(text), typed, "{text:?}");
        }
    }

    #[test]
    fn a_session_callback_as_africas_talking_sends_it() {
        let form = Form::from_pairs([
            ("sessionId", "ATUid_0b1e5f"),
            ("serviceCode", "*384*12#"),
            ("phoneNumber", "+254711082300"),
            ("networkCode", "63902"),
            ("text", "1*2"),
        ]);
        let session = parse_session(&form, None).unwrap();
        assert_eq!(session.phone.e164(), "+254711082300");
        assert_eq!(session.inputs, vec!["1", "2"]);
        let no_phone = Form::from_pairs([("sessionId", "s"), ("serviceCode", "*1#"), ("text", "")]);
        assert_eq!(
            parse_session(&no_phone, None).unwrap_err(),
            CallbackError::Missing("phoneNumber")
        );
    }

    #[test]
    fn a_screen_is_at_most_182_characters_and_loses_whole_lines() {
        let long = (1..=30)
            .map(|i| format!("{i} Option number {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let body = Screen::more(long).body();
        assert!(body.starts_with("CON 1 Option"));
        assert!(body.chars().count() <= SCREEN_CHARS);
        assert!(body.ends_with(|c: char| c.is_ascii_digit()), "{body}");
        assert_eq!(Screen::end("Bye").body(), "END Bye");
    }
}
