//! The keyword catalog (`config/keywords.toml`): which words are commands, which are categories
//! (Open311 services) and topics, in which languages. Loaded once at start, shared read-only.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The built-in catalog, used when no `gateway.keywords` file is configured.
pub const BUILTIN: &str = include_str!("../../config/keywords.toml");

/// The language replies fall back to, and the one a word's language defaults to.
pub const DEFAULT_LANGUAGE: &str = "en";

/// A global command a word can stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandWord {
    OptOut,
    OptIn,
    Help,
    Status,
    Report,
    Lang,
    Join,
    Leave,
    Skip,
}

/// Words per language code.
type Words = BTreeMap<String, Vec<String>>;

/// An Open311 service that citizens report by keyword.
#[derive(Debug, Clone, Deserialize)]
pub struct Category {
    pub service_code: String,
    /// The name in the default language (Open311 `service_name`).
    pub name: String,
    /// The name in other languages, for replies.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    pub description: String,
    pub group: String,
    pub keywords: Words,
}

/// A list citizens JOIN to receive broadcasts.
#[derive(Debug, Clone, Deserialize)]
pub struct Topic {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    pub keywords: Words,
}

fn localized<'a>(default: &'a str, names: &'a BTreeMap<String, String>, language: &str) -> &'a str {
    names.get(language).map_or(default, String::as_str)
}

impl Category {
    pub fn name_in(&self, language: &str) -> &str {
        localized(&self.name, &self.names, language)
    }

    /// The word a citizen texts for this category in `language` (the first listed).
    pub fn keyword_in(&self, language: &str) -> Option<&str> {
        first_word(&self.keywords, language)
    }
}

impl Topic {
    pub fn name_in(&self, language: &str) -> &str {
        localized(&self.name, &self.names, language)
    }

    /// The word a citizen texts for this topic in `language` (the first listed).
    pub fn keyword_in(&self, language: &str) -> &str {
        first_word(&self.keywords, language).unwrap_or(&self.code)
    }
}

fn first_word<'a>(words: &'a Words, language: &str) -> Option<&'a str> {
    words
        .get(language)
        .or_else(|| words.get(DEFAULT_LANGUAGE))
        .and_then(|words| words.first())
        .map(String::as_str)
}

/// What a word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    Command(CommandWord),
    /// An index into [`Catalog::categories`].
    Category(usize),
}

/// A word found in the catalog, with the languages it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword<'a> {
    pub meaning: Meaning,
    languages: &'a [String],
}

impl Keyword<'_> {
    /// The language a citizen who used this word speaks: theirs if the word is theirs too
    /// (GRAFFITI keeps a French speaker French), else the word's first language.
    pub fn language_for<'a>(&'a self, current: &'a str) -> &'a str {
        if self.languages.iter().any(|l| l == current) {
            current
        } else {
            self.languages.first().map_or(current, String::as_str)
        }
    }
}

#[derive(Debug)]
pub struct Catalog {
    categories: Vec<Category>,
    topics: Vec<Topic>,
    /// Folded word -> (meaning, languages).
    words: HashMap<String, (Meaning, Vec<String>)>,
    /// Folded topic word -> index into `topics`.
    topic_words: HashMap<String, usize>,
    /// Folded words that suggest a location.
    location_hints: BTreeSet<String>,
    languages: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("keyword catalog is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("keyword {0:?} has two meanings in the catalog")]
    Duplicate(String),
    #[error("{0:?} appears twice in the catalog")]
    DuplicateCode(String),
    #[error("keyword {0:?} is not one word")]
    NotOneWord(String),
}

#[derive(Deserialize)]
struct File {
    commands: Commands,
    #[serde(default)]
    location_hints: Words,
    #[serde(default, rename = "category")]
    categories: Vec<Category>,
    #[serde(default, rename = "topic")]
    topics: Vec<Topic>,
}

#[derive(Deserialize)]
struct Commands {
    opt_out: Words,
    opt_in: Words,
    help: Words,
    status: Words,
    report: Words,
    lang: Words,
    join: Words,
    leave: Words,
    skip: Words,
}

impl Catalog {
    pub fn builtin() -> Catalog {
        Catalog::from_toml(BUILTIN).expect("the built-in keyword catalog is valid")
    }

