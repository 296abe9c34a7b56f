//! Refresh-token records. Every operation runs on the single writer
//! connection inside one transaction, which makes `rotate` atomic and a
//! racing `revoke_family` effective (the family row is checked in the
//! same transaction that inserts the successor).

use async_trait::async_trait;
use puratan_core::Result;
use puratan_core::auth::tokens::{FamilyId, RefreshRecord, RefreshState, RefreshStore};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, map};

const E: &str = "refresh_token";

#[derive(Debug)]
pub(super) struct SqliteRefresh(pub(super) SqliteStore);

fn state_str(s: RefreshState) -> &'static str {
    match s {
        RefreshState::Active => "active",
        RefreshState::Rotated => "rotated",
        RefreshState::Revoked => "revoked",
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn get_record(c: &Connection, hash: &str) -> Result<Option<RefreshRecord>> {
    c.query_row(
        "SELECT t.token_hash, t.family, t.subject, t.issued_at, t.expires_at,
                t.family_expires_at, t.state, f.revoked
         FROM refresh_tokens t JOIN refresh_families f ON f.family = t.family
         WHERE t.token_hash = ?1",
        [hash],
        |r| {
            let state: String = r.get(6)?;
            let revoked: bool = r.get(7)?;
            let u = |i: usize| {
                r.get::<_, i64>(i)
                    .map(|v| u64::try_from(v).unwrap_or_default())
            };
            Ok(RefreshRecord {
                token_hash: r.get(0)?,
                family: FamilyId(r.get(1)?),
                subject: r.get(2)?,
                issued_at: u(3)?,
                expires_at: u(4)?,
                family_expires_at: u(5)?,
                state: if revoked {
                    RefreshState::Revoked
                } else {
                    match state.as_str() {
                        "active" => RefreshState::Active,
                        "rotated" => RefreshState::Rotated,
                        _ => RefreshState::Revoked,
                    }
                },
            })
        },
    )
    .optional()
    .map_err(|e| map(E, e))
}

fn insert_token(c: &Connection, r: &RefreshRecord) -> Result<()> {
    c.execute(
        "INSERT INTO refresh_tokens
         (token_hash, family, subject, issued_at, expires_at, family_expires_at, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            r.token_hash,
            r.family.0,
            r.subject,
            to_i64(r.issued_at),
            to_i64(r.expires_at),
            to_i64(r.family_expires_at),
            state_str(r.state)
        ],
    )
    .map_err(|e| map(E, e))?;
    Ok(())
}

#[async_trait]
impl RefreshStore for SqliteRefresh {
    async fn insert(&self, record: RefreshRecord) -> Result<()> {
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                tx.execute(
                    "INSERT INTO refresh_families (family, subject, revoked, expires_at)
                     VALUES (?1, ?2, 0, ?3) ON CONFLICT (family) DO NOTHING",
                    params![
                        record.family.0,
                        record.subject,
                        to_i64(record.family_expires_at)
                    ],
                )
                .map_err(|e| map(E, e))?;
                insert_token(&tx, &record)?;
                tx.commit().map_err(|e| map(E, e))
            })
            .await
    }

    async fn get(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
        let hash = token_hash.to_owned();
        self.0.read(move |c| get_record(c, &hash)).await
    }

    async fn rotate(&self, old_hash: &str, new: RefreshRecord) -> Result<bool> {
        let old_hash = old_hash.to_owned();
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                let Some(old) = get_record(&tx, &old_hash)? else {
                    return Ok(false);
                };
                if old.state != RefreshState::Active || old.family != new.family {
                    return Ok(false);
                }
                tx.execute(
                    "UPDATE refresh_tokens SET state = 'rotated' WHERE token_hash = ?1",
                    [&old_hash],
                )
                .map_err(|e| map(E, e))?;
                insert_token(&tx, &new)?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(true)
            })
            .await
    }

    async fn revoke_family(&self, family: &FamilyId) -> Result<()> {
        let family = family.0.clone();
        self.0
            .write(move |c| {
                c.execute(
                    "UPDATE refresh_families SET revoked = 1 WHERE family = ?1",
                    [family],
                )
                .map_err(|e| map(E, e))?;
                Ok(())
            })
            .await
    }

    async fn revoke_subject(&self, subject: &str) -> Result<()> {
        let subject = subject.to_owned();
        self.0
            .write(move |c| {
                c.execute(
                    "UPDATE refresh_families SET revoked = 1 WHERE subject = ?1",
                    [subject],
                )
                .map_err(|e| map(E, e))?;
                Ok(())
            })
            .await
    }
}
