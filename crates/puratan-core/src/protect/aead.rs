//! The primitive: AES-256-GCM with a 96-bit nonce and a 128-bit tag, as
//! plain functions so a known-answer test can check the wiring.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use super::ProtectError;

pub(super) const KEY_LEN: usize = 32;
pub(super) const NONCE_LEN: usize = 12;
pub(super) const TAG_LEN: usize = 16;

/// Encrypts `plaintext`; returns `ciphertext || tag`.
pub(super) fn encrypt(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, ProtectError> {
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    // Only fails for inputs near 2^36 bytes, far above MAX_PLAINTEXT_LEN.
    Aes256Gcm::new(key.into())
        .encrypt(Nonce::from_slice(nonce), payload)
        .map_err(|_| ProtectError::TooLarge {
            max: super::MAX_PLAINTEXT_LEN,
        })
}

/// Verifies the tag and decrypts `ciphertext || tag`. Any failure is
/// [`ProtectError::Tampered`].
pub(super) fn decrypt(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ProtectError> {
    let payload = Payload {
        msg: ciphertext_and_tag,
        aad,
    };
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), payload)
        .map(Zeroizing::new)
        .map_err(|_| ProtectError::Tampered)
}

/// A fresh random 96-bit nonce from the operating system's CSPRNG.
pub(super) fn random_nonce() -> Result<[u8; NONCE_LEN], ProtectError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| ProtectError::Random)?;
    Ok(nonce)
}
