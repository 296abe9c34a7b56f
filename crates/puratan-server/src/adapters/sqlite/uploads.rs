//! The embedded [`UploadStore`]: tus upload state in the SQLite file, so an
//! interrupted upload can be resumed after a server restart.
//!
//! One `uploads` row per upload (owner, lengths, offset, counters and
//! times as real columns; decoded metadata and the raw `Upload-Metadata`
//! header as a JSON `doc`) and one `upload_chunks` row per stored chunk, so
//! appending a chunk is an insert, not a rewrite of a growing document.
//! Every operation that can race (creation under the quota, appending at an
//! offset) is one transaction on the single writer connection.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use puratan_core::Error;
use puratan_files::FilesError;
use puratan_files::tus::{Chunk, Metadata, Upload, UploadStore};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{SqliteStore, decode, encode, map};

const E: &str = "upload";

/// [`UploadStore`] on the embedded SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteUploads(SqliteStore);

impl SqliteStore {
    /// The tus upload store on this database.
    pub fn uploads(&self) -> Arc<dyn UploadStore> {
        Arc::new(SqliteUploads(self.clone()))
    }
}

/// The parts of an [`Upload`] that no query looks at.
#[derive(Serialize, Deserialize)]
struct Doc {
    /// Key and standard-base64 value.
    metadata: Vec<(String, Option<String>)>,
    metadata_header: Option<String>,
}

fn to_i64(field: &'static str, v: u64) -> puratan_core::Result<i64> {
    i64::try_from(v).map_err(|_| Error::invalid(field, "above 2^63-1"))
}

fn to_u64(v: i64) -> puratan_core::Result<u64> {
    u64::try_from(v).map_err(|_| Error::backend(super::error::BACKEND, "negative size in uploads"))
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> puratan_core::Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::backend(super::error::BACKEND, "timestamp out of range in uploads"))
}

fn encode_doc(u: &Upload) -> puratan_core::Result<String> {
    encode(&Doc {
        metadata: u
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.as_ref().map(|v| STANDARD.encode(v))))
            .collect(),
        metadata_header: u.metadata_header.clone(),
    })
}

fn decode_metadata(doc: Doc) -> puratan_core::Result<(Metadata, Option<String>)> {
    let mut out = Vec::with_capacity(doc.metadata.len());
    for (k, v) in doc.metadata {
        let v = match v {
            Some(v) => Some(
                STANDARD
                    .decode(v)
                    .map_err(|e| Error::backend(super::error::BACKEND, e))?,
            ),
            None => None,
        };
        out.push((k, v));
    }
    Ok((out, doc.metadata_header))
}

