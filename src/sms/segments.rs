//! How many SMS segments a text costs. GSM 03.38 7-bit text is 160 septets in one segment and
//! 153 per part when concatenated (the user data header takes 7); characters of the extension
//! table take two septets. Anything outside GSM-7 turns the whole message into UCS-2: 70 UTF-16
//! units alone, 67 per part.

/// The GSM 03.38 basic character set (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The GSM 03.38 extension table (escape + character: two septets each).
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

/// Septets per ASCII character (0: not in GSM-7), from the two tables above: most texts are
/// ASCII, and a lookup is cheaper than a search of the alphabet for every character.
const ASCII_SEPTETS: [u8; 128] = {
    let mut table = [0u8; 128];
    let (basic, extension) = (GSM7_BASIC.as_bytes(), GSM7_EXTENSION.as_bytes());
    let mut i = 0;
    while i < extension.len() {
        if extension[i] < 128 {
            table[extension[i] as usize] = 2;
        }
        i += 1;
    }
    i = 0;
    while i < basic.len() {
        if basic[i] < 128 {
            table[basic[i] as usize] = 1;
        }
        i += 1;
    }
    table
};

/// Septets for one character; `None` when it is not in GSM-7.
fn gsm7_septets(c: char) -> Option<usize> {
    let n = match c {
        c if c.is_ascii() => ASCII_SEPTETS[c as usize],
        c if GSM7_BASIC.contains(c) => 1,
        c if GSM7_EXTENSION.contains(c) => 2,
        _ => 0,
    };
    (n > 0).then_some(usize::from(n))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }
}

/// The cost of one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    pub count: usize,
}

impl Segments {
    pub fn of(text: &str) -> Segments {
        let mut septets = 0;
        for c in text.chars() {
            if let Some(n) = gsm7_septets(c) {
                septets += n;
            } else {
                let units = text.encode_utf16().count();
                return Segments {
                    encoding: Encoding::Ucs2,
                    units,
                    count: count(units, 70, 67),
                };
            }
        }
        Segments {
            encoding: Encoding::Gsm7,
            units: septets,
            count: count(septets, 160, 153),
        }
    }
}

fn count(units: usize, single: usize, per_part: usize) -> usize {
    match units {
        0 => 1,
        n if n <= single => 1,
        n => n.div_ceil(per_part),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ascii_fits_160_then_splits_by_153() {
        assert_eq!(Segments::of(&"a".repeat(160)).count, 1);
        assert_eq!(Segments::of(&"a".repeat(161)).count, 2);
        assert_eq!(Segments::of(&"a".repeat(306)).count, 2);
        assert_eq!(Segments::of(&"a".repeat(307)).count, 3);
    }

    #[test]
    fn extension_characters_count_twice() {
        let s = Segments::of(&"€".repeat(80));
        assert_eq!((s.encoding, s.units, s.count), (Encoding::Gsm7, 160, 1));
        assert_eq!(Segments::of(&"[".repeat(81)).count, 2);
    }

    #[test]
    fn one_accent_outside_gsm7_makes_the_whole_text_ucs2() {
        let s = Segments::of("Reporte recibido: calle Colón");
        assert_eq!(s.encoding, Encoding::Ucs2);
        assert_eq!(Segments::of(&"ó".repeat(70)).count, 1);
        assert_eq!(Segments::of(&"ó".repeat(71)).count, 2);
    }

    #[test]
    fn emoji_take_two_utf16_units() {
        let s = Segments::of("🚧");
        assert_eq!((s.encoding, s.units), (Encoding::Ucs2, 2));
    }

    #[test]
    fn empty_text_still_costs_one_segment() {
        assert_eq!(Segments::of("").count, 1);
    }

    mod properties {
        use super::super::*;
        use crate::sms::replace_lookalikes;
        use proptest::prelude::*;

        /// Text made of GSM-7 characters (basic and extension) and typographic look-alikes.
        fn gsm_like_text() -> impl Strategy<Value = String> {
            let alphabet: Vec<char> = GSM7_BASIC
                .chars()
                .chain(GSM7_EXTENSION.chars())
                .chain("\u{2018}\u{2019}\u{201C}\u{201D}\u{2013}\u{2014}\u{2026}\u{00A0}".chars())
                .collect();
            proptest::collection::vec(proptest::sample::select(alphabet), 0..400)
                .prop_map(|cs| cs.into_iter().collect())
        }

        proptest! {
            #[test]
            fn segment_count_is_the_smallest_that_holds_the_text(text in any::<String>()) {
                let s = Segments::of(&text);
                let (single, part) = match s.encoding { Encoding::Gsm7 => (160, 153), Encoding::Ucs2 => (70, 67) };
                prop_assert!(s.count >= 1);
                if s.units <= single {
                    prop_assert_eq!(s.count, 1);
                } else {
                    prop_assert!(s.count * part >= s.units && (s.count - 1) * part < s.units);
                }
                if s.encoding == Encoding::Ucs2 {
                    prop_assert_eq!(s.units, text.encode_utf16().count());
                }
            }

            #[test]
            fn look_alikes_never_cost_more_and_replacing_twice_changes_nothing(text in gsm_like_text()) {
                let once = replace_lookalikes(&text).into_owned();
                prop_assert!(Segments::of(&once).count <= Segments::of(&text).count);
                if once != text {
                    prop_assert_eq!(Segments::of(&once).encoding, Encoding::Gsm7);
                }
                prop_assert_eq!(replace_lookalikes(&once).into_owned(), once);
            }

            #[test]
            fn gsm7_units_add_up(a in gsm_like_text(), b in gsm_like_text()) {
                let (a, b) = (replace_lookalikes(&a).into_owned(), replace_lookalikes(&b).into_owned());
                prop_assume!(Segments::of(&a).encoding == Encoding::Gsm7 && Segments::of(&b).encoding == Encoding::Gsm7);
                prop_assert_eq!(Segments::of(&format!("{a}{b}")).units, Segments::of(&a).units + Segments::of(&b).units);
            }

            #[test]
            fn any_non_gsm_character_makes_it_ucs2(text in gsm_like_text(), c in "[\\p{Han}\\p{Arabic}\\p{Cyrillic}]") {
                let text = format!("{}{c}", replace_lookalikes(&text));
                prop_assert_eq!(Segments::of(&text).encoding, Encoding::Ucs2);
            }
        }
    }
}
