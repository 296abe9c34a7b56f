use async_trait::async_trait;
use puratan_core::Result;
use puratan_core::ports::{AuditEvent, AuditLog};
use rusqlite::params;

use super::{SqliteStore, decode, encode, map};

const E: &str = "audit event";

#[derive(Debug)]
pub(super) struct SqliteAudit(pub(super) SqliteStore);

#[async_trait]
impl AuditLog for SqliteAudit {
    async fn append(&self, event: AuditEvent) -> Result<()> {
        self.0
            .write(move |c| {
                c.execute(
                    "INSERT INTO audit (actor, doc) VALUES (?1, ?2)",
                    params![event.actor, encode(&event)?],
                )
                .map_err(|e| map(E, e))?;
                Ok(())
            })
            .await
    }

    async fn recent(&self, actor: Option<&str>, limit: usize) -> Result<Vec<AuditEvent>> {
        let actor = actor.map(str::to_owned);
        let limit = i64::try_from(limit.min(10_000)).unwrap_or(100);
        self.0
            .read(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT doc FROM audit WHERE (?1 IS NULL OR actor = ?1) ORDER BY seq DESC LIMIT ?2",
                    )
                    .map_err(|e| map(E, e))?;
                let rows = stmt
                    .query_map(params![actor, limit], |r| r.get::<_, String>(0))
                    .map_err(|e| map(E, e))?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(decode(&r.map_err(|e| map(E, e))?)?);
                }
                Ok(out)
            })
            .await
    }
}
