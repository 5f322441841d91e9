//! Words as places are named: case and accents folded, ordinals as numbers, and the words that
//! name no place left out ("St", "calle", "rue" and the like, "&", "and", "y", "et", "de la").
//! "Calle Main y 5ta", "rue Main et 5e" and "Main Street & 5th" are all `main`, `5`.

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Street types, before or after the name, in the shipped languages (and their abbreviations).
const KINDS: &[&str] = &[
    // en
    "st",
    "street",
    "str",
    "ave",
    "av",
    "avenue",
    "rd",
    "road",
    "blvd",
    "boulevard",
    "dr",
    "drive",
    "ln",
    "lane",
    "way",
    "pl",
    "place",
    "sq",
    "square",
    "ct",
    "court",
    "hwy",
    "highway",
    "pkwy",
    "parkway",
    "ter",
    "terrace",
    "cir",
    "circle",
    "alley",
    // es
    "calle",
    "c",
    "cl",
    "avenida",
    "avda",
    "paseo",
    "camino",
    "carretera",
    "plaza",
    "pza",
    "callejon",
    "pasaje",
    "bulevar",
    "calzada",
    // fr
    "rue",
    "r",
    "bd",
    "chemin",
    "ch",
    "allee",
    "impasse",
    "quai",
    "cours",
    "route",
    "voie",
];

/// Words that join two places ("Main St & 5th") or stand around one ("near", "at the").
const FILLERS: &[&str] = &[
    "and", "at", "on", "in", "near", "by", "of", "the", "corner", "between", "off", "outside", "y",
    "e", "en", "la", "el", "los", "las", "del", "de", "cerca", "frente", "esquina", "esq", "entre",
    "con", "al", "a", "et", "le", "les", "du", "des", "pres", "sur", "au", "aux", "coin", "angle",
    "devant", "d", "l",
];

/// The words of `text` that can name a place, folded, in order. A number names a street only
/// as an ordinal ("5th", "5ta", "5e") or beside a street type ("Calle 5", "5 Ave"): a bare
/// number is most often a house number, and is kept as `#5`, which names nothing.
pub fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase();
    let raw: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let is_kind = |i: usize| raw.get(i).is_some_and(|w| KINDS.contains(w));
    raw.iter()
        .enumerate()
        .filter(|(_, w)| !KINDS.contains(w) && !FILLERS.contains(w))
        .map(|(i, w)| {
            let bare_number = w.bytes().all(|b| b.is_ascii_digit());
            if bare_number && !is_kind(i + 1) && !(i > 0 && is_kind(i - 1)) {
                format!("#{w}")
            } else {
                ordinal(w)
            }
        })
        .collect()
}

/// `5th`, `1st`, `2nd`, `3rd`, `5ta`, `5to`, `5a`, `5o`, `5e`, `5eme`, `5er`, `5re` -> `5`.
fn ordinal(word: &str) -> String {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let suffix = &word[digits..];
    const SUFFIXES: &[&str] = &[
        "st", "nd", "rd", "th", "ta", "to", "a", "o", "e", "eme", "er", "re", "ero", "era",
    ];
    if digits > 0 && SUFFIXES.contains(&suffix) {
        word[..digits].to_owned()
    } else {
        word.to_owned()
    }
}

/// Whether a word of a message stands for a word of a place's name: the same, or, for names
/// of four letters or more, one typo away (a letter wrong, missing, extra, or two swapped).
pub fn close(said: &str, name: &str) -> bool {
    said == name
        || (name.chars().count() >= 4
            && !name.bytes().all(|b| b.is_ascii_digit())
            && strsim::osa_distance(said, name) <= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_place_in_every_way_people_write_it() {
        for text in [
            "Main St & 5th",
            "main street and 5th avenue",
            "Calle Main y 5ta",
            "rue Main et 5e",
            "MAIN ST. @ 5TH AVE.",
            "corner of Main and 5th",
        ] {
            assert_eq!(words(text), ["main", "5"], "{text}");
        }
        assert_eq!(words("Hôtel de Ville"), ["hotel", "ville"]);
        assert_eq!(words("Biblioteca Pública"), ["biblioteca", "publica"]);
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("Calle 5 y Av 3"), ["5", "3"], "numbered streets");
        assert_eq!(
            words("the hole at 125 Main"),
            ["hole", "#125", "main"],
            "a house number"
        );
    }

    #[test]
    fn one_typo_in_a_long_enough_word_and_none_in_a_number() {
        assert!(close("mian", "main"), "two letters swapped");
        assert!(close("mai", "main"), "one missing");
        assert!(close("mainn", "main"), "one extra");
        assert!(close("maim", "main"), "one wrong");
        assert!(!close("mnia", "main"), "two typos");
        assert!(!close("oal", "oak"), "a short name must be exact");
        assert!(!close("15", "5"), "numbers must be exact");
        assert!(!close("1000", "1001"), "even long numbers");
    }
}