/// The whole record of upload `id` (with its chunks, in offset order).
fn load(c: &Connection, id: &str) -> puratan_core::Result<Option<Upload>> {
    type Row = (
        String,
        String,
        i64,
        i64,
        i64,
        i64,
        i64,
        Option<Vec<u8>>,
        String,
    );
    let row: Option<Row> = c
        .prepare_cached(
            "SELECT id, owner, length, upload_offset, next_seq, created_us, expires_us, sha256, doc
             FROM uploads WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.query_row([id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })
            .optional()
        })
        .map_err(|e| map(E, e))?;
    let Some((id, owner, length, offset, next_seq, created, expires, sha, doc)) = row else {
        return Ok(None);
    };
    let chunks = {
        let mut stmt = c
            .prepare_cached(
                "SELECT start, len, key FROM upload_chunks WHERE upload_id = ?1 ORDER BY start",
            )
            .map_err(|e| map(E, e))?;
        let rows = stmt
            .query_map([&id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| map(E, e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| map(E, e))?;
        rows.into_iter()
            .map(|(start, len, key)| {
                Ok(Chunk {
                    offset: to_u64(start)?,
                    len: to_u64(len)?,
                    key,
                })
            })
            .collect::<puratan_core::Result<Vec<_>>>()?
    };
    let sha256 = match sha {
        None => None,
        Some(v) => Some(<[u8; 32]>::try_from(v.as_slice()).map_err(|_| {
            Error::backend(
                super::error::BACKEND,
                "sha256 of the wrong length in uploads",
            )
        })?),
    };
    let (metadata, metadata_header) = decode_metadata(decode(&doc)?)?;
    Ok(Some(Upload {
        id,
        owner,
        length: to_u64(length)?,
        offset: to_u64(offset)?,
        metadata,
        metadata_header,
        created_at: from_micros(created)?,
        expires_at: from_micros(expires)?,
        chunks,
        next_seq: to_u64(next_seq)?,
        sha256,
    }))
}

fn reserved(c: &Connection, owner: &str) -> puratan_core::Result<u64> {
    let sum: i64 = c
        .query_row(
            "SELECT COALESCE(SUM(length), 0) FROM uploads WHERE owner = ?1",
            [owner],
            |r| r.get(0),
        )
        .map_err(|e| map(E, e))?;
    to_u64(sum)
}

#[async_trait]
impl UploadStore for SqliteUploads {
    async fn create(&self, upload: Upload, quota: Option<u64>) -> Result<(), FilesError> {
        let doc = encode_doc(&upload)?;
        let length = to_i64("Upload-Length", upload.length)?;
        let offset = to_i64("Upload-Offset", upload.offset)?;
        let next_seq = to_i64("next_seq", upload.next_seq)?;
        let chunk_count = i64::try_from(upload.chunks.len()).unwrap_or(i64::MAX);
        self
            .0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                if let Some(quota) = quota {
                    let used = reserved(&tx, &upload.owner)?;
                    if used.saturating_add(upload.length) > quota {
                        return Ok(Err(FilesError::QuotaExceeded {
                            used,
                            quota,
                            requested: upload.length,
                        }));
                    }
                }
                let inserted = tx.execute(
                    "INSERT INTO uploads (id, owner, length, upload_offset, chunk_count, next_seq,
                         created_us, expires_us, sha256, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (id) DO NOTHING",
                    params![
                        upload.id,
                        upload.owner,
                        length,
                        offset,
                        chunk_count,
                        next_seq,
                        micros(upload.created_at),
                        micros(upload.expires_at),
                        upload.sha256.map(|d| d.to_vec()),
                        doc,
                    ],
                )
                .map_err(|e| map(E, e))?;
                if inserted == 0 {
                    return Ok(Err(FilesError::DuplicateUpload));
                }
                for ch in &upload.chunks {
                    tx.execute(
                        "INSERT INTO upload_chunks (upload_id, start, len, key) VALUES (?1, ?2, ?3, ?4)",
                        params![
                            upload.id,
                            to_i64("offset", ch.offset)?,
                            to_i64("len", ch.len)?,
                            ch.key
                        ],
                    )
                    .map_err(|e| map(E, e))?;
                }
                tx.commit().map_err(|e| map(E, e))?;
                Ok(Ok(()))
            })
            .await?
    }

    async fn get(&self, id: &str) -> Result<Option<Upload>, FilesError> {
        let id = id.to_owned();
        Ok(self.0.read(move |c| load(c, &id)).await?)
    }

    async fn next_seq(&self, id: &str) -> Result<u64, FilesError> {
        let id = id.to_owned();
        let seq: Option<i64> = self
            .0
            .write(move |c| {
                c.query_row(
                    "UPDATE uploads SET next_seq = next_seq + 1 WHERE id = ?1 RETURNING next_seq",
                    [&id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| map(E, e))
            })
            .await?;
        match seq {
            Some(s) => Ok(to_u64(s)?),
            None => Err(FilesError::UploadNotFound),
        }
    }

    async fn append(
        &self,
        id: &str,
        chunk: Chunk,
        max_chunks: usize,
    ) -> Result<Upload, FilesError> {
        let id = id.to_owned();
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                let row: Option<(i64, i64, i64)> = tx
                    .query_row(
                        "SELECT length, upload_offset, chunk_count FROM uploads WHERE id = ?1",
                        [&id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()
                    .map_err(|e| map(E, e))?;
                let Some((length, offset, count)) = row else {
                    return Ok(Err(FilesError::UploadNotFound));
                };
                let (length, offset) = (to_u64(length)?, to_u64(offset)?);
                if offset != chunk.offset {
                    return Ok(Err(FilesError::OffsetMismatch {
                        expected: offset,
                        got: chunk.offset,
                    }));
                }
                let end = chunk.offset.saturating_add(chunk.len);
                if end > length {
                    return Ok(Err(FilesError::TooLarge {
                        reason: "the chunk goes beyond the declared Upload-Length",
                    }));
                }
                if usize::try_from(count).unwrap_or(usize::MAX) >= max_chunks {
                    return Ok(Err(FilesError::TooManyChunks { max: max_chunks }));
                }
                tx.execute(
                    "INSERT INTO upload_chunks (upload_id, start, len, key) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        id,
                        to_i64("offset", chunk.offset)?,
                        to_i64("len", chunk.len)?,
                        chunk.key
                    ],
                )
                .map_err(|e| map(E, e))?;
                tx.execute(
                    "UPDATE uploads SET upload_offset = ?2, chunk_count = chunk_count + 1 WHERE id = ?1",
                    params![id, to_i64("offset", end)?],
                )
                .map_err(|e| map(E, e))?;
                let upload = load(&tx, &id)?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(upload.ok_or(FilesError::UploadNotFound))
            })
            .await?
    }

    async fn set_sha256(&self, id: &str, digest: [u8; 32]) -> Result<(), FilesError> {
        let id = id.to_owned();
        let changed = self
            .0
            .write(move |c| {
                c.execute(
                    "UPDATE uploads SET sha256 = ?2 WHERE id = ?1",
                    params![id, digest.to_vec()],
                )
                .map_err(|e| map(E, e))
            })
            .await?;
        if changed == 0 {
            return Err(FilesError::UploadNotFound);
        }
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<Option<Upload>, FilesError> {
        let id = id.to_owned();
        Ok(self
            .0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                let upload = load(&tx, &id)?;
                if upload.is_some() {
                    // upload_chunks go with it (ON DELETE CASCADE).
                    tx.execute("DELETE FROM uploads WHERE id = ?1", [&id])
                        .map_err(|e| map(E, e))?;
                }
                tx.commit().map_err(|e| map(E, e))?;
                Ok(upload)
            })
            .await?)
    }

    async fn expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Upload>, FilesError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .0
            .read(move |c| {
                let ids = c
                    .prepare_cached(
                        "SELECT id FROM uploads WHERE expires_us <= ?1 AND upload_offset < length ORDER BY expires_us LIMIT ?2",
                    )
                    .and_then(|mut s| {
                        s.query_map(params![micros(now), limit], |r| r.get::<_, String>(0))?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .map_err(|e| map(E, e))?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    if let Some(u) = load(c, &id)? {
                        out.push(u);
                    }
                }
                Ok(out)
            })
            .await?)
    }

    async fn reserved_bytes(&self, owner: &str) -> Result<u64, FilesError> {
        let owner = owner.to_owned();
        Ok(self.0.read(move |c| reserved(c, &owner)).await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::adapters::sqlite::SqliteConfig;

    fn upload(id: &str, owner: &str, length: u64, at: DateTime<Utc>) -> Upload {
        Upload {
            id: id.to_owned(),
            owner: owner.to_owned(),
            length,
            offset: 0,
            metadata: vec![
                ("filename".to_owned(), Some(b"flyer.pdf".to_vec())),
                ("flag".to_owned(), None),
            ],
            metadata_header: Some("filename Zmx5ZXIucGRm,flag".to_owned()),
            created_at: at,
            expires_at: at + chrono::Duration::hours(1),
            chunks: Vec::new(),
            next_seq: 0,
            sha256: None,
        }
    }

    /// The same behaviour as the in-memory store, and it survives reopening.
    #[tokio::test]
    async fn upload_state_roundtrip_quota_cas_and_restart() {
        let dir = tempfile::tempdir().expect("tmp");
        let config = SqliteConfig {
            path: dir.path().join("u.db"),
            ..SqliteConfig::default()
        };
        let t0 = Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap();
        let store = SqliteStore::open(&config).expect("open").uploads();
        let u = upload("a1", "ann", 100, t0);
        store.create(u.clone(), Some(150)).await.expect("create");
        assert!(matches!(
            store.create(u.clone(), Some(1000)).await,
            Err(FilesError::DuplicateUpload)
        ));
        assert!(matches!(
            store.create(upload("a2", "ann", 60, t0), Some(150)).await,
            Err(FilesError::QuotaExceeded {
                used: 100,
                quota: 150,
                requested: 60
            })
        ));
        store
            .create(upload("b1", "bob", 60, t0), Some(150))
            .await
            .expect("other owner");
        assert_eq!(store.get("a1").await.expect("get"), Some(u.clone()));
        assert_eq!(store.next_seq("a1").await.expect("seq"), 1);
        assert_eq!(store.next_seq("a1").await.expect("seq"), 2);
        assert!(matches!(
            store.next_seq("zz").await,
            Err(FilesError::UploadNotFound)
        ));
        let chunk = |offset, len| Chunk {
            offset,
            len,
            key: format!("tus/a1/{offset}"),
        };
        let after = store.append("a1", chunk(0, 40), 2).await.expect("append");
        assert_eq!((after.offset, after.chunks.len()), (40, 1));
        assert!(matches!(
            store.append("a1", chunk(0, 40), 2).await,
            Err(FilesError::OffsetMismatch {
                expected: 40,
                got: 0
            })
        ));
        assert!(matches!(
            store.append("a1", chunk(40, 61), 2).await,
            Err(FilesError::TooLarge { .. })
        ));
        store.append("a1", chunk(40, 10), 2).await.expect("second");
        assert!(matches!(
            store.append("a1", chunk(50, 10), 2).await,
            Err(FilesError::TooManyChunks { max: 2 })
        ));
        store.set_sha256("a1", [7; 32]).await.expect("sha");
        assert_eq!(store.reserved_bytes("ann").await.expect("reserved"), 100);
        drop(store);

        let store = SqliteStore::open(&config).expect("reopen").uploads();
        let got = store.get("a1").await.expect("get").expect("kept");
        assert_eq!(got.offset, 50);
        assert_eq!(got.next_seq, 2);
        assert_eq!(got.sha256, Some([7; 32]));
        assert_eq!(got.metadata, u.metadata);
        assert_eq!(got.metadata_header, u.metadata_header);
        assert_eq!(got.expires_at, u.expires_at);
        assert_eq!(
            got.chunks.iter().map(|c| c.offset).collect::<Vec<_>>(),
            [0, 40]
        );
        let expired = store
            .expired(t0 + chrono::Duration::hours(2), 1)
            .await
            .expect("expired");
        assert_eq!(expired.len(), 1);
        assert_eq!(
            store.remove("a1").await.expect("remove").map(|u| u.id),
            Some("a1".to_owned())
        );
        assert_eq!(store.remove("a1").await.expect("again"), None);
        assert_eq!(store.reserved_bytes("ann").await.expect("reserved"), 0);
    }
}
