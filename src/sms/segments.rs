//! How many SMS segments a text costs. GSM 03.38 7-bit text is 160 septets in one segment and
//! 153 per part when concatenated (the user data header takes 7); characters of the extension
//! table take two septets. Anything outside GSM-7 turns the whole message into UCS-2: 70 UTF-16
//! units alone, 67 per part.

/// The GSM 03.38 basic character set (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The GSM 03.38 extension table (escape + character: two septets each).
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

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
            if GSM7_BASIC.contains(c) {
                septets += 1;
            } else if GSM7_EXTENSION.contains(c) {
                septets += 2;
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
}
