//! Data protection: sensitive fields encrypted at rest, with key rotation.
//!
//! Used for values that must be recoverable but must not be readable from a
//! database dump or backup: TOTP secrets, OAuth refresh tokens, payment
//! references in orders. (Passwords and recovery codes are *hashed* by
//! [`crate::auth`], not encrypted.)
//!
//! # Format
//!
//! A [`Sealed`] value is one ASCII string, stored as is in any text column
//! or document field:
//!
//! ```text
//! pe1.<kid>.<base64url(nonce || ciphertext || tag)>
//! ```
//!
//! * `pe1` — format and version: AES-256-GCM, 96-bit nonce, 128-bit tag.
//! * `<kid>` — the [`KeyId`] of the data key that sealed it (1..=32
//!   characters from `[A-Za-z0-9._-]`), so a node knows which key opens it.
//! * the payload — unpadded base64url (no `.` in its alphabet) of the
//!   12-byte random nonce, the ciphertext (as long as the plaintext) and the
//!   16-byte tag. Sealed strings are at most [`MAX_SEALED_LEN`] (64 KiB);
//!   plaintexts at most [`MAX_PLAINTEXT_LEN`] (32 KiB).
//!
//! # Context (associated data)
//!
//! Every [`Keyring::seal`] and [`Keyring::open`] takes a `context` naming
//! the value's place, e.g. `user:<user id>:totp_secret` or
//! `order:<order id>:payment_ref`. It is authenticated but not stored: a
//! ciphertext copied into another record or field fails to open
//! ([`ProtectError::Tampered`]). Use the record's immutable id (never a
//! mutable field like an e-mail address) and a fixed field name; the
//! context must not be empty. The associated data actually fed to GCM is
//! `pe1` NUL `<kid>` NUL `<context>`, which also authenticates the header.
//!
//! # Nonces
//!
//! Nonces are 96 random bits from the operating system. With random nonces
//! NIST SP 800-38D §8.3 allows at most 2^32 encryptions per key (keeping the
//! nonce-collision probability below 2^-32). A print shop seals a few values
//! per user and per order, many orders of magnitude below that, and
//! rotation resets the count for new writes; rotate at least yearly.
//!
//! # Keys
//!
//! Keys come from configuration, the environment or a file read by the
//! server — **never from the database** that holds the sealed values (a
//! dump must not contain the means to read it). This crate reads none of
//! those itself: the server passes key material in, typically configured as
//! `protect.keys = { "2026-11" = "<base64>" }` plus `protect.active =
//! "2026-11"`, and builds a [`Keyring`] with [`DataKey::from_base64`].
//! [`DataKey::generate`] + [`DataKey::to_base64`] make a new key
//! (`puratan keys generate`). Key bytes are zeroed on drop and never
//! appear in `Debug` output or error messages; opened plaintext is returned
//! in [`Zeroizing`] buffers.
//!
//! # Rotation
//!
//! 1. Generate a new key and add it to the configuration of every node as
//!    the active key, keeping the old keys.
//! 2. Deploy. New writes use the new key; values under old keys still open.
//! 3. Run `puratan keys rotate`: for each protected field it calls
//!    [`Keyring::reseal`] and stores the result when it is `Some`
//!    (idempotent: safe to re-run or to interrupt).
//! 4. When it reports 0 values remaining under old keys
//!    ([`Keyring::needs_rotation`]), remove the old key from the
//!    configuration and deploy again.
//!
//! A node that meets a value under a key it does not have reports
//! [`ProtectError::UnknownKey`] naming the key id.
//!
//! # Example
//!
//! ```
//! use puratan_core::protect::{DataKey, Keyring, Sealed};
//!
//! # fn main() -> Result<(), puratan_core::protect::ProtectError> {
//! let old = DataKey::from_base64("2026-05", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
//! let ring = Keyring::new([old], "2026-05")?;
//! let stored: String = ring.seal(b"JBSWY3DPEHPK3PXP", "user:42:totp_secret")?.into();
//!
//! // Later: a new active key; the old one is kept for reading.
//! let old = DataKey::from_base64("2026-05", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
//! let ring = Keyring::new([old, DataKey::generate("2026-11")?], "2026-11")?;
//! let sealed: Sealed = stored.parse()?;
//! assert_eq!(&ring.open(&sealed, "user:42:totp_secret")?[..], b"JBSWY3DPEHPK3PXP");
//! assert!(ring.open(&sealed, "user:43:totp_secret").is_err()); // another record
//!
//! // `puratan keys rotate`, per value:
//! let new = ring.reseal(&sealed, "user:42:totp_secret")?.expect("was under the old key");
//! assert_eq!(new.kid().as_str(), "2026-11");
//! assert!(ring.reseal(&new, "user:42:totp_secret")?.is_none());
//! # Ok(())
//! # }
//! ```

mod aead;
mod error;
mod key;
mod keyring;
mod sealed;
#[cfg(test)]
mod tests;

pub use error::ProtectError;
pub use key::{DataKey, KeyId, MAX_KEY_ID_LEN};
pub use keyring::Keyring;
pub use sealed::{MAX_PLAINTEXT_LEN, MAX_SEALED_LEN, Sealed};
pub use zeroize::Zeroizing;
