use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::domain::UserId;

/// A logged-in device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub user_id: UserId,
    pub device: String,
    pub ip: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// Short-lived security state: sessions, the JWT denylist and one-time
/// tokens (e-mail verification, password reset, 2FA challenge, WebSocket
/// tickets). Everything here expires on its own.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    async fn put_session(&self, session: &Session, ttl: Duration) -> Result<()>;
    async fn get_session(&self, id: &str) -> Result<Option<Session>>;
    async fn delete_session(&self, id: &str) -> Result<()>;
    async fn list_sessions(&self, user: UserId) -> Result<Vec<Session>>;

    /// Denies a token id until `ttl` (its remaining lifetime) has passed.
    async fn deny(&self, jti: &str, ttl: Duration) -> Result<()>;
    async fn is_denied(&self, jti: &str) -> Result<bool>;
    /// Whether any of `ids` is denied (one round trip where the backend
    /// allows it: a token's `jti` and its session are checked together on
    /// every authenticated request).
    async fn any_denied(&self, ids: &[&str]) -> Result<bool> {
        for id in ids {
            if self.is_denied(id).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Stores a one-time token; `take_one_time` returns its value at most
    /// once, atomically, even under concurrent callers.
    async fn put_one_time(&self, token: &str, value: &str, ttl: Duration) -> Result<()>;
    async fn take_one_time(&self, token: &str) -> Result<Option<String>>;
}
