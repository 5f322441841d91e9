//! The keyword parser on any text, with and without a pending question, in every language:
//! it never panics, and a whole-message STOP word always means opt-out, whatever is pending.
#![no_main]

use civicline::gateway::catalog::Catalog;
use civicline::gateway::commands::Command;
use civicline::store::citizens::Pending;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::builtin)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let catalog = catalog();
    for question in [None, Some("location"), Some("fixed")] {
        let pending = question.map(|q| Pending {
            question: q.to_owned(),
            issue_id: 7,
        });
        for language in ["en", "es", "fr", "xx"] {
            let parsed = Command::parse(text, catalog, pending.as_ref(), language);
            let _ = parsed.command.name();
            let words: Vec<&str> = text.split_whitespace().collect();
            if let [word] = words[..]
                && matches!(civicline::gateway::catalog::fold(word).as_str(), "STOP" | "PARAR" | "ARRET")
            {
                assert!(
                    matches!(parsed.command, Command::OptOut(_)),
                    "{text:?} with {question:?} in {language} is {}",
                    parsed.command.name()
                );
            }
        }
    }
});
