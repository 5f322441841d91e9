//! The segment counter against a slow, obviously right count, and the look-alike replacement:
//! it only ever makes a text cheaper or keeps it, and never empties one.
#![no_main]

use civicline::sms::{Encoding, Segments, replace_lookalikes};
use libfuzzer_sys::fuzz_target;

const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENSION: &str = "^{}\\[~]|€\u{000C}";

fn expected(text: &str) -> (Encoding, usize, usize) {
    let gsm = text.chars().all(|c| BASIC.contains(c) || EXTENSION.contains(c));
    let (encoding, units, single, part) = if gsm {
        let septets = text.chars().map(|c| if BASIC.contains(c) { 1 } else { 2 }).sum();
        (Encoding::Gsm7, septets, 160, 153)
    } else {
        (Encoding::Ucs2, text.encode_utf16().count(), 70, 67)
    };
    let count = if units == 0 {
        1
    } else if units <= single {
        1
    } else {
        units.div_ceil(part)
    };
    (encoding, units, count)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let segments = Segments::of(text);
    let (encoding, units, count) = expected(text);
    assert_eq!(segments.encoding, encoding);
    assert_eq!(segments.units, units);
    assert_eq!(segments.count, count, "{text:?}");
    let replaced = replace_lookalikes(text);
    let cheaper = Segments::of(&replaced);
    assert!(cheaper.count <= segments.count, "{text:?} costs more after replacement");
    assert_eq!(text.trim().is_empty(), replaced.trim().is_empty(), "{text:?}");
});
