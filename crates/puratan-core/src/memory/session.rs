use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;

use super::Expiring;
use crate::Result;
use crate::domain::UserId;
use crate::ports::{Session, SessionStore};

#[derive(Debug, Default)]
pub struct MemorySessionStore {
    sessions: Mutex<HashMap<String, Expiring<Session>>>,
    denied: Mutex<HashMap<String, Expiring<()>>>,
    one_time: Mutex<HashMap<String, Expiring<String>>>,
}

impl MemorySessionStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn prune<T>(map: &mut HashMap<String, Expiring<T>>) {
    // Amortised: only sweep when the map has grown.
    if map.len() > 1024 && map.len().is_power_of_two() {
        let now = Instant::now();
        map.retain(|_, e| e.live(now));
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn put_session(&self, session: &Session, ttl: Duration) -> Result<()> {
        let mut s = self.sessions.lock();
        prune(&mut s);
        s.insert(session.id.clone(), Expiring::new(session.clone(), ttl));
        Ok(())
    }

    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        let now = Instant::now();
        Ok(self
            .sessions
            .lock()
            .get(id)
            .filter(|e| e.live(now))
            .map(|e| e.value.clone()))
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        self.sessions.lock().remove(id);
        Ok(())
    }

    async fn list_sessions(&self, user: UserId) -> Result<Vec<Session>> {
        let now = Instant::now();
        let mut out: Vec<Session> = self
            .sessions
            .lock()
            .values()
            .filter(|e| e.live(now) && e.value.user_id == user)
            .map(|e| e.value.clone())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn deny(&self, jti: &str, ttl: Duration) -> Result<()> {
        let mut d = self.denied.lock();
        prune(&mut d);
        d.insert(jti.to_owned(), Expiring::new((), ttl));
        Ok(())
    }

    async fn is_denied(&self, jti: &str) -> Result<bool> {
        let now = Instant::now();
        Ok(self.denied.lock().get(jti).is_some_and(|e| e.live(now)))
    }

    async fn put_one_time(&self, token: &str, value: &str, ttl: Duration) -> Result<()> {
        let mut o = self.one_time.lock();
        prune(&mut o);
        o.insert(token.to_owned(), Expiring::new(value.to_owned(), ttl));
        Ok(())
    }

    async fn take_one_time(&self, token: &str) -> Result<Option<String>> {
        let now = Instant::now();
        Ok(self
            .one_time
            .lock()
            .remove(token)
            .filter(|e| e.live(now))
            .map(|e| e.value))
    }
}
