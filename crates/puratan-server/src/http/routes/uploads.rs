//! `/files/`: the tus 1.0 resumable upload endpoint (core, creation,
//! creation-with-upload, termination, checksum (sha256), expiration).
//!
//! The protocol itself is `puratan_files::tus`; this module only copies an
//! axum request into a [`TusRequest`] and the [`TusResponse`] back, and
//! adds what is HTTP's job:
//!
//! * **Who.** Every request but `OPTIONS` needs an access token (401
//!   otherwise). Creating needs `files:upload:own` (customers, admins); the
//!   creator owns the upload and only they see it — anyone else gets 404,
//!   so ids cannot be probed — except callers with `files:read:any`
//!   (staff, admins), who act on any upload as its owner.
//! * **Bodies.** A `PATCH` (or creation-with-upload) body is read whole,
//!   up to `uploads.max_chunk` (a larger `Content-Length` is refused with
//!   413 before anything is read), then checked and written as one chunk.
//!   A body cut off by a dropped connection stores nothing; the client
//!   resumes from the offset `HEAD` reports.
//! * **Errors.** Protocol answers keep the status tus prescribes (409
//!   offset mismatch, 412 version, 413 size and quota, 415 content type,
//!   460 checksum, 404/410 unknown or expired) and carry the API's JSON
//!   error body with the stable code of `puratan_files::FilesError`
//!   (`upload_quota_exceeded`, `tus_offset_mismatch`, …); everything else
//!   (401, 403, body too large, 5xx) is an [`ApiError`]. Every response of
//!   the group carries `Tus-Resumable: 1.0.0`.
//!
//! Upload state lives next to the rest of the data — the SQLite file on
//! the embedded default (`adapters/sqlite/uploads.rs`), MongoDB on service
//! deployments (`adapters/mongo/uploads.rs`, so any replica can serve any
//! request of an upload) — and the bytes in the file store, one blob per
//! chunk under `tus/<id>/`.
//!
//! [`UploadService`] bundles the protocol server with its store;
//! [`start_cleanup`] runs `cleanup_expired` every
//! `uploads.cleanup_interval_secs` until shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use puratan_core::auth::rbac::{self, Permission};
use puratan_core::ports::FileStore;
use puratan_files::tus::{Headers, TusRequest, TusResponse, TusServer, UploadStore, UuidV7Ids};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::ApiPath;
use crate::http::request_id;
use crate::state::App;
use crate::uploads_config::UploadsConfig;

/// The tus server of the `/files/` endpoint and the store it keeps upload
/// state in.
#[derive(Clone)]
pub struct UploadService {
    pub tus: TusServer,
    pub store: Arc<dyn UploadStore>,
    pub config: UploadsConfig,
    /// The virus scanner of the intake (`uploads.scanner`), if any.
    pub scanner: crate::intake::ScannerSlot,
}

impl std::fmt::Debug for UploadService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl UploadService {
    pub fn new(
        config: &UploadsConfig,
        store: Arc<dyn UploadStore>,
        files: Arc<dyn FileStore>,
        scanner: Option<Arc<dyn puratan_files::scan::Scanner>>,
    ) -> Self {
        Self {
            tus: TusServer::new(
                config.tus_config(),
                store.clone(),
                files,
                Arc::new(UuidV7Ids),
            ),
            store,
            config: config.clone(),
            scanner: crate::intake::ScannerSlot::new(scanner),
        }
    }
}

/// Removes expired uploads every `uploads.cleanup_interval_secs` (the first
/// run right away) until `shutdown` flips or its sender is dropped.
pub fn start_cleanup(app: App, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let every = Duration::from_secs(app.config.uploads.cleanup_interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tick.tick() => {
                    match app.uploads.tus.cleanup_expired(Utc::now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(removed = n, "removed expired uploads"),
                        Err(e) => tracing::warn!(error = %e, "upload cleanup failed; retrying next interval"),
                    }
                }
            }
        }
    })
}

/// Adds `Tus-Resumable` to every response of the group (also to 401s,
/// 405s and body-limit answers that never reached the protocol).
pub async fn tus_resumable(mut resp: Response) -> Response {
    resp.headers_mut()
        .entry("tus-resumable")
        .or_insert(HeaderValue::from_static(puratan_files::tus::TUS_VERSION));
    resp
}

