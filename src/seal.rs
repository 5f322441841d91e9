//! A leaf: citizens' phone numbers sealed at rest (README: "Numbers sealed at rest").
//!
//! With a seal key (`CIVICLINE_PRIVACY__SEAL_KEY`, base64 of 32 random bytes) a citizen row
//! keeps two things instead of the number: its **number key**, a keyed blind index (HMAC-SHA256
//! under a key derived from the seal key, 96 bits, named by the key's id) that the unique
//! lookup runs on, and the number **sealed** with AES-256-GCM (a random 96-bit nonce, the
//! number key as associated data, so a sealed value moved to another row does not open). A
//! database read without the key holds neither the number nor a hash anyone can test guesses
//! against. Without a key the number key is the E.164 number itself and nothing is sealed (the
//! `cargo run` trial; the server says so at start).
//!
//! AES-256-GCM from `ring`, which the TLS stack already builds: one number is sealed once per
//! citizen (and once per rotation), far inside the 2^32 random nonces one key allows.
//!
//! While a rotation runs (`CIVICLINE_PRIVACY__NEW_SEAL_KEY` set beside the old key), new rows
//! are sealed under the new key and a number is looked up under both.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{KeyInit, Mac};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("a seal key is base64 of exactly 32 bytes (`civicline keys new` prints one): {0}")]
    BadKey(String),
    #[error("this number was sealed under key {0}, which is not configured")]
    UnknownKey(String),
    #[error(
        "a sealed number under key {0} does not open: the key is not the one it was sealed with, or the row was altered"
    )]
    DoesNotOpen(String),
    #[error(
        "this database holds numbers sealed under key {0} and no seal key is configured: set CIVICLINE_PRIVACY__SEAL_KEY"
    )]
    KeyMissing(String),
    #[error(
        "this database holds numbers sealed under key {sealed_under}, and the keys configured are {given}: CIVICLINE_PRIVACY__SEAL_KEY is not this database's key (during a rotation, set both keys until `civicline keys rotate` has finished)"
    )]
    WrongKey { sealed_under: String, given: String },
    #[error(
        "`civicline keys rotate` takes the current key in CIVICLINE_PRIVACY__SEAL_KEY and the new one in CIVICLINE_PRIVACY__NEW_SEAL_KEY"
    )]
    RotateNeedsTwoKeys,
    #[error(
        "CIVICLINE_PRIVACY__NEW_SEAL_KEY is set without a different CIVICLINE_PRIVACY__SEAL_KEY: a rotation moves from the key the database has (SEAL_KEY) to a new one"
    )]
    NewKeyAlone,
}

/// One seal key and what is derived from it.
pub struct SealKey {
    id: String,
    aead: LessSafeKey,
    /// Keyed once: each number key clones it (no key schedule per message).
    index: HmacSha256,
}

impl SealKey {
    /// Reads a key as `civicline keys new` prints it.
    pub fn from_base64(text: &str) -> Result<SealKey, SealError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| SealError::BadKey(e.to_string()))?;
        let master: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| SealError::BadKey(format!("it holds {} bytes", b.len())))?;
        let derive = |label: &str| -> [u8; 32] {
            let mut mac = HmacSha256::new_from_slice(&master).expect("HMAC takes any key length");
            mac.update(label.as_bytes());
            mac.finalize().into_bytes().into()
        };
        let id: String = derive("civicline key id")[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let aead = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &derive("civicline seal")).expect("32 bytes"),
        );
        let index = HmacSha256::new_from_slice(&derive("civicline number index"))
            .expect("HMAC takes any key length");
        Ok(SealKey { id, aead, index })
    }

    /// A new random key, base64, as `CIVICLINE_PRIVACY__SEAL_KEY` takes it.
    pub fn generate() -> String {
        STANDARD.encode(rand::random::<[u8; 32]>())
    }

    /// Eight hex digits naming the key (not secret): number keys and refusals carry it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// 96 bits of the HMAC: two numbers of a billion share one with a chance of about 1e-11,
    /// and the unique index stays short (26 bytes) on the busiest lookup.
    fn number_key(&self, e164: &str) -> String {
        let mut mac = self.index.clone();
        mac.update(e164.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("k{}:{}", self.id, URL_SAFE_NO_PAD.encode(&tag[..12]))
    }

    fn seal(&self, number_key: &str, e164: &str) -> String {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut sealed = e164.as_bytes().to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(number_key.as_bytes()),
                &mut sealed,
            )
            .expect("a phone number is far below AES-GCM's length limit");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    fn open(&self, number_key: &str, sealed: &str) -> Result<String, SealError> {
        let fail = || SealError::DoesNotOpen(self.id.clone());
        let bytes = STANDARD.decode(sealed).map_err(|_| fail())?;
        if bytes.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let mut rest = rest.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(number_key.as_bytes()), &mut rest)
            .map_err(|_| fail())?;
        String::from_utf8(plain.to_vec()).map_err(|_| fail())
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealKey({})", self.id)
    }
}

