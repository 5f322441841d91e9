//! What a citizen's text means, and what it does. `Command::parse` reads a message against the
//! keyword catalog with the precedence of DESIGN.md section 5; `Command::apply` changes the store
//! inside the gateway's transaction and says what to reply. One file per command, each with its
//! own parse, apply and tests. A message that is no command is a command too (`FreeText`):
//! nothing a citizen sends is dropped.

mod free_text;
mod help;
mod opt_in;
mod opt_out;
mod report;
mod status;

pub use free_text::FreeText;
pub use help::Help;
pub use opt_in::OptIn;
pub use opt_out::OptOut;
pub use report::Report;
pub use status::Status;

use super::catalog::{Catalog, CommandWord, Meaning, normalize_word};
use super::replies::{Replies, ReplyKey};
use crate::store::citizens::Citizen;
use crate::store::{self, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    OptOut(OptOut),
    OptIn(OptIn),
    Help(Help),
    Status(Status),
    Report(Report),
    FreeText(FreeText),
}

/// Everything a command may read or change while it is applied.
pub struct Context<'a> {
    pub tx: &'a mut Tx,
    pub citizen: &'a Citizen,
    /// The inbound message being handled.
    pub message_id: i64,
    pub now: i64,
    pub catalog: &'a Catalog,
    pub replies: &'a Replies,
    /// Free text within this window after a report is a follow-up on it.
    pub followup_window_ms: i64,
}

impl Context<'_> {
    pub fn reply(&self, key: ReplyKey, args: &[(&str, &str)]) -> Option<String> {
        Some(self.replies.render(&self.citizen.language, key, args))
    }

    /// The display name of a service code, or "Report" for an uncategorized issue.
    pub fn category_name(&self, service_code: Option<&str>) -> String {
        service_code
            .and_then(|code| self.catalog.category_by_code(code))
            .map(|c| c.name.clone())
            .unwrap_or_else(|| {
                self.replies
                    .render(&self.citizen.language, ReplyKey::Uncategorized, &[])
            })
    }
}

/// What applying a command produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The text to send back, if any.
    pub reply: Option<String>,
    /// The issue the inbound message belongs to, if any.
    pub issue_id: Option<i64>,
    /// The reply confirms an opt-out: it is the one message sent although the citizen is now
    /// opted out.
    pub consent: bool,
}

impl Command {
    pub fn parse(text: &str, catalog: &Catalog) -> Command {
        let text = text.trim();
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or("");
        let is_whole_message = words.next().is_none();
        let rest = text[first.len()..].trim_start();

        match catalog.lookup(first).map(|k| k.meaning) {
            // Consent and help words count only as the whole message, as carriers do.
            Some(Meaning::Command(CommandWord::OptOut)) if is_whole_message => {
                Command::OptOut(OptOut::new(normalize_word(first)))
            }
            Some(Meaning::Command(CommandWord::OptIn)) if is_whole_message => {
                Command::OptIn(OptIn::new(normalize_word(first)))
            }
            Some(Meaning::Command(CommandWord::Help)) if is_whole_message => Command::Help(Help),
            Some(Meaning::Command(CommandWord::Status)) => Command::Status(Status::parse(rest)),
            Some(Meaning::Command(CommandWord::Report)) => Command::Report(Report::new(None, rest)),
            Some(Meaning::Category(index)) => {
                let code = catalog.category(index).service_code.clone();
                Command::Report(Report::new(Some(code), rest))
            }
            _ => Command::FreeText(FreeText::new(text)),
        }
    }

    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        match self {
            Command::OptOut(c) => c.apply(ctx).await,
            Command::OptIn(c) => c.apply(ctx).await,
            Command::Help(c) => c.apply(ctx).await,
            Command::Status(c) => c.apply(ctx).await,
            Command::Report(c) => c.apply(ctx).await,
            Command::FreeText(c) => c.apply(ctx).await,
        }
    }

    /// The name used in logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::OptOut(_) => "opt_out",
            Command::OptIn(_) => "opt_in",
            Command::Help(_) => "help",
            Command::Status(_) => "status",
            Command::Report(_) => "report",
            Command::FreeText(_) => "free_text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Command {
        Command::parse(text, &Catalog::builtin())
    }

    #[test]
    fn category_keyword_files_a_report_with_the_rest_as_description() {
        assert_eq!(
            parse("POTHOLE deep hole on Main St at 5th"),
            Command::Report(Report::new(
                Some("pothole".into()),
                "deep hole on Main St at 5th"
            ))
        );
        assert_eq!(
            parse("  light: out on Elm "),
            Command::Report(Report::new(Some("streetlight".into()), "out on Elm"))
        );
    }

    #[test]
    fn every_carrier_opt_out_word_opts_out_only_as_the_whole_message() {
        for word in [
            "STOP",
            "STOPALL",
            "UNSUBSCRIBE",
            "CANCEL",
            "END",
            "QUIT",
            "REVOKE",
            "OPTOUT",
        ] {
            assert!(matches!(parse(word), Command::OptOut(_)), "{word}");
            assert!(
                matches!(parse(&word.to_lowercase()), Command::OptOut(_)),
                "{word}"
            );
            assert!(
                matches!(parse(&format!("{word}.")), Command::OptOut(_)),
                "{word}."
            );
            assert!(
                matches!(parse(&format!("{word} please")), Command::FreeText(_)),
                "{word} please"
            );
        }
        for word in ["START", "YES", "UNSTOP", "start"] {
            assert!(matches!(parse(word), Command::OptIn(_)), "{word}");
        }
        assert_eq!(parse("HELP"), Command::Help(Help));
        assert_eq!(parse("info!"), Command::Help(Help));
    }

    #[test]
    fn words_that_merely_start_with_a_keyword_are_free_text() {
        for text in [
            "STOPPED the bus",
            "LIGHTNING hit a tree",
            "Stopping by",
            "HELPFUL staff",
        ] {
            assert!(matches!(parse(text), Command::FreeText(_)), "{text}");
        }
    }

    #[test]
    fn sql_and_markup_are_just_free_text() {
        let text = "'; DROP TABLE issue; -- <script>alert(1)</script>";
        assert_eq!(parse(text), Command::FreeText(FreeText::new(text)));
    }

    #[test]
    fn report_without_category_and_status_with_number() {
        assert_eq!(
            parse("REPORT broken bench"),
            Command::Report(Report::new(None, "broken bench"))
        );
        assert_eq!(parse("status 1042"), Command::Status(Status::parse("1042")));
    }
}
