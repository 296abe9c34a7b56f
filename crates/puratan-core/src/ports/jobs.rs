use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, PageRequest};
use crate::Result;
use crate::domain::{Job, JobId, JobStatus, OrderId, Priority, UserId};

/// Production jobs (one per order line and run) and the production queue.
///
/// * **Queue order** is priority descending, due date ascending,
///   submission ascending, then id ascending — dates compared at
///   millisecond precision ([`job_queue_key`]); [`list`](Self::list) pages
///   in that order and [`claim_next`](Self::claim_next) takes the first.
/// * **`create` is idempotent**: a job whose id is already stored is left
///   alone (whatever the new copy says), so re-running the creation of an
///   order's jobs after a crash is safe. New jobs get `version = 1`.
/// * **`claim_next` is atomic**: the first `queued` job becomes `claimed`
///   by `operator` at `now` (version + 1) in one store operation; two
///   concurrent callers never get the same job. `None` when nothing is
///   queued.
/// * **`update`** is version-checked like every repository
///   (`Conflict { StaleVersion }`, `NotFound`).
/// * **`set_priority`** changes the priority of an order's *queued* jobs
///   (claimed and done ones keep theirs) and bumps their versions; it
///   returns how many changed.
#[async_trait]
pub trait JobRepo: Send + Sync + 'static {
    /// Stores the jobs whose ids are new; returns how many were stored.
    /// A job whose id does not match its `(order_id, line, run)` is
    /// `Invalid` and nothing is stored.
    async fn create(&self, jobs: Vec<Job>) -> Result<usize>;
    async fn get(&self, id: &JobId) -> Result<Job>;
    async fn claim_next(&self, operator: UserId, now: DateTime<Utc>) -> Result<Option<Job>>;
    async fn update(&self, job: Job) -> Result<Job>;
    /// Jobs matching `filter`, in queue order.
    async fn list(&self, filter: &JobFilter, page: &PageRequest) -> Result<Page<Job>>;
    async fn set_priority(&self, order_id: OrderId, priority: Priority) -> Result<usize>;
}

/// Which jobs to list; `None` matches any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub order_id: Option<OrderId>,
}

impl JobFilter {
    pub fn matches(&self, j: &Job) -> bool {
        self.status.is_none_or(|s| j.status == s) && self.order_id.is_none_or(|o| j.order_id == o)
    }
}

/// Sort key of the job queue (`priority` is sorted descending, the rest
/// ascending); also the content of list cursors, so every backend pages
/// alike.
pub fn job_queue_key(j: &Job) -> (u8, i64, i64, String) {
    (
        j.priority.get(),
        j.due_at.timestamp_millis(),
        j.submitted_at.timestamp_millis(),
        j.id.to_string(),
    )
}

/// [`job_queue_key`] turned into something that sorts ascending in queue
/// order (for in-memory sorting and comparisons).
pub fn job_queue_order(k: &(u8, i64, i64, String)) -> (std::cmp::Reverse<u8>, i64, i64, &str) {
    (std::cmp::Reverse(k.0), k.1, k.2, k.3.as_str())
}