/// How this process keeps numbers: in clear, or sealed under one key (two while rotating).
/// Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Seal {
    keys: Option<Arc<Keys>>,
}

#[derive(Debug)]
struct Keys {
    /// The key the database was sealed with.
    current: SealKey,
    /// During a rotation, the key new rows are sealed with.
    next: Option<SealKey>,
}

impl Seal {
    /// Numbers in clear.
    pub fn clear() -> Seal {
        Seal { keys: None }
    }

    /// The seal the settings describe (`privacy.seal_key`, `privacy.new_seal_key`; an empty
    /// value counts as unset).
    pub fn from_keys(current: Option<&str>, next: Option<&str>) -> Result<Seal, SealError> {
        let (current, next) = (
            current.filter(|k| !k.trim().is_empty()),
            next.filter(|k| !k.trim().is_empty()),
        );
        match (current, next) {
            (None, None) => Ok(Seal::clear()),
            (None, Some(_)) => Err(SealError::NewKeyAlone),
            (Some(current), next) => {
                let current = SealKey::from_base64(current)?;
                let next = next.map(SealKey::from_base64).transpose()?;
                if next.as_ref().is_some_and(|n| n.id() == current.id()) {
                    return Err(SealError::NewKeyAlone);
                }
                Ok(Seal::new(current, next))
            }
        }
    }

    pub fn new(current: SealKey, next: Option<SealKey>) -> Seal {
        Seal {
            keys: Some(Arc::new(Keys { current, next })),
        }
    }

    pub fn is_sealed(&self) -> bool {
        self.keys.is_some()
    }

    /// The key new rows are sealed with (the new one while rotating).
    pub fn writing_key(&self) -> Option<&SealKey> {
        self.keys
            .as_ref()
            .map(|k| k.next.as_ref().unwrap_or(&k.current))
    }

    /// The ids of the keys configured.
    pub fn key_ids(&self) -> Vec<&str> {
        match &self.keys {
            None => Vec::new(),
            Some(k) => std::iter::once(k.current.id())
                .chain(k.next.as_ref().map(SealKey::id))
                .collect(),
        }
    }

    /// The number key a new row for this number gets, and its sealed number (`None` in clear).
    pub fn store(&self, e164: &str) -> (String, Option<String>) {
        match self.writing_key() {
            None => (e164.to_owned(), None),
            Some(key) => {
                let number_key = key.number_key(e164);
                let sealed = key.seal(&number_key, e164);
                (number_key, Some(sealed))
            }
        }
    }

    /// Every number key this number may be stored under, the writing key's first: one, or two
    /// while a rotation runs.
    pub fn lookup_keys(&self, e164: &str) -> Vec<String> {
        match &self.keys {
            None => vec![e164.to_owned()],
            Some(k) => match &k.next {
                None => vec![k.current.number_key(e164)],
                Some(next) => vec![next.number_key(e164), k.current.number_key(e164)],
            },
        }
    }

    /// The number a row holds: its number key itself when it is in clear (`sealed` empty),
    /// else the sealed value opened under the key its number key names.
    pub fn open(&self, number_key: &str, sealed: Option<&str>) -> Result<String, SealError> {
        let Some(sealed) = sealed else {
            return Ok(number_key.to_owned());
        };
        let id = key_id_of(number_key).unwrap_or_default();
        let key = self
            .keys
            .as_ref()
            .and_then(|k| {
                std::iter::once(&k.current)
                    .chain(k.next.as_ref())
                    .find(|key| key.id() == id)
            })
            .ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        key.open(number_key, sealed)
    }
}

/// A form-encoded provider payload without the phone numbers in it: a value that is one
/// (`+` and 7 to 15 digits, or as many digits alone) reads `[number]`. Borrowed when none was.
pub fn without_numbers(payload: &str) -> Cow<'_, str> {
    let is_number = |v: &str| {
        let digits = v.strip_prefix('+').unwrap_or(v);
        (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    };
    let pairs: Vec<(Cow<str>, Cow<str>)> =
        url::form_urlencoded::parse(payload.as_bytes()).collect();
    if !pairs.iter().any(|(_, v)| is_number(v)) {
        return Cow::Borrowed(payload);
    }
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &pairs {
        let value = if is_number(value) { "[number]" } else { value };
        out.append_pair(name, value);
    }
    Cow::Owned(out.finish())
}

