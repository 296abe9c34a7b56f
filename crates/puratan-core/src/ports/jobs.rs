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
/// * **`follow_order`** moves an order's *waiting* (`queued` or
///   `parked`) jobs with the order: `parked` while it is on hold, `queued`
///   again when it is released, `cancelled` when it is cancelled — and
///   gives them the order's priority (claimed and done jobs keep theirs).
///   It is one conditional multi-row update, fenced by the order's version
///   (see [`Job::order_version`]): every waiting job of the order whose
///   `order_version` is at most the given one gets the new status, the
///   priority and that version (and a version bump); jobs that already
///   followed a newer order version are left alone. Status and priority
///   are written together from the same order version, so the hooks of
///   two writes that finish out of order (hold then release, priority 90
///   then 10, a hold then a re-prioritisation) still leave the jobs as the
///   newer one says, and `claim_next` stays a plain "first `queued` job".
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
    /// Gives the order's waiting jobs status `to` (`Queued`, `Parked` or
    /// `Cancelled`; anything else is `Invalid`) and `priority`, unless they
    /// followed a newer order version; returns how many jobs it wrote
    /// (those that already had `to` and `priority` included: they take the
    /// version too).
    async fn follow_order(
        &self,
        order_id: OrderId,
        order_version: u64,
        to: JobStatus,
        priority: Priority,
    ) -> Result<usize>;
}

/// Checks the target of [`JobRepo::follow_order`].
pub fn check_follow_target(to: JobStatus) -> Result<()> {
    if to.is_waiting() || to == JobStatus::Cancelled {
        Ok(())
    } else {
        Err(crate::Error::invalid(
            "status",
            "jobs follow their order into queued, parked or cancelled only",
        ))
    }
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