    pub fn from_toml(text: &str) -> Result<Catalog, CatalogError> {
        let file: File = toml::from_str(text)?;
        let mut catalog = Catalog {
            categories: Vec::new(),
            topics: Vec::new(),
            words: HashMap::new(),
            topic_words: HashMap::new(),
            location_hints: file
                .location_hints
                .values()
                .flatten()
                .map(|w| fold(w))
                .collect(),
            languages: BTreeSet::new(),
        };
        let c = &file.commands;
        let commands = [
            (CommandWord::OptOut, &c.opt_out),
            (CommandWord::OptIn, &c.opt_in),
            (CommandWord::Help, &c.help),
            (CommandWord::Status, &c.status),
            (CommandWord::Report, &c.report),
            (CommandWord::Lang, &c.lang),
            (CommandWord::Join, &c.join),
            (CommandWord::Leave, &c.leave),
            (CommandWord::Skip, &c.skip),
        ];
        for (command, by_language) in commands {
            catalog.add_words(Meaning::Command(command), by_language)?;
        }
        for (index, category) in file.categories.iter().enumerate() {
            if file.categories[..index]
                .iter()
                .any(|c| c.service_code == category.service_code)
            {
                return Err(CatalogError::DuplicateCode(category.service_code.clone()));
            }
            catalog.add_words(Meaning::Category(index), &category.keywords)?;
        }
        for (index, topic) in file.topics.iter().enumerate() {
            if file.topics[..index].iter().any(|t| t.code == topic.code) {
                return Err(CatalogError::DuplicateCode(topic.code.clone()));
            }
            for word in topic.keywords.values().flatten() {
                let key = one_word(word)?;
                if catalog
                    .topic_words
                    .insert(key, index)
                    .is_some_and(|other| other != index)
                {
                    return Err(CatalogError::Duplicate(word.clone()));
                }
            }
        }
        catalog.categories = file.categories;
        catalog.topics = file.topics;
        Ok(catalog)
    }

    fn add_words(&mut self, meaning: Meaning, by_language: &Words) -> Result<(), CatalogError> {
        for (language, words) in by_language {
            self.languages.insert(language.clone());
            for word in words {
                let key = one_word(word)?;
                let entry = self
                    .words
                    .entry(key)
                    .or_insert_with(|| (meaning, Vec::new()));
                if entry.0 != meaning {
                    return Err(CatalogError::Duplicate(word.clone()));
                }
                if !entry.1.contains(language) {
                    entry.1.push(language.clone());
                }
            }
        }
        Ok(())
    }

    /// What `word` means, if anything. `word` is one word as the citizen typed it.
    pub fn lookup(&self, word: &str) -> Option<Keyword<'_>> {
        self.words
            .get(&fold(word))
            .map(|(meaning, languages)| Keyword {
                meaning: *meaning,
                languages,
            })
    }

    pub fn topic(&self, word: &str) -> Option<&Topic> {
        self.topic_words.get(&fold(word)).map(|&i| &self.topics[i])
    }

    /// The topic named by the first word of `text` (JOIN ROADS, SALIR AGUA).
    pub fn topic_in(&self, text: &str) -> Option<&Topic> {
        text.split_whitespace()
            .next()
            .and_then(|word| self.topic(word))
    }

    pub fn topic_by_code(&self, code: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.code == code)
    }

    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn category(&self, index: usize) -> &Category {
        &self.categories[index]
    }

    pub fn category_by_code(&self, service_code: &str) -> Option<&Category> {
        self.categories
            .iter()
            .find(|c| c.service_code == service_code)
    }

    /// The languages the catalog has words in.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.iter().map(String::as_str)
    }

    /// True when `text` seems to say where: a number (house, street, kilometre), `&` or `@`
    /// between streets, or a word such as "St", "calle" or "rue".
    pub fn mentions_a_place(&self, text: &str) -> bool {
        text.chars()
            .any(|c| c.is_ascii_digit() || c == '&' || c == '@')
            || text
                .split_whitespace()
                .any(|w| self.location_hints.contains(&fold(w)))
    }
}

fn one_word(word: &str) -> Result<String, CatalogError> {
    let key = fold(word);
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(CatalogError::NotOneWord(word.to_owned()));
    }
    Ok(key)
}

