//! The stored form of a protected value: `pe1.<kid>.<base64url(nonce || ciphertext || tag)>`.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ProtectError;
use super::aead::{NONCE_LEN, TAG_LEN};
use super::key::{KeyId, is_valid_key_id};

/// The format and version tag every sealed value starts with.
pub const PREFIX: &str = "pe1.";

/// Longest accepted sealed string, in bytes (64 KiB).
pub const MAX_SEALED_LEN: usize = 64 * 1024;

/// Largest plaintext [`Keyring::seal`](super::Keyring::seal) accepts
/// (32 KiB). Every value sealed within this bound fits in
/// [`MAX_SEALED_LEN`]: 4 + 32 + 1 + ⌈(12 + 32 768 + 16) · 4/3⌉ = 43 765.
pub const MAX_PLAINTEXT_LEN: usize = 32 * 1024;

/// An encrypted value as it is stored: a self-describing ASCII string
/// `pe1.<kid>.<base64url(nonce || ciphertext || tag)>` (unpadded base64url,
/// 12-byte nonce, 16-byte tag).
///
/// A `Sealed` that exists is well-formed (validated by [`FromStr`] and
/// `Deserialize`); whether it opens is decided by
/// [`Keyring::open`](super::Keyring::open). It serialises as a plain string,
/// so it fits any text column or document field. The string is not secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sealed {
    text: String,
    kid: KeyId,
    nonce: [u8; NONCE_LEN],
    /// `ciphertext || tag`.
    body: Vec<u8>,
}

impl Sealed {
    pub(super) fn new(kid: &KeyId, nonce: &[u8; NONCE_LEN], ciphertext_and_tag: &[u8]) -> Self {
        let mut payload = Vec::with_capacity(NONCE_LEN + ciphertext_and_tag.len());
        payload.extend_from_slice(nonce);
        payload.extend_from_slice(ciphertext_and_tag);
        let text = format!(
            "{PREFIX}{}.{}",
            kid.as_str(),
            URL_SAFE_NO_PAD.encode(&payload)
        );
        Self {
            text,
            kid: kid.clone(),
            nonce: *nonce,
            body: ciphertext_and_tag.to_vec(),
        }
    }

    /// The id of the key this value was sealed under.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }

    pub(super) fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    pub(super) fn ciphertext_and_tag(&self) -> &[u8] {
        &self.body
    }
}

impl FromStr for Sealed {
    type Err = ProtectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_SEALED_LEN {
            return Err(ProtectError::Malformed("too long"));
        }
        let rest = s
            .strip_prefix(PREFIX)
            .ok_or(ProtectError::Malformed("unknown format (expected pe1.)"))?;
        // The payload alphabet has no '.', so the last '.' ends the key id
        // (which may itself contain dots).
        let (kid, encoded) = rest
            .rsplit_once('.')
            .ok_or(ProtectError::Malformed("missing key id"))?;
        if !is_valid_key_id(kid) {
            return Err(ProtectError::Malformed("invalid key id"));
        }
        let payload = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| ProtectError::Malformed("payload is not unpadded base64url"))?;
        let too_short = ProtectError::Malformed("too short");
        if payload.len() < NONCE_LEN + TAG_LEN {
            return Err(too_short);
        }
        let (nonce, body) = payload.split_first_chunk::<NONCE_LEN>().ok_or(too_short)?;
        Ok(Self {
            text: s.to_owned(),
            kid: KeyId::parse(kid)?,
            nonce: *nonce,
            body: body.to_vec(),
        })
    }
}

impl fmt::Display for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The ciphertext is not secret, but it can be long: show the key id and
/// the size only.
impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("kid", &self.kid)
            .field("len", &self.text.len())
            .finish()
    }
}

impl AsRef<str> for Sealed {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl From<Sealed> for String {
    fn from(s: Sealed) -> Self {
        s.text
    }
}

impl TryFrom<String> for Sealed {
    type Error = ProtectError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl Serialize for Sealed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Sealed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
