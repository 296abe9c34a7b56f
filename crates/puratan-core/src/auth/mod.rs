//! Authentication and authorisation logic, storage- and runtime-agnostic.
//!
//! * [`password`] — argon2id hashing (PHC strings), the password policy
//!   (length 8..=128, no composition rules, no truncation, a bundled list of
//!   10 000 common passwords), `needs_rehash` and a constant-cost
//!   `dummy_verify` for unknown accounts.
//! * [`totp`] — RFC 6238 TOTP with ±1 step drift and replay protection
//!   (the caller stores the last used step), `otpauth://` URIs and single-use
//!   recovery codes stored hashed.
//! * [`tokens`] — access-token JWTs (algorithm pinned per key, `kid`
//!   rotation, strict validation with the caller's `now`) and opaque refresh
//!   tokens with rotation, reuse detection and family revocation over the
//!   [`tokens::RefreshStore`] trait.
//! * [`rbac`] — roles mapped to fine-grained permissions.
//!
//! Nothing here reads the clock, the environment or the network: time is
//! always passed in as Unix seconds. Password hashing is CPU-bound (tens of
//! milliseconds): async callers must run it on a blocking thread
//! (`tokio::task::spawn_blocking` or equivalent); this crate has no runtime.
//!
//! Every function reports failures as [`AuthError`], whose
//! [`code`](AuthError::code) is stable and safe to show to clients.

mod error;
pub mod password;
pub mod rbac;
pub mod tokens;
pub mod totp;

pub use error::AuthError;

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<(), AuthError> {
    getrandom::fill(buf).map_err(|_| AuthError::Random)
}
