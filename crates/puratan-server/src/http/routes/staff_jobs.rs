//! Staff production jobs: claim the next job (atomic: two operators never
//! get the same one), list and read jobs, release or complete a claimed
//! job, record a job's quality check, and repair an order's jobs. Needs
//! `orders:update_status` to act and `production:queue:read` to read
//! (staff, admin).
//!
//! Jobs are created when an order enters the queue (see
//! `crate::production`); the QC results recorded here feed the workflow
//! guards of `pass_qc` and `reprint` (`production::qc_outcome`).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use puratan_core::auth::rbac::Permission;
use puratan_core::domain::{Job, JobId, JobStatus, OrderId, Role};
use puratan_core::ports::{Cursor, JobFilter, PageRequest};
use puratan_core::workflow::{QcItemResult, QcOutcome, QcResult, WorkflowError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::orders::invalid;
use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::production;
use crate::state::App;

/// Longest accepted QC note, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// A job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// `<order id>.<line>.<run>`.
    pub id: String,
    pub order_id: String,
    /// Index of the order line.
    pub line: u32,
    pub product_id: String,
    pub quantity: u32,
    pub description: String,
    pub priority: u8,
    pub due_at: DateTime<Utc>,
    pub submitted_at: DateTime<Utc>,
    /// `queued`, `claimed`, `done`, `parked` (its order is on hold; not
    /// claimable until released) or `cancelled` (its order was).
    pub status: String,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    /// 0, or n after the order's n-th reprint.
    pub run: u32,
    /// The recorded quality check: `{order_id, line, product_kind,
    /// inspector, at, items: [{key, passed, note}]}`.
    #[schema(value_type = Option<Object>)]
    pub qc: Option<Value>,
    /// The job's QC verdict: `{"verdict": "passed"}`, `{"verdict":
    /// "failed", "failed": […]}` or `{"verdict": "incomplete", "missing": […]}`.
    #[schema(value_type = Object)]
    pub qc_verdict: Value,
    pub version: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
    pub next_cursor: Option<String>,
}

fn verdict_json(o: &QcOutcome) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

