//! What citizens type about themselves, kept out of open data: phone numbers become `[phone]`,
//! email addresses `[email]`, and the words an operator lists (`privacy.scrub_words`: names,
//! say) `[redacted]`, in every public output (Open311, the CSV, public report pages). Officials
//! still see what was written. A leaf: text in, text out.
//!
//! A phone number is a run of 7 to 15 digits (E.164's most), possibly after a `+` and split by
//! spaces, dots, dashes, slashes or parentheses, as every shipped region writes them
//! (`(415) 555-0100`, `06 12 34 56 78`, `+52 55 1234 5678`, `0712 345678`); a date so written
//! (`2026-12-05`, `05/12/2026`) is kept. It errs towards hiding: a long run of digits that is
//! not a phone number (an account number) is hidden too, which costs open data little.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+").expect("email pattern")
});
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d[\d ().\-/]*\d").expect("phone pattern"));
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$")
        .expect("date pattern")
});

/// The scrubbing of public text, with the operator's words.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    words: Option<Regex>,
}

impl Scrubber {
    /// Scrubs phone numbers, emails and `words` (whole words, case-insensitive; empty entries
    /// ignored).
    pub fn new(words: &[String]) -> Scrubber {
        let alternatives: Vec<String> = words
            .iter()
            .map(|w| w.trim())
            .filter(|w| !w.is_empty())
            .map(regex::escape)
            .collect();
        let words = (!alternatives.is_empty()).then(|| {
            Regex::new(&format!(r"(?i)\b(?:{})\b", alternatives.join("|")))
                .expect("escaped words make a pattern")
        });
        Scrubber { words }
    }

    /// `text` with what identifies a person replaced.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let text = replace(Cow::Borrowed(text), &EMAIL, "[email]");
        let text = replace(text, &PHONE, |found: &regex::Captures| {
            let candidate = &found[0];
            let digits = candidate.chars().filter(char::is_ascii_digit).count();
            if (7..=15).contains(&digits) && !DATE.is_match(candidate) {
                "[phone]".to_owned()
            } else {
                candidate.to_owned()
            }
        });
        match &self.words {
            Some(words) => replace(text, words, "[redacted]"),
            None => text,
        }
    }
}

/// `text` with every match of `pattern` replaced; borrowed still when nothing matched.
fn replace<'a>(text: Cow<'a, str>, pattern: &Regex, with: impl regex::Replacer) -> Cow<'a, str> {
    if !pattern.is_match(&text) {
        return text;
    }
    let replaced = pattern.replace_all(&text, with).into_owned();
    Cow::Owned(replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_emails_and_listed_words_are_replaced_and_nothing_else() {
        let scrub = Scrubber::new(&["Maria Lopez".to_owned(), " ".to_owned()]);
        let cases = [
            // (what a citizen wrote, what open data shows)
            ("call me at (415) 555-0100", "call me at [phone]"),
            ("text +1 415 555 0100 anytime", "text [phone] anytime"),
            ("mi numero es +52 55 1234 5678", "mi numero es [phone]"),
            ("appelez le 06 12 34 56 78 svp", "appelez le [phone] svp"),
            ("+33.6.12.34.56.78", "[phone]"),
            ("piga 0712 345678", "piga [phone]"),
            ("555-1234 is my cell", "[phone] is my cell"),
            ("write ana.perez+city@example.org", "write [email]"),
            ("Maria Lopez at 12 Elm St", "[redacted] at 12 Elm St"),
            ("MARIA LOPEZ", "[redacted]"),
            // Kept: short numbers, dates, addresses, report numbers.
            ("STATUS 1042", "STATUS 1042"),
            (
                "since 2026-12-01, still there",
                "since 2026-12-01, still there",
            ),
            ("depuis le 05/12/2026", "depuis le 05/12/2026"),
            ("1200 Main St & 5th", "1200 Main St & 5th"),
            ("Mariachi band too loud", "Mariachi band too loud"),
            ("", ""),
        ];
        for (written, public) in cases {
            assert_eq!(scrub.scrub(written), public, "{written:?}");
        }
    }

    #[test]
    fn without_words_only_numbers_and_emails_go() {
        let scrub = Scrubber::default();
        assert_eq!(
            scrub.scrub("Maria: 415 555 0100, maria@x.example"),
            "Maria: [phone], [email]"
        );
        assert!(matches!(scrub.scrub("nothing here"), Cow::Borrowed(_)));
    }
}
