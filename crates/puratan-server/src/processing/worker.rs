//! The worker loop: take a job from the queue, run it isolated, store what
//! it made, record it, tell the world.
//!
//! Delivery is at-least-once, so handling is idempotent: derivatives are
//! content-addressed (`derivatives/<sha256>`; storing the same bytes twice
//! is one blob), the record update is version-checked and re-read on a
//! lost race, and a job for a file that is not `ready` (pending scan,
//! quarantined, refused) is dropped without touching it — nothing is ever
//! processed before its scan.
//!
//! Failures: what the *file* causes (a limit, a crash of the isolated
//! child, an unreadable file) fails the job for good — retrying would fail
//! again — and is recorded as `failed` with a stable code. What the
//! *infrastructure* causes (store or database unavailable) is retried:
//! the delivery is nacked with requeue until the file's `attempts` reach
//! `processing.max_attempts`, then it is failed with `processing_unavailable`.
//! Undecodable jobs are poison: acked, logged and counted.

use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use puratan_core::ports::{
    Derivative, Exchange, FileRecord, FileStatus, Message, PreflightSummary, Processing,
    ProcessingState, Subscription,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::job::{self, FileJob};
use super::sandbox;
use super::steps::{Failure, PreflightSpec, PreviewSpec, StepSpec};
use crate::intake::original_key;
use crate::state::App;

/// Topic routing keys of processing events.
pub const EVENT_PROCESSED: &str = "file.processed";
pub const EVENT_FAILED: &str = "file.processing_failed";
pub const EVENT_SCHEMA: &str = "puratan.file_processed/v1";

pub fn derivative_key(sha256: &str) -> String {
    format!("derivatives/{sha256}")
}

/// Puts a job on the queue. A broker that is down gets retried in the
/// background for a while (the record says `queued` meanwhile); staff can
/// re-run a file whose job never arrived.
pub async fn enqueue(app: &App, job: FileJob) {
    let payload = match serde_json::to_vec(&job) {
        Ok(p) => Bytes::from(p),
        Err(e) => {
            tracing::error!(error = %e, "could not encode a file job");
            return;
        }
    };
    let message = Message {
        id: uuid::Uuid::now_v7().to_string(),
        kind: job::ROUTING_KEY.to_owned(),
        payload,
    };
    if app
        .events
        .publish(Exchange::Direct, job::ROUTING_KEY, message.clone())
        .await
        .is_ok()
    {
        return;
    }
    let app = app.clone();
    tokio::spawn(async move {
        for attempt in 1..=10u32 {
            tokio::time::sleep(Duration::from_secs(u64::from(attempt.min(6)) * 5)).await;
            match app
                .events
                .publish(Exchange::Direct, job::ROUTING_KEY, message.clone())
                .await
            {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, file = %job.file_id, "file job not queued yet")
                }
            }
        }
        tracing::error!(file = %job.file_id, "gave up queueing a file job; re-run it from the staff API");
    });
}

/// Marks a new record as queued (before it is inserted) so the API shows
/// it; the caller enqueues after the insert.
pub fn mark_queued(record: &mut FileRecord) {
    record.processing = Some(Processing {
        state: ProcessingState::Queued,
        updated_at: Some(Utc::now()),
        ..record.processing.take().unwrap_or_default()
    });
}

/// Starts `n` competing workers on the job queue.
pub async fn start(
    app: App,
    n: usize,
    shutdown: watch::Receiver<bool>,
) -> puratan_core::Result<Vec<JoinHandle<()>>> {
    let subscription = Subscription {
        queue: job::QUEUE.to_owned(),
        exchange: Exchange::Direct,
        binding_key: job::ROUTING_KEY.to_owned(),
        transient: false,
    };
    if n == 0 {
        // No workers here, but the durable queue must exist and be bound
        // before the first job is published, or the broker drops jobs
        // published while no `puratan worker` has started yet.
        drop(app.events.subscribe(subscription).await?);
        return Ok(Vec::new());
    }
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        let sub = app.events.subscribe(subscription.clone()).await?;
        let app = app.clone();
        handles.push(tokio::spawn(crate::events::consume(
            "file-worker",
            sub,
            shutdown.clone(),
            move |delivery| {
                let app = app.clone();
                async move { handle_delivery(&app, delivery).await }
            },
        )));
    }
    Ok(handles)
}

