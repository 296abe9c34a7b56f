//! [`JobRepo`] on the `jobs` collection.
//!
//! Documents: `{_id: <job id>, order_id, status, priority (i32), due_ms,
//! submitted_ms (i64 millis), version, doc}`; the record is read from
//! `doc`, `version` from the top level (as everywhere in this adapter).
//! Writes that change single fields (`claim_next`, `follow_order`) set
//! them both at the top level and inside `doc` (`doc.status`, …), in the
//! same update, with the values serialised exactly as `to_body` does.
//!
//! `claim_next` is one `findAndModify`: `find_one_and_update({status:
//! "queued"}, {$set: claimed…, $inc: {version: 1}})` sorted by the queue
//! order (`priority: -1, due_ms, submitted_ms, _id`, the `queue` index)
//! with `ReturnDocument::After`. MongoDB runs a single-document update
//! atomically and re-checks the filter on the document it modifies, so
//! two concurrent claimers never both see `status: "queued"` on the same
//! job; the loser moves on to the next one. SecantusDB (the test server)
//! supports `findAndModify` with `sort`, and the conformance suite's 20
//! concurrent claimers on 10 jobs pass against it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use puratan_core::domain::{Job, JobId, JobStatus, OrderId, Priority, UserId};
use puratan_core::ports::{
    JobFilter, JobRepo, Page, PageRequest, check_follow_target, job_queue_key,
};
use puratan_core::{ConflictReason, Error, Result};

use super::error::{codec, map_err, mapper};
use super::{from_body, get_version, record_projection, to_body};

const ENTITY: &str = "job";

/// The queue order as a MongoDB sort (the `queue` index's key order).
fn queue_sort() -> Document {
    doc! { "priority": -1, "due_ms": 1, "submitted_ms": 1, "_id": 1 }
}

fn bson<T: serde::Serialize>(v: &T) -> Result<Bson> {
    mongodb::bson::to_bson(v).map_err(codec)
}

#[derive(Debug, Clone)]
pub struct MongoJobRepo {
    coll: Collection<Document>,
}

impl MongoJobRepo {
    pub(crate) fn new(coll: Collection<Document>) -> Self {
        Self { coll }
    }

    /// Queried fields and body (everything but `_id` and `version`).
    fn fields(job: &Job) -> Result<Document> {
        let (priority, due_ms, submitted_ms, _) = job_queue_key(job);
        Ok(doc! {
            "order_id": job.order_id.to_string(),
            "status": job.status.as_str(),
            "priority": i32::from(priority),
            "due_ms": due_ms,
            "submitted_ms": submitted_ms,
            "doc": to_body(job)?,
        })
    }

    fn read(stored: &Document) -> Result<Job> {
        let mut j: Job = from_body(ENTITY, stored)?;
        j.version = get_version(ENTITY, stored)?;
        Ok(j)
    }

    async fn find(&self, query: Document, limit: usize) -> Result<Vec<Job>> {
        let docs = super::find_records(&self.coll, ENTITY, query, queue_sort(), limit).await?;
        docs.iter().map(Self::read).collect()
    }
}

