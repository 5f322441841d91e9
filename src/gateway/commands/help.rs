//! HELP, AYUDA, AIDE: what this number is, with the category words in the citizen's language.

use super::{Context, Outcome};
use crate::gateway::catalog::Catalog;
use crate::gateway::replies::{Replies, ReplyKey};
use crate::sms::Segments;
use crate::store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help;

impl Help {
    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        let keywords = help_keywords(ctx.catalog, ctx.replies, &ctx.language);
        Ok(Outcome {
            reply: ctx.reply(ReplyKey::Help, &[("keywords", &keywords)]),
            ..Outcome::default()
        })
    }
}

/// The category words in `language`, as many as fit with the help text in one SMS segment (an
/// operator may add more categories than one message can list).
pub fn help_keywords(catalog: &Catalog, replies: &Replies, language: &str) -> String {
    let mut words: Vec<&str> = catalog
        .categories()
        .iter()
        .filter_map(|c| c.keyword_in(language))
        .collect();
    loop {
        let list = words.join(", ");
        let text = replies.render(language, ReplyKey::Help, &[("keywords", &list)]);
        if words.is_empty() || Segments::of(&text).count == 1 {
            return list;
        }
        words.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::super::desk::Desk;

    #[tokio::test]
    async fn help_lists_the_words_in_the_keywords_language_and_stores_nothing_else() {
        let desk = Desk::new().await;
        let en = desk.reply("+14155550101", "HELP").await;
        assert!(en.contains("POTHOLE") && en.contains("STOP"), "{en}");
        let es = desk.reply("+14155550102", "AYUDA").await;
        assert!(es.contains("BACHE") && es.contains("PARAR"), "{es}");
        assert_eq!(desk.scalar("select count(*) from issue").await, 0);
    }
}
