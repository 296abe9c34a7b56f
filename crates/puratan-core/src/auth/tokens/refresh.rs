//! Opaque refresh tokens with rotation and reuse detection (RFC 9700 §4.14).
//!
//! * A refresh token is `prt_` + 256 random bits (base64url). Only its
//!   SHA-256 is stored.
//! * Tokens issued from one login form a *family*. Using a token
//!   ([`RefreshTokens::rotate`]) marks it rotated and issues its successor
//!   in the same family.
//! * Presenting a token that was already rotated means it leaked (or a
//!   client replayed it): the whole family, including the newest token, is
//!   revoked and [`AuthError::ReuseDetected`] names the family so the caller
//!   can audit it.
//! * Concurrent use of one token: the store's atomic
//!   [`RefreshStore::rotate`] lets at most one caller win; the others are
//!   treated as reuse (fail closed), which also revokes the family.
//! * Every token expires `ttl` after issue; no token of a family outlives
//!   the family's absolute lifetime, counted from the login.
//! * Logout revokes the family ([`RefreshTokens::revoke_token`]); password
//!   change, 2FA change and account disable revoke every family of the user
//!   ([`RefreshStore::revoke_subject`]).

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::auth::AuthError;

const TOKEN_PREFIX: &str = "prt_";
const MAX_TOKEN_LEN: usize = 128;

/// Identifies a token family (one login). Not secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FamilyId(pub String);

impl fmt::Display for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A plaintext refresh token, handed to the client once. `Debug` is
/// redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

impl RefreshToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshState {
    /// The newest token of its family; may be used once.
    Active,
    /// Already used; presenting it again is reuse.
    Rotated,
    /// Its family was revoked.
    Revoked,
}

/// What a store keeps per token. `token_hash` is the lookup key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub family: FamilyId,
    /// The user (access-token `sub`).
    pub subject: String,
    pub issued_at: u64,
    /// This token's expiry (Unix seconds).
    pub expires_at: u64,
    /// No token of the family is valid at or after this instant.
    pub family_expires_at: u64,
    pub state: RefreshState,
}

/// Storage for refresh-token records. Implementations must make
/// [`rotate`](Self::rotate) atomic (a transaction, a Lua script, a
/// compare-and-set) and keep [`revoke_family`](Self::revoke_family)
/// effective against a concurrent `rotate`.
#[async_trait]
pub trait RefreshStore: Send + Sync + 'static {
    /// Stores the first token of a new family.
    async fn insert(&self, record: RefreshRecord) -> crate::Result<()>;

    async fn get(&self, token_hash: &str) -> crate::Result<Option<RefreshRecord>>;

    /// Atomically: if the record `old_hash` is `Active` (hence its family
    /// is not revoked), mark it `Rotated`, insert `new` and return `true`;
    /// otherwise change nothing and return `false`.
    async fn rotate(&self, old_hash: &str, new: RefreshRecord) -> crate::Result<bool>;

    /// Marks every token of the family `Revoked`; tokens inserted into it
    /// later by a racing `rotate` must not become usable either.
    async fn revoke_family(&self, family: &FamilyId) -> crate::Result<()>;

    /// Revokes every family of `subject` (password change, 2FA change,
    /// account disabled, "log out everywhere").
    async fn revoke_subject(&self, subject: &str) -> crate::Result<()>;
}

/// Lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Lifetime of one token, in seconds (default 14 days).
    pub ttl_secs: u64,
    /// Lifetime of a family from login, in seconds (default 30 days).
    pub absolute_secs: u64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            ttl_secs: 14 * 24 * 3600,
            absolute_secs: 30 * 24 * 3600,
        }
    }
}

/// The result of a successful rotation.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The successor, to hand to the client.
    pub token: RefreshToken,
    /// Its record (subject, family, expiry).
    pub record: RefreshRecord,
}

/// Refresh-token logic over any [`RefreshStore`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RefreshTokens {
    pub policy: RefreshPolicy,
}

fn hash_token(token: &str) -> String {
    crate::hex::sha256(token.as_bytes())
}