async fn handle_delivery(app: &App, delivery: puratan_core::ports::Delivery) {
    let Some(job) = FileJob::decode(&delivery.message.payload) else {
        tracing::error!(id = %delivery.message.id, "poison file job dropped");
        app.metrics
            .processing_jobs
            .with_label_values(&["poison"])
            .inc();
        let _ = delivery.ack().await;
        return;
    };
    match process(app, &job).await {
        Ok(outcome) => {
            app.metrics
                .processing_jobs
                .with_label_values(&[outcome])
                .inc();
            let _ = delivery.ack().await;
        }
        Err(e) => {
            tracing::warn!(file = %job.file_id, error = %e, "file job failed on infrastructure; requeued");
            app.metrics
                .processing_jobs
                .with_label_values(&["requeued"])
                .inc();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let _ = delivery.nack(true).await;
        }
    }
}

/// Runs one job. `Ok(outcome label)` when the job is finished (done,
/// failed for good, or not applicable); `Err` when it should be retried.
pub async fn process(app: &App, job: &FileJob) -> puratan_core::Result<&'static str> {
    let cfg = &app.config.processing;
    let record = match app.file_records.get(&job.file_id).await {
        Ok(r) => r,
        Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => return Ok("missing"),
        Err(e) => return Err(e),
    };
    if record.status != FileStatus::Ready {
        return Ok("not_ready");
    }
    let record = update(app, &record.id, |p| {
        p.state = ProcessingState::Running;
        p.attempts += 1;
    })
    .await?;
    let attempts = record.processing.as_ref().map_or(0, |p| p.attempts);
    match run_job(app, job, &record).await {
        Ok(()) => Ok("done"),
        Err(e) if attempts >= cfg.max_attempts => {
            tracing::error!(file = %record.id, error = %e, attempts, "file job failed on every attempt");
            fail(
                app,
                &record,
                Failure {
                    code: "processing_unavailable".into(),
                    message: "the file could not be processed; try again later".into(),
                },
            )
            .await?;
            Ok("failed")
        }
        Err(e) => Err(e),
    }
}

async fn run_job(app: &App, job: &FileJob, record: &FileRecord) -> puratan_core::Result<()> {
    let cfg = &app.config.processing;
    let profile_name = job
        .profile
        .clone()
        .unwrap_or_else(|| cfg.default_profile.clone());
    let Some(profile) = cfg.profile(&profile_name) else {
        return fail(
            app,
            record,
            Failure {
                code: "unknown_profile".into(),
                message: format!("no preflight profile named {profile_name}"),
            },
        )
        .await;
    };
    let spec = StepSpec {
        format: record.format.clone(),
        preflight: job.preflight.then_some(PreflightSpec {
            profile,
            ordered: job.ordered,
        }),
        previews: job.previews.then_some(PreviewSpec {
            thumbnail_edge: cfg.thumbnail_edge,
            page_preview_edge: cfg.page_preview_edge,
            page_previews: cfg.page_previews,
        }),
    };
    let original = app.files.get(&original_key(&record.sha256)).await?;
    let outputs = sandbox::run(cfg, original, &spec)
        .await
        .map_err(|e| puratan_core::Error::unavailable("worker", format!("sandbox: {e}"), true))?;
    let result = &outputs.result;
    if let Some(failure) = &result.failure {
        return fail(app, record, failure.clone()).await;
    }
    let mut derivatives = Vec::new();
    for d in &result.derivatives {
        let (key, size) = store_output(app, &outputs, &d.file).await?;
        derivatives.push(Derivative {
            name: d.name.clone(),
            key,
            mime: d.mime.clone(),
            width: d.width,
            height: d.height,
            size,
            ink_coverage_percent: d.ink_coverage_percent,
        });
    }
    let mut summary = None;
    if let Some(p) = &result.preflight {
        let (report_key, _) = store_output(app, &outputs, &p.report_file).await?;
        summary = Some(PreflightSummary {
            profile: profile_name.clone(),
            verdict: p.verdict.clone(),
            errors: p.errors,
            warnings: p.warnings,
            report_key,
            at: Utc::now(),
        });
    }
    let pages = result.pages;
    let record = update(app, &record.id, move |p| {
        p.state = ProcessingState::Done;
        if pages.is_some() {
            p.pages = pages;
        }
        if let Some(s) = summary.clone() {
            p.preflight = Some(s);
        }
        // A preflight-only re-run keeps the previews it did not remake.
        for d in &derivatives {
            p.derivatives.retain(|old| old.name != d.name);
            p.derivatives.push(d.clone());
        }
    })
    .await?;
    publish(app, &record, EVENT_PROCESSED).await;
    Ok(())
}

