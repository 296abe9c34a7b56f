//! Outgoing messages ([`Notifier`] port): a log line (development
//! default), a JSON-lines outbox file (staging, tests across processes),
//! e-mail through an SMTP relay ([`SmtpNotifier`], `lettre`), or memory.
//! Configuration is `[notify]` (`crate::auth::config`).

mod file;
mod log;
mod smtp;

use std::sync::Arc;

use puratan_core::memory::MemoryNotifier;
use puratan_core::ports::Notifier;

pub use file::FileNotifier;
pub use log::LogNotifier;
pub use smtp::SmtpNotifier;

use crate::auth::config::{NotifyBackend, NotifyConfig};

/// The notifier, plus the in-memory outbox when that is the backend.
pub type Built = (Arc<dyn Notifier>, Option<Arc<MemoryNotifier>>);

/// The configured notifier. `Memory` also returns the concrete store so a
/// test or demo can read what was sent.
pub fn build(config: &NotifyConfig) -> anyhow::Result<Built> {
    Ok(match config.backend {
        NotifyBackend::Log => (Arc::new(LogNotifier), None),
        NotifyBackend::Memory => {
            let m = Arc::new(MemoryNotifier::new());
            (m.clone(), Some(m))
        }
        NotifyBackend::File => {
            let dir = config
                .dir
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("invalid configuration: notify.dir is required"))?;
            (Arc::new(FileNotifier::open(dir)?), None)
        }
        NotifyBackend::Smtp => {
            let smtp = config.smtp.as_ref().ok_or_else(|| {
                anyhow::anyhow!(
                    "invalid configuration: notify.backend = \"smtp\" needs a [notify.smtp] section"
                )
            })?;
            (Arc::new(SmtpNotifier::new(smtp)?), None)
        }
    })
}
