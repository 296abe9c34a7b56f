//! [`FileRepo`] on SQLite: one row per file record, the record as JSON in
//! `doc`, owner/status/version as columns for the queries.

use async_trait::async_trait;
use puratan_core::domain::UserId;
use puratan_core::ports::{FileRecord, FileRepo, Page, PageRequest};
use puratan_core::{Error, Result};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, decode, encode, map, stale_or_missing};

const E: &str = "file";

#[derive(Debug)]
pub(super) struct SqliteFiles(pub(super) SqliteStore);

fn row(doc: String, version: i64) -> Result<FileRecord> {
    let mut f: FileRecord = decode(&doc)?;
    f.version = u64::try_from(version).unwrap_or_default();
    Ok(f)
}

fn rows(
    c: &rusqlite::Connection,
    sql: &str,
    args: Vec<rusqlite::types::Value>,
) -> Result<Vec<FileRecord>> {
    let mut stmt = c.prepare_cached(sql).map_err(|e| map(E, e))?;
    let found = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(|e| map(E, e))?;
    let mut out = Vec::new();
    for r in found {
        let (doc, v) = r.map_err(|e| map(E, e))?;
        out.push(row(doc, v)?);
    }
    Ok(out)
}

#[async_trait]
impl FileRepo for SqliteFiles {
    async fn insert(&self, mut file: FileRecord) -> Result<FileRecord> {
        file.version = 1;
        self.0
            .write(move |c| {
                c.execute(
                    "INSERT INTO files (id, owner, status, version, doc) VALUES (?1, ?2, ?3, 1, ?4)",
                    params![file.id, file.owner.to_string(), file.status.name(), encode(&file)?],
                )
                .map_err(|e| map(E, e))?;
                Ok(file)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<FileRecord> {
        let id = id.to_owned();
        self.0
            .read(move |c| {
                let r = c
                    .query_row("SELECT doc, version FROM files WHERE id = ?1", [&id], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                    .map_err(|e| map(E, e))?;
                let (doc, v) = r.ok_or(Error::NotFound { entity: E })?;
                row(doc, v)
            })
            .await
    }

    async fn update(&self, mut file: FileRecord) -> Result<FileRecord> {
        self.0
            .write(move |c| {
                let expected = i64::try_from(file.version).map_err(|_| Error::stale(E))?;
                file.version += 1;
                let changed = c
                    .execute(
                        "UPDATE files SET owner = ?1, status = ?2, version = version + 1, doc = ?3 WHERE id = ?4 AND version = ?5",
                        params![file.owner.to_string(), file.status.name(), encode(&file)?, file.id, expected],
                    )
                    .map_err(|e| map(E, e))?;
                if changed == 0 {
                    return Err(stale_or_missing(c, "files", &file.id, E));
                }
                Ok(file)
            })
            .await
    }

    async fn list_by_owner(&self, owner: UserId, page: &PageRequest) -> Result<Page<FileRecord>> {
        let before: Option<String> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let size = page.size();
        let owner = owner.to_string();
        self.0
            .read(move |c| {
                let items = rows(
                    c,
                    "SELECT doc, version FROM files WHERE owner = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3",
                    vec![
                        owner.into(),
                        before.map_or(rusqlite::types::Value::Null, Into::into),
                        i64::try_from(size + 1).unwrap_or(101).into(),
                    ],
                )?;
                Ok(Page::from_overfetch(items, size, |f| f.id.clone()))
            })
            .await
    }

    async fn pending_scan(&self, limit: usize) -> Result<Vec<FileRecord>> {
        let limit = i64::try_from(limit.min(10_000)).unwrap_or(100);
        self.0
            .read(move |c| {
                rows(
                    c,
                    "SELECT doc, version FROM files WHERE status = 'pending_scan' ORDER BY id LIMIT ?1",
                    vec![limit.into()],
                )
            })
            .await
    }
}