pub(crate) fn view(job: &Job) -> JobView {
    JobView {
        id: job.id.to_string(),
        order_id: job.order_id.to_string(),
        line: job.line,
        product_id: job.product_id.to_string(),
        quantity: job.quantity,
        description: job.description.clone(),
        priority: job.priority.get(),
        due_at: job.due_at,
        submitted_at: job.submitted_at,
        status: job.status.to_string(),
        claimed_by: job.claimed_by.map(|u| u.to_string()),
        claimed_at: job.claimed_at,
        done_at: job.done_at,
        run: job.run,
        qc: job.qc.as_ref().and_then(|q| serde_json::to_value(q).ok()),
        qc_verdict: verdict_json(&production::job_verdict(job)),
        version: job.version,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// `queued`, `claimed`, `done`, `parked` or `cancelled` (default: any).
    pub status: Option<String>,
    /// Only this order's jobs.
    pub order_id: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Body of release and complete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionInput {
    /// The job's `version` as you read it.
    pub version: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QcItemInput {
    /// A key of the product kind's checklist, e.g. `colour_match`.
    pub key: String,
    pub passed: bool,
    /// What was wrong (≤ 500 characters); becomes part of the reprint reason.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QcInput {
    /// One entry per inspected checklist item (at most 50).
    pub items: Vec<QcItemInput>,
    /// The job's `version` as you read it.
    pub version: u64,
}

/// A recorded quality check: the job and its order's verdict for the
/// current run (what `pass_qc` / `reprint` will see).
#[derive(Debug, Serialize, ToSchema)]
pub struct QcRecorded {
    pub job: JobView,
    /// `QcOutcome::combine` over the order's jobs of this run.
    #[schema(value_type = Object)]
    pub order_verdict: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncReport {
    pub order_id: String,
    pub run: u32,
    /// Jobs that were missing and are created now.
    pub created: usize,
    /// Waiting (queued or parked) jobs whose priority was set to the order's.
    pub reprioritised: usize,
    pub jobs: Vec<JobView>,
}

fn job_id(raw: &str) -> Result<JobId, ApiError> {
    JobId::parse(raw).map_err(|_| ApiError::not_found("job"))
}

async fn load(app: &App, raw: &str) -> Result<Job, ApiError> {
    let id = job_id(raw)?;
    Ok(app.jobs.get(&id).await?)
}

fn wrong_state(job: &Job, needed: JobStatus, action: &str) -> ApiError {
    ApiError::new(
        ErrorCode::JobStateInvalid,
        format!("{action} needs a {needed} job; this one is {}", job.status),
    )
    .with_details(json!({ "status": job.status.as_str(), "needed": needed.as_str() }))
}

/// The claimer, or an admin, may release or complete a claimed job.
fn own_claim(caller: &Caller, job: &Job, action: &str) -> Result<(), ApiError> {
    if job.status != JobStatus::Claimed {
        return Err(wrong_state(job, JobStatus::Claimed, action));
    }
    if job.claimed_by == Some(caller.user) || caller.roles().contains(&Role::Admin) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::JobNotYours,
        format!("{action}: the job was claimed by another operator"),
    )
    .with_details(json!({ "claimed_by": job.claimed_by.map(|u| u.to_string()) })))
}

/// Claim the next job of the production queue (priority descending, due
/// date ascending, submission ascending). Atomic on every backend: two
/// operators never get the same job. 404 `queue_empty` when nothing waits.
#[utoipa::path(post, path = "/api/v1/staff/jobs/claim", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`queue_empty`")))]
pub async fn claim(State(app): State<App>, caller: Caller) -> Result<Json<JobView>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    match app.jobs.claim_next(caller.user, Utc::now()).await? {
        Some(job) => Ok(Json(view(&job))),
        None => Err(ApiError::new(
            ErrorCode::QueueEmpty,
            "no job is waiting in the production queue",
        )),
    }
}

/// Jobs in queue order, optionally by status and order.
#[utoipa::path(get, path = "/api/v1/staff/jobs", tag = "orders", params(JobsQuery), security(("bearer" = [])),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> Result<Json<JobPage>, ApiError> {
    caller.require(Permission::ProductionQueueRead)?;
    let status = q
        .status
        .as_deref()
        .map(JobStatus::parse)
        .transpose()
        .map_err(|_| {
            ApiError::invalid_param("status", "one of queued, claimed, done, parked, cancelled")
        })?;
    let order_id = q
        .order_id
        .as_deref()
        .map(OrderId::parse)
        .transpose()
        .map_err(|_| ApiError::invalid_param("order_id", "an order id (UUID)"))?;
    let page = PageRequest::first(q.limit.unwrap_or(PageRequest::DEFAULT_LIMIT))
        .after(q.cursor.map(Cursor::from_client));
    let page = app
        .jobs
        .list(&JobFilter { status, order_id }, &page)
        .await?;
    Ok(Json(JobPage {
        items: page.items.iter().map(view).collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
    }))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/staff/jobs/{id}", tag = "orders", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<JobView>, ApiError> {
    caller.require(Permission::ProductionQueueRead)?;
    Ok(Json(view(&load(&app, &id).await?)))
}

/// Put a claimed job back (its claimer, or an admin): into the queue, or
/// `parked` when its order is on hold now (`cancelled` when the order was
/// cancelled), so it is not claimed again before the order is released.
#[utoipa::path(post, path = "/api/v1/staff/jobs/{id}/release", tag = "orders", params(("id" = String, Path)),
    request_body = VersionInput, security(("bearer" = [])),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn release(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<VersionInput>,
) -> Result<Json<JobView>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    let mut job = load(&app, &id).await?;
    own_claim(&caller, &job, "release")?;
    let order = app.orders.get(job.order_id).await?;
    let engine = app.order_service.engine();
    job.status = production::waiting_status(engine, &order.status);
    job.priority = order.priority;
    job.order_version = order.version;
    job.claimed_by = None;
    job.claimed_at = None;
    job.version = input.version;
    let job = app.jobs.update(job).await?;
    // The order may have been held or released while we looked. The
    // release is committed: the catch-up runs to completion even if the
    // request is dropped, and a failure is logged with the repair, not
    // reported (the release did happen).
    let catch_up = {
        let app = app.clone();
        async move {
            let engine = app.order_service.engine();
            production::catch_up(app.orders.as_ref(), app.jobs.as_ref(), engine, &order).await
        }
    };
    let moved = production::to_completion(
        job.order_id,
        "a job was given back but did not follow its order",
        catch_up,
    )
    .await
    .unwrap_or(false);
    let job = if moved {
        app.jobs.get(&job.id).await?
    } else {
        job
    };
    Ok(Json(view(&job)))
}

