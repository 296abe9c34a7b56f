use async_trait::async_trait;
use parking_lot::Mutex;

use crate::Result;
use crate::ports::{Notification, NotificationKind, Notifier};

/// Keeps every message (bounded to the newest 10 000) so tests and a
/// development server can read what would have been mailed.
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    sent: Mutex<Vec<Notification>>,
}

const KEEP: usize = 10_000;

impl MemoryNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every kept message, oldest first.
    pub fn sent(&self) -> Vec<Notification> {
        self.sent.lock().clone()
    }

    /// The newest message of `kind` to `to` (case-insensitive address).
    pub fn last_to(&self, to: &str, kind: NotificationKind) -> Option<Notification> {
        let to = to.trim().to_lowercase();
        self.sent
            .lock()
            .iter()
            .rev()
            .find(|n| n.kind == kind && n.to.as_str() == to)
            .cloned()
    }
}

#[async_trait]
impl Notifier for MemoryNotifier {
    async fn send(&self, message: Notification) -> Result<()> {
        let mut sent = self.sent.lock();
        if sent.len() >= KEEP {
            sent.remove(0);
        }
        sent.push(message);
        Ok(())
    }
}
