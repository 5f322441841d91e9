//! `application/x-www-form-urlencoded`, decoded strictly. `form_urlencoded` (and so serde's
//! `Form`) replaces invalid UTF-8 with U+FFFD; a webhook whose text we would silently alter must
//! be refused instead, and a signature must be checked over every field, in order, repeats kept.

use percent_encoding::percent_decode;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormError {
    #[error("form field is not valid UTF-8 after percent-decoding")]
    InvalidUtf8,
}

/// All fields of a form, in the order sent, repeated names kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Result<Form, FormError> {
        let mut pairs = Vec::new();
        for part in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match part.iter().position(|&b| b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &[][..]),
            };
            pairs.push((decode(name)?, decode(value)?));
        }
        Ok(Form { pairs })
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Form {
        Form {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Encodes the form for sending (used by `simulate` and tests).
    pub fn encode(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.pairs {
            out.append_pair(name, value);
        }
        out.finish()
    }
}

fn decode(raw: &[u8]) -> Result<String, FormError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| FormError::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_percent_and_keeps_repeats_in_order() {
        let form =
            Form::parse(b"Body=Main+St+%26+5th&Digits=5678&Digits=1234&Empty=&Bare").unwrap();
        assert_eq!(form.get("Body"), Some("Main St & 5th"));
        assert_eq!(form.get("Empty"), Some(""));
        assert_eq!(form.get("Bare"), Some(""));
        let digits: Vec<_> = form
            .pairs()
            .iter()
            .filter(|(n, _)| n == "Digits")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(digits, ["5678", "1234"]);
    }

    #[test]
    fn emoji_and_rtl_text_survive() {
        let form = Form::from_pairs([("Body", "🚧 حفرة في الشارع")]);
        assert_eq!(Form::parse(form.encode().as_bytes()).unwrap(), form);
    }

    #[test]
    fn invalid_utf8_is_refused_not_replaced() {
        assert_eq!(Form::parse(b"Body=%FF%FE"), Err(FormError::InvalidUtf8));
        assert_eq!(Form::parse(b"Body=\xff"), Err(FormError::InvalidUtf8));
    }

    #[test]
    fn stray_percent_signs_are_kept_literally() {
        assert_eq!(
            Form::parse(b"Body=100%+sure%zz").unwrap().get("Body"),
            Some("100% sure%zz")
        );
    }
}
