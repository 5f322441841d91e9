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
        let chosen = |input: &str, n: usize| {
            input
                .parse::<usize>()
                .ok()
                .filter(|i| (1..=n).contains(i))
                .map(|i| i - 1)
        };
        let inputs: Vec<&str> = request.inputs.iter().map(String::as_str).collect();
        let main = more(say(ReplyKey::UssdMain));
        Ok(match inputs.as_slice() {
            [] => main,
            ["1"] => category_menu(),
            ["1", c] if chosen(c, categories.len()).is_none() => invalid(category_menu()),
            ["1", _] => more(say(ReplyKey::UssdWhere)),
            ["1", c, place] => {
                let category = &categories[chosen(c, categories.len()).unwrap_or_default()];
                more(replies.render(
                    lang,
                    ReplyKey::UssdConfirm,
                    &[("category", category.name_in(lang)), ("place", place)],
                ))
            }
            ["1", c, place, "1"] => {
                let category = &categories[chosen(c, categories.len()).unwrap_or_default()];
                let keyword = category.keyword_in(lang).unwrap_or(&category.service_code);
                let id = format!("ussd:{}", request.session_id);
                let body = format!("{keyword} {place}");
                self.receive(InboundSms::new(
                    Provider::AfricasTalking,
                    id.clone(),
                    request.phone.clone(),
                    request.service_code.to_owned(),
                    body,
                ))
                .await?;
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
                }
            }
            ["1", c, place, _] => {
                let category = &categories[chosen(c, categories.len()).unwrap_or_default()];
                invalid(more(replies.render(
                    lang,
                    ReplyKey::UssdConfirm,
                    &[("category", category.name_in(lang)), ("place", place)],
                )))
            }
            ["2"] => more(say(ReplyKey::UssdTrack)),
            ["2", number] => match number.trim_start_matches('#').parse::<i64>() {
                Err(_) => invalid(more(say(ReplyKey::UssdTrack))),
                Ok(number) => end(self.track(lang, request.phone, number).await?),
            },
            ["3"] => more(self.language_menu(lang)),
            ["3", choice] => match chosen(choice, LANGUAGES.len()) {
                None => invalid(more(self.language_menu(lang))),
                Some(i) => {
                    let (code, _) = LANGUAGES[i];
                    self.receive(InboundSms::new(
                        Provider::AfricasTalking,
                        format!("ussd:{}", request.session_id),
                        request.phone.clone(),
                        request.service_code.to_owned(),
                        format!("LANG {code}"),
                    ))
                    .await?;
                    end(replies.render(code, ReplyKey::LangSet, &[]))
                }
            },
            _ => invalid(main),
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
