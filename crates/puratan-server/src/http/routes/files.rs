//! `/api/v1/files`: the records of stored artwork files (created by the
//! intake when a tus upload finishes, see `crate::intake`), their
//! preflight reports and previews (made by `crate::processing`). The owner
//! sees their files; staff with `files:read:any` see any; everyone else
//! gets 404, so ids cannot be probed. Staff with `files:preflight` re-run
//! preflight with another profile or ordered size.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use puratan_core::auth::rbac::{self, Permission};
use puratan_core::ports::{Cursor, FileRecord, FileStatus, PageRequest, ProcessingState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::processing::config::valid_profile_name;
use crate::processing::{FileJob, OrderedSize, worker};
use crate::state::App;

/// One file's metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    pub id: String,
    pub owner: String,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    /// Detected format (`pdf`, `png`, `jpeg`, `tiff`, `svg`, …); empty when
    /// detection refused the file.
    pub format: String,
    /// The client's file name, sanitised (only a hint).
    pub filename: String,
    /// `ready`, `pending_scan`, `quarantined` or `rejected`.
    pub status: String,
    /// Why a `rejected` file was refused: the stable error code
    /// (`file_type_mismatch`, `unsafe_svg`, …).
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
    /// Preflight and previews; absent for files that are never processed
    /// (refused, quarantined, waiting for a scan).
    pub processing: Option<ProcessingView>,
}

/// What the processing pipeline made of a file.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessingView {
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// Why it failed: `processing_limit`, `processing_crashed`,
    /// `preflight_unreadable`, …
    pub failure: Option<String>,
    pub pages: Option<u32>,
    pub preflight: Option<PreflightView>,
    pub previews: Vec<PreviewView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreflightView {
    pub profile: String,
    /// `pass`, `warnings` or `fail`.
    pub verdict: String,
    pub errors: u32,
    pub warnings: u32,
    pub at: DateTime<Utc>,
    /// The full report (`puratan.preflight/v1` JSON).
    pub report_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    /// `thumbnail`, `page-1`, …
    pub name: String,
    /// Versioned by content: cache it for as long as you like.
    pub url: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// `print-pdf` only: total area coverage after the CMYK conversion
    /// (99.9th percentile of C+M+Y+K, %).
    pub ink_coverage_percent: Option<u16>,
}

/// The content version of a derivative (the start of its digest).
fn content_version(key: &str) -> &str {
    let digest = key.rsplit('/').next().unwrap_or_default();
    digest.get(..16).unwrap_or(digest)
}

impl ProcessingView {
    fn new(f: &FileRecord) -> Option<Self> {
        let p = f.processing.as_ref()?;
        Some(Self {
            state: p.state.name().to_owned(),
            failure: match &p.state {
                ProcessingState::Failed { code } => Some(code.clone()),
                _ => None,
            },
            pages: p.pages,
            preflight: p.preflight.as_ref().map(|s| PreflightView {
                profile: s.profile.clone(),
                verdict: s.verdict.clone(),
                errors: s.errors,
                warnings: s.warnings,
                at: s.at,
                report_url: format!("/api/v1/files/{}/report", f.id),
            }),
            previews: p
                .derivatives
                .iter()
                .map(|d| PreviewView {
                    name: d.name.clone(),
                    url: format!(
                        "/api/v1/files/{}/previews/{}?v={}",
                        f.id,
                        d.name,
                        content_version(&d.key)
                    ),
                    mime: d.mime.clone(),
                    width: d.width,
                    height: d.height,
                    ink_coverage_percent: d.ink_coverage_percent,
                })
                .collect(),
        })
    }
}