fn tus_headers(h: &HeaderMap) -> Headers {
    h.iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

/// Copies a protocol answer into an HTTP response.
fn respond(r: TusResponse, details: Option<serde_json::Value>) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match r.error {
        None => (status, r.body).into_response(),
        Some(code) if status.is_server_error() => {
            let text = String::from_utf8_lossy(&r.body);
            if status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(code, error = %text, request_id = %request_id::current(), "upload storage unavailable");
                let mut err = ApiError::new(
                    ErrorCode::Unavailable,
                    "a backend is temporarily unavailable",
                );
                err.retry_after = Some(1);
                err.into_response()
            } else {
                ApiError::internal(format!("tus {code}: {text}")).into_response()
            }
        }
        Some(code) => {
            let body = ErrorBody {
                code,
                message: String::from_utf8_lossy(&r.body).into_owned(),
                details,
                request_id: request_id::current(),
            };
            (status, Json(body)).into_response()
        }
    };
    let headers = resp.headers_mut();
    for (name, value) in &r.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    if let Some(done) = &r.completed {
        tracing::info!(
            upload = %done.id,
            owner = %done.owner,
            bytes = done.length,
            sha256 = %done.sha256.map(|d| puratan_core::hex::encode(&d)).unwrap_or_default(),
            "upload completed"
        );
    }
    resp
}

/// The body, at most `uploads.max_chunk` bytes; a larger declared
/// `Content-Length` is refused before reading.
async fn read_body(app: &App, req: Request) -> Result<(HeaderMap, Bytes), ApiError> {
    let limit = app.uploads.config.body_limit();
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("a request body may have at most {limit} bytes (uploads.max_chunk); send the file in several PATCH requests"),
        )
        .with_details(serde_json::json!({ "max_chunk": limit }))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let headers = req.headers().clone();
    let body = Bytes::from_request(req, &()).await.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::invalid_param("body", "the request body could not be read completely")
        }
    })?;
    Ok((headers, body))
}

/// Whose uploads this caller acts on for `id`: their own, or — with
/// `files:read:any` — the owner of an existing upload.
async fn acting_user(app: &App, caller: &Caller, id: &str) -> Result<String, ApiError> {
    let me = caller.user.to_string();
    if id.len() > 64 || rbac::require(caller.roles(), Permission::FilesReadAny).is_err() {
        return Ok(me);
    }
    match app.uploads.store.get(id).await {
        Ok(Some(u)) => Ok(u.owner),
        Ok(None) => Ok(me),
        Err(puratan_files::FilesError::Storage(e)) => Err(e.into()),
        Err(e) => Err(ApiError::internal(e)),
    }
}

async fn run(
    app: &App,
    method: &str,
    id: Option<String>,
    user: String,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let req = TusRequest {
        method: method.to_owned(),
        upload_id: id,
        headers: tus_headers(headers),
        body,
        user: user.clone(),
    };
    let r = app.uploads.tus.handle(req, Utc::now()).await;
    let file = match &r.completed {
        Some(done) => match crate::intake::intake(app, done).await {
            Ok(f) => Some(f.id),
            Err(e) => {
                tracing::error!(upload = %done.id, error = %e, request_id = %request_id::current(), "file intake failed; the finished upload is kept");
                None
            }
        },
        None => None,
    };
    let details = if r.error == Some("upload_quota_exceeded") {
        let reserved = app.uploads.store.reserved_bytes(&user).await.ok();
        Some(serde_json::json!({
            "quota": app.uploads.config.per_user_quota,
            "reserved": reserved,
        }))
    } else {
        None
    };
    let mut resp = respond(r, details);
    if let Some(id) = file.and_then(|id| HeaderValue::from_str(&id).ok()) {
        resp.headers_mut().insert("puratan-file-id", id);
    }
    resp
}

/// Server capabilities (tus discovery). No token needed.
#[utoipa::path(options, path = "/files/", tag = "uploads",
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm headers")))]
pub async fn options(State(app): State<App>, headers: HeaderMap) -> Response {
    run(&app, "OPTIONS", None, String::new(), &headers, Bytes::new()).await
}

