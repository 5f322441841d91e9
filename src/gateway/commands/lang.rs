//! LANG es, IDIOMA fr, LANGUE en: the language of replies, from now on.

use super::{Context, Outcome};
use crate::gateway::catalog::fold;
use crate::gateway::replies::ReplyKey;
use crate::store;

/// What people type after LANG, and the language it means.
const NAMES: &[(&str, &str)] = &[
    ("EN", "en"),
    ("ENGLISH", "en"),
    ("INGLES", "en"),
    ("ANGLAIS", "en"),
    ("ES", "es"),
    ("ESPANOL", "es"),
    ("SPANISH", "es"),
    ("ESPAGNOL", "es"),
    ("CASTELLANO", "es"),
    ("FR", "fr"),
    ("FRANCAIS", "fr"),
    ("FRENCH", "fr"),
    ("FRANCES", "fr"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lang {
    /// The language code asked for, or the word as typed when it is not one we know.
    wanted: Option<String>,
}

impl Lang {
    pub fn parse(rest: &str) -> Lang {
        let wanted = rest.split_whitespace().next().map(|word| {
            let folded = fold(word);
            NAMES
                .iter()
                .find(|(name, _)| *name == folded)
                .map_or_else(|| folded.to_lowercase(), |(_, code)| (*code).to_owned())
        });
        Lang { wanted }
    }

    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        match self.wanted.filter(|code| ctx.replies.has_language(code)) {
            Some(code) => {
                // The gateway stores the language the context ends with.
                ctx.language = code;
                ctx.language_chosen = true;
                Ok(Outcome {
                    reply: ctx.reply(ReplyKey::LangSet, &[]),
                    ..Outcome::default()
                })
            }
            None => {
                let languages = ctx.replies.languages().join(", ").to_uppercase();
                Ok(Outcome {
                    reply: ctx.reply(ReplyKey::LangUnknown, &[("languages", &languages)]),
                    ..Outcome::default()
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_in_any_of_the_languages() {
        for (typed, code) in [
            ("es", "es"),
            ("Español", "es"),
            ("FRANÇAIS", "fr"),
            ("english", "en"),
            ("de", "de"),
        ] {
            assert_eq!(Lang::parse(typed).wanted.as_deref(), Some(code), "{typed}");
        }
        assert_eq!(Lang::parse("").wanted, None);
    }

    use super::super::desk::Desk;

    #[tokio::test]
    async fn lang_answers_in_the_chosen_language_and_remembers_the_choice() {
        let desk = Desk::new().await;
        let set = desk.reply("+14155550101", "LANG ES").await;
        assert!(set.contains("español"), "{set}");
        let chosen = "select count(*) from citizen where language = 'es' \
             and language_chosen_at is not null";
        assert_eq!(desk.scalar(chosen).await, 1);
        let unknown = desk.reply("+14155550102", "LANG KLINGON").await;
        assert!(unknown.contains("EN, ES, FR"), "{unknown}");
        let unchosen = "select count(*) from citizen where language_chosen_at is null";
        assert_eq!(
            desk.scalar(unchosen).await,
            1,
            "an unknown language chooses nothing"
        );
    }
}