impl From<&FileRecord> for FileView {
    fn from(f: &FileRecord) -> Self {
        Self {
            id: f.id.clone(),
            owner: f.owner.to_string(),
            sha256: f.sha256.clone(),
            size: f.size,
            format: f.format.clone(),
            filename: f.filename.clone(),
            status: f.status.name().to_owned(),
            // The signature of a quarantined file is for staff and the
            // audit log, not for the uploader.
            reason: match &f.status {
                FileStatus::Rejected { code } => Some(code.clone()),
                _ => None,
            },
            created_at: f.created_at,
            version: f.version,
            processing: ProcessingView::new(f),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FilePage {
    pub items: Vec<FileView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// One file's metadata (owner, or staff with `files:read:any`).
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "uploads", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = FileView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FileView>, ApiError> {
    let file = visible_file(&app, &caller, &id).await?;
    Ok(Json(FileView::from(&file)))
}

/// The file if the caller may see it; 404 otherwise (ids cannot be probed).
async fn visible_file(app: &App, caller: &Caller, id: &str) -> Result<FileRecord, ApiError> {
    let not_found = || ApiError::not_found("file");
    if id.is_empty() || id.len() > 64 {
        return Err(not_found());
    }
    let file = match app.file_records.get(id).await {
        Ok(f) => f,
        Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if file.owner != caller.user && rbac::require(caller.roles(), Permission::FilesReadAny).is_err()
    {
        return Err(not_found());
    }
    Ok(file)
}

/// Reads a derivative's bytes; a record pointing at missing bytes is a 404
/// (a re-run replaced them), not a 500.
async fn derivative_bytes(app: &App, key: &str, what: &str) -> Result<bytes::Bytes, ApiError> {
    match app.files.get(key).await {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => Err(ApiError::not_found(what)),
        Err(e) => Err(e.into()),
    }
}

fn not_ready(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::FileNotReady,
        format!("the {what} is not ready yet; see the file's processing state"),
    )
}

/// The full preflight report (`puratan.preflight/v1`): every finding with
/// its check id, severity, page, object, measured value, threshold,
/// message and suggested fix.
#[utoipa::path(get, path = "/api/v1/files/{id}/report", tag = "uploads", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The preflight report (JSON)", content_type = "application/json"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn report(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let file = visible_file(&app, &caller, &id).await?;
    let summary = file
        .processing
        .as_ref()
        .and_then(|p| p.preflight.as_ref())
        .ok_or_else(|| not_ready("preflight report"))?;
    let bytes = derivative_bytes(&app, &summary.report_key, "report").await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// The content version from the preview's `url`; when it matches, the
    /// response may be cached forever.
    pub v: Option<String>,
}

/// A thumbnail, page preview or print-ready PDF. Cached privately: forever when `v` names
/// the current content, otherwise revalidated (`ETag`).
#[utoipa::path(get, path = "/api/v1/files/{id}/previews/{name}", tag = "uploads",
    params(("id" = String, Path), ("name" = String, Path), PreviewQuery), security(("bearer" = [])),
    responses((status = 200, description = "The image", content_type = "image/jpeg"), (status = 304, description = "Not modified"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn preview(
    State(app): State<App>,
    caller: Caller,
    ApiPath((id, name)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file = visible_file(&app, &caller, &id).await?;
    let d = file
        .processing
        .as_ref()
        .and_then(|p| p.derivatives.iter().find(|d| d.name == name))
        .ok_or_else(|| ApiError::not_found("preview"))?;
    let version = content_version(&d.key);
    let etag = format!("\"{version}\"");
    let cache = if q.v.as_deref() == Some(version) {
        "private, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    };
    let cache = HeaderValue::from_static(cache);
    let etag_value = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let mime = HeaderValue::from_str(&d.mime).map_err(ApiError::internal)?;
    let bytes = derivative_bytes(&app, &d.key, "preview").await?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A staff re-run of preflight.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RerunRequest {
    /// A built-in or configured profile id (default: the server's default).
    pub profile: Option<String>,
    /// The ordered finished size and bleed to check against.
    pub ordered: Option<OrderedSizeBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderedSizeBody {
    /// 1–10000 mm.
    pub trim_width_mm: f64,
    /// 1–10000 mm.
    pub trim_height_mm: f64,
    /// 0–50 mm.
    pub bleed_mm: f64,
}

/// Queues preflight again (staff with `files:preflight`); the file's
/// processing state goes back to `queued` and the new report replaces the
/// old one when the worker is done.
#[utoipa::path(post, path = "/api/v1/staff/files/{id}/preflight", tag = "uploads", params(("id" = String, Path)),
    request_body = RerunRequest, security(("bearer" = [])),
    responses((status = 202, body = FileView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rerun_preflight(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RerunRequest>,
) -> Result<(StatusCode, Json<FileView>), ApiError> {
    rbac::require(caller.roles(), Permission::FilesPreflight)?;
    let file = visible_file(&app, &caller, &id).await?;
    let profile = body
        .profile
        .unwrap_or_else(|| app.config.processing.default_profile.clone());
    if !valid_profile_name(&profile) || app.config.processing.profile(&profile).is_none() {
        return Err(ApiError::invalid_param(
            "profile",
            "no such preflight profile",
        ));
    }
    let ordered = body.ordered.map(|o| OrderedSize {
        trim_width_mm: o.trim_width_mm,
        trim_height_mm: o.trim_height_mm,
        bleed_mm: o.bleed_mm,
    });
    if ordered.is_some_and(|o| !o.is_valid()) {
        return Err(ApiError::invalid_param(
            "ordered",
            "sizes are 1-10000 mm and bleed 0-50 mm",
        ));
    }
    if file.status != FileStatus::Ready {
        return Err(not_ready("file"));
    }
    let mut file = file;
    worker::mark_queued(&mut file);
    let file = app.file_records.update(file).await?;
    worker::enqueue(
        &app,
        FileJob {
            preflight: true,
            previews: false,
            profile: Some(profile),
            ordered,
            requested_by: caller.user.to_string(),
            ..FileJob::intake(&file.id)
        },
    )
    .await;
    Ok((StatusCode::ACCEPTED, Json(FileView::from(&file))))
}

/// The caller's files, newest first.
#[utoipa::path(get, path = "/api/v1/files", tag = "uploads", params(FileQuery), security(("bearer" = [])),
    responses((status = 200, body = FilePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    ApiQuery(q): ApiQuery<FileQuery>,
) -> Result<Json<FilePage>, ApiError> {
    let page = PageRequest::first(q.limit.unwrap_or(PageRequest::DEFAULT_LIMIT))
        .after(q.cursor.map(Cursor::from_client));
    let page = app.file_records.list_by_owner(caller.user, &page).await?;
    Ok(Json(FilePage {
        items: page.items.iter().map(FileView::from).collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
    }))
}
