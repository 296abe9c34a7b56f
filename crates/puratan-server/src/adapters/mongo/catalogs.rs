//! [`CatalogRepo`] on the `catalogs` collection (one immutable document per
//! version, `_id` = version) plus the active pointer in `settings`.

use async_trait::async_trait;
use futures::TryStreamExt as _;
use mongodb::Collection;
use mongodb::bson::{DateTime, Document, doc};
use puratan_core::ports::{CatalogRepo, CatalogSummary, CatalogVersion};
use puratan_core::{ConflictReason, Error, Result};

use super::error::{corrupt, mapper};

const ENTITY: &str = "catalog version";
const ACTIVE_ID: &str = "active_catalog";

#[derive(Debug, Clone)]
pub struct MongoCatalogRepo {
    catalogs: Collection<Document>,
    settings: Collection<Document>,
}

impl MongoCatalogRepo {
    pub(crate) fn new(catalogs: Collection<Document>, settings: Collection<Document>) -> Self {
        Self { catalogs, settings }
    }
}

fn to_version(d: &Document) -> Result<CatalogVersion> {
    Ok(CatalogVersion {
        version: d
            .get_str("_id")
            .map_err(|_| corrupt(ENTITY, "_id"))?
            .to_owned(),
        document: d
            .get_str("document")
            .map_err(|_| corrupt(ENTITY, "document"))?
            .to_owned(),
        created_at: chrono::DateTime::from_timestamp_millis(
            d.get_datetime("created_at")
                .map_err(|_| corrupt(ENTITY, "created_at"))?
                .timestamp_millis(),
        )
        .unwrap_or_default(),
    })
}

#[async_trait]
impl CatalogRepo for MongoCatalogRepo {
    async fn put(&self, version: &str, document: &str) -> Result<()> {
        let d = doc! { "_id": version, "document": document, "created_at": DateTime::now() };
        match self.catalogs.insert_one(d).await.map_err(mapper(ENTITY)) {
            Ok(_) => Ok(()),
            Err(Error::Conflict {
                reason: ConflictReason::Duplicate { .. },
                ..
            }) => {
                let existing = self.get(version).await?;
                if existing.document == document {
                    Ok(())
                } else {
                    Err(Error::duplicate("catalog", "version"))
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn get(&self, version: &str) -> Result<CatalogVersion> {
        let found = self
            .catalogs
            .find_one(doc! { "_id": version })
            .await
            .map_err(mapper(ENTITY))?;
        to_version(&found.ok_or(Error::NotFound { entity: ENTITY })?)
    }

    async fn list(&self, limit: usize) -> Result<Vec<CatalogSummary>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let active = self.active_version().await?;
        let docs: Vec<Document> = self
            .catalogs
            .find(doc! {})
            .sort(doc! { "created_at": -1, "_id": -1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .projection(doc! { "_id": 1, "created_at": 1 })
            .await
            .map_err(mapper(ENTITY))?
            .try_collect()
            .await
            .map_err(mapper(ENTITY))?;
        docs.iter()
            .map(|d| {
                let version = d
                    .get_str("_id")
                    .map_err(|_| corrupt(ENTITY, "_id"))?
                    .to_owned();
                Ok(CatalogSummary {
                    active: active.as_deref() == Some(version.as_str()),
                    created_at: chrono::DateTime::from_timestamp_millis(
                        d.get_datetime("created_at")
                            .map_err(|_| corrupt(ENTITY, "created_at"))?
                            .timestamp_millis(),
                    )
                    .unwrap_or_default(),
                    version,
                })
            })
            .collect()
    }

    async fn activate(&self, version: &str) -> Result<()> {
        let exists = self
            .catalogs
            .find_one(doc! { "_id": version })
            .projection(doc! { "_id": 1 })
            .await;
        if exists.map_err(mapper(ENTITY))?.is_none() {
            return Err(Error::NotFound { entity: ENTITY });
        }
        self.settings
            .update_one(
                doc! { "_id": ACTIVE_ID },
                doc! { "$set": { "version": version } },
            )
            .upsert(true)
            .await
            .map_err(mapper(ENTITY))?;
        Ok(())
    }

    async fn active(&self) -> Result<Option<CatalogVersion>> {
        match self.active_version().await? {
            Some(v) => self.get(&v).await.map(Some),
            None => Ok(None),
        }
    }
}

impl MongoCatalogRepo {
    async fn active_version(&self) -> Result<Option<String>> {
        let d = self
            .settings
            .find_one(doc! { "_id": ACTIVE_ID })
            .await
            .map_err(mapper(ENTITY))?;
        Ok(d.and_then(|d| d.get_str("version").ok().map(str::to_owned)))
    }
}
