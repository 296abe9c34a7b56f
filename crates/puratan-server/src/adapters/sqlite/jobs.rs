//! [`JobRepo`] on the `jobs` table (migration 9): the job as a JSON `doc`
//! plus indexed columns for the queue order (`status, priority DESC,
//! due_ms, submitted_ms, id`) and the order.
//!
//! `claim_next` is one statement on the writer connection:
//! `UPDATE … WHERE id = (SELECT id … ORDER BY <queue order> LIMIT 1) AND
//! status = 'queued' RETURNING doc, version`. SQLite runs a statement
//! atomically (and this adapter has one writer), so two claimers can never
//! take the same row; the `status` re-check keeps the statement correct on
//! its own, whatever the connection setup. The claim also patches the
//! `doc` with `json_set`, so the columns and the document never disagree.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use puratan_core::domain::{Job, JobId, JobStatus, OrderId, Priority, UserId};
use puratan_core::ports::{
    JobFilter, JobRepo, Page, PageRequest, check_follow_target, job_queue_key,
};
use puratan_core::{Error, Result};
use rusqlite::{Connection, OptionalExtension, ToSql, params};

use super::{SqliteStore, decode, encode, map, stale_or_missing};

const E: &str = "job";

#[derive(Debug)]
pub(super) struct SqliteJobs(pub(super) SqliteStore);

fn read_row(doc: String, version: i64) -> Result<Job> {
    let mut j: Job = decode(&doc)?;
    j.version = u64::try_from(version).unwrap_or_default();
    Ok(j)
}

fn query(c: &Connection, sql: &str, args: &[&dyn ToSql]) -> Result<Vec<Job>> {
    let mut stmt = c.prepare_cached(sql).map_err(|e| map(E, e))?;
    let rows = stmt
        .query_map(args, |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(|e| map(E, e))?;
    let mut out = Vec::new();
    for r in rows {
        let (doc, v) = r.map_err(|e| map(E, e))?;
        out.push(read_row(doc, v)?);
    }
    Ok(out)
}

/// A JSON value as `json_set` should store it (`json(?)` keeps its type).
fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    encode(v)
}

