use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::Utc;
use parking_lot::Mutex;

use crate::ports::{CatalogRepo, CatalogSummary, CatalogVersion};
use crate::{Error, Result};

#[derive(Debug, Default)]
pub struct MemoryCatalogRepo {
    state: Mutex<(BTreeMap<String, CatalogVersion>, Option<String>)>,
}

impl MemoryCatalogRepo {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl CatalogRepo for MemoryCatalogRepo {
    async fn put(&self, version: &str, document: &str) -> Result<()> {
        let mut state = self.state.lock();
        match state.0.get(version) {
            Some(existing) if existing.document == document => Ok(()),
            Some(_) => Err(Error::duplicate("catalog", "version")),
            None => {
                let v = CatalogVersion {
                    version: version.to_owned(),
                    document: document.to_owned(),
                    created_at: Utc::now(),
                };
                state.0.insert(version.to_owned(), v);
                Ok(())
            }
        }
    }

    async fn get(&self, version: &str) -> Result<CatalogVersion> {
        self.state
            .lock()
            .0
            .get(version)
            .cloned()
            .ok_or(Error::NotFound {
                entity: "catalog version",
            })
    }

    async fn list(&self, limit: usize) -> Result<Vec<CatalogSummary>> {
        let state = self.state.lock();
        let mut all: Vec<CatalogSummary> = state
            .0
            .values()
            .map(|v| CatalogSummary {
                version: v.version.clone(),
                created_at: v.created_at,
                active: state.1.as_deref() == Some(v.version.as_str()),
            })
            .collect();
        all.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.version.cmp(&a.version))
        });
        all.truncate(limit);
        Ok(all)
    }

    async fn activate(&self, version: &str) -> Result<()> {
        let mut state = self.state.lock();
        if !state.0.contains_key(version) {
            return Err(Error::NotFound {
                entity: "catalog version",
            });
        }
        state.1 = Some(version.to_owned());
        Ok(())
    }

    async fn active(&self) -> Result<Option<CatalogVersion>> {
        let state = self.state.lock();
        Ok(state.1.as_ref().and_then(|v| state.0.get(v)).cloned())
    }
}