/// Mark a claimed job as produced (its claimer, or an admin).
#[utoipa::path(post, path = "/api/v1/staff/jobs/{id}/complete", tag = "orders", params(("id" = String, Path)),
    request_body = VersionInput, security(("bearer" = [])),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn complete(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<VersionInput>,
) -> Result<Json<JobView>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    let mut job = load(&app, &id).await?;
    own_claim(&caller, &job, "complete")?;
    job.status = JobStatus::Done;
    job.done_at = Some(Utc::now());
    job.version = input.version;
    Ok(Json(view(&app.jobs.update(job).await?)))
}

/// Record the quality check of a produced (`done`) job against its
/// product kind's checklist (colour match, cut accuracy, count, finish,
/// refined per kind), with the caller as inspector. A failed item makes
/// `reprint` the order's only transition out of `quality_check` (its
/// reason lists the failed items); all items passed on every job of the
/// run allows `pass_qc`. Recording again replaces the result.
#[utoipa::path(post, path = "/api/v1/staff/jobs/{id}/qc", tag = "orders", params(("id" = String, Path)),
    request_body = QcInput, security(("bearer" = [])),
    responses((status = 200, body = QcRecorded), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_qc(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<QcInput>,
) -> Result<Json<QcRecorded>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    if input.items.is_empty() || input.items.len() > 50 {
        return Err(invalid("items", "1-50 checklist items"));
    }
    let mut job = load(&app, &id).await?;
    if job.status != JobStatus::Done {
        return Err(wrong_state(&job, JobStatus::Done, "a quality check"));
    }
    let mut items = Vec::with_capacity(input.items.len());
    for (j, i) in input.items.into_iter().enumerate() {
        let field = format!("items[{j}].note");
        let note = match i.note {
            Some(n) if n.chars().count() > MAX_NOTE_CHARS => {
                return Err(invalid(&field, "at most 500 characters"));
            }
            Some(n) => Some(
                puratan_core::domain::text::clean_optional(&field, &n, MAX_NOTE_CHARS, false)
                    .map_err(|e| invalid(&field, &e.to_string()))?,
            )
            .filter(|n| !n.is_empty()),
            None => None,
        };
        items.push(QcItemResult {
            key: i.key,
            passed: i.passed,
            note,
        });
    }
    let product_kind = production::product_kind(&app, &job).await?;
    let checklist = production::checklists()
        .and_then(|c| c.for_kind(&product_kind))
        .ok_or_else(|| ApiError::internal("no QC checklist (not even `default`)"))?;
    let result = QcResult {
        order_id: job.order_id,
        line: job.line,
        product_kind,
        inspector: caller.user,
        at: Utc::now(),
        items,
    };
    match checklist.evaluate(&result) {
        Ok(_) => {}
        Err(WorkflowError::QcResultInvalid { path, reason }) => {
            return Err(invalid(&path, &reason));
        }
        Err(e) => return Err(invalid("items", &e.to_string())),
    }
    job.qc = Some(result);
    job.version = input.version;
    let job = app.jobs.update(job).await?;
    let order = app.orders.get(job.order_id).await?;
    let order_verdict = production::qc_outcome(&app, &order)
        .await?
        .unwrap_or_else(|| QcOutcome::combine(std::iter::empty()));
    Ok(Json(QcRecorded {
        job: view(&job),
        order_verdict: verdict_json(&order_verdict),
    }))
}

/// Repair: create the missing jobs of an order's current run (if it has
/// entered the queue in that run) and make its waiting jobs follow the
/// order (its hold or cancellation, its priority). Idempotent; for the
/// window where an order was queued but the process stopped before its
/// jobs were written (see `production.rs`).
#[utoipa::path(post, path = "/api/v1/staff/jobs/sync/{order_id}", tag = "orders", params(("order_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = SyncReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`job_state_invalid`: the order has not reached production")))]
pub async fn sync(
    State(app): State<App>,
    caller: Caller,
    ApiPath(order_id): ApiPath<String>,
) -> Result<Json<SyncReport>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    let id = OrderId::parse(&order_id).map_err(|_| ApiError::not_found("order"))?;
    let order = app.orders.get(id).await?;
    let engine = app.order_service.engine();
    let Some(outcome) = production::sync(app.jobs.as_ref(), engine, &order).await? else {
        return Err(ApiError::new(
            ErrorCode::JobStateInvalid,
            "the order has not entered the production queue",
        )
        .with_details(json!({ "status": order.status.as_str() })));
    };
    let jobs = production::jobs_of(app.jobs.as_ref(), order.id, Some(outcome.run)).await?;
    Ok(Json(SyncReport {
        order_id: order.id.to_string(),
        run: outcome.run,
        created: outcome.created,
        reprioritised: outcome.reprioritised,
        jobs: jobs.iter().map(view).collect(),
    }))
}
