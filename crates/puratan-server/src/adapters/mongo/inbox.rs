//! [`InboxRepo`] on `notifications` and `processed_messages`.
//!
//! * `processed_messages`: `{consumer, message_id, at}` under the unique
//!   index `consumer_message_unique`.
//! * `notifications`: `_id` is the notification id (UUIDv7 string, so
//!   `_id` order is creation order), `user_id`, `unread` (bool) and the
//!   record under `doc`; indexes `user_newest {user_id, _id: -1}` and
//!   `user_unread {user_id, unread}`.
//!
//! A delivery inserts the processed record and then the notification in
//! one multi-document transaction (like the order outbox, `orders.rs`). A
//! duplicate key on the processed record means the message was already
//! processed: the transaction is aborted and the answer is `false`. Two
//! racing deliveries of one message make one of them fail with a write
//! conflict (`TransientTransactionError`) or the duplicate key; the
//! transaction is re-run, and the re-run sees the duplicate.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::Collection;
use mongodb::bson::{Document, doc};
use mongodb::error::{Error as MongoError, TRANSIENT_TRANSACTION_ERROR};
use puratan_core::domain::UserId;
use puratan_core::ports::{InAppNotification, InboxRepo, Page, PageRequest, check_processed_key};
use puratan_core::{ConflictReason, Error, Result};
use uuid::Uuid;

use super::error::{map_err, mapper};
use super::{PROCESSED_MESSAGES, commit, from_body, to_body};

const ENTITY: &str = "notification";
const PROCESSED: &str = "processed_message";
/// How often a transaction is re-run after a transient error.
const TXN_ATTEMPTS: usize = 20;

#[derive(Debug, Clone)]
pub struct MongoInboxRepo {
    notifications: Collection<Document>,
    processed: Collection<Document>,
}

fn is_duplicate(e: MongoError) -> std::result::Result<(), MongoError> {
    match map_err(PROCESSED, e.clone()) {
        Error::Conflict {
            reason: ConflictReason::Duplicate { .. },
            ..
        } => Ok(()),
        _ => Err(e),
    }
}

impl MongoInboxRepo {
    pub(crate) fn new(notifications: Collection<Document>) -> Self {
        let processed = notifications
            .client()
            .database(&notifications.namespace().db)
            .collection(PROCESSED_MESSAGES);
        Self {
            notifications,
            processed,
        }
    }

    fn processed_doc(consumer: &str, message_id: &str) -> Document {
        doc! {
            "consumer": consumer,
            "message_id": message_id,
            "at": mongodb::bson::DateTime::now(),
        }
    }

    fn notification_doc(n: &InAppNotification) -> Result<Document> {
        Ok(doc! {
            "_id": n.id.to_string(),
            "user_id": n.user_id.to_string(),
            "unread": n.read_at.is_none(),
            "doc": to_body(n)?,
        })
    }

    /// Inserts the processed record and (if any) the notification in one
    /// transaction; `false` when the record existed.
    async fn apply(&self, processed: Document, notification: Option<Document>) -> Result<bool> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut session = self
                .processed
                .client()
                .start_session()
                .await
                .map_err(mapper(ENTITY))?;
            session.start_transaction().await.map_err(mapper(ENTITY))?;
            // Ok(true): committed; Ok(false): already processed.
            let result: std::result::Result<bool, MongoError> = async {
                if let Err(e) = self
                    .processed
                    .insert_one(processed.clone())
                    .session(&mut session)
                    .await
                {
                    is_duplicate(e)?;
                    return Ok(false);
                }
                if let Some(n) = &notification {
                    self.notifications
                        .insert_one(n.clone())
                        .session(&mut session)
                        .await?;
                }
                commit(&mut session).await?;
                Ok(true)
            }
            .await;
            match result {
                Ok(true) => return Ok(true),
                Ok(false) => {
                    let _ = session.abort_transaction().await;
                    return Ok(false);
                }
                Err(e)
                    if e.contains_label(TRANSIENT_TRANSACTION_ERROR) && attempt < TXN_ATTEMPTS =>
                {
                    let _ = session.abort_transaction().await;
                    // Let the competing transaction finish before re-running.
                    tokio::time::sleep(std::time::Duration::from_millis(2 * attempt as u64)).await;
                }
                Err(e) => {
                    let _ = session.abort_transaction().await;
                    return Err(map_err(ENTITY, e));
                }
            }
        }
    }

    async fn find_one(&self, user: UserId, id: Uuid) -> Result<InAppNotification> {
        let found = self
            .notifications
            .find_one(doc! { "_id": id.to_string(), "user_id": user.to_string() })
            .projection(doc! { "doc": 1 })
            .await
            .map_err(mapper(ENTITY))?
            .ok_or(Error::NotFound { entity: ENTITY })?;
        from_body(ENTITY, &found)
    }
}

#[async_trait]
impl InboxRepo for MongoInboxRepo {
    async fn deliver(
        &self,
        message_id: &str,
        consumer: &str,
        notification: InAppNotification,
    ) -> Result<bool> {
        check_processed_key(consumer, message_id)?;
        let n = Self::notification_doc(&notification)?;
        self.apply(Self::processed_doc(consumer, message_id), Some(n))
            .await
    }

    async fn mark_processed(&self, message_id: &str, consumer: &str) -> Result<bool> {
        check_processed_key(consumer, message_id)?;
        match self
            .processed
            .insert_one(Self::processed_doc(consumer, message_id))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => is_duplicate(e)
                .map(|()| false)
                .map_err(|e| map_err(PROCESSED, e)),
        }
    }

    async fn processed(&self, consumer: &str, message_id: &str) -> Result<bool> {
        let found = self
            .processed
            .find_one(doc! { "consumer": consumer, "message_id": message_id })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(mapper(PROCESSED))?;
        Ok(found.is_some())
    }

    async fn list(&self, user: UserId, page: &PageRequest) -> Result<Page<InAppNotification>> {
        let before: Option<Uuid> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let size = page.size();
        let mut query = doc! { "user_id": user.to_string() };
        if let Some(b) = before {
            query.insert("_id", doc! { "$lt": b.to_string() });
        }
        let docs = super::find_records(
            &self.notifications,
            ENTITY,
            query,
            doc! { "_id": -1 },
            size + 1,
        )
        .await?;
        let items = docs
            .iter()
            .map(|d| from_body(ENTITY, d))
            .collect::<Result<Vec<InAppNotification>>>()?;
        Ok(Page::from_overfetch(items, size, |n| n.id))
    }

    async fn mark_read(
        &self,
        user: UserId,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<InAppNotification> {
        let mut n = self.find_one(user, id).await?;
        if n.read_at.is_some() {
            return Ok(n);
        }
        n.read_at = Some(at);
        let r = self
            .notifications
            .update_one(
                doc! { "_id": id.to_string(), "user_id": user.to_string(), "unread": true },
                doc! { "$set": { "unread": false, "doc": to_body(&n)? } },
            )
            .await
            .map_err(mapper(ENTITY))?;
        if r.matched_count == 0 {
            // Read (or gone) in the meantime: what is stored now wins.
            return self.find_one(user, id).await;
        }
        Ok(n)
    }

    async fn unread_count(&self, user: UserId) -> Result<u64> {
        self.notifications
            .count_documents(doc! { "user_id": user.to_string(), "unread": true })
            .await
            .map_err(mapper(ENTITY))
    }
}
