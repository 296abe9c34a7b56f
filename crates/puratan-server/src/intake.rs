//! The intake step after a tus upload finishes: detect, allow, scan,
//! store, record.
//!
//! 1. **Detect** the real format with [`puratan_files::detect_declared`]
//!    (the `filename` / `filetype` tus metadata are only compared with it)
//!    and apply [`AllowList::print_artwork`]. A refusal is recorded as
//!    `rejected` with the detector's stable code (`file_type_mismatch`,
//!    `unsafe_svg`, `polyglot_file`, …); no bytes are kept.
//! 2. **Scan** with the configured [`Scanner`] (`[uploads.scanner]`, clamd)
//!    through [`scan_before_processing`]: no scanner → the file is `ready`
//!    but not scanned; scanner down or failing → `pending_scan` (bytes kept
//!    under `originals/<sha256>`, never served or processed) and
//!    [`start_rescan`] scans it again every `uploads.scan_retry_secs` until
//!    it gets a verdict; infected → `quarantined`: the bytes go to
//!    `quarantine/<sha256>` (never under `originals/`), an audit entry
//!    `files.quarantined` is written and `security.file_quarantined` is
//!    published on the topic exchange.
//! 3. **Store** clean bytes content-addressed under `originals/<sha256>`
//!    (the same bytes uploaded twice are two records and one blob) and
//!    insert a [`FileRecord`] into the [`FileRepo`].
//! 4. **Queue** a processing job (preflight + previews, see
//!    `crate::processing`) for a `ready` file — and for a `pending_scan`
//!    file only once its rescan comes back clean.
//!
//! **Quota and the finished upload.** For now the finished tus upload
//! (record and chunk blobs under `tus/<id>/`) is *kept* after the intake:
//! `uploads.per_user_quota` keeps its documented meaning (the declared
//! lengths of all of a user's uploads, finished or not, until they are
//! deleted with tus `DELETE`), `HEAD` on a finished upload still answers,
//! and the bytes exist twice (chunks and `originals/<sha256>`) until the
//! client or an operator deletes the upload. Removing the upload once the
//! file is stored (so the quota bounds bytes in flight only) is the next
//! step; it changes the quota semantics the upload tests pin down.
//!
//! If the intake fails on a storage error, the upload is left in place,
//! finished, and the response carries no `Puratan-File-Id`.
//!
//! The intake reads the whole file into memory (detection checks the end
//! of a PDF, clamd gets the whole stream): memory per finishing request is
//! bounded by `uploads.max_size`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use parking_lot::RwLock;
use puratan_core::domain::UserId;
use puratan_core::ports::{AuditEvent, Exchange, FileRecord, FileStatus, Message};
use puratan_files::scan::{ScanOutcome, Scanner, scan_before_processing};
use puratan_files::tus::Upload;
use puratan_files::{AllowList, FilesError, check_allowed, detect_declared};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::processing::{self, FileJob};
use crate::state::App;

/// The scanner in use; replaceable at run time (tests, reconfiguration).
#[derive(Clone, Default)]
pub struct ScannerSlot(Arc<RwLock<Option<Arc<dyn Scanner>>>>);

impl std::fmt::Debug for ScannerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ScannerSlot")
            .field(&self.get().map(|s| s.name()))
            .finish()
    }
}

impl ScannerSlot {
    pub fn new(scanner: Option<Arc<dyn Scanner>>) -> Self {
        Self(Arc::new(RwLock::new(scanner)))
    }
    pub fn get(&self) -> Option<Arc<dyn Scanner>> {
        self.0.read().clone()
    }
    pub fn set(&self, scanner: Option<Arc<dyn Scanner>>) {
        *self.0.write() = scanner;
    }
}

pub fn original_key(sha256: &str) -> String {
    format!("originals/{sha256}")
}

pub fn quarantine_key(sha256: &str) -> String {
    format!("quarantine/{sha256}")
}

/// The client's file name reduced to a safe display name: the last path
/// component, printable characters other than quotes, backslashes and
/// control characters, at most 200 characters.
pub fn sanitise_filename(name: Option<&str>) -> String {
    let name = name.unwrap_or_default();
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\'))
        .take(200)
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_owned();
    if clean.is_empty() {
        "file".to_owned()
    } else {
        clean
    }
}

/// Runs the intake for a finished upload and removes the upload. Returns
/// the new record.
pub async fn intake(app: &App, upload: &Upload) -> Result<FileRecord, FilesError> {
    let (_, bytes) = app.uploads.tus.read_upload(&upload.id).await?;
    let sha256 = match upload.sha256 {
        Some(d) => puratan_core::hex::encode(&d),
        None => puratan_core::hex::sha256(&bytes),
    };
    let owner = UserId::parse(&upload.owner)
        .map_err(|e| FilesError::Storage(puratan_core::Error::invalid("owner", e.to_string())))?;
    let filename = sanitise_filename(upload.metadata_str("filename"));
    let mut record = FileRecord {
        id: uuid::Uuid::now_v7().simple().to_string(),
        owner,
        sha256: sha256.clone(),
        size: bytes.len() as u64,
        format: String::new(),
        filename,
        status: FileStatus::Ready,
        created_at: Utc::now(),
        version: 0,
        processing: None,
    };
    let detected = detect_declared(
        &bytes,
        upload.metadata_str("filename"),
        upload.metadata_str("filetype"),
    )
    .and_then(|d| {
        let format = d.format.id().to_owned();
        check_allowed(&d, &AllowList::print_artwork()).map(|_| format)
    });
    match detected {
        Err(e) => {
            record.status = FileStatus::Rejected {
                code: e.code().to_owned(),
            };
        }
        Ok(format) => {
            record.format = format;
            record.status = scan_and_store(app, &record, bytes).await?;
        }
    }
    if record.status == FileStatus::Ready {
        processing::worker::mark_queued(&mut record);
    }
    let record = app.file_records.insert(record).await?;
    match &record.status {
        FileStatus::Quarantined { signature } => quarantined(app, &record, signature).await,
        FileStatus::Ready => processing::worker::enqueue(app, FileJob::intake(&record.id)).await,
        _ => {}
    }
    tracing::info!(file = %record.id, upload = %upload.id, status = record.status.name(), "file intake");
    Ok(record)
}

