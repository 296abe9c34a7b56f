use std::collections::VecDeque;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::Result;
use crate::ports::{AuditEvent, AuditLog};

/// Keeps the newest `capacity` events.
#[derive(Debug)]
pub struct MemoryAuditLog {
    events: Mutex<VecDeque<AuditEvent>>,
    capacity: usize,
}

impl MemoryAuditLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            events: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
        }
    }
}

impl Default for MemoryAuditLog {
    fn default() -> Self {
        Self::new(100_000)
    }
}

#[async_trait]
impl AuditLog for MemoryAuditLog {
    async fn append(&self, event: AuditEvent) -> Result<()> {
        let mut events = self.events.lock();
        if events.len() == self.capacity {
            events.pop_front();
        }
        events.push_back(event);
        Ok(())
    }

    async fn recent(&self, actor: Option<&str>, limit: usize) -> Result<Vec<AuditEvent>> {
        let events = self.events.lock();
        Ok(events
            .iter()
            .rev()
            .filter(|e| actor.is_none_or(|a| e.actor == a))
            .take(limit)
            .cloned()
            .collect())
    }
}
