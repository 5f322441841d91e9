//! Phone numbers in E.164, the only form civicline stores. A number is never shown whole by
//! accident: `Display` and `Debug` mask it, and only [`PhoneNumber::e164`] gives the digits.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;

/// An E.164 phone number (`+14158675309`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
    /// Length of the country calling code in digits, kept for masking (`+1 *** *** 5309`).
    country_code_len: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("not a phone number")]
    NotANumber,
    #[error("phone number has a wrong length for E.164")]
    BadLength,
}

impl PhoneNumber {
    /// Parses a number as providers send it. Numbers without a leading `+` are read in
    /// `default_region` (an ISO 3166 code such as `US` or `KE`).
    ///
    /// This checks structure (a known country code and a possible length), not whether the
    /// number is assigned: test and fictional numbers such as +1 555 555 0100 are accepted,
    /// because the provider has already delivered a message from it.
    pub fn parse(raw: &str, default_region: Option<&str>) -> Result<Self, PhoneError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.chars().any(|c| c.is_alphabetic()) {
            return Err(PhoneError::NotANumber);
        }
        let region = default_region.and_then(|r| r.to_ascii_uppercase().parse().ok());
        let parsed = phonenumber::parse(region, raw).map_err(|_| PhoneError::NotANumber)?;
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        let digits = e164.len().saturating_sub(1);
        // ITU-T E.164: at most 15 digits; the shortest numbers in use have 7 or more.
        if !(7..=15).contains(&digits) {
            return Err(PhoneError::BadLength);
        }
        let country_code_len = parsed.code().value().to_string().len();
        Ok(Self {
            e164,
            country_code_len,
        })
    }

    /// The whole number. Call it only where the whole number is needed (the database, the
    /// provider API); everything else should use the masked `Display`.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// `+1 *** *** 5309`: the country and the last four digits, enough for an official to tell
    /// two conversations apart, not enough to call anyone.
    pub fn masked(&self) -> String {
        let cc = &self.e164[1..1 + self.country_code_len];
        let last4 = &self.e164[self.e164.len() - 4..];
        format!("+{cc} *** *** {last4}")
    }

    /// A stable keyed pseudonym (HMAC-SHA256, 16 hex digits) that lets open data and analytics
    /// count distinct citizens without being reversible by anyone who lacks the key.
    pub fn pseudonym(&self, key: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(self.e164.as_bytes());
        let tag = mac.finalize().into_bytes();
        tag[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_e164_and_national_forms_to_the_same_number() {
        let a = PhoneNumber::parse("+14158675309", None).unwrap();
        let b = PhoneNumber::parse("(415) 867-5309", Some("us")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.e164(), "+14158675309");
    }

    #[test]
    fn accepts_fictional_test_numbers() {
        let n = PhoneNumber::parse("+15555550100", None).unwrap();
        assert_eq!(n.e164(), "+15555550100");
    }

    #[test]
    fn kenyan_number_masks_with_its_country_code() {
        let n = PhoneNumber::parse("+254711082300", None).unwrap();
        assert_eq!(n.masked(), "+254 *** *** 2300");
    }

    #[test]
    fn display_and_debug_never_show_the_whole_number() {
        let n = PhoneNumber::parse("+14158675309", None).unwrap();
        assert_eq!(n.to_string(), "+1 *** *** 5309");
        assert!(!format!("{n:?}").contains("8675309"));
    }

    #[test]
    fn rejects_text_short_codes_and_garbage() {
        for raw in [
            "",
            "hello",
            "BANK",
            "+1",
            "+123",
            "'; DROP TABLE citizen;--",
            "+1415867530912345678",
        ] {
            assert!(
                PhoneNumber::parse(raw, None).is_err(),
                "{raw:?} was accepted"
            );
        }
    }

    #[test]
    fn pseudonym_is_stable_per_key_and_differs_across_keys() {
        let n = PhoneNumber::parse("+14158675309", None).unwrap();
        assert_eq!(n.pseudonym(b"k1"), n.pseudonym(b"k1"));
        assert_ne!(n.pseudonym(b"k1"), n.pseudonym(b"k2"));
        assert_eq!(n.pseudonym(b"k1").len(), 16);
    }
}
