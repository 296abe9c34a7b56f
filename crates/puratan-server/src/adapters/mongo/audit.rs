//! [`AuditLog`] on the `audit` collection (append-only).

use async_trait::async_trait;
use futures::TryStreamExt as _;
use mongodb::Collection;
use mongodb::bson::{DateTime, Document, doc, oid::ObjectId};
use puratan_core::Result;
use puratan_core::ports::{AuditEvent, AuditLog};

use super::error::mapper;
use super::{from_body, to_body};

const ENTITY: &str = "audit event";

/// Audit events with a driver-generated `ObjectId` (increasing within a
/// process, the tie-break for events in the same millisecond), the actor
/// and a BSON date for the indexes, and the event itself under `doc`.
#[derive(Debug, Clone)]
pub struct MongoAuditLog {
    coll: Collection<Document>,
}

impl MongoAuditLog {
    pub(crate) fn new(coll: Collection<Document>) -> Self {
        Self { coll }
    }
}

#[async_trait]
impl AuditLog for MongoAuditLog {
    async fn append(&self, event: AuditEvent) -> Result<()> {
        let d = doc! {
            "_id": ObjectId::new(),
            "actor": event.actor.as_str(),
            "at": DateTime::from_millis(event.at.timestamp_millis()),
            "doc": to_body(&event)?,
        };
        self.coll.insert_one(d).await.map_err(mapper(ENTITY))?;
        Ok(())
    }

    /// Newest first by `at`, then by insertion (`_id`), from the
    /// `{actor, at: -1, _id: -1}` or `{at: -1, _id: -1}` index.
    async fn recent(&self, actor: Option<&str>, limit: usize) -> Result<Vec<AuditEvent>> {
        // MongoDB reads `limit(0)` as "no limit".
        if limit == 0 {
            return Ok(Vec::new());
        }
        let query = match actor {
            Some(a) => doc! { "actor": a },
            None => doc! {},
        };
        let docs: Vec<Document> = self
            .coll
            .find(query)
            .sort(doc! { "at": -1, "_id": -1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .projection(doc! { "doc": 1 })
            .await
            .map_err(mapper(ENTITY))?
            .try_collect()
            .await
            .map_err(mapper(ENTITY))?;
        docs.iter().map(|d| from_body(ENTITY, d)).collect()
    }
}
