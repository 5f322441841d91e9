//! Citizen-facing sentences, from `config/locales/*.ftl` (Project Fluent), by language.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use std::borrow::Cow;
use std::collections::HashMap;

/// The shipped locales, compiled into the binary so one file is the whole deployment.
const LOCALES: &[(&str, &str)] = &[
    ("en", include_str!("../../config/locales/en.ftl")),
    ("es", include_str!("../../config/locales/es.ftl")),
    ("fr", include_str!("../../config/locales/fr.ftl")),
];
const FALLBACK: &str = "en";

/// Every reply the gateway can send: a test renders each one in each locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKey {
    ReportLogged,
    ReportLoggedUncategorized,
    ReportAskLocation,
    /// The report names a place no loaded area holds: which neighbourhood?
    ReportAskArea,
    LocationSaved,
    LocationSkipped,
    FollowupAdded,
    /// "Me too": the report joined an open one of the same problem.
    ReportJoined,
    StatusReport,
    /// STATUS of an open report with a promise: the due date instead of the invitation.
    StatusReportDue,
    StatusNotFound,
    StatusNone,
    Help,
    EmptyMessage,
    OptedOut,
    OptedIn,
    LangSet,
    LangUnknown,
    Joined,
    Left,
    TopicUnknown,
    StatusNotice,
    ResolvedQuestion,
    FixedConfirmed,
    Reopened,
    /// Not a reply: the word for a report without a category.
    Uncategorized,
    /// USSD screens (`gateway::ussd`).
    UssdMain,
    UssdCategories,
    UssdWhere,
    UssdConfirm,
    UssdFiled,
    UssdTrack,
    UssdLanguages,
    UssdInvalid,
    UssdBack,
    UssdUnavailable,
    /// Polls: the line under a poll's options, and the thanks for an answer that chose an
    /// option or said something else.
    PollInvite,
    PollCounted,
    PollNoted,
}

impl ReplyKey {
    pub const ALL: [ReplyKey; 39] = [
        ReplyKey::ReportLogged,
        ReplyKey::ReportLoggedUncategorized,
        ReplyKey::ReportAskLocation,
        ReplyKey::ReportAskArea,
        ReplyKey::LocationSaved,
        ReplyKey::LocationSkipped,
        ReplyKey::FollowupAdded,
        ReplyKey::ReportJoined,
        ReplyKey::StatusReport,
        ReplyKey::StatusReportDue,
        ReplyKey::StatusNotFound,
        ReplyKey::StatusNone,
        ReplyKey::Help,
        ReplyKey::EmptyMessage,
        ReplyKey::OptedOut,
        ReplyKey::OptedIn,
        ReplyKey::LangSet,
        ReplyKey::LangUnknown,
        ReplyKey::Joined,
        ReplyKey::Left,
        ReplyKey::TopicUnknown,
        ReplyKey::StatusNotice,
        ReplyKey::ResolvedQuestion,
        ReplyKey::FixedConfirmed,
        ReplyKey::Reopened,
        ReplyKey::Uncategorized,
        ReplyKey::UssdMain,
        ReplyKey::UssdCategories,
        ReplyKey::UssdWhere,
        ReplyKey::UssdConfirm,
        ReplyKey::UssdFiled,
        ReplyKey::UssdTrack,
        ReplyKey::UssdLanguages,
        ReplyKey::UssdInvalid,
        ReplyKey::UssdBack,
        ReplyKey::UssdUnavailable,
        ReplyKey::PollInvite,
        ReplyKey::PollCounted,
        ReplyKey::PollNoted,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ReplyKey::ReportLogged => "report-logged",
            ReplyKey::ReportLoggedUncategorized => "report-logged-uncategorized",
            ReplyKey::ReportAskLocation => "report-ask-location",
            ReplyKey::ReportAskArea => "report-ask-area",
            ReplyKey::LocationSaved => "location-saved",
            ReplyKey::LocationSkipped => "location-skipped",
            ReplyKey::FollowupAdded => "followup-added",
            ReplyKey::ReportJoined => "report-joined",
            ReplyKey::StatusReport => "status-report",
            ReplyKey::StatusReportDue => "status-report-due",
            ReplyKey::StatusNotFound => "status-not-found",
            ReplyKey::StatusNone => "status-none",
            ReplyKey::Help => "help",
            ReplyKey::EmptyMessage => "empty-message",
            ReplyKey::OptedOut => "opted-out",
            ReplyKey::OptedIn => "opted-in",
            ReplyKey::LangSet => "lang-set",
            ReplyKey::LangUnknown => "lang-unknown",
            ReplyKey::Joined => "joined",
            ReplyKey::Left => "left",
            ReplyKey::TopicUnknown => "topic-unknown",
            ReplyKey::StatusNotice => "status-notice",
            ReplyKey::ResolvedQuestion => "resolved-question",
            ReplyKey::FixedConfirmed => "fixed-confirmed",
            ReplyKey::Reopened => "reopened",
            ReplyKey::Uncategorized => "uncategorized",
            ReplyKey::UssdMain => "ussd-main",
            ReplyKey::UssdCategories => "ussd-categories",
            ReplyKey::UssdWhere => "ussd-where",
            ReplyKey::UssdConfirm => "ussd-confirm",
            ReplyKey::UssdFiled => "ussd-filed",
            ReplyKey::UssdTrack => "ussd-track",
            ReplyKey::UssdLanguages => "ussd-languages",
            ReplyKey::UssdInvalid => "ussd-invalid",
            ReplyKey::UssdBack => "ussd-back",
            ReplyKey::UssdUnavailable => "ussd-unavailable",
            ReplyKey::PollInvite => "poll-invite",
            ReplyKey::PollCounted => "poll-counted",
            ReplyKey::PollNoted => "poll-noted",
        }
    }
}

