//! tus upload state ([`UploadStore`]) on MongoDB, so uploads survive a
//! restart and any replica can serve any request of an upload.
//!
//! * `uploads`: one document per upload — `_id`, `owner`, `length`,
//!   `offset`, `chunk_count`, `next_seq`, `created_us`/`expires_us` (µs
//!   since the epoch), `sha256` (binary or null), `metadata` (pairs of key
//!   and base64 value), `metadata_header`, and `chunks` (`{o, l, k}` per
//!   stored chunk; at most `uploads.max_chunks`, far below the 16 MiB
//!   document limit). Index `expires` `{expires_us}` serves the cleanup.
//! * `upload_quota`: one document per owner, `{_id: owner, reserved}` —
//!   the sum of the owner's declared lengths.
//!
//! Appending is one conditional `findOneAndUpdate` (`offset` must still be
//! the chunk's offset, fewer than `max_chunks` chunks), so racing `PATCH`
//! requests on any replicas have one winner. Admission under the quota is
//! one conditional upsert of the owner's counter (`reserved <= quota -
//! length`, or a new counter); the upload document is inserted after it
//! and the reservation given back if that fails. Removing deletes the
//! upload, then decrements the counter. No multi-document transaction is
//! used (SecantusDB, the test server, has none): a process killed between
//! the two writes leaves the counter too high by that upload's length
//! until an operator corrects `upload_quota` (it never lets a user exceed
//! the quota).

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, Document, doc};
use mongodb::options::{IndexOptions, ReturnDocument};
use puratan_core::Error;
use puratan_files::FilesError;
use puratan_files::tus::{Chunk, Upload, UploadStore};

use super::error::{corrupt, mapper};
use super::{MongoStore, get_u64, to_i64};

const E: &str = "upload";
pub(crate) const UPLOADS: &str = "uploads";
pub(crate) const UPLOAD_QUOTA: &str = "upload_quota";

/// [`UploadStore`] on MongoDB.
#[derive(Debug, Clone)]
pub struct MongoUploadStore {
    uploads: Collection<Document>,
    quota: Collection<Document>,
}

impl MongoStore {
    /// The tus upload store, with its index (idempotent).
    pub async fn uploads(&self) -> puratan_core::Result<Arc<dyn UploadStore>> {
        let uploads = self.collection(UPLOADS);
        let index = mongodb::IndexModel::builder()
            .keys(doc! { "expires_us": 1 })
            .options(IndexOptions::builder().name("expires".to_owned()).build())
            .build();
        uploads.create_index(index).await.map_err(mapper(E))?;
        Ok(Arc::new(MongoUploadStore {
            uploads,
            quota: self.collection(UPLOAD_QUOTA),
        }))
    }
}

fn u64_field(d: &Document, field: &str) -> puratan_core::Result<u64> {
    get_u64(E, d, field)?.ok_or_else(|| corrupt(E, field))
}

fn time_field(d: &Document, field: &str) -> puratan_core::Result<DateTime<Utc>> {
    d.get_i64(field)
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(|| corrupt(E, field))
}

fn chunk_doc(c: &Chunk) -> puratan_core::Result<Document> {
    Ok(doc! { "o": to_i64("offset", c.offset)?, "l": to_i64("len", c.len)?, "k": &c.key })
}

fn to_doc(u: &Upload) -> puratan_core::Result<Document> {
    let metadata: Vec<Bson> = u
        .metadata
        .iter()
        .map(|(k, v)| {
            Bson::Array(vec![
                Bson::String(k.clone()),
                v.as_ref()
                    .map_or(Bson::Null, |v| Bson::String(STANDARD.encode(v))),
            ])
        })
        .collect();
    let chunks = u
        .chunks
        .iter()
        .map(chunk_doc)
        .collect::<puratan_core::Result<Vec<_>>>()?;
    Ok(doc! {
        "_id": &u.id,
        "owner": &u.owner,
        "length": to_i64("Upload-Length", u.length)?,
        "offset": to_i64("Upload-Offset", u.offset)?,
        "chunk_count": to_i64("chunks", u.chunks.len() as u64)?,
        "next_seq": to_i64("next_seq", u.next_seq)?,
        "created_us": u.created_at.timestamp_micros(),
        "expires_us": u.expires_at.timestamp_micros(),
        "sha256": u.sha256.map_or(Bson::Null, |d| Bson::Binary(binary(&d))),
        "metadata": metadata,
        "metadata_header": u.metadata_header.clone().map_or(Bson::Null, Bson::String),
        "chunks": chunks,
    })
}

