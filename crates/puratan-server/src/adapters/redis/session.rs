//! [`SessionStore`] on Redis.
//!
//! * a session is JSON at `{prefix}:session:{id}` with a `PX` TTL;
//! * `{prefix}:user-sessions:{user}` is a ZSET of that user's session ids
//!   scored by expiry (ms since the epoch), so listing needs no `SCAN`. The
//!   index expires with its longest-lived member; `list_sessions` prunes
//!   expired members and returns only sessions whose key still exists, so
//!   the session key is the single source of truth;
//! * the JWT denylist is `SET {prefix}:deny:{jti} 1 PX ttl` / `EXISTS`;
//! * one-time tokens are `SET {prefix}:one-time:{token} value PX ttl`, taken
//!   with `GETDEL`, which is atomic: exactly one concurrent taker wins.
//!
//! Index scores use this process's clock; replicas whose clocks differ by
//! a few seconds can at worst hide a session from the *listing* during its
//! last seconds of life (it still authenticates: `get_session` reads the key).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use puratan_core::domain::UserId;
use puratan_core::ports::{Session, SessionStore};
use puratan_core::{Error, Result};

use super::{Shared, error, px};

pub(crate) struct RedisSessionStore {
    shared: Shared,
}

impl RedisSessionStore {
    pub(crate) fn new(shared: Shared) -> Self {
        Self { shared }
    }

    fn session_key(&self, id: &str) -> String {
        self.shared.key("session", id)
    }

    fn index_key(&self, user: UserId) -> String {
        self.shared.key("user-sessions", &user.to_string())
    }
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.shared.prefix)
            .finish()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn decode(bytes: &[u8]) -> Result<Session> {
    serde_json::from_slice(bytes).map_err(|e| error::corrupt("session", e))
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn put_session(&self, session: &Session, ttl: Duration) -> Result<()> {
        let Some(ms) = px(ttl) else {
            return self.delete_session(&session.id).await;
        };
        let json = serde_json::to_vec(session).map_err(|e| Error::backend(error::BACKEND, e))?;
        let index = self.index_key(session.user_id);
        let now = now_ms();
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.session_key(&session.id))
            .arg(json)
            .arg("PX")
            .arg(ms)
            .ignore()
            .cmd("ZADD")
            .arg(&index)
            .arg(now.saturating_add(ms))
            .arg(&session.id)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&index)
            .arg("-inf")
            .arg(now)
            .ignore()
            // The index lives as long as its longest-lived member: NX sets a
            // TTL on a fresh index, GT only ever extends it (Redis >= 7.0).
            .cmd("PEXPIRE")
            .arg(&index)
            .arg(ms)
            .arg("NX")
            .ignore()
            .cmd("PEXPIRE")
            .arg(&index)
            .arg(ms)
            .arg("GT")
            .ignore()
            .query_async::<()>(&mut self.shared.conn())
            .await
            .map_err(error::map)
    }

    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        let raw: Option<Vec<u8>> = redis::cmd("GET")
            .arg(self.session_key(id))
            .query_async(&mut self.shared.conn())
            .await
            .map_err(error::map)?;
        raw.as_deref().map(decode).transpose()
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        let mut conn = self.shared.conn();
        let raw: Option<Vec<u8>> = redis::cmd("GETDEL")
            .arg(self.session_key(id))
            .query_async(&mut conn)
            .await
            .map_err(error::map)?;
        // Without a readable session we cannot know its index; listing
        // drops members whose key is gone, so that is only untidy.
        if let Some(session) = raw.as_deref().and_then(|b| decode(b).ok()) {
            redis::cmd("ZREM")
                .arg(self.index_key(session.user_id))
                .arg(id)
                .query_async::<()>(&mut conn)
                .await
                .map_err(error::map)?;
        }
        Ok(())
    }

    async fn list_sessions(&self, user: UserId) -> Result<Vec<Session>> {
        let mut conn = self.shared.conn();
        let index = self.index_key(user);
        let (ids,): (Vec<String>,) = redis::pipe()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&index)
            .arg("-inf")
            .arg(now_ms())
            .ignore()
            .cmd("ZRANGE")
            .arg(&index)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(error::map)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.session_key(id)).collect();
        let raws: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .map_err(error::map)?;
        let mut gone = Vec::new();
        let mut out = Vec::with_capacity(ids.len());
        for (id, raw) in ids.iter().zip(raws) {
            match raw {
                Some(bytes) => {
                    let session = decode(&bytes)?;
                    if session.user_id == user {
                        out.push(session);
                    }
                }
                None => gone.push(id.as_str()),
            }
        }
        if !gone.is_empty() {
            // Deleted or expired before its score said so: tidy the index.
            redis::cmd("ZREM")
                .arg(&index)
                .arg(&gone)
                .query_async::<()>(&mut conn)
                .await
                .map_err(error::map)?;
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn deny(&self, jti: &str, ttl: Duration) -> Result<()> {
        // A token past its lifetime needs no denial.
        let Some(ms) = px(ttl) else { return Ok(()) };
        redis::cmd("SET")
            .arg(self.shared.key("deny", jti))
            .arg(1)
            .arg("PX")
            .arg(ms)
            .query_async::<()>(&mut self.shared.conn())
            .await
            .map_err(error::map)
    }

    async fn is_denied(&self, jti: &str) -> Result<bool> {
        redis::cmd("EXISTS")
            .arg(self.shared.key("deny", jti))
            .query_async(&mut self.shared.conn())
            .await
            .map_err(error::map)
    }

    /// One `EXISTS k1 k2 …` round trip (it counts the keys that exist).
    async fn any_denied(&self, ids: &[&str]) -> Result<bool> {
        if ids.is_empty() {
            return Ok(false);
        }
        let mut cmd = redis::cmd("EXISTS");
        for id in ids {
            cmd.arg(self.shared.key("deny", id));
        }
        let n: u64 = cmd
            .query_async(&mut self.shared.conn())
            .await
            .map_err(error::map)?;
        Ok(n > 0)
    }

    async fn put_one_time(&self, token: &str, value: &str, ttl: Duration) -> Result<()> {
        let mut conn = self.shared.conn();
        let key = self.shared.key("one-time", token);
        match px(ttl) {
            Some(ms) => {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(ms)
                    .query_async::<()>(&mut conn)
                    .await
            }
            None => {
                redis::cmd("DEL")
                    .arg(key)
                    .query_async::<()>(&mut conn)
                    .await
            }
        }
        .map_err(error::map)
    }

    async fn take_one_time(&self, token: &str) -> Result<Option<String>> {
        redis::cmd("GETDEL")
            .arg(self.shared.key("one-time", token))
            .query_async(&mut self.shared.conn())
            .await
            .map_err(error::map)
    }
}
