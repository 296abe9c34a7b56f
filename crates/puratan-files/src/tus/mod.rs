//! Server side of the [tus 1.0.0](https://tus.io/protocols/resumable-upload)
//! resumable upload protocol, framework-agnostic.
//!
//! Extensions: `creation`, `creation-with-upload`, `termination`,
//! `checksum` (sha256 only) and `expiration`. Not supported (and not
//! advertised): `creation-defer-length` (a request with
//! `Upload-Defer-Length` gets 400) and `concatenation`.
//!
//! # Shape
//!
//! [`TusServer::handle`] takes a plain [`TusRequest`] (method, upload id
//! from the path, headers, body bytes, authenticated user) and the current
//! time, and returns a plain [`TusResponse`] (status, headers, body, and the
//! completed upload when this request finished it). The HTTP layer only
//! copies fields; CORS (`Access-Control-Expose-Headers` for `Location`,
//! `Upload-Offset`, …) and the request body size limit are its job.
//!
//! # Decisions
//!
//! * **State and data are separate.** Upload records live behind the small
//!   [`UploadStore`] port; bytes go through core's `FileStore`, one blob per
//!   successful `PATCH` under `tus/<id>/<offset>-<seq>`. `FileStore` has no
//!   append, and writing a new blob per chunk makes a failed or racing
//!   request harmless: the chunk is only part of the upload once
//!   [`UploadStore::append`] accepted it with a compare-and-set on the
//!   offset; a loser deletes its blob and gets 409.
//! * **Checksums are verified before anything is stored**, so a 460 leaves
//!   the offset (and the store) unchanged. The whole file's SHA-256 is
//!   computed once on completion (for content-addressed storage later).
//! * **Status codes** follow the spec: `HEAD` answers 200 (the spec's
//!   code; 204 is for `PATCH`, `DELETE` and `OPTIONS`), 201 for creation,
//!   409 offset mismatch, 412 wrong/missing `Tus-Resumable`, 413 above the
//!   maximum size, the declared length or the user's quota, 415 a `PATCH`
//!   (or creation body) without `application/offset+octet-stream`, 460
//!   checksum mismatch, 404 unknown upload — also for another user's
//!   upload, so ids cannot be probed — and 410 for an expired, unfinished
//!   upload that was not cleaned up yet (after [`TusServer::cleanup_expired`]
//!   it is 404: no tombstones are kept).
//! * **Quota** counts the declared `Upload-Length` of every upload the user
//!   has in the store (reserved at creation, so a half-finished upload
//!   cannot be used to overrun it); the check and the creation are one
//!   atomic store operation.
//! * **Expiry** is fixed at creation (`now + expiry`) and announced with
//!   `Upload-Expires`. `cleanup_expired(now)` removes every upload past its
//!   expiry, finished or not: whoever consumes finished uploads must take
//!   them (see [`TusServer::read_upload`]) before then.
//! * **No clock, no randomness in the protocol logic**: time is a parameter
//!   and ids come from an [`IdGenerator`] (default [`UuidV7Ids`], which takes
//!   the time from the caller and only its random bits from the OS).

mod headers;
mod store;

use std::fmt;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use puratan_core::ports::FileStore;
use sha2::{Digest, Sha256};

pub use headers::{Headers, http_date, parse_http_date};
pub use store::{Chunk, MemoryUploadStore, Metadata, Upload, UploadStore};

use crate::error::FilesError;

/// The protocol version this server speaks.
pub const TUS_VERSION: &str = "1.0.0";
/// The extensions this server implements.
pub const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";
/// The content type of `PATCH` bodies.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// Limits and paths of the tus endpoint.
#[derive(Debug, Clone)]
pub struct TusConfig {
    /// URL path the endpoint is mounted at, with a trailing slash
    /// (`/files/`); `Location` is this plus the upload id.
    pub base_path: String,
    /// Largest accepted `Upload-Length` (`Tus-Max-Size`).
    pub max_size: u64,
    /// Bytes one user may have reserved across all stored uploads.
    pub user_quota: Option<u64>,
    /// How long an upload may take from creation.
    pub expiry: chrono::Duration,
    /// Most chunks (successful PATCH requests) per upload.
    pub max_chunks: usize,
    /// Longest accepted `Upload-Metadata` header.
    pub max_metadata_len: usize,
}

impl Default for TusConfig {
    fn default() -> Self {
        Self {
            base_path: "/files/".to_owned(),
            max_size: 2 * 1024 * 1024 * 1024,
            user_quota: Some(10 * 1024 * 1024 * 1024),
            expiry: chrono::Duration::hours(24),
            max_chunks: 10_000,
            max_metadata_len: 4096,
        }
    }
}

