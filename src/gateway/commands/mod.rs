//! What a citizen's text means, and what it does. `Command::parse` reads a message against the
//! keyword catalog with the precedence of DESIGN.md section 5; `Command::apply` changes the store
//! inside the gateway's transaction and says what to reply. One file per command, each with its
//! own parse, apply and tests. A message that is no command is a command too (`FreeText`):
//! nothing a citizen sends is dropped.

pub mod answer;
#[cfg(test)]
mod desk;
mod free_text;
mod help;
mod join;
mod lang;
mod leave;
mod opt_in;
mod opt_out;
mod poll;
mod report;
mod status;

pub use answer::Answer;
pub use free_text::FreeText;
pub use help::{Help, help_keywords};
pub use join::Join;
pub use lang::Lang;
pub use leave::Leave;
pub use opt_in::OptIn;
pub use opt_out::OptOut;
pub use poll::{OpenPoll, PollAnswer};
pub use report::Report;
pub use status::Status;

use super::catalog::{Catalog, CommandWord, Meaning, fold};
use super::replies::{Replies, ReplyKey};
use super::routing::Routing;
use crate::places::{Located, Places};
use crate::store::citizens::{Citizen, Pending};
use crate::store::issues::Routed;
use crate::store::{self, LaneTx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    OptOut(OptOut),
    OptIn(OptIn),
    Help(Help),
    Status(Status),
    Lang(Lang),
    Join(Join),
    Leave(Leave),
    /// The answer to the question we asked (where is it? is it fixed?).
    Answer(Answer),
    /// The answer to a poll the city asked.
    PollAnswer(PollAnswer),
    Report(Report),
    FreeText(FreeText),
}

/// A parsed message: the command, and what else the words told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub command: Command,
    /// The language of the keyword used, when it should become the citizen's.
    pub language: Option<String>,
    /// Starts like an opt-out but says more ("STOP the noise"): officials should look.
    pub possible_opt_out: bool,
}

/// Everything a command may read or change while it is applied.
pub struct Context<'a> {
    pub tx: &'a mut LaneTx,
    pub citizen: &'a Citizen,
    /// The language to answer in (the citizen's, or the one this message switched to).
    pub language: String,
    /// Set by LANG: `language` was chosen, and no keyword's language overrides it from now on.
    pub language_chosen: bool,
    /// The inbound message being handled.
    pub message_id: i64,
    pub now: i64,
    pub catalog: &'a Catalog,
    pub replies: &'a Replies,
    /// The city's places, where a report's words are looked up.
    pub places: &'a Places,
    /// Who takes a report, by when.
    pub routing: &'a Routing,
    /// Free text within this window after a report is a follow-up on it.
    pub followup_window_ms: i64,
    /// How long a question waits for its answer.
    pub question_timeout_ms: i64,
    /// A report joins an open one of the same problem filed within this window ("me too");
    /// 0: never.
    pub merge_window_ms: i64,
    /// Two reports with points this close (metres) are one place.
    pub merge_distance_m: f64,
}

/// Where a report is and who takes it.
#[derive(Debug, Default)]
pub struct Route {
    pub located: Located,
    pub department: Option<String>,
    /// The department's default assignee.
    pub assignee: Option<i64>,
}

impl Route {
    pub fn routed(&self) -> Routed<'_> {
        Routed {
            area: self.located.area.as_deref(),
            address: self.located.address.as_deref(),
            point: self.located.point,
            department: self.department.as_deref(),
            assignee: self.assignee,
        }
    }

    /// The words named a place we know.
    pub fn found_a_place(&self) -> bool {
        self.located.address.is_some() || self.located.area.is_some()
    }
}