async fn store_output(
    app: &App,
    outputs: &sandbox::Outputs,
    file: &str,
) -> puratan_core::Result<(String, u64)> {
    let path = outputs
        .path(file)
        .ok_or_else(|| puratan_core::Error::invalid("derivative", "bad output name"))?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        puratan_core::Error::unavailable("worker", format!("reading {file}: {e}"), true)
    })?;
    let key = derivative_key(&puratan_core::hex::sha256(&bytes));
    let size = bytes.len() as u64;
    app.files.put(&key, Bytes::from(bytes)).await?;
    Ok((key, size))
}

async fn fail(app: &App, record: &FileRecord, failure: Failure) -> puratan_core::Result<()> {
    tracing::warn!(file = %record.id, code = %failure.code, message = %failure.message, "file processing failed");
    let code = failure.code.clone();
    let record = update(app, &record.id, move |p| {
        p.state = ProcessingState::Failed { code: code.clone() };
    })
    .await?;
    publish(app, &record, EVENT_FAILED).await;
    Ok(())
}

/// Applies `change` to the record's processing state, re-reading on a lost
/// optimistic-concurrency race.
async fn update(
    app: &App,
    id: &str,
    change: impl Fn(&mut Processing),
) -> puratan_core::Result<FileRecord> {
    for _ in 0..8 {
        let mut record = app.file_records.get(id).await?;
        let mut p = record.processing.take().unwrap_or_default();
        change(&mut p);
        p.updated_at = Some(Utc::now());
        record.processing = Some(p);
        match app.file_records.update(record).await {
            Err(puratan_core::Error::Conflict { .. }) => continue,
            other => return other,
        }
    }
    Err(puratan_core::Error::unavailable(
        "file_repo",
        "the file record kept changing under the worker",
        true,
    ))
}

/// `file.processed` / `file.processing_failed` on the topic exchange (for
/// the order and the live-tracking subscribers). Best effort: the record
/// is the truth.
async fn publish(app: &App, record: &FileRecord, routing_key: &str) {
    let p = record.processing.clone().unwrap_or_default();
    let payload = serde_json::json!({
        "schema": EVENT_SCHEMA,
        "file_id": record.id,
        "owner": record.owner.to_string(),
        "state": p.state.name(),
        "failure": match &p.state { ProcessingState::Failed { code } => Some(code.clone()), _ => None },
        "pages": p.pages,
        "preflight": p.preflight.as_ref().map(|s| serde_json::json!({
            "profile": s.profile, "verdict": s.verdict, "errors": s.errors, "warnings": s.warnings,
        })),
        "derivatives": p.derivatives.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
    });
    let message = Message::json(routing_key, &payload);
    if let Err(e) = app
        .events
        .publish(Exchange::Topic, routing_key, message)
        .await
    {
        tracing::warn!(error = %e, file = %record.id, "could not publish a processing event");
    }
}