/// Makes upload ids: URL- and storage-key-safe (`[A-Za-z0-9_-]{1,64}`).
pub trait IdGenerator: Send + Sync + fmt::Debug + 'static {
    fn new_id(&self, now: DateTime<Utc>) -> String;
}

/// UUIDv7 ids (time-ordered; 74 random bits), 32 hex characters.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_id(&self, now: DateTime<Utc>) -> String {
        let secs = u64::try_from(now.timestamp()).unwrap_or(0);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, now.timestamp_subsec_nanos());
        uuid::Uuid::new_v7(ts).simple().to_string()
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A tus request as the HTTP layer sees it.
#[derive(Debug, Clone)]
pub struct TusRequest {
    /// HTTP method (`X-HTTP-Method-Override` is honoured on `POST`).
    pub method: String,
    /// The path segment after the base path, if any.
    pub upload_id: Option<String>,
    pub headers: Headers,
    pub body: Bytes,
    /// The authenticated user (owner of the uploads they create).
    pub user: String,
}

/// What to send back.
#[derive(Debug, Clone)]
pub struct TusResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// Plain-text error message (empty on success).
    pub body: Bytes,
    /// Stable error code when the request failed ([`FilesError::code`]).
    pub error: Option<&'static str>,
    /// Set when this request completed the upload.
    pub completed: Option<Upload>,
}

