//! The USSD menus (issue 19): report a problem (category, where, confirm), track a report,
//! choose a language. A session's state is rebuilt from its inputs on every request (the web
//! layer applies "0" back and "00" main menu before), so nothing is kept between requests.
//!
//! A confirmed report is filed as the text `<KEYWORD> <where>` from the caller's number through
//! [`Gateway::receive`], under the id `ussd:<sessionId>`: routing, the consent ledger and the
//! SMS confirmation (through the outbox) are an SMS report's, and a request delivered twice
//! meets its first filing and answers the same. A session abandoned before "Send" files
//! nothing. A language chosen is the LANG command's, the same way.

use super::Gateway;
use super::replies::ReplyKey;
use crate::sms::{InboundSms, PhoneNumber, Provider};
use crate::store::{self, issues, privacy};

/// The languages the menu offers, with their own names.
const LANGUAGES: [(&str, &str); 3] = [("en", "English"), ("es", "Español"), ("fr", "Français")];

/// Where a session stands: the inputs the menus took, and whether the last one was refused.
#[derive(Debug, PartialEq, Eq)]
struct Walk<'a> {
    path: Vec<&'a str>,
    invalid: bool,
}

/// Replays a session's inputs as typed: "0" takes the last accepted input back, "00" all of
/// them, an input the menu it answers does not offer is dropped (and, when it is the last one,
/// the menu is shown again with a reason).
fn walk(inputs: &[String], categories: usize) -> Walk<'_> {
    let mut walk = Walk {
        path: Vec::new(),
        invalid: false,
    };
    for input in inputs.iter().map(String::as_str) {
        let accepted = match (walk.path.as_slice(), input) {
            (_, "00") => {
                walk.path.clear();
                true
            }
            (_, "0") => {
                walk.path.pop();
                true
            }
            ([], _) => matches!(input, "1" | "2" | "3"),
            (["1"], _) => chosen(input, categories).is_some(),
            (["1", _], _) => !input.is_empty(),
            (["1", _, _], _) => input == "1",
            (["2"], _) => tracked(input).is_some(),
            (["3"], _) => chosen(input, LANGUAGES.len()).is_some(),
            _ => false,
        };
        walk.invalid = !accepted;
        if accepted && !matches!(input, "0" | "00") {
            walk.path.push(input);
        }
    }
    walk
}

/// The index of option `input` of a menu of `n` (numbered from 1).
fn chosen(input: &str, n: usize) -> Option<usize> {
    input
        .parse::<usize>()
        .ok()
        .filter(|i| (1..=n).contains(i))
        .map(|i| i - 1)
}

/// A report number as typed ("1042" or "#1042").
fn tracked(input: &str) -> Option<i64> {
    input
        .trim_start_matches('#')
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

/// One request of a session, as the web layer decoded it.
pub struct UssdRequest<'a> {
    pub session_id: &'a str,
    pub service_code: &'a str,
    pub phone: &'a PhoneNumber,
    pub inputs: &'a [String],
}

/// A screen: its text, and whether the session ends with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UssdScreen {
    pub text: String,
    pub end: bool,
}

