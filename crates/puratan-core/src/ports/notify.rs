use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::domain::Email;

/// Why a message is sent; lets a transport pick a template and lets tests
/// find the message they wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    VerifyEmail,
    PasswordReset,
    /// Sent instead of a reset link when nobody has that address, so the
    /// response (and its timing) reveals nothing.
    PasswordResetUnknown,
    SecurityAlert,
    StaffMessage,
    OrderUpdate,
}

/// One message to one recipient. `token` carries the secret of a link
/// (verification, reset) separately from the human text so transports can
/// build links and tests need not scrape text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub to: Email,
    pub kind: NotificationKind,
    pub subject: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Outgoing messages (e-mail in production). Delivery is best effort from
/// the caller's point of view: a failure is reported, never retried here.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    async fn send(&self, message: Notification) -> Result<()>;
}
