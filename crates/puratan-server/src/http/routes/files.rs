//! `/api/v1/files`: the records of stored artwork files (created by the
//! intake when a tus upload finishes, see `crate::intake`). The owner sees
//! their files; staff with `files:read:any` see any; everyone else gets
//! 404, so ids cannot be probed.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use puratan_core::auth::rbac::{self, Permission};
use puratan_core::ports::{Cursor, FileRecord, FileStatus, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
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
    let not_found = || ApiError::not_found("file");
    if id.is_empty() || id.len() > 64 {
        return Err(not_found());
    }
    let file = match app.file_records.get(&id).await {
        Ok(f) => f,
        Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if file.owner != caller.user && rbac::require(caller.roles(), Permission::FilesReadAny).is_err()
    {
        return Err(not_found());
    }
    Ok(Json(FileView::from(&file)))
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