fn random_b64(n: usize) -> Result<String, AuthError> {
    let mut bytes = vec![0u8; n];
    crate::auth::random_bytes(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn well_formed(token: &str) -> bool {
    token.len() <= MAX_TOKEN_LEN
        && token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl RefreshTokens {
    pub fn new(policy: RefreshPolicy) -> Self {
        Self { policy }
    }

    fn new_token(&self) -> Result<(RefreshToken, String), AuthError> {
        let token = format!("{TOKEN_PREFIX}{}", random_b64(32)?);
        let hash = hash_token(&token);
        Ok((RefreshToken(token), hash))
    }

    /// Starts a new family for `subject` (at login).
    pub async fn issue(
        &self,
        store: &dyn RefreshStore,
        subject: &str,
        now: u64,
    ) -> Result<(RefreshToken, RefreshRecord), AuthError> {
        let (token, token_hash) = self.new_token()?;
        let family_expires_at = now.saturating_add(self.policy.absolute_secs);
        let record = RefreshRecord {
            token_hash,
            family: FamilyId(random_b64(16)?),
            subject: subject.to_owned(),
            issued_at: now,
            expires_at: now
                .saturating_add(self.policy.ttl_secs)
                .min(family_expires_at),
            family_expires_at,
            state: RefreshState::Active,
        };
        store.insert(record.clone()).await?;
        Ok((token, record))
    }

    /// Uses `presented`: returns its successor, or
    /// `RefreshInvalid` (unknown or malformed), `RefreshExpired`,
    /// `RefreshRevoked`, or `ReuseDetected { family }` (the family is now
    /// revoked; audit it).
    pub async fn rotate(
        &self,
        store: &dyn RefreshStore,
        presented: &str,
        now: u64,
    ) -> Result<Rotated, AuthError> {
        if !well_formed(presented) {
            return Err(AuthError::RefreshInvalid);
        }
        let old_hash = hash_token(presented);
        let old = store
            .get(&old_hash)
            .await?
            .ok_or(AuthError::RefreshInvalid)?;
        match old.state {
            RefreshState::Revoked => return Err(AuthError::RefreshRevoked),
            RefreshState::Rotated => return Err(self.reuse(store, &old.family).await),
            RefreshState::Active => {}
        }
        if now >= old.expires_at || now >= old.family_expires_at {
            return Err(AuthError::RefreshExpired);
        }
        let (token, token_hash) = self.new_token()?;
        let record = RefreshRecord {
            token_hash,
            family: old.family.clone(),
            subject: old.subject.clone(),
            issued_at: now,
            expires_at: now
                .saturating_add(self.policy.ttl_secs)
                .min(old.family_expires_at),
            family_expires_at: old.family_expires_at,
            state: RefreshState::Active,
        };
        if store.rotate(&old_hash, record.clone()).await? {
            return Ok(Rotated { token, record });
        }
        // Somebody else changed the record between our read and our
        // rotation: either a concurrent use of the same token (reuse) or a
        // revocation.
        match store.get(&old_hash).await?.map(|r| r.state) {
            Some(RefreshState::Rotated) => Err(self.reuse(store, &old.family).await),
            Some(RefreshState::Revoked) => Err(AuthError::RefreshRevoked),
            _ => Err(AuthError::RefreshInvalid),
        }
    }

    async fn reuse(&self, store: &dyn RefreshStore, family: &FamilyId) -> AuthError {
        match store.revoke_family(family).await {
            Ok(()) => AuthError::ReuseDetected {
                family: family.0.clone(),
            },
            Err(e) => AuthError::Store(e),
        }
    }

    /// Logout: revokes the family of `presented` (whatever its state).
    /// Unknown tokens are `RefreshInvalid`.
    pub async fn revoke_token(
        &self,
        store: &dyn RefreshStore,
        presented: &str,
    ) -> Result<FamilyId, AuthError> {
        if !well_formed(presented) {
            return Err(AuthError::RefreshInvalid);
        }
        let rec = store
            .get(&hash_token(presented))
            .await?
            .ok_or(AuthError::RefreshInvalid)?;
        store.revoke_family(&rec.family).await?;
        Ok(rec.family)
    }
}

/// In-memory [`RefreshStore`] (one mutex, so every operation is atomic).
#[derive(Debug, Default)]
pub struct MemoryRefreshStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    tokens: HashMap<String, RefreshRecord>,
    families: HashMap<FamilyId, Family>,
}

#[derive(Debug)]
struct Family {
    subject: String,
    revoked: bool,
    hashes: Vec<String>,
    expires_at: u64,
}

impl MemoryRefreshStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops families whose absolute lifetime has passed.
    pub fn purge_expired(&self, now: u64) {
        let mut inner = self.inner.lock();
        let dead: Vec<FamilyId> = inner
            .families
            .iter()
            .filter(|(_, f)| f.expires_at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in dead {
            if let Some(f) = inner.families.remove(&id) {
                for h in f.hashes {
                    inner.tokens.remove(&h);
                }
            }
        }
    }

    /// Number of stored token records (for tests and metrics).
    pub fn len(&self) -> usize {
        self.inner.lock().tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl MemoryInner {
    fn revoke_family(&mut self, family: &FamilyId) {
        let Some(f) = self.families.get_mut(family) else {
            return;
        };
        f.revoked = true;
        for h in &f.hashes {
            if let Some(r) = self.tokens.get_mut(h) {
                r.state = RefreshState::Revoked;
            }
        }
    }
}

#[async_trait]
impl RefreshStore for MemoryRefreshStore {
    async fn insert(&self, record: RefreshRecord) -> crate::Result<()> {
        let mut inner = self.inner.lock();
        if inner.tokens.contains_key(&record.token_hash) {
            return Err(crate::Error::duplicate("refresh_token", "token_hash"));
        }
        let fam = inner
            .families
            .entry(record.family.clone())
            .or_insert_with(|| Family {
                subject: record.subject.clone(),
                revoked: false,
                hashes: Vec::new(),
                expires_at: record.family_expires_at,
            });
        fam.hashes.push(record.token_hash.clone());
        let mut record = record;
        if fam.revoked {
            record.state = RefreshState::Revoked;
        }
        inner.tokens.insert(record.token_hash.clone(), record);
        Ok(())
    }

    async fn get(&self, token_hash: &str) -> crate::Result<Option<RefreshRecord>> {
        Ok(self.inner.lock().tokens.get(token_hash).cloned())
    }

    async fn rotate(&self, old_hash: &str, new: RefreshRecord) -> crate::Result<bool> {
        let mut inner = self.inner.lock();
        let Some(old) = inner.tokens.get(old_hash) else {
            return Ok(false);
        };
        let family_revoked = inner.families.get(&old.family).is_none_or(|f| f.revoked);
        if old.state != RefreshState::Active || family_revoked || new.family != old.family {
            return Ok(false);
        }
        if inner.tokens.contains_key(&new.token_hash) {
            return Err(crate::Error::duplicate("refresh_token", "token_hash"));
        }
        if let Some(old) = inner.tokens.get_mut(old_hash) {
            old.state = RefreshState::Rotated;
        }
        if let Some(f) = inner.families.get_mut(&new.family) {
            f.hashes.push(new.token_hash.clone());
        }
        inner.tokens.insert(new.token_hash.clone(), new);
        Ok(true)
    }

    async fn revoke_family(&self, family: &FamilyId) -> crate::Result<()> {
        self.inner.lock().revoke_family(family);
        Ok(())
    }

    async fn revoke_subject(&self, subject: &str) -> crate::Result<()> {
        let mut inner = self.inner.lock();
        let ids: Vec<FamilyId> = inner
            .families
            .iter()
            .filter(|(_, f)| f.subject == subject)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ids {
            inner.revoke_family(id);
        }
        Ok(())
    }
}

/// A minimal executor for tests: the in-memory stores never wait, so
/// polling with a no-op waker until ready is enough (core has no runtime).
#[cfg(test)]
pub(crate) mod tests_support {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
        let mut fut = pin!(fut);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests;
