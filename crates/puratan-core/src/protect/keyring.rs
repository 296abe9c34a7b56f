//! The keyring: the active key seals, every configured key opens.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

use super::ProtectError;
use super::aead;
use super::key::{DataKey, KeyId};
use super::sealed::{MAX_PLAINTEXT_LEN, PREFIX, Sealed};

/// The data keys of one deployment. New values are sealed under the active
/// key; values sealed under any configured key can be opened.
pub struct Keyring {
    keys: Vec<DataKey>,
    /// Index of the active key in `keys`.
    active: usize,
}

impl Keyring {
    /// Builds a keyring from every configured key and the id of the one that
    /// seals new values. Fails when there are no keys, when `active_id` is
    /// not among them, when an id is configured twice, or when two ids share
    /// the same key material (a copy-paste slip that would make rotation a
    /// no-op).
    pub fn new(
        keys: impl IntoIterator<Item = DataKey>,
        active_id: &str,
    ) -> Result<Self, ProtectError> {
        let keys: Vec<DataKey> = keys.into_iter().collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[..i] {
                if a.id() == b.id() {
                    return Err(ProtectError::KeyConfig(format!(
                        "data key id {:?} is configured twice",
                        a.id().as_str()
                    )));
                }
                if a.bytes() == b.bytes() {
                    return Err(ProtectError::KeyConfig(format!(
                        "data keys {:?} and {:?} have the same key material",
                        b.id().as_str(),
                        a.id().as_str()
                    )));
                }
            }
        }
        if keys.is_empty() {
            return Err(ProtectError::KeyConfig("no data keys configured".into()));
        }
        let active = keys
            .iter()
            .position(|k| k.id().as_str() == active_id)
            .ok_or_else(|| {
                ProtectError::KeyConfig(format!(
                    "active data key {active_id:?} is not among the configured keys"
                ))
            })?;
        Ok(Self { keys, active })
    }

    /// The id new values are sealed under.
    pub fn active_id(&self) -> &KeyId {
        self.keys[self.active].id()
    }

    /// Every configured key id, in configuration order.
    pub fn key_ids(&self) -> impl Iterator<Item = &KeyId> {
        self.keys.iter().map(DataKey::id)
    }

    /// Encrypts `plaintext` under the active key with a fresh random nonce.
    ///
    /// `context` is authenticated but not stored: it names the value's place
    /// (e.g. `user:<id>:totp_secret`) and the same string must be passed to
    /// [`Keyring::open`]. It must not be empty.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Sealed, ProtectError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(ProtectError::TooLarge {
                max: MAX_PLAINTEXT_LEN,
            });
        }
        let key = &self.keys[self.active];
        let aad = aad(key.id(), context)?;
        let nonce = aead::random_nonce()?;
        let body = aead::encrypt(key.bytes(), &nonce, &aad, plaintext)?;
        Ok(Sealed::new(key.id(), &nonce, &body))
    }

    /// Verifies and decrypts a value sealed under any configured key for
    /// this `context`.
    ///
    /// Errors: [`ProtectError::UnknownKey`] when its key id is not
    /// configured; [`ProtectError::Tampered`] when it was modified or sealed
    /// for another context (one error, on purpose).
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<Zeroizing<Vec<u8>>, ProtectError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.id() == sealed.kid())
            .ok_or_else(|| ProtectError::UnknownKey {
                kid: sealed.kid().as_str().to_owned(),
            })?;
        let aad = aad(key.id(), context)?;
        aead::decrypt(
            key.bytes(),
            sealed.nonce(),
            &aad,
            sealed.ciphertext_and_tag(),
        )
    }

    /// [`Keyring::open`] for values that were sealed from a `&str`.
    /// Authentic but non-UTF-8 plaintext is [`ProtectError::Malformed`].
    pub fn open_utf8(
        &self,
        sealed: &Sealed,
        context: &str,
    ) -> Result<Zeroizing<String>, ProtectError> {
        let mut bytes = self.open(sealed, context)?;
        match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(s) => Ok(Zeroizing::new(s)),
            Err(e) => {
                e.into_bytes().zeroize();
                Err(ProtectError::Malformed("plaintext is not UTF-8"))
            }
        }
    }

    /// Whether `sealed` is under a key other than the active one (including
    /// an unknown key, which [`Keyring::reseal`] then reports).
    pub fn needs_rotation(&self, sealed: &Sealed) -> bool {
        sealed.kid() != self.active_id()
    }

    /// Re-encrypts `sealed` under the active key: `Ok(None)` when it already
    /// is (so running rotation twice is harmless), `Ok(Some(new))` otherwise.
    /// The caller stores `new` in place of the old value. `puratan keys
    /// rotate` calls this for every protected field.
    pub fn reseal(&self, sealed: &Sealed, context: &str) -> Result<Option<Sealed>, ProtectError> {
        if !self.needs_rotation(sealed) {
            return Ok(None);
        }
        let plaintext = self.open(sealed, context)?;
        self.seal(&plaintext, context).map(Some)
    }
}

/// The associated data: `pe1` NUL kid NUL context. The kid cannot contain
/// NUL, so the encoding is unambiguous; binding the format version and the
/// key id authenticates the whole header, and the context binds the value
/// to its place.
fn aad(kid: &KeyId, context: &str) -> Result<Vec<u8>, ProtectError> {
    if context.is_empty() {
        return Err(ProtectError::EmptyContext);
    }
    let version = PREFIX.trim_end_matches('.');
    let mut aad = Vec::with_capacity(version.len() + kid.as_str().len() + context.len() + 2);
    aad.extend_from_slice(version.as_bytes());
    aad.push(0);
    aad.extend_from_slice(kid.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(context.as_bytes());
    Ok(aad)
}

/// Shows the key ids and the active one, never key material.
impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("active", self.active_id())
            .field("keys", &self.key_ids().collect::<Vec<_>>())
            .finish()
    }
}
