//! What a reply to a poll chose (issue 18, polls): the option's number (`1`), its letter
//! (`A`), or its words in any shipped language, case- and accent-insensitive (`si`, `Oui`
//! and `YES` all choose "yes" when it is option 1). Anything else, or words two options share,
//! chose nothing: the caller keeps it as "other".

use super::catalog::fold;

/// A poll's options, each with its labels in every language, folded for matching.
#[derive(Debug, Clone)]
pub struct Choices {
    options: Vec<Vec<String>>,
}

impl Choices {
    /// `options[i]` holds option `i`'s labels, one per language.
    pub fn new<I, L, S>(options: I) -> Choices
    where
        I: IntoIterator<Item = L>,
        L: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let options = options
            .into_iter()
            .map(|labels| labels.into_iter().map(|l| words(l.as_ref())).collect())
            .collect();
        Choices { options }
    }

    /// The option (from 0) `reply` chose, or `None` for "other".
    pub fn chosen(&self, reply: &str) -> Option<usize> {
        let reply = words(reply);
        let (first, rest) = reply.split_once(' ').unwrap_or((reply.as_str(), ""));
        let by_mark = self.by_mark(first);
        match (by_mark, rest) {
            (Some(i), "") => return Some(i),
            // "1 yes": the number and that option's own words.
            (Some(i), rest) if self.options[i].iter().any(|l| l == rest) => return Some(i),
            _ => {}
        }
        let mut named = (0..self.options.len()).filter(|&i| self.options[i].contains(&reply));
        match (named.next(), named.next()) {
            (Some(i), None) => Some(i),
            _ => None, // no option's words, or two options' (never guess)
        }
    }

    /// The option a number (`1`) or a letter (`A`) marks.
    fn by_mark(&self, token: &str) -> Option<usize> {
        let index = match token.as_bytes() {
            [digit @ b'1'..=b'9'] => usize::from(digit - b'1'),
            [letter @ b'A'..=b'I'] => usize::from(letter - b'A'),
            _ => return None,
        };
        (index < self.options.len()).then_some(index)
    }
}

/// The words of `text`, each folded, one space between them.
fn words(text: &str) -> String {
    text.split_whitespace()
        .map(fold)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Should the market open on Sundays?" in en, es, fr.
    fn yes_no_later() -> Choices {
        Choices::new([
            ["Yes", "Sí", "Oui"],
            ["No", "No", "Non"],
            ["Not sure", "No sé", "Je ne sais pas"],
        ])
    }

    #[test]
    fn a_number_a_letter_or_the_words_in_any_language_choose_an_option() {
        let choices = yes_no_later();
        let table = [
            ("1", Some(0)),
            ("1.", Some(0)),
            (" 2 ", Some(1)),
            ("3", Some(2)),
            ("a", Some(0)),
            ("B", Some(1)),
            ("c)", Some(2)),
            ("yes", Some(0)),
            ("YES!", Some(0)),
            ("si", Some(0)),
            ("Sí", Some(0)),
            ("Oui", Some(0)),
            ("oui.", Some(0)),
            ("no", Some(1)),
            ("Non", Some(1)),
            ("not sure", Some(2)),
            ("NO SE", Some(2)),
            ("je ne sais pas", Some(2)),
            ("1 yes", Some(0)),
            ("2 non", Some(1)),
        ];
        for (reply, expected) in table {
            assert_eq!(choices.chosen(reply), expected, "{reply:?}");
        }
    }

    #[test]
    fn anything_else_is_other() {
        let choices = yes_no_later();
        for reply in [
            "",
            "4",
            "0",
            "D",
            "12",
            "yes please",
            "1 no",
            "maybe",
            "oui et non",
            "POTHOLE Main St & 5th",
            "🙂",
            "'; drop table poll; --",
        ] {
            assert_eq!(choices.chosen(reply), None, "{reply:?}");
        }
    }

    #[test]
    fn words_two_options_share_choose_neither() {
        // "No" is option 2 in English and (say, a careless translation) option 3 in Spanish.
        let choices = Choices::new([["Yes", "Sí"], ["No", "Nunca"], ["Later", "No"]]);
        assert_eq!(choices.chosen("no"), None);
        assert_eq!(choices.chosen("2"), Some(1));
        assert_eq!(choices.chosen("nunca"), Some(1));
    }
}