#[async_trait]
impl JobRepo for SqliteJobs {
    async fn create(&self, jobs: Vec<Job>) -> Result<usize> {
        for j in &jobs {
            j.check_id()?;
        }
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                let mut created = 0;
                {
                    let mut stmt = tx
                        .prepare_cached(
                            "INSERT OR IGNORE INTO jobs
                               (id, order_id, status, priority, due_ms, submitted_ms, version, doc)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
                        )
                        .map_err(|e| map(E, e))?;
                    for mut j in jobs {
                        j.version = 1;
                        let (priority, due_ms, submitted_ms, _) = job_queue_key(&j);
                        created += stmt
                            .execute(params![
                                j.id.as_str(),
                                j.order_id.to_string(),
                                j.status.as_str(),
                                priority,
                                due_ms,
                                submitted_ms,
                                encode(&j)?,
                            ])
                            .map_err(|e| map(E, e))?;
                    }
                }
                tx.commit().map_err(|e| map(E, e))?;
                Ok(created)
            })
            .await
    }

    async fn get(&self, id: &JobId) -> Result<Job> {
        let id = id.to_string();
        self.0
            .read(move |c| {
                query(c, "SELECT doc, version FROM jobs WHERE id = ?1", &[&id])?
                    .pop()
                    .ok_or(Error::NotFound { entity: E })
            })
            .await
    }

    async fn claim_next(&self, operator: UserId, now: DateTime<Utc>) -> Result<Option<Job>> {
        let operator = json(&operator)?;
        let at = json(&now)?;
        self.0
            .write(move |c| {
                let row = c
                    .prepare_cached(
                        "UPDATE jobs
                            SET status = 'claimed', version = version + 1,
                                doc = json_set(doc, '$.status', 'claimed',
                                                    '$.claimed_by', json(?1),
                                                    '$.claimed_at', json(?2))
                          WHERE id = (SELECT id FROM jobs WHERE status = 'queued'
                                       ORDER BY priority DESC, due_ms, submitted_ms, id
                                       LIMIT 1)
                            AND status = 'queued'
                         RETURNING doc, version",
                    )
                    .map_err(|e| map(E, e))?
                    .query_row(params![operator, at], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                    })
                    .optional()
                    .map_err(|e| map(E, e))?;
                row.map(|(doc, v)| read_row(doc, v)).transpose()
            })
            .await
    }

    async fn update(&self, mut job: Job) -> Result<Job> {
        job.check_id()?;
        self.0
            .write(move |c| {
                let expected = i64::try_from(job.version).map_err(|_| Error::stale(E))?;
                job.version += 1;
                let (priority, due_ms, submitted_ms, _) = job_queue_key(&job);
                let changed = c
                    .execute(
                        "UPDATE jobs SET status = ?1, priority = ?2, due_ms = ?3, submitted_ms = ?4,
                                         version = version + 1, doc = ?5
                          WHERE id = ?6 AND version = ?7",
                        params![
                            job.status.as_str(),
                            priority,
                            due_ms,
                            submitted_ms,
                            encode(&job)?,
                            job.id.as_str(),
                            expected
                        ],
                    )
                    .map_err(|e| map(E, e))?;
                if changed == 0 {
                    return Err(stale_or_missing(c, "jobs", job.id.as_str(), E));
                }
                Ok(job)
            })
            .await
    }

    async fn list(&self, filter: &JobFilter, page: &PageRequest) -> Result<Page<Job>> {
        let after: Option<(u8, i64, i64, String)> =
            page.after.as_ref().map(|c| c.decode()).transpose()?;
        let status = filter.status.map(JobStatus::as_str);
        let order_id = filter.order_id.map(|o| o.to_string());
        let size = page.size();
        let limit = i64::try_from(size + 1).unwrap_or(101);
        self.0
            .read(move |c| {
                let (p, d, s, id) = match after {
                    Some((p, d, s, id)) => (Some(p), Some(d), Some(s), Some(id)),
                    None => (None, None, None, None),
                };
                // Keyset pagination over (priority DESC, due_ms, submitted_ms, id).
                let items = query(
                    c,
                    "SELECT doc, version FROM jobs
                      WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR order_id = ?2)
                        AND (?3 IS NULL OR priority < ?3
                             OR (priority = ?3 AND (due_ms > ?4
                                 OR (due_ms = ?4 AND (submitted_ms > ?5
                                     OR (submitted_ms = ?5 AND id > ?6))))))
                      ORDER BY priority DESC, due_ms, submitted_ms, id LIMIT ?7",
                    &[&status, &order_id, &p, &d, &s, &id, &limit],
                )?;
                Ok(Page::from_overfetch(items, size, job_queue_key))
            })
            .await
    }

    /// One `UPDATE` over the order's rows (`jobs_order` index): the fence
    /// is the document's `order_version` (0 when an older document lacks
    /// it), read and written in the same statement with the status and
    /// the priority (column and document).
    async fn follow_order(
        &self,
        order_id: OrderId,
        order_version: u64,
        to: JobStatus,
        priority: Priority,
    ) -> Result<usize> {
        check_follow_target(to)?;
        let order_id = order_id.to_string();
        let fence = i64::try_from(order_version)
            .map_err(|_| Error::invalid("order_version", "out of range"))?;
        self.0
            .write(move |c| {
                c.execute(
                    "UPDATE jobs SET status = ?1, priority = ?4, version = version + 1,
                                     doc = json_set(doc, '$.status', ?1, '$.order_version', ?2,
                                                         '$.priority', ?4)
                      WHERE order_id = ?3 AND status IN ('queued', 'parked')
                        AND coalesce(json_extract(doc, '$.order_version'), 0) <= ?2",
                    params![to.as_str(), fence, order_id, priority.get()],
                )
                .map_err(|e| map(E, e))
            })
            .await
    }
}