impl Gateway {
    /// The screen for this point of a session; files the report when it is confirmed.
    pub async fn ussd(&self, request: UssdRequest<'_>) -> store::Result<UssdScreen> {
        let replies = &self.inner.replies;
        let store = self.store();
        let language = match privacy::find(store, request.phone.e164()).await? {
            Some(id) => store::citizens::language_of(store, id).await?,
            None => None,
        }
        .unwrap_or_else(|| "en".to_owned());
        let lang = language.as_str();
        let say = |key| replies.render(lang, key, &[]);
        let more = |text: String| UssdScreen { text, end: false };
        let end = |text: String| UssdScreen { text, end: true };
        let invalid = |screen: UssdScreen| UssdScreen {
            text: format!("{}\n{}", say(ReplyKey::UssdInvalid), screen.text),
            end: false,
        };
        let categories = self.catalog().categories();
        let category_menu = || {
            let mut text = say(ReplyKey::UssdCategories);
            for (i, c) in categories.iter().enumerate() {
                text.push_str(&format!("\n{} {}", i + 1, c.name_in(lang)));
            }
            text.push('\n');
            text.push_str(&say(ReplyKey::UssdBack));
            more(text)
        };
        let walk = walk(request.inputs, categories.len());
        let category = |c: &str| &categories[chosen(c, categories.len()).unwrap_or_default()];
        let confirm = |c: &str, place: &str| {
            more(replies.render(
                lang,
                ReplyKey::UssdConfirm,
                &[("category", category(c).name_in(lang)), ("place", place)],
            ))
        };
        let screen = match walk.path.as_slice() {
            [] => more(say(ReplyKey::UssdMain)),
            ["1"] => category_menu(),
            ["1", _] => more(say(ReplyKey::UssdWhere)),
            ["1", c, place] => confirm(c, place),
            ["1", c, place, _send] => {
                let category = category(c);
                let keyword = category.keyword_in(lang).unwrap_or(&category.service_code);
                let id = format!("ussd:{}", request.session_id);
                self.receive(InboundSms::new(
                    Provider::AfricasTalking,
                    id.clone(),
                    request.phone.clone(),
                    request.service_code.to_owned(),
                    format!("{keyword} {place}"),
                ))
                .await?;
                return Ok(
                    match store::messages::issue_of_inbound(store, Provider::AfricasTalking, &id)
                        .await?
                    {
                        Some(number) => end(replies.render(
                            lang,
                            ReplyKey::UssdFiled,
                            &[
                                ("number", &number.to_string()),
                                ("category", category.name_in(lang)),
                            ],
                        )),
                        // Opted out, or flooding: the message is kept, and no report filed.
                        None => end(say(ReplyKey::UssdUnavailable)),
                    },
                );
            }
            ["2"] => more(say(ReplyKey::UssdTrack)),
            ["2", number] => {
                let number = tracked(number).unwrap_or_default();
                return Ok(end(self.track(lang, request.phone, number).await?));
            }
            ["3"] => more(self.language_menu(lang)),
            ["3", choice, ..] => {
                let (code, _) = LANGUAGES[chosen(choice, LANGUAGES.len()).unwrap_or_default()];
                self.receive(InboundSms::new(
                    Provider::AfricasTalking,
                    format!("ussd:{}", request.session_id),
                    request.phone.clone(),
                    request.service_code.to_owned(),
                    format!("LANG {code}"),
                ))
                .await?;
                return Ok(end(replies.render(code, ReplyKey::LangSet, &[])));
            }
            _ => more(say(ReplyKey::UssdMain)),
        };
        Ok(match walk.invalid {
            true => invalid(screen),
            false => screen,
        })
    }

    fn language_menu(&self, lang: &str) -> String {
        let mut text = self
            .inner
            .replies
            .render(lang, ReplyKey::UssdLanguages, &[]);
        for (i, (_, name)) in LANGUAGES.iter().enumerate() {
            text.push_str(&format!("\n{} {name}", i + 1));
        }
        text
    }

    /// A report's status, as STATUS says it, if this number filed it.
    async fn track(&self, lang: &str, phone: &PhoneNumber, number: i64) -> store::Result<String> {
        let replies = &self.inner.replies;
        let n = number.to_string();
        let found = issues::detail(self.store(), number).await?;
        let Some(issue) = found.filter(|i| i.phone.as_deref() == Some(phone.e164())) else {
            return Ok(replies.render(lang, ReplyKey::StatusNotFound, &[("number", &n)]));
        };
        let category = issue
            .service_code
            .as_deref()
            .and_then(|c| self.catalog().category_by_code(c))
            .map_or_else(
                || replies.render(lang, ReplyKey::Uncategorized, &[]),
                |c| c.name_in(lang).to_owned(),
            );
        Ok(replies.render(
            lang,
            ReplyKey::StatusReport,
            &[
                ("number", &n),
                ("category", &category),
                ("status", &issue.status),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_home_and_refused_inputs_rebuild_where_a_session_stands() {
        for (text, path, invalid) in [
            ("", vec![], false),
            ("1", vec!["1"], false),
            ("1*2*Main St", vec!["1", "2", "Main St"], false),
            ("1*2*0", vec!["1"], false),
            ("1*0*2", vec!["2"], false),
            ("1*2*Main St*00", vec![], false),
            ("1*2*00*3", vec!["3"], false),
            ("0", vec![], false),
            ("9", vec![], true),
            ("1*42", vec!["1"], true),
            ("1*42*1", vec!["1", "1"], false),
            ("1*42*0", vec![], false),
            ("1*1*Elm*2", vec!["1", "1", "Elm"], true),
            ("2*abc", vec!["2"], true),
            ("2*#12", vec!["2", "#12"], false),
            ("3*7*2", vec!["3", "2"], false),
        ] {
            let inputs: Vec<String> = text
                .split('*')
                .filter(|i| !i.is_empty())
                .map(Into::into)
                .collect();
            let walk = walk(&inputs, 6);
            assert_eq!((walk.path, walk.invalid), (path, invalid), "{text:?}");
        }
    }
}
