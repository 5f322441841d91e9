//! A leaf: secrets as a type, so every module that holds one (settings, providers' clients)
//! imports only this, never the settings.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret string: usable by the code, invisible in `Debug`, `Display` and serialized output.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// True when `given` is this secret; constant-time in the secret's contents. An empty
    /// secret matches nothing.
    pub fn matches(&self, given: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        let given = given.unwrap_or_default();
        !self.0.is_empty() && bool::from(self.0.as_bytes().ct_eq(given.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}