impl Context<'_> {
    /// Where `text` puts a report of `service_code`, and the department that takes it.
    pub fn route(&self, service_code: Option<&str>, text: &str) -> Route {
        let located = self.places.locate(text);
        let department = self
            .routing
            .department_for(service_code, located.area.as_deref());
        Route {
            department: department.map(|d| d.name.clone()),
            assignee: department.and_then(|d| d.assignee),
            located,
        }
    }

    pub fn reply(&self, key: ReplyKey, args: &[(&str, &str)]) -> Option<String> {
        Some(self.replies.render(&self.language, key, args))
    }

    /// The display name of a service code, or "Report" for an uncategorized issue.
    pub fn category_name(&self, service_code: Option<&str>) -> String {
        service_code
            .and_then(|code| self.catalog.category_by_code(code))
            .map(|c| c.name_in(&self.language).to_owned())
            .unwrap_or_else(|| {
                self.replies
                    .render(&self.language, ReplyKey::Uncategorized, &[])
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
    /// Reads a message with the precedence of DESIGN.md section 5: consent and help words (whole
    /// message only), global commands, the answer to a pending question, category keywords,
    /// the answer to an open poll, free text. A poll never swallows a command or a report; a
    /// consent word that names a poll's option ("YES" when option 1 is "Yes") answers it.
    pub fn parse(
        text: &str,
        catalog: &Catalog,
        pending: Option<&Pending>,
        poll: Option<OpenPoll<'_>>,
        language: &str,
    ) -> Parsed {
        let text = text.trim();
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or("");
        let is_whole_message = words.next().is_none();
        let rest = text[first.len()..].trim_start();
        let keyword = catalog.lookup(first);
        let meaning = keyword.map(|k| k.meaning);
        let parsed = |command| Parsed {
            command,
            language: keyword.map(|k| k.language_for(language).to_owned()),
            possible_opt_out: false,
        };

        let opt_in = meaning == Some(Meaning::Command(CommandWord::OptIn)) && is_whole_message;
        if let Some(answer) = poll
            .filter(|_| opt_in)
            .and_then(|p| PollAnswer::parse_option(p, text))
        {
            return Parsed {
                command: Command::PollAnswer(answer),
                language: None,
                possible_opt_out: false,
            };
        }
        let global = match meaning {
            Some(Meaning::Command(CommandWord::OptOut)) if is_whole_message => {
                Some(Command::OptOut(OptOut::new(fold(first))))
            }
            Some(Meaning::Command(CommandWord::OptIn)) if is_whole_message => {
                Some(Command::OptIn(OptIn::new(fold(first))))
            }
            Some(Meaning::Command(CommandWord::Help)) if is_whole_message => {
                Some(Command::Help(Help))
            }
            Some(Meaning::Command(CommandWord::Status)) => {
                Some(Command::Status(Status::parse(rest)))
            }
            Some(Meaning::Command(CommandWord::Lang)) => Some(Command::Lang(Lang::parse(rest))),
            Some(Meaning::Command(CommandWord::Join)) => {
                Some(Command::Join(Join::parse(rest, catalog)))
            }
            Some(Meaning::Command(CommandWord::Leave)) => {
                Some(Command::Leave(Leave::parse(rest, catalog)))
            }
            _ => None,
        };
        if let Some(command) = global {
            return parsed(command);
        }
        let skip = meaning == Some(Meaning::Command(CommandWord::Skip)) && is_whole_message;
        if let Some(answer) = pending.and_then(|p| Answer::parse(p, text, skip)) {
            let language = skip
                .then(|| keyword.map(|k| k.language_for(language).to_owned()))
                .flatten();
            return Parsed {
                command: Command::Answer(answer),
                language,
                possible_opt_out: false,
            };
        }
        match meaning {
            Some(Meaning::Command(CommandWord::Report)) => {
                parsed(Command::Report(Report::new(None, rest)))
            }
            Some(Meaning::Category(index)) => {
                let code = catalog.category(index).service_code.clone();
                parsed(Command::Report(Report::new(Some(code), rest)))
            }
            other => Parsed {
                command: match poll.and_then(|p| PollAnswer::parse(p, text)) {
                    Some(answer) => Command::PollAnswer(answer),
                    None => Command::FreeText(FreeText::new(text)),
                },
                language: None,
                possible_opt_out: other == Some(Meaning::Command(CommandWord::OptOut)),
            },
        }
    }

    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        match self {
            Command::OptOut(c) => c.apply(ctx).await,
            Command::OptIn(c) => c.apply(ctx).await,
            Command::Help(c) => c.apply(ctx).await,
            Command::Status(c) => c.apply(ctx).await,
            Command::Lang(c) => c.apply(ctx).await,
            Command::Join(c) => c.apply(ctx).await,
            Command::Leave(c) => c.apply(ctx).await,
            Command::Answer(c) => c.apply(ctx).await,
            Command::PollAnswer(c) => c.apply(ctx).await,
            Command::Report(c) => c.apply(ctx).await,
            Command::FreeText(c) => c.apply(ctx).await,
        }
    }

    /// True when applying it always files a new issue, so a round of the writer lane can take
    /// the issue's number ahead, with the others' (`store::issues::reserve_numbers`). Free text
    /// files one only when its number has no open report to add to, and then inserts at once.
    pub fn files_an_issue(&self) -> bool {
        matches!(self, Command::Report(_))
    }

    /// The name used in logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::OptOut(_) => "opt_out",
            Command::OptIn(_) => "opt_in",
            Command::Help(_) => "help",
            Command::Status(_) => "status",
            Command::Lang(_) => "lang",
            Command::Join(_) => "join",
            Command::Leave(_) => "leave",
            Command::Answer(_) => "answer",
            Command::PollAnswer(_) => "poll_answer",
            Command::Report(_) => "report",
            Command::FreeText(_) => "free_text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Command {
        Command::parse(text, &Catalog::builtin(), None, None, "en").command
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
            "PARAR",
            "ARRET",
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
        for word in ["START", "YES", "UNSTOP", "start", "ALTA"] {
            assert!(matches!(parse(word), Command::OptIn(_)), "{word}");
        }
        assert_eq!(parse("HELP"), Command::Help(Help));
        assert_eq!(parse("info!"), Command::Help(Help));
        assert_eq!(parse("Ayuda"), Command::Help(Help));
    }

    #[test]
    fn a_longer_message_starting_with_stop_is_flagged_not_obeyed() {
        let parsed = Command::parse(
            "STOP the construction noise",
            &Catalog::builtin(),
            None,
            None,
            "en",
        );
        assert!(matches!(parsed.command, Command::FreeText(_)));
        assert!(parsed.possible_opt_out);
        assert!(
            !Command::parse("STOPPED the bus", &Catalog::builtin(), None, None, "en")
                .possible_opt_out
        );
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
    fn the_keyword_used_gives_the_language() {
        let catalog = Catalog::builtin();
        let parsed = Command::parse("Báche en la calle Colón 12", &catalog, None, None, "en");
        assert_eq!(parsed.language.as_deref(), Some("es"));
        assert!(matches!(parsed.command, Command::Report(_)));
        assert_eq!(
            Command::parse("some free text", &catalog, None, None, "fr").language,
            None
        );
    }

    #[test]
    fn a_pending_question_takes_the_next_message_but_not_stop_help_status_or_lang() {
        let catalog = Catalog::builtin();
        let pending = Pending {
            question: "location".into(),
            issue_id: 7,
        };
        let next = |text: &str| Command::parse(text, &catalog, Some(&pending), None, "en").command;
        assert!(matches!(next("Main St and 5th"), Command::Answer(_)));
        assert!(matches!(next("SKIP"), Command::Answer(_)));
        assert!(matches!(next("STOP"), Command::OptOut(_)));
        assert!(matches!(next("HELP"), Command::Help(_)));
        assert!(matches!(next("STATUS 7"), Command::Status(_)));
        assert!(matches!(next("LANG es"), Command::Lang(_)));
    }

    #[test]
    fn an_open_poll_takes_what_no_command_or_report_claims() {
        let catalog = Catalog::builtin();
        let choices =
            crate::gateway::poll_answers::Choices::new([["Yes", "Sí", "Oui"], ["No", "No", "Non"]]);
        let poll = OpenPoll {
            poll_id: 4,
            choices: &choices,
        };
        let next = |text: &str| Command::parse(text, &catalog, None, Some(poll), "en").command;
        let answer = |choice, text: &str| {
            Command::PollAnswer(PollAnswer {
                poll_id: 4,
                choice,
                text: text.to_owned(),
            })
        };
        assert_eq!(next("1"), answer(Some(0), "1"));
        assert_eq!(next(" Oui "), answer(Some(0), "Oui"));
        assert_eq!(
            next("YES"),
            answer(Some(0), "YES"),
            "an option, not an opt-in"
        );
        assert_eq!(next("no"), answer(Some(1), "no"));
        assert_eq!(next("maybe in summer"), answer(None, "maybe in summer"));
        assert!(matches!(next("STOP"), Command::OptOut(_)));
        assert!(matches!(next("START"), Command::OptIn(_)));
        assert!(matches!(next("HELP"), Command::Help(_)));
        assert!(matches!(next("STATUS 7"), Command::Status(_)));
        assert!(matches!(next("JOIN ROADS"), Command::Join(_)));
        assert!(
            matches!(next("POTHOLE Main St"), Command::Report(_)),
            "a report is never swallowed by a poll"
        );
        assert!(matches!(next(""), Command::FreeText(_)));
        let pending = Pending {
            question: "fixed".into(),
            issue_id: 7,
        };
        assert!(
            matches!(
                Command::parse("1", &catalog, Some(&pending), Some(poll), "en").command,
                Command::Answer(_)
            ),
            "the question about the citizen's own report comes first"
        );
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
        assert_eq!(parse("ESTADO 1042"), Command::Status(Status::parse("1042")));
    }
}
