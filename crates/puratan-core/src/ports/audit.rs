use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Result;

/// A security-relevant fact: who did what to what, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    /// User id, `system`, or `anonymous`.
    pub actor: String,
    /// Dotted action name: `catalog.imported`, `auth.login_failed`.
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    #[serde(default)]
    pub details: serde_json::Value,
}

/// Append-only log of [`AuditEvent`]s.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    async fn append(&self, event: AuditEvent) -> Result<()>;
    /// The newest `limit` events, newest first, optionally for one actor.
    async fn recent(&self, actor: Option<&str>, limit: usize) -> Result<Vec<AuditEvent>>;
}
