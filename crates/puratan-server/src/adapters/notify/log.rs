use async_trait::async_trait;
use puratan_core::Result;
use puratan_core::ports::{Notification, Notifier};

/// Logs each message's recipient, kind and subject — never its link token
/// or body (they may carry secrets into log storage).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn send(&self, m: Notification) -> Result<()> {
        tracing::info!(target: "notify", to = %m.to, kind = ?m.kind, subject = %m.subject, "notification (log backend: not delivered)");
        Ok(())
    }
}