pub struct Replies {
    bundles: HashMap<String, FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for Replies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replies")
            .field("languages", &self.languages())
            .finish()
    }
}

impl Replies {
    /// Loads the shipped locales; a syntax error or a missing reply is a bug, caught by tests.
    pub fn builtin() -> Replies {
        let mut bundles = HashMap::new();
        for (language, source) in LOCALES {
            let resource = FluentResource::try_new((*source).to_owned())
                .unwrap_or_else(|(_, errors)| panic!("{language}.ftl does not parse: {errors:?}"));
            let langid = language.parse().expect("locale names are language ids");
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            // Fluent wraps placeables in Unicode isolation marks by default; on SMS they are
            // invisible characters that force UCS-2 and halve the room in a segment.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .unwrap_or_else(|errors| panic!("{language}.ftl: {errors:?}"));
            bundles.insert((*language).to_owned(), bundle);
        }
        Replies { bundles }
    }

    pub fn has_language(&self, language: &str) -> bool {
        self.bundles.contains_key(language)
    }

    /// Whether `language` itself (not the fallback) has the message.
    pub fn has_message(&self, language: &str, key: ReplyKey) -> bool {
        self.bundles
            .get(language)
            .is_some_and(|b| b.has_message(key.id()))
    }

    pub fn languages(&self) -> Vec<&str> {
        let mut languages: Vec<&str> = self.bundles.keys().map(String::as_str).collect();
        languages.sort_unstable();
        languages
    }

    /// Renders one reply in `language`, falling back to English for a language or a message
    /// the locale files do not have.
    pub fn render(&self, language: &str, key: ReplyKey, args: &[(&str, &str)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, Cow::Borrowed(*value));
        }
        for lang in [language, FALLBACK] {
            let Some(bundle) = self.bundles.get(lang) else {
                continue;
            };
            let Some(pattern) = bundle.get_message(key.id()).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
            if !errors.is_empty() {
                tracing::warn!(
                    ?errors,
                    key = key.id(),
                    language = lang,
                    "reply rendered with errors"
                );
            }
            return text.into_owned();
        }
        panic!("reply {} is missing from {FALLBACK}.ftl", key.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::catalog::Catalog;
    use crate::sms::Segments;

    /// The longest values a reply realistically carries in `language`: a six-digit report
    /// number, the longest category and topic names, every status, the help keyword list as the
    /// help command builds it.
    fn longest_args(
        catalog: &Catalog,
        replies: &Replies,
        language: &str,
    ) -> Vec<Vec<(&'static str, String)>> {
        let category = catalog
            .categories()
            .iter()
            .map(|c| c.name_in(language))
            .max_by_key(|n| n.len())
            .unwrap();
        let topic = catalog
            .topics()
            .iter()
            .map(|t| t.name_in(language))
            .max_by_key(|n| n.len())
            .unwrap();
        let topics = catalog
            .topics()
            .iter()
            .map(|t| t.name_in(language).to_uppercase())
            .collect::<Vec<_>>()
            .join(", ");
        let keywords = crate::gateway::commands::help_keywords(catalog, replies, language);
        assert!(
            keywords.split(", ").count() >= 5,
            "{language} help lists too few words: {keywords}"
        );
        [
            "open",
            "acknowledged",
            "in_progress",
            "resolved",
            "closed_duplicate",
            "closed_not_ours",
            "closed_wont_fix",
        ]
        .into_iter()
        .map(|status| {
            vec![
                ("number", "999999".to_owned()),
                ("category", category.to_owned()),
                ("status", status.to_owned()),
                ("topic", topic.to_owned()),
                ("keyword", "CIRCULATION".to_owned()),
                ("topics", topics.clone()),
                ("example", "ROADS".to_owned()),
                ("languages", "EN, ES, FR".to_owned()),
                ("due", "2026-12-31".to_owned()),
                ("place", "Martin Luther King Jr Blvd & 125th St".to_owned()),
                ("keywords", keywords.clone()),
                ("last", "5".to_owned()),
            ]
        })
        .collect()
    }

    #[test]
    fn every_reply_fits_one_segment_in_every_language() {
        let (replies, catalog) = (Replies::builtin(), Catalog::builtin());
        assert_eq!(replies.languages(), ["en", "es", "fr"]);
        for language in replies.languages() {
            for key in ReplyKey::ALL {
                assert!(
                    replies.has_message(language, key),
                    "{language}.ftl lacks {}",
                    key.id()
                );
                for args in longest_args(&catalog, &replies, language) {
                    let args: Vec<(&str, &str)> =
                        args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let text = replies.render(language, key, &args);
                    let cost = Segments::of(&text);
                    assert_eq!(
                        cost.count,
                        1,
                        "{language} {} is {} units ({:?}): {text}",
                        key.id(),
                        cost.units,
                        cost.encoding
                    );
                    assert!(!text.contains('{'), "unfilled placeable in {text}");
                }
            }
        }
    }

    #[test]
    fn renders_the_issue_example_word_for_word() {
        let replies = Replies::builtin();
        let text = replies.render(
            "en",
            ReplyKey::ReportLogged,
            &[("number", "1"), ("category", "Pothole")],
        );
        assert_eq!(
            text,
            "Thanks! Report #1 (Pothole) is logged. Text STATUS 1 for updates."
        );
    }

    #[test]
    fn unknown_language_falls_back_to_english() {
        let replies = Replies::builtin();
        assert_eq!(
            replies.render("xx", ReplyKey::OptedIn, &[]),
            replies.render("en", ReplyKey::OptedIn, &[])
        );
    }
}
