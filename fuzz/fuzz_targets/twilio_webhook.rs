//! The Twilio webhook's untrusted path before the database: the form decoder, the signature
//! check and the inbound parser. Input: `signature header \n form body`.
#![no_main]

use civicline::providers::form::Form;
use civicline::providers::twilio;
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "12345";
const URL: &str = "https://city.example/sms/twilio?x=1";

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let Ok(form) = Form::parse(body) else {
        return;
    };
    // Decoding is strict: what was accepted is valid UTF-8 by construction, and re-encoding it
    // decodes to the same pairs.
    let again = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.pairs())
        .finish();
    let reparsed = Form::parse(again.as_bytes()).expect("re-encoded form decodes");
    assert_eq!(reparsed.pairs(), form.pairs());
    // A forged header never verifies unless it is the real signature.
    let real = twilio::signature(TOKEN, URL, form.pairs());
    assert!(twilio::verify(TOKEN, URL, form.pairs(), &real));
    if let Ok(header) = std::str::from_utf8(header) {
        assert_eq!(
            twilio::verify(TOKEN, URL, form.pairs(), header),
            header == real
        );
    }
    if let Ok(sms) = twilio::parse_inbound(&form, Some("US")) {
        // A parsed number is E.164 and its masked form never shows it whole.
        let e164 = sms.from().e164();
        assert!(e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()));
        assert!(!sms.from().to_string().contains(&e164[1..]));
    }
});
