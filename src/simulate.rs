//! `civicline simulate`: texts a running server as Twilio would, one stdin line per SMS, and
//! prints each reply, or (`--ussd`) dials a USSD code and walks its menus. A newcomer sees the
//! whole loop without a provider account.

use crate::config::Settings;
use crate::providers::form::Form;
use crate::providers::twilio;
use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};

pub struct SimulateArgs {
    pub from: String,
    pub url: String,
    /// Seconds to keep printing later messages after stdin ends.
    pub wait: u64,
}

#[derive(serde::Deserialize)]
struct ConsoleMessage {
    message_id: i64,
    body: String,
}

/// What the console provider delivered to `from` after message `after` (at most 100). A server
/// with a real provider has no such route: nothing comes back.
async fn console_messages(
    client: &reqwest::Client,
    base: &str,
    from: &str,
    after: i64,
) -> Vec<ConsoleMessage> {
    let query = [("to", from.to_owned()), ("after", after.to_string())];
    let response = client
        .get(format!("{base}/console/messages"))
        .query(&query)
        .send()
        .await;
    match response.and_then(reqwest::Response::error_for_status) {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// Prints the console messages after `after`; returns the newest id seen.
async fn print_new(
    client: &reqwest::Client,
    base: &str,
    from: &str,
    mut after: i64,
    print: bool,
) -> i64 {
    loop {
        let messages = console_messages(client, base, from, after).await;
        for message in &messages {
            if print {
                println!("{}", message.body);
            }
            after = after.max(message.message_id);
        }
        if messages.len() < 100 {
            return after;
        }
    }
}

pub async fn run(settings: &Settings, args: SimulateArgs) -> anyhow::Result<()> {
    let client = crate::providers::http_client();
    let endpoint = format!("{}/sms/twilio", args.url.trim_end_matches('/'));
    // The server checks the signature over its public URL, whatever address we reach it by.
    let signed_url = format!("{}/sms/twilio", settings.server.public_url);
    let to = if settings.twilio.from.is_empty() {
        "+15555550199"
    } else {
        &settings.twilio.from
    };
    let token = settings
        .twilio
        .auth_token
        .as_ref()
        .map(|t| t.expose().to_owned());

    let base = args.url.trim_end_matches('/');
    // Only what arrives from now on: earlier conversations are not replayed.
    let mut seen = print_new(&client, base, &args.from, 0, false).await;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await.context("reading stdin")? {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let sid = format!("SM{:032x}", rand::random::<u128>());
        let form = Form::from_pairs([
            ("ApiVersion", "2010-04-01"),
            ("Body", text),
            ("From", args.from.as_str()),
            ("MessageSid", sid.as_str()),
            ("NumMedia", "0"),
            ("SmsMessageSid", sid.as_str()),
            ("SmsSid", sid.as_str()),
            ("SmsStatus", "received"),
            ("To", to),
        ]);
        let mut request = client
            .post(&endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.encode());
        if let Some(token) = &token {
            request = request.header(
                twilio::SIGNATURE_HEADER,
                twilio::signature(token, &signed_url, form.pairs()),
            );
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("sending to {endpoint}: is `civicline serve` running?"))?;
        let status = response.status();
        let body = response.text().await.context("reading the reply")?;
        if !status.is_success() {
            bail!("the server answered {status}: {}", body.trim());
        }
        let replies = twilio::twiml_messages(&body).context("the server's TwiML does not parse")?;
        if replies.is_empty() {
            println!("(no reply)");
        }
        for reply in replies {
            println!("{reply}");
        }
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(args.wait);
    while tokio::time::Instant::now() < deadline {
        seen = print_new(&client, base, &args.from, seen, true).await;
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    Ok(())
}

/// `civicline simulate --ussd CODE`: dials `code` as `from` and walks the menus, one stdin line
/// per input, printing each screen, until one ends the session.
pub async fn dial(settings: &Settings, url: &str, from: &str, code: &str) -> anyhow::Result<()> {
    let client = crate::providers::http_client();
    let base = url.trim_end_matches('/');
    let endpoint = match &settings.africastalking.webhook_token {
        Some(token) if !token.expose().is_empty() => {
            let token: String =
                url::form_urlencoded::byte_serialize(token.expose().as_bytes()).collect();
            format!("{base}/ussd/africastalking?token={token}")
        }
        _ => format!("{base}/console/ussd"),
    };
    let session = format!("SIMUSSD{:016x}", rand::random::<u64>());
    let mut text = String::new();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        let form = Form::from_pairs([
            ("sessionId", session.as_str()),
            ("serviceCode", code),
            ("phoneNumber", from),
            ("networkCode", "00000"),
            ("text", text.as_str()),
        ]);
        let response = client
            .post(&endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.encode())
            .send()
            .await
            .with_context(|| format!("sending to {base}: is `civicline serve` running?"))?;
        let status = response.status();
        let body = response.text().await.context("reading the screen")?;
        if !status.is_success() {
            bail!("the server answered {status}: {}", body.trim());
        }
        if let Some(screen) = body.strip_prefix("END ") {
            println!("{screen}");
            return Ok(());
        }
        println!("{}", body.strip_prefix("CON ").unwrap_or(&body));
        let Some(line) = lines.next_line().await.context("reading stdin")? else {
            return Ok(());
        };
        if !text.is_empty() || !line.trim().is_empty() {
            text = match text.is_empty() {
                true => line.trim().to_owned(),
                false => format!("{text}*{}", line.trim()),
            };
        }
    }
}
