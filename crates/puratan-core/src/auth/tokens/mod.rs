//! Access tokens (JWT) and refresh tokens (opaque, rotating).
//!
//! * [`access`] — short-lived access JWTs: algorithm pinned per key
//!   (Ed25519 recommended, HS256 with a secret of at least 32 bytes), `kid`
//!   header for rotation, strict validation against the caller's `now`.
//! * [`refresh`] — opaque refresh tokens that rotate on every use; reuse of
//!   a rotated token revokes its whole family.

pub mod access;
pub mod refresh;

pub use access::{
    AccessClaims, AccessToken, AccessTokenConfig, AccessTokens, JwtKey, KeySet, TOKEN_TYPE_ACCESS,
};
pub use refresh::{
    FamilyId, MemoryRefreshStore, RefreshPolicy, RefreshRecord, RefreshState, RefreshStore,
    RefreshToken, RefreshTokens, Rotated,
};
