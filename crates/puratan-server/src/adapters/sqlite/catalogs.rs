use async_trait::async_trait;
use chrono::{DateTime, Utc};
use puratan_core::ports::{CatalogRepo, CatalogSummary, CatalogVersion};
use puratan_core::{Error, Result};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, map};

const E: &str = "catalog version";

#[derive(Debug)]
pub(super) struct SqliteCatalogs(pub(super) SqliteStore);

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[async_trait]
impl CatalogRepo for SqliteCatalogs {
    async fn put(&self, version: &str, document: &str) -> Result<()> {
        let (version, document) = (version.to_owned(), document.to_owned());
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                let existing: Option<String> = tx
                    .query_row(
                        "SELECT document FROM catalogs WHERE version = ?1",
                        [&version],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(|e| map(E, e))?;
                match existing {
                    Some(doc) if doc == document => return Ok(()),
                    Some(_) => return Err(Error::duplicate("catalog", "version")),
                    None => {}
                }
                tx.execute(
                    "INSERT INTO catalogs (version, document, created_ms) VALUES (?1, ?2, ?3)",
                    params![version, document, Utc::now().timestamp_millis()],
                )
                .map_err(|e| map(E, e))?;
                tx.commit().map_err(|e| map(E, e))
            })
            .await
    }

    async fn get(&self, version: &str) -> Result<CatalogVersion> {
        let version = version.to_owned();
        self.0
            .read(move |c| {
                c.query_row(
                    "SELECT version, document, created_ms FROM catalogs WHERE version = ?1",
                    [&version],
                    |r| {
                        Ok(CatalogVersion {
                            version: r.get(0)?,
                            document: r.get(1)?,
                            created_at: at(r.get(2)?),
                        })
                    },
                )
                .optional()
                .map_err(|e| map(E, e))?
                .ok_or(Error::NotFound { entity: E })
            })
            .await
    }

    async fn list(&self, limit: usize) -> Result<Vec<CatalogSummary>> {
        let limit = i64::try_from(limit.min(10_000)).unwrap_or(100);
        self.0
            .read(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT c.version, c.created_ms, a.version IS NOT NULL FROM catalogs c
                         LEFT JOIN catalog_active a ON a.version = c.version
                         ORDER BY c.created_ms DESC, c.version DESC LIMIT ?1",
                    )
                    .map_err(|e| map(E, e))?;
                let rows = stmt
                    .query_map([limit], |r| {
                        Ok(CatalogSummary {
                            version: r.get(0)?,
                            created_at: at(r.get(1)?),
                            active: r.get(2)?,
                        })
                    })
                    .map_err(|e| map(E, e))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(|e| map(E, e))
            })
            .await
    }

    async fn activate(&self, version: &str) -> Result<()> {
        let version = version.to_owned();
        self.0
            .write(move |c| {
                let exists = c
                    .query_row(
                        "SELECT 1 FROM catalogs WHERE version = ?1",
                        [&version],
                        |_| Ok(()),
                    )
                    .optional()
                    .map_err(|e| map(E, e))?;
                if exists.is_none() {
                    return Err(Error::NotFound { entity: E });
                }
                c.execute(
                    "INSERT INTO catalog_active (id, version) VALUES (1, ?1)
                     ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                    [&version],
                )
                .map_err(|e| map(E, e))?;
                Ok(())
            })
            .await
    }

    async fn active(&self) -> Result<Option<CatalogVersion>> {
        self.0
            .read(move |c| {
                c.query_row(
                    "SELECT c.version, c.document, c.created_ms FROM catalog_active a
                     JOIN catalogs c ON c.version = a.version WHERE a.id = 1",
                    [],
                    |r| {
                        Ok(CatalogVersion {
                            version: r.get(0)?,
                            document: r.get(1)?,
                            created_at: at(r.get(2)?),
                        })
                    },
                )
                .optional()
                .map_err(|e| map(E, e))
            })
            .await
    }
}
