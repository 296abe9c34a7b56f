//! The embedded [`SessionStore`]: sessions, the JWT denylist and one-time
//! tokens survive a restart (a logged-out token must not come back to
//! life), while reads stay in memory.
//!
//! The embedded backend is single-process by construction (one SQLite
//! file), so an in-memory copy is authoritative for reads: every write goes
//! to SQLite first, then to memory; [`SqliteSessions::open`] loads the
//! unexpired rows. `take_one_time` is atomic because the memory map's lock
//! decides the winner before the row is deleted.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use puratan_core::Result;
use puratan_core::domain::UserId;
use puratan_core::memory::MemorySessionStore;
use puratan_core::ports::{Session, SessionStore};
use rusqlite::params;

use super::{SqliteStore, decode, encode, map};

const E: &str = "security_state";
const SESSION: &str = "session";
const DENIED: &str = "denied";
const ONE_TIME: &str = "one_time";

#[derive(Debug)]
pub struct SqliteSessions {
    db: SqliteStore,
    mem: MemorySessionStore,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn expiry(ttl: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

impl SqliteSessions {
    /// Loads every unexpired entry (and drops expired ones).
    pub async fn open(db: SqliteStore) -> Result<Self> {
        let rows: Vec<(String, String, String, i64)> = db
            .write(|c| {
                let now = now_ms();
                c.execute("DELETE FROM security_state WHERE expires_ms <= ?1", [now])
                    .map_err(|e| map(E, e))?;
                let mut stmt = c
                    .prepare("SELECT kind, key, value, expires_ms FROM security_state")
                    .map_err(|e| map(E, e))?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .map_err(|e| map(E, e))?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(|e| map(E, e))?;
                Ok(rows)
            })
            .await?;
        let mem = MemorySessionStore::new();
        let now = now_ms();
        for (kind, key, value, expires) in rows {
            let ttl = Duration::from_millis(u64::try_from(expires - now).unwrap_or(0));
            match kind.as_str() {
                SESSION => mem.put_session(&decode::<Session>(&value)?, ttl).await?,
                DENIED => mem.deny(&key, ttl).await?,
                ONE_TIME => mem.put_one_time(&key, &value, ttl).await?,
                _ => {}
            }
        }
        Ok(Self { db, mem })
    }

    async fn put(&self, kind: &'static str, key: &str, value: String, ttl: Duration) -> Result<()> {
        let key = key.to_owned();
        let expires = expiry(ttl);
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO security_state (kind, key, value, expires_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms",
                    params![kind, key, value, expires],
                )
                .map_err(|e| map(E, e))?;
                Ok(())
            })
            .await
    }

    async fn delete(&self, kind: &'static str, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.db
            .write(move |c| {
                c.execute(
                    "DELETE FROM security_state WHERE kind = ?1 AND key = ?2",
                    params![kind, key],
                )
                .map_err(|e| map(E, e))?;
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl SessionStore for SqliteSessions {
    async fn put_session(&self, session: &Session, ttl: Duration) -> Result<()> {
        self.put(SESSION, &session.id, encode(session)?, ttl)
            .await?;
        self.mem.put_session(session, ttl).await
    }

    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        self.mem.get_session(id).await
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        self.delete(SESSION, id).await?;
        self.mem.delete_session(id).await
    }

    async fn list_sessions(&self, user: UserId) -> Result<Vec<Session>> {
        self.mem.list_sessions(user).await
    }

    async fn deny(&self, jti: &str, ttl: Duration) -> Result<()> {
        self.put(DENIED, jti, String::new(), ttl).await?;
        self.mem.deny(jti, ttl).await
    }

    async fn is_denied(&self, jti: &str) -> Result<bool> {
        self.mem.is_denied(jti).await
    }

    async fn put_one_time(&self, token: &str, value: &str, ttl: Duration) -> Result<()> {
        self.put(ONE_TIME, token, value.to_owned(), ttl).await?;
        self.mem.put_one_time(token, value, ttl).await
    }

    async fn take_one_time(&self, token: &str) -> Result<Option<String>> {
        let taken = self.mem.take_one_time(token).await?;
        if taken.is_some() {
            self.delete(ONE_TIME, token).await?;
        }
        Ok(taken)
    }
}