/// Creates an upload (tus `creation`), optionally with its first bytes
/// (`creation-with-upload`: body with `Content-Type:
/// application/offset+octet-stream`). Answers 201 with `Location`,
/// `Upload-Offset` and `Upload-Expires`.
#[utoipa::path(post, path = "/files/", tag = "uploads", security(("bearer" = [])),
    params(
        ("Tus-Resumable" = String, Header, description = "Must be `1.0.0`"),
        ("Upload-Length" = Option<String>, Header, description = "Total size in bytes (required)"),
        ("Upload-Metadata" = Option<String>, Header, description = "`key base64value` pairs, comma separated"),
        ("Upload-Checksum" = Option<String>, Header, description = "`sha256 <base64 digest>` of the body"),
    ),
    responses(
        (status = 201, description = "Created; `Location` names the upload"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 413, body = ErrorBody, description = "Above `Tus-Max-Size` or the caller's quota (`upload_quota_exceeded`)"),
        (status = 415, body = ErrorBody), (status = 460, body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<App>,
    caller: Result<Caller, ApiError>,
    req: Request,
) -> Result<Response, ApiError> {
    let caller = caller?;
    caller.require(Permission::FilesUploadOwn)?;
    let (headers, body) = read_body(&app, req).await?;
    Ok(run(&app, "POST", None, caller.user.to_string(), &headers, body).await)
}

/// The upload's state: `Upload-Offset` (where to resume), `Upload-Length`,
/// `Upload-Metadata`, `Upload-Expires`.
#[utoipa::path(head, path = "/files/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path), ("Tus-Resumable" = String, Header, description = "Must be `1.0.0`")),
    responses((status = 200, description = "Upload-Offset and Upload-Length headers"),
        (status = 401), (status = 404), (status = 410, description = "Expired before it was finished"), (status = 412)))]
pub async fn head(
    State(app): State<App>,
    ApiPath(id): ApiPath<String>,
    caller: Result<Caller, ApiError>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller?;
    let user = acting_user(&app, &caller, &id).await?;
    Ok(run(&app, "HEAD", Some(id), user, &headers, Bytes::new()).await)
}

/// Appends bytes at `Upload-Offset`. The body is the raw bytes with
/// `Content-Type: application/offset+octet-stream`, at most
/// `uploads.max_chunk` bytes. (The media type is not declared as a request
/// body here: OpenAPI tooling has no serializer for it.)
#[utoipa::path(patch, path = "/files/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path),
        ("Tus-Resumable" = String, Header, description = "Must be `1.0.0`"),
        ("Upload-Offset" = String, Header, description = "The upload's current offset"),
        ("Upload-Checksum" = Option<String>, Header, description = "`sha256 <base64 digest>` of the body"),
    ),
    responses((status = 204, description = "Stored; the new Upload-Offset header"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Upload-Offset is not the upload's offset"),
        (status = 410, body = ErrorBody), (status = 412, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 460, body = ErrorBody, description = "Checksum mismatch; nothing stored")))]
pub async fn patch(
    State(app): State<App>,
    ApiPath(id): ApiPath<String>,
    caller: Result<Caller, ApiError>,
    req: Request,
) -> Result<Response, ApiError> {
    let caller = caller?;
    let user = acting_user(&app, &caller, &id).await?;
    let (headers, body) = read_body(&app, req).await?;
    Ok(run(&app, "PATCH", Some(id), user, &headers, body).await)
}

/// Terminates an upload (tus `termination`): its state and bytes are
/// removed and its bytes no longer count against the quota.
#[utoipa::path(delete, path = "/files/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path), ("Tus-Resumable" = String, Header, description = "Must be `1.0.0`")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn delete(
    State(app): State<App>,
    ApiPath(id): ApiPath<String>,
    caller: Result<Caller, ApiError>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller?;
    let user = acting_user(&app, &caller, &id).await?;
    Ok(run(&app, "DELETE", Some(id), user, &headers, Bytes::new()).await)
}

/// `POST` with `X-HTTP-Method-Override: PATCH | DELETE | HEAD`, for
/// clients behind proxies that only pass `GET` and `POST`.
#[utoipa::path(post, path = "/files/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path),
        ("Tus-Resumable" = String, Header, description = "Must be `1.0.0`"),
        ("X-HTTP-Method-Override" = String, Header, description = "PATCH, DELETE or HEAD"),
    ),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 405, body = ErrorBody)))]
pub async fn method_override(
    State(app): State<App>,
    ApiPath(id): ApiPath<String>,
    caller: Result<Caller, ApiError>,
    req: Request,
) -> Result<Response, ApiError> {
    let caller = caller?;
    let user = acting_user(&app, &caller, &id).await?;
    let (headers, body) = read_body(&app, req).await?;
    Ok(run(&app, "POST", Some(id), user, &headers, body).await)
}
