//! The embedded default: every repository and the audit log on one SQLite
//! file (bundled SQLite, WAL mode), so `puratan serve` needs nothing
//! installed and keeps its data across restarts.
//!
//! Concurrency model: one writer connection (SQLite allows one writer at a
//! time anyway; serialising in-process avoids `SQLITE_BUSY` storms) plus a
//! few reader connections that WAL lets run beside it. All calls run on
//! tokio's blocking pool so the async executor never waits on disk.
//!
//! Durability: WAL with `synchronous = NORMAL` survives a killed process
//! (committed transactions are in the WAL); only an OS crash or power loss
//! may drop the last transactions. Set `synchronous = FULL` if that matters
//! more than write latency.

mod audit;
mod carts;
mod catalogs;
mod config;
mod error;
mod files;
mod inbox;
mod jobs;
mod orders;
mod products;
mod refresh;
mod schema;
mod sessions;
mod uploads;
mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use puratan_core::ports::{AuditLog, CatalogRepo, OrderRepo, ProductRepo, UserRepo};
use puratan_core::{Error, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::de::DeserializeOwned;

pub use config::SqliteConfig;
use error::{BACKEND, corrupt, map};
pub use sessions::SqliteSessions;
pub use uploads::SqliteUploads;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl SqliteStore {
    /// Opens (creating if needed) the database and applies migrations.
    pub fn open(config: &SqliteConfig) -> Result<Self> {
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::unavailable(BACKEND, e, false))?;
        }
        let open = |flags| -> Result<Connection> {
            let conn =
                Connection::open_with_flags(&config.path, flags).map_err(|e| map("database", e))?;
            conn.busy_timeout(Duration::from_millis(config.busy_timeout_ms))
                .map_err(|e| map("database", e))?;
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| map("database", e))?;
            Ok(conn)
        };
        let mut writer = open(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        schema::migrate(&mut writer).map_err(|e| map("database", e))?;
        let readers = (0..config.readers.max(1))
            .map(|_| open(OpenFlags::SQLITE_OPEN_READ_ONLY).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

    pub fn products(&self) -> Arc<dyn ProductRepo> {
        Arc::new(products::SqliteProducts(self.clone()))
    }
    pub fn users(&self) -> Arc<dyn UserRepo> {
        Arc::new(users::SqliteUsers(self.clone()))
    }
    pub fn orders(&self) -> Arc<dyn OrderRepo> {
        Arc::new(orders::SqliteOrders(self.clone()))
    }
    pub fn catalogs(&self) -> Arc<dyn CatalogRepo> {
        Arc::new(catalogs::SqliteCatalogs(self.clone()))
    }
    pub fn refresh_tokens(&self) -> Arc<dyn puratan_core::auth::tokens::RefreshStore> {
        Arc::new(refresh::SqliteRefresh(self.clone()))
    }
    pub fn file_records(&self) -> Arc<dyn puratan_core::ports::FileRepo> {
        Arc::new(files::SqliteFiles(self.clone()))
    }
    pub fn audit(&self) -> Arc<dyn AuditLog> {
        Arc::new(audit::SqliteAudit(self.clone()))
    }
    pub fn carts(&self) -> Arc<dyn puratan_core::ports::CartRepo> {
        Arc::new(carts::SqliteCarts(self.clone()))
    }
    pub fn jobs(&self) -> Arc<dyn puratan_core::ports::JobRepo> {
        Arc::new(jobs::SqliteJobs(self.clone()))
    }
    pub fn inbox(&self) -> Arc<dyn puratan_core::ports::InboxRepo> {
        Arc::new(inbox::SqliteInbox(self.clone()))
    }

    /// A trivial query through a reader, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(|e| map("database", e))
        })
        .await
    }

    /// Runs `f` on the writer connection, off the async executor.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&mut inner.writer.lock()))
            .await
            .map_err(|e| Error::backend(BACKEND, e))?
    }

    /// Runs `f` on a reader connection (a free one if possible).
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            for r in &inner.readers {
                if let Some(conn) = r.try_lock() {
                    return f(&conn);
                }
            }
            let i = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            f(&inner.readers[i].lock())
        })
        .await
        .map_err(|e| Error::backend(BACKEND, e))?
    }
}

/// Why a version-checked `UPDATE` changed no row: the record is gone
/// (`NotFound`) or someone else updated it first (`StaleVersion`).
fn stale_or_missing(c: &Connection, table: &str, id: &str, entity: &'static str) -> Error {
    let exists = c
        .query_row(
            &format!("SELECT 1 FROM {table} WHERE id = ?1"),
            [id],
            |_| Ok(()),
        )
        .optional();
    match exists {
        Ok(Some(())) => Error::stale(entity),
        Ok(None) => Error::NotFound { entity },
        Err(e) => map(entity, e),
    }
}

fn decode<T: DeserializeOwned>(doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(corrupt)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(corrupt)
}
