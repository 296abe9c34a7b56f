use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use uuid::Uuid;

use crate::domain::UserId;
use crate::ports::{InAppNotification, InboxRepo, Page, PageRequest, check_processed_key};
use crate::{Error, Result};

/// [`InboxRepo`] in maps behind one lock: the processed check, the
/// processed record and the notification happen under that lock, so a
/// delivery is atomic and two racing deliveries store one notification.
#[derive(Debug, Default)]
pub struct MemoryInboxRepo {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    processed: HashSet<(String, String)>,
    /// Keyed by (user, id): a user's notifications are one range.
    items: BTreeMap<(UserId, Uuid), InAppNotification>,
}

impl MemoryInboxRepo {
    pub fn new() -> Self {
        Self::default()
    }
}

const E: &str = "notification";

#[async_trait]
impl InboxRepo for MemoryInboxRepo {
    async fn deliver(
        &self,
        message_id: &str,
        consumer: &str,
        notification: InAppNotification,
    ) -> Result<bool> {
        check_processed_key(consumer, message_id)?;
        let mut s = self.state.lock();
        let key = (consumer.to_owned(), message_id.to_owned());
        if s.processed.contains(&key) {
            return Ok(false);
        }
        let id = (notification.user_id, notification.id);
        if s.items.contains_key(&id) {
            return Err(Error::duplicate(E, "id"));
        }
        s.processed.insert(key);
        s.items.insert(id, notification);
        Ok(true)
    }

    async fn mark_processed(&self, message_id: &str, consumer: &str) -> Result<bool> {
        check_processed_key(consumer, message_id)?;
        Ok(self
            .state
            .lock()
            .processed
            .insert((consumer.to_owned(), message_id.to_owned())))
    }

    async fn processed(&self, consumer: &str, message_id: &str) -> Result<bool> {
        Ok(self
            .state
            .lock()
            .processed
            .contains(&(consumer.to_owned(), message_id.to_owned())))
    }

    async fn list(&self, user: UserId, page: &PageRequest) -> Result<Page<InAppNotification>> {
        let before: Option<Uuid> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let size = page.size();
        let s = self.state.lock();
        let upper = before.unwrap_or(Uuid::max());
        let items: Vec<InAppNotification> = s
            .items
            .range((user, Uuid::nil())..=(user, upper))
            .rev()
            .filter(|((_, id), _)| before.is_none_or(|b| *id < b))
            .take(size + 1)
            .map(|(_, n)| n.clone())
            .collect();
        Ok(Page::from_overfetch(items, size, |n| n.id))
    }

    async fn mark_read(
        &self,
        user: UserId,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<InAppNotification> {
        let mut s = self.state.lock();
        let n = s
            .items
            .get_mut(&(user, id))
            .ok_or(Error::NotFound { entity: E })?;
        if n.read_at.is_none() {
            n.read_at = Some(at);
        }
        Ok(n.clone())
    }

    async fn unread_count(&self, user: UserId) -> Result<u64> {
        let s = self.state.lock();
        let n = s
            .items
            .range((user, Uuid::nil())..=(user, Uuid::max()))
            .filter(|(_, n)| n.read_at.is_none())
            .count();
        Ok(n as u64)
    }
}