/// Scans and puts the bytes where the verdict says.
async fn scan_and_store(
    app: &App,
    record: &FileRecord,
    bytes: Bytes,
) -> Result<FileStatus, FilesError> {
    let scanner = app.uploads.scanner.get();
    let outcome = scan_before_processing(scanner.as_deref(), bytes.clone()).await;
    let (status, key) = match outcome {
        Ok(ScanOutcome::Clean | ScanOutcome::NotScanned) => {
            (FileStatus::Ready, original_key(&record.sha256))
        }
        Ok(ScanOutcome::Wait { reason }) => {
            tracing::warn!(file = %record.id, reason, "scanner gave no verdict; the file waits for a rescan");
            (FileStatus::PendingScan, original_key(&record.sha256))
        }
        Ok(ScanOutcome::Quarantine { signature }) => (
            FileStatus::Quarantined { signature },
            quarantine_key(&record.sha256),
        ),
        Err(e) => {
            return Ok(FileStatus::Rejected {
                code: e.code().to_owned(),
            });
        }
    };
    app.files.put(&key, bytes).await?;
    Ok(status)
}

/// Audit entry and `security.file_quarantined` event. Failures are logged.
async fn quarantined(app: &App, record: &FileRecord, signature: &str) {
    tracing::warn!(file = %record.id, owner = %record.owner, signature, "file quarantined");
    let event = AuditEvent {
        at: Utc::now(),
        actor: record.owner.to_string(),
        action: "files.quarantined".to_owned(),
        target: Some(record.id.clone()),
        ip: None,
        details: serde_json::json!({
            "sha256": record.sha256,
            "signature": signature,
            "filename": record.filename,
            "size": record.size,
        }),
    };
    let routing_key = "security.file_quarantined";
    let message = Message::json(routing_key, &event);
    if let Err(e) = app.audit.append(event).await {
        tracing::error!(error = %e, "could not write audit entry");
    }
    if let Err(e) = app
        .events
        .publish(Exchange::Topic, routing_key, message)
        .await
    {
        tracing::warn!(error = %e, "could not publish security event");
    }
}

/// Scans every `pending_scan` file again; returns how many got a verdict.
pub async fn rescan_pending(app: &App) -> Result<usize, FilesError> {
    let Some(scanner) = app.uploads.scanner.get() else {
        // No scanner any more: nothing can give a verdict; files keep waiting.
        return Ok(0);
    };
    let mut done = 0;
    for mut record in app.file_records.pending_scan(100).await? {
        let key = original_key(&record.sha256);
        let bytes = app.files.get(&key).await?;
        match scan_before_processing(Some(scanner.as_ref()), bytes.clone()).await {
            Ok(ScanOutcome::Wait { .. }) => return Ok(done),
            Ok(ScanOutcome::Clean | ScanOutcome::NotScanned) => {
                record.status = FileStatus::Ready;
                processing::worker::mark_queued(&mut record);
            }
            Ok(ScanOutcome::Quarantine { signature }) => {
                app.files
                    .put(&quarantine_key(&record.sha256), bytes)
                    .await?;
                record.status = FileStatus::Quarantined { signature };
            }
            Err(e) => {
                record.status = FileStatus::Rejected {
                    code: e.code().to_owned(),
                };
            }
        }
        let record = match app.file_records.update(record).await {
            Ok(r) => r,
            // Another replica's rescan got there first.
            Err(puratan_core::Error::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        if !matches!(record.status, FileStatus::Ready) {
            match app.files.delete(&key).await {
                Ok(()) => {}
                Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        match &record.status {
            FileStatus::Quarantined { signature } => quarantined(app, &record, signature).await,
            FileStatus::Ready => {
                processing::worker::enqueue(app, FileJob::intake(&record.id)).await;
            }
            _ => {}
        }
        tracing::info!(file = %record.id, status = record.status.name(), "rescanned");
        done += 1;
    }
    Ok(done)
}

/// Rescans pending files every `uploads.scan_retry_secs` until `shutdown`
/// flips or its sender is dropped.
pub fn start_rescan(app: App, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let every = Duration::from_secs(app.config.uploads.scan_retry_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tick.tick() => {
                    if let Err(e) = rescan_pending(&app).await {
                        tracing::warn!(error = %e, "rescan of pending files failed; retrying next interval");
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::sanitise_filename;

    #[test]
    fn filenames_are_sanitised() {
        assert_eq!(sanitise_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(sanitise_filename(Some("C:\\x\\fly\"er.pdf")), "flyer.pdf");
        assert_eq!(sanitise_filename(Some("..")), "file");
        assert_eq!(sanitise_filename(None), "file");
        assert_eq!(
            sanitise_filename(Some("a\u{0}b<script>.pdf")),
            "abscript.pdf"
        );
    }
}