impl TusResponse {
    fn new(status: u16) -> Self {
        Self {
            status,
            headers: vec![("Tus-Resumable", TUS_VERSION.to_owned())],
            body: Bytes::new(),
            error: None,
            completed: None,
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The first value of a response header (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn error(e: &FilesError) -> Self {
        let mut r = Self::new(e.http_status());
        if matches!(e, FilesError::UnsupportedVersion) {
            r = r.header("Tus-Version", TUS_VERSION);
        }
        r.body = Bytes::from(e.to_string());
        r.error = Some(e.code());
        r
    }
}

/// The tus protocol over an [`UploadStore`] and a `FileStore`.
#[derive(Clone)]
pub struct TusServer {
    config: TusConfig,
    uploads: Arc<dyn UploadStore>,
    files: Arc<dyn FileStore>,
    ids: Arc<dyn IdGenerator>,
}

impl fmt::Debug for TusServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TusServer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn chunk_prefix(id: &str) -> String {
    format!("tus/{id}/")
}

impl TusServer {
    pub fn new(
        config: TusConfig,
        uploads: Arc<dyn UploadStore>,
        files: Arc<dyn FileStore>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            config,
            uploads,
            files,
            ids,
        }
    }

    pub fn config(&self) -> &TusConfig {
        &self.config
    }

    /// Handles one request at time `now`. Never fails: every error becomes
    /// a response with the right status.
    pub async fn handle(&self, req: TusRequest, now: DateTime<Utc>) -> TusResponse {
        match self.dispatch(req, now).await {
            Ok(r) => r,
            Err(e) => TusResponse::error(&e),
        }
    }

    async fn dispatch(
        &self,
        req: TusRequest,
        now: DateTime<Utc>,
    ) -> Result<TusResponse, FilesError> {
        let mut method = req.method.to_ascii_uppercase();
        if method == "POST"
            && let Some(o) = req.headers.get("X-HTTP-Method-Override")
        {
            method = o.trim().to_ascii_uppercase();
        }
        if method == "OPTIONS" {
            return Ok(self.options());
        }
        match req.headers.get("Tus-Resumable") {
            Some(v) if v.trim() == TUS_VERSION => {}
            _ => return Err(FilesError::UnsupportedVersion),
        }
        match (method.as_str(), req.upload_id.as_deref()) {
            ("POST", None) => self.create(&req, now).await,
            ("HEAD", Some(id)) => self.head(id, &req.user, now).await,
            ("PATCH", Some(id)) => self.patch(id, &req, now).await,
            ("DELETE", Some(id)) => self.terminate(id, &req.user).await,
            ("HEAD" | "PATCH" | "DELETE", None) => Err(FilesError::UploadNotFound),
            _ => Err(FilesError::MethodNotAllowed),
        }
    }

    fn options(&self) -> TusResponse {
        TusResponse::new(204)
            .header("Tus-Version", TUS_VERSION)
            .header("Tus-Extension", TUS_EXTENSIONS)
            .header("Tus-Max-Size", self.config.max_size.to_string())
            .header("Tus-Checksum-Algorithm", "sha256")
    }

    /// Loads an upload the user may see; 404 for others' uploads, 410 for
    /// expired unfinished ones.
    async fn load(&self, id: &str, user: &str, now: DateTime<Utc>) -> Result<Upload, FilesError> {
        if !valid_id(id) {
            return Err(FilesError::UploadNotFound);
        }
        let upload = self
            .uploads
            .get(id)
            .await?
            .filter(|u| u.owner == user)
            .ok_or(FilesError::UploadNotFound)?;
        if !upload.is_complete() && now >= upload.expires_at {
            return Err(FilesError::UploadExpired);
        }
        Ok(upload)
    }

    async fn create(
        &self,
        req: &TusRequest,
        now: DateTime<Utc>,
    ) -> Result<TusResponse, FilesError> {
        let h = &req.headers;
        if h.get("Upload-Defer-Length").is_some() {
            return Err(FilesError::InvalidHeader {
                header: "Upload-Defer-Length",
                reason: "deferred length is not supported",
            });
        }
        let length = headers::parse_u64(
            "Upload-Length",
            h.get("Upload-Length")
                .ok_or(FilesError::MissingHeader("Upload-Length"))?,
        )?;
        if length > self.config.max_size {
            return Err(FilesError::TooLarge {
                reason: "Upload-Length is above the maximum file size",
            });
        }
        let metadata_header = h.get("Upload-Metadata").map(str::to_owned);
        let metadata = match &metadata_header {
            Some(v) => headers::parse_metadata(v, self.config.max_metadata_len)?,
            None => Vec::new(),
        };
        // creation-with-upload: validate the body before creating anything.
        self.check_body(req, length, 0, true)?;
        let id = self.ids.new_id(now);
        if !valid_id(&id) {
            return Err(FilesError::Storage(puratan_core::Error::invalid(
                "upload id",
                "the id generator produced an invalid id",
            )));
        }
        let upload = Upload {
            id: id.clone(),
            owner: req.user.clone(),
            length,
            offset: 0,
            metadata,
            metadata_header,
            created_at: now,
            expires_at: now + self.config.expiry,
            chunks: Vec::new(),
            next_seq: 0,
            sha256: None,
        };
        self.uploads.create(upload, self.config.user_quota).await?;
        let mut resp = TusResponse::new(201)
            .header("Location", format!("{}{id}", self.config.base_path))
            .header("Upload-Expires", http_date(now + self.config.expiry));
        let upload = if req.body.is_empty() {
            self.uploads
                .get(&id)
                .await?
                .ok_or(FilesError::UploadNotFound)?
        } else {
            match self.write_chunk(&id, 0, req.body.clone()).await {
                Ok(u) => u,
                Err(e) => {
                    // The client never learns the id: do not leave it behind.
                    if let Ok(Some(u)) = self.uploads.get(&id).await {
                        let _ = self.discard(&u).await;
                    }
                    return Err(e);
                }
            }
        };
        resp = resp.header("Upload-Offset", upload.offset.to_string());
        if upload.is_complete() {
            resp.completed = Some(self.complete(upload).await?);
        }
        Ok(resp)
    }

    /// Checks a request body (content type, size, checksum) that would be
    /// written at `offset` of an upload of `length` bytes. A creation
    /// request without body needs no content type.
    fn check_body(
        &self,
        req: &TusRequest,
        length: u64,
        offset: u64,
        creation: bool,
    ) -> Result<(), FilesError> {
        if creation && req.body.is_empty() {
            return Ok(());
        }
        let ct = req.headers.get("Content-Type").unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case(OFFSET_OCTET_STREAM) {
            return Err(FilesError::WrongContentType);
        }
        let body_len = u64::try_from(req.body.len()).unwrap_or(u64::MAX);
        if offset.saturating_add(body_len) > length {
            return Err(FilesError::TooLarge {
                reason: "the data goes beyond the declared Upload-Length",
            });
        }
        if let Some(v) = req.headers.get("Upload-Checksum") {
            let want = headers::parse_checksum(v)?;
            let got: [u8; 32] = Sha256::digest(&req.body).into();
            if got != want {
                return Err(FilesError::ChecksumMismatch);
            }
        }
        Ok(())
    }

    async fn head(
        &self,
        id: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<TusResponse, FilesError> {
        let u = self.load(id, user, now).await?;
        let mut r = TusResponse::new(200)
            .header("Upload-Offset", u.offset.to_string())
            .header("Upload-Length", u.length.to_string())
            .header("Cache-Control", "no-store");
        if let Some(m) = &u.metadata_header {
            r = r.header("Upload-Metadata", m.clone());
        }
        if !u.is_complete() {
            r = r.header("Upload-Expires", http_date(u.expires_at));
        }
        Ok(r)
    }

    async fn patch(
        &self,
        id: &str,
        req: &TusRequest,
        now: DateTime<Utc>,
    ) -> Result<TusResponse, FilesError> {
        // Content type first (415), like tusd, so a wrong client learns it
        // even for an unknown upload.
        let ct = req.headers.get("Content-Type").unwrap_or("");
        if !ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case(OFFSET_OCTET_STREAM)
        {
            return Err(FilesError::WrongContentType);
        }
        let offset = headers::parse_u64(
            "Upload-Offset",
            req.headers
                .get("Upload-Offset")
                .ok_or(FilesError::MissingHeader("Upload-Offset"))?,
        )?;
        let upload = self.load(id, &req.user, now).await?;
        if offset != upload.offset {
            return Err(FilesError::OffsetMismatch {
                expected: upload.offset,
                got: offset,
            });
        }
        self.check_body(req, upload.length, offset, false)?;
        let upload = if req.body.is_empty() {
            upload
        } else {
            self.write_chunk(id, offset, req.body.clone()).await?
        };
        let mut r = TusResponse::new(204).header("Upload-Offset", upload.offset.to_string());
        if upload.is_complete() {
            if upload.sha256.is_none() {
                r.completed = Some(self.complete(upload).await?);
            }
        } else {
            r = r.header("Upload-Expires", http_date(upload.expires_at));
        }
        Ok(r)
    }

    /// Stores `data` as a new chunk blob, then appends it with a
    /// compare-and-set on the offset; a loser removes its blob.
    async fn write_chunk(&self, id: &str, offset: u64, data: Bytes) -> Result<Upload, FilesError> {
        let seq = self.uploads.next_seq(id).await?;
        let key = format!("{}{offset:020}-{seq:010}", chunk_prefix(id));
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.files.put(&key, data).await?;
        let chunk = Chunk {
            offset,
            len,
            key: key.clone(),
        };
        match self.uploads.append(id, chunk, self.config.max_chunks).await {
            Ok(u) => Ok(u),
            Err(e) => {
                let _ = self.files.delete(&key).await;
                Err(e)
            }
        }
    }

    /// Computes and records the whole-file SHA-256 of a finished upload.
    async fn complete(&self, mut upload: Upload) -> Result<Upload, FilesError> {
        let mut hasher = Sha256::new();
        for c in &upload.chunks {
            hasher.update(self.files.get(&c.key).await?);
        }
        let digest: [u8; 32] = hasher.finalize().into();
        self.uploads.set_sha256(&upload.id, digest).await?;
        upload.sha256 = Some(digest);
        Ok(upload)
    }

    async fn terminate(&self, id: &str, user: &str) -> Result<TusResponse, FilesError> {
        if !valid_id(id) {
            return Err(FilesError::UploadNotFound);
        }
        let upload = self
            .uploads
            .get(id)
            .await?
            .filter(|u| u.owner == user)
            .ok_or(FilesError::UploadNotFound)?;
        self.discard(&upload).await?;
        Ok(TusResponse::new(204))
    }

    async fn discard(&self, upload: &Upload) -> Result<(), FilesError> {
        self.uploads.remove(&upload.id).await?;
        // Also blobs of requests that lost a race or crashed mid-way.
        for key in self.files.list(&chunk_prefix(&upload.id)).await? {
            match self.files.delete(&key).await {
                Ok(()) => {}
                Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Removes every upload whose expiry is at or before `now` (record and
    /// chunk blobs). Returns how many were removed.
    pub async fn cleanup_expired(&self, now: DateTime<Utc>) -> Result<usize, FilesError> {
        let mut removed = 0;
        loop {
            let batch = self.uploads.expired(now, 256).await?;
            if batch.is_empty() {
                return Ok(removed);
            }
            for u in &batch {
                self.discard(u).await?;
                removed += 1;
            }
        }
    }

    /// The bytes of a finished upload, for the processing pipeline.
    pub async fn read_upload(&self, id: &str) -> Result<(Upload, Bytes), FilesError> {
        let upload = self
            .uploads
            .get(id)
            .await?
            .ok_or(FilesError::UploadNotFound)?;
        if !upload.is_complete() {
            return Err(FilesError::UploadNotFound);
        }
        let mut buf = BytesMut::with_capacity(usize::try_from(upload.length).unwrap_or(0));
        for c in &upload.chunks {
            buf.extend_from_slice(&self.files.get(&c.key).await?);
        }
        Ok((upload, buf.freeze()))
    }
}
