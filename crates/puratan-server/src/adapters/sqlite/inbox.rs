//! [`InboxRepo`] on `notifications` and `processed_messages` (the
//! migration after carts): a delivery inserts the `(consumer,
//! message_id)` primary key and the notification in one transaction; an
//! existing key (`INSERT … ON CONFLICT DO NOTHING` changed nothing) rolls
//! back and answers `false`. The single writer connection serialises
//! deliveries, and the primary key keeps the promise on its own.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use puratan_core::domain::UserId;
use puratan_core::ports::{InAppNotification, InboxRepo, Page, PageRequest, check_processed_key};
use puratan_core::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{SqliteStore, decode, encode, map};

const E: &str = "notification";

#[derive(Debug)]
pub(super) struct SqliteInbox(pub(super) SqliteStore);

/// Records the pair; `false` when it was there already.
fn record(c: &Connection, consumer: &str, message_id: &str) -> Result<bool> {
    let changed = c
        .execute(
            "INSERT INTO processed_messages (consumer, message_id, at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (consumer, message_id) DO NOTHING",
            params![consumer, message_id, Utc::now().timestamp_millis()],
        )
        .map_err(|e| map("processed_message", e))?;
    Ok(changed == 1)
}

fn limit(size: usize) -> i64 {
    i64::try_from(size + 1).unwrap_or(101)
}

#[async_trait]
impl InboxRepo for SqliteInbox {
    async fn deliver(
        &self,
        message_id: &str,
        consumer: &str,
        notification: InAppNotification,
    ) -> Result<bool> {
        check_processed_key(consumer, message_id)?;
        let (consumer, message_id) = (consumer.to_owned(), message_id.to_owned());
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                if !record(&tx, &consumer, &message_id)? {
                    // Dropping the transaction rolls it back.
                    return Ok(false);
                }
                tx.execute(
                    "INSERT INTO notifications (id, user_id, unread, doc) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        notification.id.to_string(),
                        notification.user_id.to_string(),
                        i64::from(notification.read_at.is_none()),
                        encode(&notification)?,
                    ],
                )
                .map_err(|e| map(E, e))?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(true)
            })
            .await
    }

    async fn mark_processed(&self, message_id: &str, consumer: &str) -> Result<bool> {
        check_processed_key(consumer, message_id)?;
        let (consumer, message_id) = (consumer.to_owned(), message_id.to_owned());
        self.0
            .write(move |c| record(c, &consumer, &message_id))
            .await
    }

    async fn processed(&self, consumer: &str, message_id: &str) -> Result<bool> {
        let (consumer, message_id) = (consumer.to_owned(), message_id.to_owned());
        self.0
            .read(move |c| {
                c.query_row(
                    "SELECT 1 FROM processed_messages WHERE consumer = ?1 AND message_id = ?2",
                    params![consumer, message_id],
                    |_| Ok(()),
                )
                .optional()
                .map(|r| r.is_some())
                .map_err(|e| map("processed_message", e))
            })
            .await
    }

    async fn list(&self, user: UserId, page: &PageRequest) -> Result<Page<InAppNotification>> {
        let before: Option<Uuid> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let before = before.map(|b| b.to_string());
        let size = page.size();
        self.0
            .read(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT doc FROM notifications WHERE user_id = ?1 AND (?2 IS NULL OR id < ?2)
                         ORDER BY id DESC LIMIT ?3",
                    )
                    .map_err(|e| map(E, e))?;
                let rows = stmt
                    .query_map(params![user.to_string(), before, limit(size)], |r| {
                        r.get::<_, String>(0)
                    })
                    .map_err(|e| map(E, e))?;
                let mut items = Vec::new();
                for r in rows {
                    items.push(decode::<InAppNotification>(&r.map_err(|e| map(E, e))?)?);
                }
                Ok(Page::from_overfetch(items, size, |n| n.id))
            })
            .await
    }

    async fn mark_read(
        &self,
        user: UserId,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<InAppNotification> {
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                let doc: String = tx
                    .query_row(
                        "SELECT doc FROM notifications WHERE id = ?1 AND user_id = ?2",
                        params![id.to_string(), user.to_string()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(|e| map(E, e))?
                    .ok_or(Error::NotFound { entity: E })?;
                let mut n: InAppNotification = decode(&doc)?;
                if n.read_at.is_some() {
                    return Ok(n);
                }
                n.read_at = Some(at);
                tx.execute(
                    "UPDATE notifications SET unread = 0, doc = ?1 WHERE id = ?2",
                    params![encode(&n)?, id.to_string()],
                )
                .map_err(|e| map(E, e))?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(n)
            })
            .await
    }

    async fn unread_count(&self, user: UserId) -> Result<u64> {
        self.0
            .read(move |c| {
                c.query_row(
                    "SELECT count(*) FROM notifications WHERE user_id = ?1 AND unread = 1",
                    [user.to_string()],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| u64::try_from(n).unwrap_or_default())
                .map_err(|e| map(E, e))
            })
            .await
    }
}