fn binary(bytes: &[u8]) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.to_vec(),
    }
}

fn from_doc(d: &Document) -> puratan_core::Result<Upload> {
    let str_of = |f: &str| d.get_str(f).map(str::to_owned).map_err(|_| corrupt(E, f));
    let mut metadata = Vec::new();
    for pair in d
        .get_array("metadata")
        .map_err(|_| corrupt(E, "metadata"))?
    {
        let Bson::Array(kv) = pair else {
            return Err(corrupt(E, "metadata"));
        };
        let key = kv
            .first()
            .and_then(Bson::as_str)
            .ok_or_else(|| corrupt(E, "metadata"))?;
        let value = match kv.get(1) {
            Some(Bson::String(v)) => Some(STANDARD.decode(v).map_err(|_| corrupt(E, "metadata"))?),
            _ => None,
        };
        metadata.push((key.to_owned(), value));
    }
    let mut chunks = Vec::new();
    for c in d.get_array("chunks").map_err(|_| corrupt(E, "chunks"))? {
        let c = c.as_document().ok_or_else(|| corrupt(E, "chunks"))?;
        chunks.push(Chunk {
            offset: u64_field(c, "o")?,
            len: u64_field(c, "l")?,
            key: c.get_str("k").map_err(|_| corrupt(E, "chunks"))?.to_owned(),
        });
    }
    let sha256 = match d.get("sha256") {
        Some(Bson::Binary(b)) => {
            Some(<[u8; 32]>::try_from(b.bytes.as_slice()).map_err(|_| corrupt(E, "sha256"))?)
        }
        _ => None,
    };
    Ok(Upload {
        id: str_of("_id")?,
        owner: str_of("owner")?,
        length: u64_field(d, "length")?,
        offset: u64_field(d, "offset")?,
        metadata,
        metadata_header: d.get_str("metadata_header").ok().map(str::to_owned),
        created_at: time_field(d, "created_us")?,
        expires_at: time_field(d, "expires_us")?,
        chunks,
        next_seq: u64_field(d, "next_seq")?,
        sha256,
    })
}

impl MongoUploadStore {
    async fn reserved(&self, owner: &str) -> puratan_core::Result<u64> {
        let d = self
            .quota
            .find_one(doc! { "_id": owner })
            .await
            .map_err(mapper(E))?;
        Ok(match d {
            Some(d) => get_u64(E, &d, "reserved")?.unwrap_or(0),
            None => 0,
        })
    }

    async fn add_reserved(&self, owner: &str, delta: i64) -> puratan_core::Result<()> {
        self.quota
            .update_one(
                doc! { "_id": owner },
                doc! { "$inc": { "reserved": delta } },
            )
            .upsert(true)
            .await
            .map_err(mapper(E))?;
        Ok(())
    }
}

