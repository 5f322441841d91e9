//! The keyword catalog (`config/keywords.toml`): which words are commands, which are categories
//! (Open311 services), in which language. Loaded once at start and shared read-only.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// The built-in catalog, used when no `gateway.keywords` file is configured.
pub const BUILTIN: &str = include_str!("../../config/keywords.toml");

/// A global command a word can stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandWord {
    OptOut,
    OptIn,
    Help,
    Status,
    Report,
}

/// An Open311 service that citizens report by keyword.
#[derive(Debug, Clone, Deserialize)]
pub struct Category {
    pub service_code: String,
    pub name: String,
    pub description: String,
    pub group: String,
    /// Keywords per language code.
    pub keywords: BTreeMap<String, Vec<String>>,
}

/// What a word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    Command(CommandWord),
    /// An index into [`Catalog::categories`].
    Category(usize),
}

/// A word found in the catalog, with the language it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword<'a> {
    pub meaning: Meaning,
    pub language: &'a str,
}

#[derive(Debug)]
pub struct Catalog {
    categories: Vec<Category>,
    /// Upper-cased word -> (meaning, language).
    words: HashMap<String, (Meaning, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("keyword catalog is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("keyword {0:?} appears twice in the catalog")]
    Duplicate(String),
    #[error("service_code {0:?} appears twice in the catalog")]
    DuplicateServiceCode(String),
    #[error("keyword {0:?} is not one word")]
    NotOneWord(String),
}

#[derive(Deserialize)]
struct File {
    commands: Commands,
    #[serde(default, rename = "category")]
    categories: Vec<Category>,
}

#[derive(Deserialize)]
struct Commands {
    opt_out: BTreeMap<String, Vec<String>>,
    opt_in: BTreeMap<String, Vec<String>>,
    help: BTreeMap<String, Vec<String>>,
    status: BTreeMap<String, Vec<String>>,
    report: BTreeMap<String, Vec<String>>,
}

impl Catalog {
    pub fn builtin() -> Catalog {
        Catalog::from_toml(BUILTIN).expect("the built-in keyword catalog is valid")
    }

    pub fn from_toml(text: &str) -> Result<Catalog, CatalogError> {
        let file: File = toml::from_str(text)?;
        let mut catalog = Catalog {
            categories: Vec::new(),
            words: HashMap::new(),
        };
        let commands = [
            (CommandWord::OptOut, &file.commands.opt_out),
            (CommandWord::OptIn, &file.commands.opt_in),
            (CommandWord::Help, &file.commands.help),
            (CommandWord::Status, &file.commands.status),
            (CommandWord::Report, &file.commands.report),
        ];
        for (command, by_language) in commands {
            catalog.add_words(Meaning::Command(command), by_language)?;
        }
        for (index, category) in file.categories.iter().enumerate() {
            if file.categories[..index]
                .iter()
                .any(|c| c.service_code == category.service_code)
            {
                return Err(CatalogError::DuplicateServiceCode(
                    category.service_code.clone(),
                ));
            }
            catalog.add_words(Meaning::Category(index), &category.keywords)?;
        }
        catalog.categories = file.categories;
        Ok(catalog)
    }

    fn add_words(
        &mut self,
        meaning: Meaning,
        by_language: &BTreeMap<String, Vec<String>>,
    ) -> Result<(), CatalogError> {
        for (language, words) in by_language {
            for word in words {
                let key = normalize_word(word);
                if key.is_empty() || key.contains(char::is_whitespace) {
                    return Err(CatalogError::NotOneWord(word.clone()));
                }
                if self
                    .words
                    .insert(key, (meaning, language.clone()))
                    .is_some()
                {
                    return Err(CatalogError::Duplicate(word.clone()));
                }
            }
        }
        Ok(())
    }

    /// What `word` means, if anything. `word` is one word as the citizen typed it.
    pub fn lookup(&self, word: &str) -> Option<Keyword<'_>> {
        self.words
            .get(&normalize_word(word))
            .map(|(meaning, language)| Keyword {
                meaning: *meaning,
                language,
            })
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
}

/// Upper-cases a word and trims the punctuation people put around it (`Stop.`, `#POTHOLE`,
/// `"help"`), keeping inner hyphens and apostrophes.
pub fn normalize_word(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_has_the_required_categories_with_service_codes() {
        let catalog = Catalog::builtin();
        for word in ["POTHOLE", "LIGHT", "TRASH", "GRAFFITI", "WATER", "NOISE"] {
            let Some(Keyword {
                meaning: Meaning::Category(i),
                ..
            }) = catalog.lookup(word)
            else {
                panic!("{word} is not a category");
            };
            assert!(!catalog.category(i).service_code.is_empty());
        }
    }

    #[test]
    fn lookup_ignores_case_and_surrounding_punctuation_but_not_word_boundaries() {
        let catalog = Catalog::builtin();
        let stop = Some(Meaning::Command(CommandWord::OptOut));
        assert_eq!(catalog.lookup("stop").map(|k| k.meaning), stop);
        assert_eq!(catalog.lookup("Stop.").map(|k| k.meaning), stop);
        assert_eq!(catalog.lookup("STOPPED"), None);
        assert_eq!(catalog.lookup("LIGHTNING"), None);
    }

    #[test]
    fn a_word_used_twice_is_refused() {
        let text = BUILTIN.replace(
            r#"keywords = { en = ["NOISE", "LOUD"] }"#,
            r#"keywords = { en = ["NOISE", "STOP"] }"#,
        );
        assert!(
            matches!(Catalog::from_toml(&text), Err(CatalogError::Duplicate(w)) if w == "STOP")
        );
    }

    #[test]
    fn an_operator_can_add_a_category_without_code() {
        let text = format!(
            "{BUILTIN}\n[[category]]\nservice_code = \"tree\"\nname = \"Fallen tree\"\n\
             description = \"A tree down.\"\ngroup = \"Parks\"\nkeywords = {{ en = [\"TREE\"] }}\n"
        );
        let catalog = Catalog::from_toml(&text).unwrap();
        let Some(Keyword {
            meaning: Meaning::Category(i),
            ..
        }) = catalog.lookup("tree")
        else {
            panic!("TREE is not a category");
        };
        assert_eq!(catalog.category(i).name, "Fallen tree");
    }
}
