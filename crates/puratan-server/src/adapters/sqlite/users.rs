use async_trait::async_trait;
use puratan_core::domain::{Email, User, UserId};
use puratan_core::ports::{Page, PageRequest, UserRepo};
use puratan_core::{Error, Result};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, decode, encode, map, stale_or_missing};

const E: &str = "user";

#[derive(Debug)]
pub(super) struct SqliteUsers(pub(super) SqliteStore);

fn row(doc: String, version: i64) -> Result<User> {
    let mut u: User = decode(&doc)?;
    u.version = u64::try_from(version).unwrap_or_default();
    Ok(u)
}

/// Mirrors `user.identities` into the indexed `user_identities` table; its
/// primary key makes an identity belong to one account at most.
fn write_identities(c: &rusqlite::Connection, user: &User) -> Result<()> {
    let id = user.id.to_string();
    c.execute("DELETE FROM user_identities WHERE user_id = ?1", [&id])
        .map_err(|e| map(E, e))?;
    for i in &user.identities {
        c.execute(
            "INSERT INTO user_identities (issuer, subject, user_id) VALUES (?1, ?2, ?3)",
            params![i.issuer, i.subject, id],
        )
        .map_err(|e| map(E, e))?;
    }
    Ok(())
}

impl SqliteUsers {
    /// The one user a `SELECT doc, version …` finds, or `NotFound`.
    async fn one(&self, sql: &'static str, args: Vec<String>) -> Result<User> {
        self.0
            .read(move |c| {
                let r = c
                    .query_row(sql, rusqlite::params_from_iter(args), |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                    .map_err(|e| map(E, e))?;
                let (doc, v) = r.ok_or(Error::NotFound { entity: E })?;
                row(doc, v)
            })
            .await
    }
}

#[async_trait]
impl UserRepo for SqliteUsers {
    async fn insert(&self, mut user: User) -> Result<User> {
        user.version = 1;
        self.0
            .write(move |c| {
                let tx = c.transaction().map_err(|e| map(E, e))?;
                tx.execute(
                    "INSERT INTO users (id, email, version, doc) VALUES (?1, ?2, 1, ?3)",
                    params![user.id.to_string(), user.email.as_str(), encode(&user)?],
                )
                .map_err(|e| map(E, e))?;
                write_identities(&tx, &user)?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(user)
            })
            .await
    }

    async fn get(&self, id: UserId) -> Result<User> {
        self.one(
            "SELECT doc, version FROM users WHERE id = ?1",
            vec![id.to_string()],
        )
        .await
    }

    async fn get_by_email(&self, email: &Email) -> Result<User> {
        self.one(
            "SELECT doc, version FROM users WHERE email = ?1",
            vec![email.to_string()],
        )
        .await
    }

    async fn get_by_identity(&self, issuer: &str, subject: &str) -> Result<User> {
        self.one(
            "SELECT u.doc, u.version FROM user_identities i JOIN users u ON u.id = i.user_id
             WHERE i.issuer = ?1 AND i.subject = ?2",
            vec![issuer.to_owned(), subject.to_owned()],
        )
        .await
    }

    async fn update(&self, mut user: User) -> Result<User> {
        self.0
            .write(move |c| {
                let expected = i64::try_from(user.version).map_err(|_| Error::stale(E))?;
                user.version += 1;
                let tx = c.transaction().map_err(|e| map(E, e))?;
                let changed = tx
                    .execute(
                        "UPDATE users SET email = ?1, version = version + 1, doc = ?2 WHERE id = ?3 AND version = ?4",
                        params![user.email.as_str(), encode(&user)?, user.id.to_string(), expected],
                    )
                    .map_err(|e| map(E, e))?;
                if changed == 0 {
                    return Err(stale_or_missing(&tx, "users", &user.id.to_string(), E));
                }
                write_identities(&tx, &user)?;
                tx.commit().map_err(|e| map(E, e))?;
                Ok(user)
            })
            .await
    }

    async fn list(&self, page: &PageRequest) -> Result<Page<User>> {
        let after: Option<UserId> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let after = after.map(|a| a.to_string());
        let size = page.size();
        self.0
            .read(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT doc, version FROM users WHERE (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2",
                    )
                    .map_err(|e| map(E, e))?;
                let rows = stmt
                    .query_map(params![after, i64::try_from(size + 1).unwrap_or(101)], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                    })
                    .map_err(|e| map(E, e))?;
                let mut items = Vec::new();
                for r in rows {
                    let (doc, v) = r.map_err(|e| map(E, e))?;
                    items.push(row(doc, v)?);
                }
                Ok(Page::from_overfetch(items, size, |u| u.id))
            })
            .await
    }
}