#[async_trait]
impl UploadStore for MongoUploadStore {
    async fn create(&self, upload: Upload, quota: Option<u64>) -> Result<(), FilesError> {
        let length = to_i64("Upload-Length", upload.length)?;
        let document = to_doc(&upload)?;
        match quota {
            Some(quota) => {
                let quota_exceeded = |used| FilesError::QuotaExceeded {
                    used,
                    quota,
                    requested: upload.length,
                };
                let Some(room) = quota.checked_sub(upload.length) else {
                    return Err(quota_exceeded(self.reserved(&upload.owner).await?));
                };
                // Matches only while the reservation fits; otherwise the
                // upsert collides with the owner's existing counter.
                let r = self
                    .quota
                    .update_one(
                        doc! { "_id": &upload.owner, "reserved": { "$lte": to_i64("quota", room)? } },
                        doc! { "$inc": { "reserved": length } },
                    )
                    .upsert(true)
                    .await
                    .map_err(mapper(E));
                match r {
                    Ok(_) => {}
                    Err(Error::Conflict { .. }) => {
                        return Err(quota_exceeded(self.reserved(&upload.owner).await?));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            None => self.add_reserved(&upload.owner, length).await?,
        }
        match self.uploads.insert_one(document).await.map_err(mapper(E)) {
            Ok(_) => Ok(()),
            Err(e) => {
                self.add_reserved(&upload.owner, -length).await?;
                match e {
                    Error::Conflict { .. } => Err(FilesError::DuplicateUpload),
                    e => Err(e.into()),
                }
            }
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Upload>, FilesError> {
        let d = self
            .uploads
            .find_one(doc! { "_id": id })
            .await
            .map_err(mapper(E))?;
        Ok(d.as_ref().map(from_doc).transpose()?)
    }

    async fn next_seq(&self, id: &str) -> Result<u64, FilesError> {
        let d = self
            .uploads
            .find_one_and_update(doc! { "_id": id }, doc! { "$inc": { "next_seq": 1_i64 } })
            .return_document(ReturnDocument::After)
            .await
            .map_err(mapper(E))?
            .ok_or(FilesError::UploadNotFound)?;
        Ok(u64_field(&d, "next_seq")?)
    }

    async fn append(
        &self,
        id: &str,
        chunk: Chunk,
        max_chunks: usize,
    ) -> Result<Upload, FilesError> {
        let end = chunk.offset.saturating_add(chunk.len);
        let updated = self
            .uploads
            .find_one_and_update(
                doc! {
                    "_id": id,
                    "offset": to_i64("Upload-Offset", chunk.offset)?,
                    "length": { "$gte": to_i64("offset", end)? },
                    "chunk_count": { "$lt": to_i64("max_chunks", max_chunks as u64)? },
                },
                doc! {
                    "$set": { "offset": to_i64("offset", end)? },
                    "$inc": { "chunk_count": 1_i64 },
                    "$push": { "chunks": chunk_doc(&chunk)? },
                },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(mapper(E))?;
        if let Some(d) = updated {
            return Ok(from_doc(&d)?);
        }
        // Which condition failed?
        let u = self.get(id).await?.ok_or(FilesError::UploadNotFound)?;
        if u.offset != chunk.offset {
            Err(FilesError::OffsetMismatch {
                expected: u.offset,
                got: chunk.offset,
            })
        } else if end > u.length {
            Err(FilesError::TooLarge {
                reason: "the chunk goes beyond the declared Upload-Length",
            })
        } else {
            Err(FilesError::TooManyChunks { max: max_chunks })
        }
    }

    async fn set_sha256(&self, id: &str, digest: [u8; 32]) -> Result<(), FilesError> {
        let r = self
            .uploads
            .update_one(
                doc! { "_id": id },
                doc! { "$set": { "sha256": Bson::Binary(binary(&digest)) } },
            )
            .await
            .map_err(mapper(E))?;
        if r.matched_count == 0 {
            return Err(FilesError::UploadNotFound);
        }
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<Option<Upload>, FilesError> {
        let Some(d) = self
            .uploads
            .find_one_and_delete(doc! { "_id": id })
            .await
            .map_err(mapper(E))?
        else {
            return Ok(None);
        };
        let upload = from_doc(&d)?;
        self.add_reserved(&upload.owner, -to_i64("Upload-Length", upload.length)?)
            .await?;
        Ok(Some(upload))
    }

    async fn expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Upload>, FilesError> {
        // Finished uploads never expire; they are filtered here rather than
        // in the query because comparing two fields needs `$expr`, which
        // the test server does not support.
        let docs: Vec<Document> = self
            .uploads
            .find(doc! { "expires_us": { "$lte": now.timestamp_micros() } })
            .sort(doc! { "expires_us": 1 })
            .await
            .map_err(mapper(E))?
            .try_collect()
            .await
            .map_err(mapper(E))?;
        let mut out = Vec::new();
        for d in &docs {
            let u = from_doc(d)?;
            if !u.is_complete() {
                out.push(u);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn reserved_bytes(&self, owner: &str) -> Result<u64, FilesError> {
        Ok(self.reserved(owner).await?)
    }
}

/// Against the MongoDB-compatible test server (`scripts/services/mongo.sh`,
/// or `PURATAN_TEST_MONGO_URI`); skipped loudly without one, a failure
/// under `CI=true`.
#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::adapters::mongo::MongoConfig;

    async fn store(database: &str) -> Option<(MongoStore, Arc<dyn UploadStore>)> {
        let config = MongoConfig {
            uri: std::env::var("PURATAN_TEST_MONGO_URI")
                .unwrap_or_else(|_| "mongodb://127.0.0.1:27018/?retryWrites=false".to_owned()),
            database: database.to_owned(),
            connect_timeout_ms: 3_000,
        };
        let attempt = async {
            let s = MongoStore::connect(&config).await?;
            s.ping().await?;
            let uploads = s.uploads().await?;
            Ok::<_, Error>((s, uploads))
        };
        puratan_testkit::service::require("MongoDB", attempt.await)
    }

    fn upload(id: &str, owner: &str, length: u64) -> Upload {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap();
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

    fn chunk(id: &str, offset: u64, len: u64) -> Chunk {
        Chunk {
            offset,
            len,
            key: format!("tus/{id}/{offset}"),
        }
    }

    #[tokio::test]
    async fn mongo_upload_state_behaves_like_the_memory_store() {
        let db = puratan_testkit::service::unique("tus");
        let Some((mongo, store)) = store(&db).await else {
            return;
        };
        let u = upload("a1", "ann", 100);
        store.create(u.clone(), Some(150)).await.expect("create");
        assert!(matches!(
            store.create(u.clone(), Some(1000)).await,
            Err(FilesError::DuplicateUpload)
        ));
        assert!(matches!(
            store.create(upload("a2", "ann", 60), Some(150)).await,
            Err(FilesError::QuotaExceeded {
                used: 100,
                quota: 150,
                requested: 60
            })
        ));
        assert!(matches!(
            store.create(upload("a3", "ann", 151), Some(150)).await,
            Err(FilesError::QuotaExceeded { .. })
        ));
        store
            .create(upload("b1", "bob", 60), Some(150))
            .await
            .expect("another owner");
        assert_eq!(store.get("a1").await.expect("get"), Some(u.clone()));
        assert_eq!(store.get("zz").await.expect("get"), None);
        assert_eq!(store.next_seq("a1").await.expect("seq"), 1);
        assert_eq!(store.next_seq("a1").await.expect("seq"), 2);
        assert!(matches!(
            store.next_seq("zz").await,
            Err(FilesError::UploadNotFound)
        ));
        let after = store
            .append("a1", chunk("a1", 0, 40), 2)
            .await
            .expect("append");
        assert_eq!((after.offset, after.chunks.len()), (40, 1));
        assert!(matches!(
            store.append("a1", chunk("a1", 0, 40), 2).await,
            Err(FilesError::OffsetMismatch {
                expected: 40,
                got: 0
            })
        ));
        assert!(matches!(
            store.append("a1", chunk("a1", 40, 61), 2).await,
            Err(FilesError::TooLarge { .. })
        ));
        store
            .append("a1", chunk("a1", 40, 10), 2)
            .await
            .expect("second");
        assert!(matches!(
            store.append("a1", chunk("a1", 50, 10), 2).await,
            Err(FilesError::TooManyChunks { max: 2 })
        ));
        assert!(matches!(
            store.append("zz", chunk("zz", 0, 1), 2).await,
            Err(FilesError::UploadNotFound)
        ));
        store.set_sha256("a1", [7; 32]).await.expect("sha");

        // A second connection (another replica) sees the same state.
        let other = MongoStore::connect(&MongoConfig {
            uri: std::env::var("PURATAN_TEST_MONGO_URI")
                .unwrap_or_else(|_| "mongodb://127.0.0.1:27018/?retryWrites=false".to_owned()),
            database: db.clone(),
            connect_timeout_ms: 3_000,
        })
        .await
        .expect("connect")
        .uploads()
        .await
        .expect("uploads");
        let got = other.get("a1").await.expect("get").expect("kept");
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
        assert_eq!(other.reserved_bytes("ann").await.expect("reserved"), 100);
        let expired = other
            .expired(u.expires_at + chrono::Duration::seconds(1), 10)
            .await
            .expect("expired");
        assert_eq!(expired.len(), 2);
        assert_eq!(
            other.remove("a1").await.expect("remove").map(|u| u.id),
            Some("a1".to_owned())
        );
        assert_eq!(other.remove("a1").await.expect("again"), None);
        assert_eq!(store.reserved_bytes("ann").await.expect("reserved"), 0);
        store
            .create(upload("a2", "ann", 150), Some(150))
            .await
            .expect("the quota was released");

        // Racing appends at one offset: exactly one wins.
        store
            .create(upload("r1", "rob", 100), None)
            .await
            .expect("create");
        let racers = (0..8).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append("r1", chunk("r1", 0, 10 + i), 100)
                    .await
                    .is_ok()
            })
        });
        let mut winners = 0;
        for r in racers {
            winners += usize::from(r.await.expect("join"));
        }
        assert_eq!(winners, 1);
        // Racing creations under one quota never exceed it.
        let creators = (0..8).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create(upload(&format!("q{i}"), "quin", 40), Some(100))
                    .await
                    .is_ok()
            })
        });
        let mut admitted = 0;
        for c in creators {
            admitted += usize::from(c.await.expect("join"));
        }
        assert_eq!(admitted, 2);
        assert_eq!(store.reserved_bytes("quin").await.expect("reserved"), 80);
        mongo.db.drop().await.expect("drop test database");
    }
}