/// Folds a word for matching: accents off (NFD, combining marks dropped), upper case, the
/// punctuation people put around it trimmed (`Stop.`, `#POTHOLE`, `"help"`); inner hyphens stay.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meaning(catalog: &Catalog, word: &str) -> Option<Meaning> {
        catalog.lookup(word).map(|k| k.meaning)
    }

    #[test]
    fn builtin_catalog_has_the_required_categories_with_service_codes() {
        let catalog = Catalog::builtin();
        for word in ["POTHOLE", "LIGHT", "TRASH", "GRAFFITI", "WATER", "NOISE"] {
            let Some(Meaning::Category(i)) = meaning(&catalog, word) else {
                panic!("{word} is not a category");
            };
            assert!(!catalog.category(i).service_code.is_empty());
        }
        assert_eq!(catalog.languages().collect::<Vec<_>>(), ["en", "es", "fr"]);
    }

    #[test]
    fn lookup_ignores_case_accents_and_surrounding_punctuation_but_not_word_boundaries() {
        let catalog = Catalog::builtin();
        let stop = Some(Meaning::Command(CommandWord::OptOut));
        assert_eq!(meaning(&catalog, "stop"), stop);
        assert_eq!(meaning(&catalog, "Stop."), stop);
        assert_eq!(meaning(&catalog, "Arrêt"), stop);
        assert_eq!(meaning(&catalog, "STOPPED"), None);
        assert_eq!(meaning(&catalog, "LIGHTNING"), None);
        let pothole = meaning(&catalog, "POTHOLE");
        for typed in ["Báche", "bache", "BACHE", "nid-de-poule", "Nid-De-Poule!"] {
            assert_eq!(meaning(&catalog, typed), pothole, "{typed}");
        }
    }

    #[test]
    fn the_keyword_sets_the_language_unless_the_citizen_shares_it() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.lookup("BACHE").unwrap().language_for("en"), "es");
        assert_eq!(catalog.lookup("ordures").unwrap().language_for("en"), "fr");
        assert_eq!(catalog.lookup("GRAFFITI").unwrap().language_for("fr"), "fr");
        assert_eq!(catalog.lookup("GRAFFITI").unwrap().language_for("es"), "en");
    }

    #[test]
    fn a_word_with_two_meanings_is_refused() {
        let text = BUILTIN.replace(
            r#"keywords = { en = ["NOISE", "LOUD"]"#,
            r#"keywords = { en = ["NOISE", "STOP"]"#,
        );
        assert!(
            matches!(Catalog::from_toml(&text), Err(CatalogError::Duplicate(w)) if w == "STOP")
        );
    }

    #[test]
    fn an_operator_can_add_a_category_without_code() {
        let text = format!(
            "{BUILTIN}\n[[category]]\nservice_code = \"tree\"\nname = \"Fallen tree\"\n\
             description = \"A tree down.\"\ngroup = \"Parks\"\nkeywords = {{ en = [\"TREE\"], es = [\"ARBOL\"] }}\n"
        );
        let catalog = Catalog::from_toml(&text).unwrap();
        let Some(Meaning::Category(i)) = meaning(&catalog, "árbol") else {
            panic!("ARBOL is not a category");
        };
        assert_eq!(catalog.category(i).name_in("es"), "Fallen tree");
    }

    #[test]
    fn topics_are_their_own_namespace() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.topic("tráfico").unwrap().code, "roads");
        assert_eq!(catalog.topic("WATER").unwrap().code, "water");
        assert!(matches!(
            meaning(&catalog, "WATER"),
            Some(Meaning::Category(_))
        ));
    }

    #[test]
    fn a_place_is_a_number_a_street_word_or_an_ampersand() {
        let catalog = Catalog::builtin();
        assert!(catalog.mentions_a_place("deep hole on Main St"));
        assert!(catalog.mentions_a_place("Main & Elm"));
        assert!(catalog.mentions_a_place("en la calle Colón"));
        assert!(catalog.mentions_a_place("rue de la Paix"));
        assert!(catalog.mentions_a_place("outside house 12"));
        assert!(!catalog.mentions_a_place("a very deep one"));
        assert!(!catalog.mentions_a_place(""));
    }
}