/// The id of the key a number key was made with; `None` for a number in clear.
pub fn key_id_of(number_key: &str) -> Option<&str> {
    number_key
        .strip_prefix('k')?
        .split_once(':')
        .map(|(id, _)| id)
}

/// The range of number keys made with key `id`, as `[low, high)` for an index range scan.
pub fn key_range(id: &str) -> (String, String) {
    (format!("k{id}:"), format!("k{id};"))
}

/// The range of number keys that are numbers in clear (E.164 begins with `+`).
pub const CLEAR_RANGE: (&str, &str) = ("+", ",");

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealKey {
        SealKey::from_base64(&SealKey::generate()).unwrap()
    }

    #[test]
    fn a_sealed_number_opens_under_its_key_and_shows_nothing_of_the_number() {
        let seal = Seal::new(key(), None);
        let (number_key, sealed) = seal.store("+15555550123");
        let sealed = sealed.unwrap();
        assert!(!number_key.contains("5555550123") && !sealed.contains("5555550123"));
        assert_eq!(key_id_of(&number_key), seal.key_ids().first().copied());
        assert_eq!(
            seal.open(&number_key, Some(&sealed)).unwrap(),
            "+15555550123"
        );
        // The same number has the same number key (the lookup) but another sealed value.
        let (again, sealed_again) = seal.store("+15555550123");
        assert_eq!(again, number_key);
        assert_ne!(sealed_again.unwrap(), sealed);
    }

    #[test]
    fn another_key_or_another_row_does_not_open_it() {
        let seal = Seal::new(key(), None);
        let (number_key, sealed) = seal.store("+15555550123");
        let other = Seal::new(key(), None);
        assert!(matches!(
            other.open(&number_key, sealed.as_deref()),
            Err(SealError::UnknownKey(_))
        ));
        let (other_row, _) = seal.store("+15555550124");
        assert!(matches!(
            seal.open(&other_row, sealed.as_deref()),
            Err(SealError::DoesNotOpen(_))
        ));
        assert!(matches!(
            seal.open(&number_key, Some("garbage")),
            Err(SealError::DoesNotOpen(_))
        ));
    }

    #[test]
    fn while_rotating_new_rows_take_the_new_key_and_both_are_looked_up() {
        let old_text = SealKey::generate();
        let old = Seal::new(SealKey::from_base64(&old_text).unwrap(), None);
        let (old_row, old_sealed) = old.store("+15555550123");
        let new_key = key();
        let new_id = new_key.id().to_owned();
        let rotating = Seal::new(SealKey::from_base64(&old_text).unwrap(), Some(new_key));
        let (new_row, _) = rotating.store("+15555550123");
        assert_eq!(key_id_of(&new_row), Some(new_id.as_str()));
        assert_eq!(
            rotating.lookup_keys("+15555550123"),
            vec![new_row, old_row.clone()]
        );
        assert_eq!(
            rotating.open(&old_row, old_sealed.as_deref()).unwrap(),
            "+15555550123"
        );
    }

    #[test]
    fn payloads_lose_their_numbers_and_keep_the_rest() {
        let twilio = "MessageSid=SM0123&MessageStatus=delivered&To=%2B15555550123&From=%2B15005550006&ErrorCode=30003";
        assert_eq!(
            without_numbers(twilio),
            "MessageSid=SM0123&MessageStatus=delivered&To=%5Bnumber%5D&From=%5Bnumber%5D&ErrorCode=30003"
        );
        let at = "id=ATXid_1&status=Success&phoneNumber=254711082300&networkCode=63902";
        assert_eq!(
            without_numbers(at),
            "id=ATXid_1&status=Success&phoneNumber=%5Bnumber%5D&networkCode=63902"
        );
        assert!(matches!(
            without_numbers("id=1&status=Failed"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn in_clear_the_number_is_its_own_key() {
        let seal = Seal::clear();
        assert_eq!(seal.store("+15555550123"), ("+15555550123".into(), None));
        assert_eq!(seal.open("+15555550123", None).unwrap(), "+15555550123");
        assert_eq!(key_id_of("+15555550123"), None);
        let (low, high) = CLEAR_RANGE;
        assert!(low <= "+15555550123" && "+15555550123" < high);
    }

    #[test]
    fn a_key_that_is_not_32_bytes_of_base64_is_refused_by_name() {
        assert!(matches!(
            SealKey::from_base64("not base64!"),
            Err(SealError::BadKey(_))
        ));
        assert_eq!(
            SealKey::from_base64(&STANDARD.encode([1u8; 16])).unwrap_err(),
            SealError::BadKey("it holds 16 bytes".into())
        );
        let text = SealKey::generate();
        assert_eq!(
            SealKey::from_base64(&text).unwrap().id(),
            SealKey::from_base64(&text).unwrap().id()
        );
    }
}
