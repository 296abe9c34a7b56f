use std::collections::HashMap;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::domain::UserId;
use crate::ports::{FileRecord, FileRepo, FileStatus, Page, PageRequest};
use crate::{Error, Result};

const E: &str = "file";

/// In-memory [`FileRepo`] (tests, the single-process default).
#[derive(Debug, Default)]
pub struct MemoryFileRepo {
    rows: Mutex<HashMap<String, FileRecord>>,
}

impl MemoryFileRepo {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl FileRepo for MemoryFileRepo {
    async fn insert(&self, mut file: FileRecord) -> Result<FileRecord> {
        let mut rows = self.rows.lock();
        if rows.contains_key(&file.id) {
            return Err(Error::duplicate(E, "id"));
        }
        file.version = 1;
        rows.insert(file.id.clone(), file.clone());
        Ok(file)
    }

    async fn get(&self, id: &str) -> Result<FileRecord> {
        self.rows
            .lock()
            .get(id)
            .cloned()
            .ok_or(Error::NotFound { entity: E })
    }

    async fn update(&self, mut file: FileRecord) -> Result<FileRecord> {
        let mut rows = self.rows.lock();
        let Some(cur) = rows.get_mut(&file.id) else {
            return Err(Error::NotFound { entity: E });
        };
        if cur.version != file.version {
            return Err(Error::stale(E));
        }
        file.version += 1;
        *cur = file.clone();
        Ok(file)
    }

    async fn list_by_owner(&self, owner: UserId, page: &PageRequest) -> Result<Page<FileRecord>> {
        let before: Option<String> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let rows = self.rows.lock();
        let mut items: Vec<&FileRecord> = rows
            .values()
            .filter(|f| f.owner == owner && before.as_ref().is_none_or(|b| &f.id < b))
            .collect();
        items.sort_by(|a, b| b.id.cmp(&a.id));
        let items = items.into_iter().take(page.size() + 1).cloned().collect();
        Ok(Page::from_overfetch(items, page.size(), |f| f.id.clone()))
    }

    async fn pending_scan(&self, limit: usize) -> Result<Vec<FileRecord>> {
        let rows = self.rows.lock();
        let mut items: Vec<FileRecord> = rows
            .values()
            .filter(|f| f.status == FileStatus::PendingScan)
            .cloned()
            .collect();
        items.sort_by(|a, b| a.id.cmp(&b.id));
        items.truncate(limit);
        Ok(items)
    }
}
