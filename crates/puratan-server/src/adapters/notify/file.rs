use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use puratan_core::ports::{Notification, Notifier};
use puratan_core::{Error, Result};

/// Appends one JSON object per message to `{dir}/outbox.jsonl` (a mail
/// relay, or a test in another process, reads it). The file holds link
/// tokens: keep the directory private.
#[derive(Debug, Clone)]
pub struct FileNotifier {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
}

impl FileNotifier {
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            path: dir.join("outbox.jsonl"),
            lock: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl Notifier for FileNotifier {
    async fn send(&self, m: Notification) -> Result<()> {
        let mut line = serde_json::to_vec(&m).map_err(|e| Error::backend("notify-file", e))?;
        line.push(b'\n');
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _guard = this.lock.lock();
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&this.path)
                .and_then(|mut f| f.write_all(&line))
                .map_err(|e| Error::backend("notify-file", e))
        })
        .await
        .map_err(|e| Error::backend("notify-file", e))?
    }
}
