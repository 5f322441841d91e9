//! Outgoing text prepared for SMS: typographic look-alikes replaced by their GSM-7 twins before
//! the encoding is decided, so one curly quote does not turn a 160-character message into a
//! 70-character one (Twilio calls this "Smart Encoding").

use super::{Encoding, Segments};
use std::borrow::Cow;

/// Look-alike characters and the GSM-7 text that replaces each.
const LOOKALIKES: &[(char, &str)] = &[
    ('\u{2018}', "'"),   // left single quotation mark
    ('\u{2019}', "'"),   // right single quotation mark, apostrophe
    ('\u{201A}', "'"),   // single low-9 quotation mark
    ('\u{201B}', "'"),   // single high-reversed-9 quotation mark
    ('\u{2032}', "'"),   // prime
    ('\u{00B4}', "'"),   // acute accent
    ('`', "'"),          // grave accent (not in GSM-7)
    ('\u{201C}', "\""),  // left double quotation mark
    ('\u{201D}', "\""),  // right double quotation mark
    ('\u{201E}', "\""),  // double low-9 quotation mark
    ('\u{2033}', "\""),  // double prime
    ('\u{00AB}', "\""),  // left guillemet
    ('\u{00BB}', "\""),  // right guillemet
    ('\u{2010}', "-"),   // hyphen
    ('\u{2011}', "-"),   // non-breaking hyphen
    ('\u{2012}', "-"),   // figure dash
    ('\u{2013}', "-"),   // en dash
    ('\u{2014}', "-"),   // em dash
    ('\u{2015}', "-"),   // horizontal bar
    ('\u{2212}', "-"),   // minus sign
    ('\u{2026}', "..."), // ellipsis
    ('\u{00A0}', " "),   // no-break space
    ('\u{2007}', " "),   // figure space
    ('\u{2009}', " "),   // thin space
    ('\u{202F}', " "),   // narrow no-break space
    ('\u{200B}', ""),    // zero-width space
    ('\u{2022}', "-"),   // bullet
    ('\t', " "),         // tab (not in GSM-7)
];

/// Replaces look-alikes when that makes the text no more expensive; otherwise, and for text
/// without any, the text comes back borrowed. A replacement can cost more: an ellipsis becomes
/// three septets, and a text that stays UCS-2 (an emoji) only grows (found by the `segments`
/// fuzz target). A text is never emptied (a lone zero-width space stays).
pub fn replace_lookalikes(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| LOOKALIKES.iter().any(|(l, _)| *l == c))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match LOOKALIKES.iter().find(|(l, _)| *l == c) {
            Some((_, replacement)) => out.push_str(replacement),
            None => out.push(c),
        }
    }
    let (before, after) = (Segments::of(text), Segments::of(&out));
    if after.encoding == Encoding::Gsm7 && after.count <= before.count && !out.trim().is_empty() {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_punctuation_becomes_gsm7() {
        let text = "It\u{2019}s \u{201C}fixed\u{201D} \u{2013} see you\u{2026}\u{00A0}soon";
        let plain = replace_lookalikes(text);
        assert_eq!(plain, "It's \"fixed\" - see you... soon");
        assert_eq!(Segments::of(&plain).encoding, Encoding::Gsm7);
        assert_eq!(Segments::of(text).encoding, Encoding::Ucs2);
    }

    #[test]
    fn a_replacement_that_would_cost_more_is_not_made() {
        // Found by the segments fuzz target: the emoji keeps the text UCS-2, so "..." for "…"
        // only adds two units.
        let text = format!("\u{1F600} wait\u{2026}{}", "x".repeat(62));
        assert_eq!(Segments::of(&text).count, 1);
        assert_eq!(Segments::of(&text.replace('\u{2026}', "...")).count, 2);
        assert_eq!(replace_lookalikes(&text), text);
        // Sixty ellipses are one UCS-2 segment but 180 septets (two GSM-7 segments).
        let dots = "\u{2026}".repeat(60);
        assert_eq!(replace_lookalikes(&dots), dots);
        // A text of look-alikes that would vanish is kept.
        assert_eq!(replace_lookalikes("\u{200B}"), "\u{200B}");
    }

    #[test]
    fn plain_text_is_not_copied() {
        assert!(matches!(replace_lookalikes("plain"), Cow::Borrowed(_)));
    }
}
