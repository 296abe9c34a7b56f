use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use crate::domain::{Job, JobId, JobStatus, OrderId, Priority, UserId};
use crate::ports::{
    JobFilter, JobRepo, Page, PageRequest, check_follow_target, job_queue_key, job_queue_order,
};
use crate::{Error, Result};

/// [`JobRepo`] in a map behind one lock: `claim_next` finds and claims
/// the first queued job under that lock, so it is atomic.
#[derive(Debug, Default)]
pub struct MemoryJobRepo {
    rows: Mutex<HashMap<JobId, Job>>,
}

impl MemoryJobRepo {
    pub fn new() -> Self {
        Self::default()
    }
}

const E: &str = "job";

#[async_trait]
impl JobRepo for MemoryJobRepo {
    async fn create(&self, jobs: Vec<Job>) -> Result<usize> {
        for j in &jobs {
            j.check_id()?;
        }
        let mut rows = self.rows.lock();
        let mut created = 0;
        for mut j in jobs {
            if rows.contains_key(&j.id) {
                continue;
            }
            j.version = 1;
            rows.insert(j.id.clone(), j);
            created += 1;
        }
        Ok(created)
    }

    async fn get(&self, id: &JobId) -> Result<Job> {
        self.rows
            .lock()
            .get(id)
            .cloned()
            .ok_or(Error::NotFound { entity: E })
    }

    async fn claim_next(&self, operator: UserId, now: DateTime<Utc>) -> Result<Option<Job>> {
        let mut rows = self.rows.lock();
        let Some(id) = rows
            .values()
            .filter(|j| j.status == JobStatus::Queued)
            .map(|j| (job_queue_key(j), j.id.clone()))
            .min_by(|a, b| job_queue_order(&a.0).cmp(&job_queue_order(&b.0)))
            .map(|(_, id)| id)
        else {
            return Ok(None);
        };
        let Some(job) = rows.get_mut(&id) else {
            return Ok(None);
        };
        job.status = JobStatus::Claimed;
        job.claimed_by = Some(operator);
        job.claimed_at = Some(now);
        job.version += 1;
        Ok(Some(job.clone()))
    }

    async fn update(&self, mut job: Job) -> Result<Job> {
        job.check_id()?;
        let mut rows = self.rows.lock();
        let stored = rows.get(&job.id).ok_or(Error::NotFound { entity: E })?;
        if stored.version != job.version {
            return Err(Error::stale(E));
        }
        job.version += 1;
        rows.insert(job.id.clone(), job.clone());
        Ok(job)
    }

    async fn list(&self, filter: &JobFilter, page: &PageRequest) -> Result<Page<Job>> {
        let after: Option<(u8, i64, i64, String)> =
            page.after.as_ref().map(|c| c.decode()).transpose()?;
        let rows = self.rows.lock();
        let mut items: Vec<(_, &Job)> = rows
            .values()
            .filter(|j| filter.matches(j))
            .map(|j| (job_queue_key(j), j))
            .filter(|(k, _)| {
                after
                    .as_ref()
                    .is_none_or(|a| job_queue_order(k) > job_queue_order(a))
            })
            .collect();
        items.sort_by(|a, b| job_queue_order(&a.0).cmp(&job_queue_order(&b.0)));
        let items = items
            .into_iter()
            .take(page.size() + 1)
            .map(|(_, j)| j.clone())
            .collect();
        Ok(Page::from_overfetch(items, page.size(), job_queue_key))
    }

    async fn follow_order(
        &self,
        order_id: OrderId,
        order_version: u64,
        to: JobStatus,
        priority: Priority,
    ) -> Result<usize> {
        check_follow_target(to)?;
        let mut rows = self.rows.lock();
        let mut written = 0;
        for j in rows.values_mut() {
            if j.order_id == order_id && j.status.is_waiting() && j.order_version <= order_version {
                j.status = to;
                j.priority = priority;
                j.order_version = order_version;
                j.version += 1;
                written += 1;
            }
        }
        Ok(written)
    }
}