#[async_trait]
impl JobRepo for MongoJobRepo {
    /// One insert per job; a duplicate `_id` means "already created" and
    /// is skipped (so concurrent or repeated creations are harmless).
    async fn create(&self, jobs: Vec<Job>) -> Result<usize> {
        for j in &jobs {
            j.check_id()?;
        }
        let mut created = 0;
        for mut j in jobs {
            j.version = 1;
            let mut d = doc! { "_id": j.id.as_str(), "version": 1_i64 };
            d.extend(Self::fields(&j)?);
            match self.coll.insert_one(d).await.map_err(mapper(ENTITY)) {
                Ok(_) => created += 1,
                Err(Error::Conflict {
                    reason: ConflictReason::Duplicate { field: "id" },
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(created)
    }

    async fn get(&self, id: &JobId) -> Result<Job> {
        let found = self
            .coll
            .find_one(doc! { "_id": id.as_str() })
            .projection(record_projection())
            .await
            .map_err(mapper(ENTITY))?;
        match found {
            Some(d) => Self::read(&d),
            None => Err(Error::NotFound { entity: ENTITY }),
        }
    }

    async fn claim_next(&self, operator: UserId, now: DateTime<Utc>) -> Result<Option<Job>> {
        let claimed = JobStatus::Claimed.as_str();
        let update = doc! {
            "$set": {
                "status": claimed,
                "doc.status": claimed,
                "doc.claimed_by": bson(&operator)?,
                "doc.claimed_at": bson(&now)?,
            },
            "$inc": { "version": 1_i64 },
        };
        let found = self
            .coll
            .find_one_and_update(doc! { "status": JobStatus::Queued.as_str() }, update)
            .sort(queue_sort())
            .projection(record_projection())
            .return_document(ReturnDocument::After)
            .await
            .map_err(mapper(ENTITY))?;
        found.as_ref().map(Self::read).transpose()
    }

    async fn update(&self, mut job: Job) -> Result<Job> {
        job.check_id()?;
        let expected = job.version;
        // The stored body carries the version it is written at.
        job.version = expected.saturating_add(1);
        super::update_versioned(&self.coll, ENTITY, job.id.as_str(), expected, || {
            Self::fields(&job)
        })
        .await?;
        Ok(job)
    }

    /// Queue order on the `queue` (by status) or `order_queue` (by order)
    /// index. The cursor is [`job_queue_key`] of the last job shown;
    /// "after it" is four disjoint ranges, queried one after the other
    /// until the page is full (as `OrderRepo::list_queue` does, and
    /// for the same reason: each query is an equality prefix plus one
    /// range, which both MongoDB and SecantusDB answer from the index).
    async fn list(&self, filter: &JobFilter, page: &PageRequest) -> Result<Page<Job>> {
        let after: Option<(u8, i64, i64, String)> =
            page.after.as_ref().map(|c| c.decode()).transpose()?;
        let mut base = Document::new();
        if let Some(o) = filter.order_id {
            base.insert("order_id", o.to_string());
        }
        if let Some(s) = filter.status {
            base.insert("status", s.as_str());
        }
        let with = |extra: Document| {
            let mut q = base.clone();
            q.extend(extra);
            q
        };
        let ranges = match after {
            None => vec![base.clone()],
            Some((p, d, s, id)) => {
                let p = i32::from(p);
                vec![
                    with(
                        doc! { "priority": p, "due_ms": d, "submitted_ms": s, "_id": { "$gt": id } },
                    ),
                    with(doc! { "priority": p, "due_ms": d, "submitted_ms": { "$gt": s } }),
                    with(doc! { "priority": p, "due_ms": { "$gt": d } }),
                    with(doc! { "priority": { "$lt": p } }),
                ]
            }
        };
        let want = page.size() + 1;
        let mut items = Vec::with_capacity(want);
        for query in ranges {
            if items.len() >= want {
                break;
            }
            items.extend(self.find(query, want - items.len()).await?);
        }
        Ok(Page::from_overfetch(items, page.size(), job_queue_key))
    }

    /// One `updateMany` over the order's waiting jobs; the fence is
    /// `doc.order_version` (`$not: {$gt: v}` also matches older documents
    /// that lack it). MongoDB applies it to each document atomically and
    /// re-checks the filter there, so a concurrent follow for a newer
    /// order version (its status and priority) is never overwritten.
    async fn follow_order(
        &self,
        order_id: OrderId,
        order_version: u64,
        to: JobStatus,
        priority: Priority,
    ) -> Result<usize> {
        check_follow_target(to)?;
        let p = i32::from(priority.get());
        let fence = i64::try_from(order_version)
            .map_err(|_| Error::invalid("order_version", "out of range"))?;
        let r = self
            .coll
            .update_many(
                doc! {
                    "order_id": order_id.to_string(),
                    "status": { "$in": [JobStatus::Queued.as_str(), JobStatus::Parked.as_str()] },
                    "doc.order_version": { "$not": { "$gt": fence } },
                },
                doc! {
                    "$set": {
                        "status": to.as_str(),
                        "doc.status": bson(&to)?,
                        "doc.order_version": bson(&order_version)?,
                        "priority": p,
                        "doc.priority": bson(&priority)?,
                    },
                    "$inc": { "version": 1_i64 },
                },
            )
            .await
            .map_err(|e| map_err(ENTITY, e))?;
        usize::try_from(r.matched_count).map_err(|_| Error::invalid("jobs", "too many"))
    }
}
