//! The rendered `GET /api/v1/me` view, cached per user (cache-aside), and
//! the [`UserRepo`] decorator that evicts it on every write — whichever
//! front door (HTTP flow, admin route, CLI on a shared cache) made the
//! write.
//!
//! Only the profile *view* is cached. Security decisions (login, refresh,
//! 2FA, roles in tokens) always read the repository. A read that raced a
//! write can re-cache the old view; the TTL bounds that staleness.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use puratan_core::Result;
use puratan_core::domain::{Email, User, UserId};
use puratan_core::ports::{Cache, Page, PageRequest, UserRepo};

/// How long a cached profile view may live.
pub const TTL: Duration = Duration::from_secs(60);

pub fn key(id: UserId) -> String {
    format!("me:{id}")
}

/// Evicts the cached view after every successful write.
pub struct EvictingUsers {
    inner: Arc<dyn UserRepo>,
    cache: Arc<dyn Cache>,
}

impl std::fmt::Debug for EvictingUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvictingUsers").finish_non_exhaustive()
    }
}

impl EvictingUsers {
    pub fn wrap(inner: Arc<dyn UserRepo>, cache: Arc<dyn Cache>) -> Arc<dyn UserRepo> {
        Arc::new(Self { inner, cache })
    }

    async fn evict(&self, id: UserId) {
        if let Err(e) = self.cache.delete(&key(id)).await {
            tracing::warn!(error = %e, "could not evict a cached profile; it expires on its own");
        }
    }
}

#[async_trait]
impl UserRepo for EvictingUsers {
    async fn insert(&self, user: User) -> Result<User> {
        let u = self.inner.insert(user).await?;
        self.evict(u.id).await;
        Ok(u)
    }
    async fn get(&self, id: UserId) -> Result<User> {
        self.inner.get(id).await
    }
    async fn get_by_email(&self, email: &Email) -> Result<User> {
        self.inner.get_by_email(email).await
    }
    async fn get_by_identity(&self, issuer: &str, subject: &str) -> Result<User> {
        self.inner.get_by_identity(issuer, subject).await
    }
    async fn update(&self, user: User) -> Result<User> {
        let u = self.inner.update(user).await?;
        self.evict(u.id).await;
        Ok(u)
    }
    async fn list(&self, page: &PageRequest) -> Result<Page<User>> {
        self.inner.list(page).await
    }
}

/// The cached view, if any (a cache outage is a miss).
pub async fn get(cache: &dyn Cache, id: UserId) -> Option<Bytes> {
    cache.get(&key(id)).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cache unavailable; reading the profile through");
        None
    })
}

pub async fn put(cache: &dyn Cache, id: UserId, body: Bytes) {
    if let Err(e) = cache.set(&key(id), body, TTL).await {
        tracing::warn!(error = %e, "cache unavailable; profile not cached");
    }
}
