//! Key ids and data keys.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::{Zeroize, Zeroizing};

use super::ProtectError;
use super::aead::KEY_LEN;

/// Longest key id, in characters.
pub const MAX_KEY_ID_LEN: usize = 32;

/// The name of a data key: 1..=32 characters from `[A-Za-z0-9._-]`, e.g.
/// `2026-11`. It is written in clear into every sealed value; it is not a
/// secret.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(s: &str) -> Result<Self, ProtectError> {
        if is_valid_key_id(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ProtectError::KeyConfig(format!(
                "key id must be 1..={MAX_KEY_ID_LEN} characters from [A-Za-z0-9._-], got {:?}",
                truncated(s)
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub(super) fn is_valid_key_id(s: &str) -> bool {
    (1..=MAX_KEY_ID_LEN).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// At most the first 40 characters, for error messages about bad input.
fn truncated(s: &str) -> String {
    s.chars().take(40).collect()
}

impl FromStr for KeyId {
    type Err = ProtectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for KeyId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A 256-bit AES-GCM data key and its id. The key bytes are zeroed on drop
/// and never appear in `Debug` output or error messages.
pub struct DataKey {
    id: KeyId,
    key: [u8; KEY_LEN],
}

impl DataKey {
    pub fn new(id: KeyId, key: [u8; KEY_LEN]) -> Self {
        Self { id, key }
    }

    /// Parses key material as configured by operators: standard base64
    /// (with padding, surrounding whitespace ignored) of exactly 32 bytes,
    /// as printed by [`DataKey::to_base64`] or `openssl rand -base64 32`.
    pub fn from_base64(id: &str, material: &str) -> Result<Self, ProtectError> {
        let id = KeyId::parse(id)?;
        let bad = |why: &str| ProtectError::KeyConfig(format!("data key {id:?}: {why}"));
        let bytes = Zeroizing::new(
            STANDARD
                .decode(material.trim())
                .map_err(|_| bad("key material is not valid base64"))?,
        );
        if bytes.len() != KEY_LEN {
            return Err(bad(&format!(
                "key material must decode to {KEY_LEN} bytes, got {}",
                bytes.len()
            )));
        }
        let mut key = Self {
            id,
            key: [0; KEY_LEN],
        };
        key.key.copy_from_slice(&bytes);
        Ok(key)
    }

    /// A fresh random key from the operating system's CSPRNG (for
    /// `puratan keys generate`; show it with [`DataKey::to_base64`]).
    pub fn generate(id: &str) -> Result<Self, ProtectError> {
        let mut key = Self {
            id: KeyId::parse(id)?,
            key: [0; KEY_LEN],
        };
        getrandom::fill(&mut key.key).map_err(|_| ProtectError::Random)?;
        Ok(key)
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The key material as standard base64, the form
    /// [`DataKey::from_base64`] reads. For operators only: never log it.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.key))
    }

    pub(super) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.key
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .finish()
    }
}
