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
//!
//! # A login, end to end (synchronous parts)
//!
//! ```
//! use puratan_core::auth::password::{PasswordHasher, PasswordParams};
//! use puratan_core::auth::rbac::{Permission, allows};
//! use puratan_core::auth::tokens::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
//! use puratan_core::auth::totp::{Totp, TotpConfig, TotpSecret, TotpAlgorithm};
//! use puratan_core::domain::Role;
//!
//! # fn main() -> Result<(), puratan_core::auth::AuthError> {
//! let now = 1_800_000_000; // the caller's clock, Unix seconds
//! // Registration (on a blocking thread in a server).
//! let hasher = PasswordHasher::new(PasswordParams::default())?;
//! let phc = hasher.hash("violet-tugboat-harmonica")?;
//!
//! // Login: an unknown e-mail costs the same as a wrong password.
//! let stored: Option<&str> = Some(&phc);
//! match stored {
//!     Some(phc) => hasher.verify("violet-tugboat-harmonica", phc)?,
//!     None => return Err(hasher.dummy_verify("violet-tugboat-harmonica")),
//! }
//! assert!(!hasher.needs_rehash(&phc));
//!
//! // Second factor; store the returned step as "last used".
//! let totp = Totp::new(TotpSecret::generate(TotpAlgorithm::Sha1)?, TotpConfig::default())?;
//! let step = totp.verify(&totp.code_at(now), now, None)?;
//! assert!(totp.verify(&totp.code_at(now), now, Some(step)).is_err()); // replay
//!
//! // Access token.
//! let (key, _seed) = JwtKey::ed25519_generate("2026-11")?;
//! let tokens = AccessTokens::new(
//!     KeySet::new(key)?,
//!     AccessTokenConfig::new("https://shop.example", "puratan-api"),
//! )?;
//! let (token, _) = tokens.issue("user-42", &[Role::Customer], now)?;
//! let claims = tokens.validate(token.expose(), now + 60)?;
//! assert!(allows(&claims.roles, Permission::OrdersReadOwn));
//! assert!(!allows(&claims.roles, Permission::OrdersReadAny));
//! # Ok(())
//! # }
//! ```

mod error;
pub mod oidc;
pub mod password;
pub mod rbac;
pub mod tokens;
pub mod totp;

pub use error::AuthError;

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<(), AuthError> {
    getrandom::fill(buf).map_err(|_| AuthError::Random)
}
