//! Conformance of the embedded SQLite store, plus what only it promises:
//! data survives closing and reopening the file.

use std::sync::Arc;

use puratan_core::ports::*;
use puratan_server::adapters::sqlite::{SqliteConfig, SqliteStore};

/// A fresh database in a temporary directory that lives as long as the
/// test process (leaked on purpose: the store outlives the factory).
fn store() -> SqliteStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("puratan.db");
    std::mem::forget(dir);
    SqliteStore::open(&SqliteConfig {
        path,
        ..Default::default()
    })
    .expect("open")
}

mod products {
    use super::*;
    puratan_testkit::product_repo_suite!(Some(store().products()));
}
mod users {
    use super::*;
    puratan_testkit::user_repo_suite!(Some(store().users()));
}
mod orders {
    use super::*;
    puratan_testkit::order_repo_suite!(Some(store().orders()));
}
mod orders_checkout {
    use super::*;
    /// Orders and products of one database.
    fn stores() -> Option<puratan_testkit::checkout::Stores> {
        let s = store();
        Some((s.orders(), s.products()))
    }
    puratan_testkit::order_checkout_suite!(stores());
}
mod file_repo {
    use super::*;
    puratan_testkit::file_repo_suite!(Some(store().file_records()));
}
mod carts {
    use super::*;
    puratan_testkit::cart_repo_suite!(Some(store().carts()));
}
mod jobs {
    use super::*;
    puratan_testkit::job_repo_suite!(Some(store().jobs()));
}
mod inbox {
    use super::*;
    puratan_testkit::inbox_repo_suite!(Some(store().inbox()));
}
mod audit {
    use super::*;
    puratan_testkit::audit_log_suite!(Some(store().audit()));
}
mod catalogs {
    use super::*;
    puratan_testkit::catalog_repo_suite!(Some(store().catalogs()));
}
mod refresh {
    use super::*;
    puratan_testkit::refresh_store_suite!(Some(store().refresh_tokens()));
}
mod sessions {
    use super::*;
    use puratan_server::adapters::sqlite::SqliteSessions;
    puratan_testkit::session_suite!(Some(Arc::new(
        SqliteSessions::open(store()).await.expect("sessions")
    ) as Arc<dyn SessionStore>));
}

/// Logging out must stay effective across a restart of the embedded
/// server: the denylist, sessions and one-time tokens are persisted.
#[tokio::test]
async fn security_state_survives_reopen() {
    use puratan_server::adapters::sqlite::SqliteSessions;
    use std::time::Duration;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SqliteConfig {
        path: dir.path().join("puratan.db"),
        ..Default::default()
    };
    let user = puratan_core::domain::UserId::new();
    {
        let s = SqliteSessions::open(SqliteStore::open(&config).expect("open"))
            .await
            .expect("sessions");
        s.deny("jti-1", Duration::from_secs(600))
            .await
            .expect("deny");
        s.deny("jti-short", Duration::from_millis(1))
            .await
            .expect("deny");
        s.put_one_time("reset:abc", "u1", Duration::from_secs(600))
            .await
            .expect("put");
        s.put_one_time("reset:used", "u2", Duration::from_secs(600))
            .await
            .expect("put");
        assert_eq!(
            s.take_one_time("reset:used")
                .await
                .expect("take")
                .as_deref(),
            Some("u2")
        );
        let session = Session {
            id: "fam-1".into(),
            user_id: user,
            device: "curl".into(),
            ip: "192.0.2.1".into(),
            created_at: chrono::Utc::now(),
            last_seen: chrono::Utc::now(),
        };
        s.put_session(&session, Duration::from_secs(600))
            .await
            .expect("session");
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let s = SqliteSessions::open(SqliteStore::open(&config).expect("reopen"))
        .await
        .expect("sessions");
    assert!(s.is_denied("jti-1").await.expect("denied"));
    assert!(!s.is_denied("jti-short").await.expect("expired"));
    assert!(!s.is_denied("jti-other").await.expect("never denied"));
    assert_eq!(
        s.take_one_time("reset:abc").await.expect("take").as_deref(),
        Some("u1")
    );
    assert_eq!(s.take_one_time("reset:used").await.expect("take"), None);
    assert_eq!(s.list_sessions(user).await.expect("list").len(), 1);
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SqliteConfig {
        path: dir.path().join("db/puratan.db"),
        ..Default::default()
    };
    let (product, user, order) = {
        let s = SqliteStore::open(&config).expect("open");
        let p = s
            .products()
            .insert(puratan_testkit::fixtures::product("kept", "KEPT-1"))
            .await
            .expect("insert");
        let u = s
            .users()
            .insert(puratan_testkit::fixtures::user("kept@example.com"))
            .await
            .expect("insert");
        let o = s
            .orders()
            .insert(puratan_testkit::fixtures::order(
                u.id,
                "submitted",
                50,
                puratan_testkit::fixtures::day(2),
            ))
            .await
            .expect("insert");
        (p, u, o)
    };
    // Reopening also re-runs migrations, which must be a no-op.
    let s = SqliteStore::open(&config).expect("reopen");
    assert_eq!(
        s.products().get(&product.id).await.expect("product"),
        product
    );
    assert_eq!(s.users().get(user.id).await.expect("user"), user);
    assert_eq!(s.orders().get(order.id).await.expect("order"), order);
}

#[tokio::test]
async fn hostile_lookup_values_are_literals() {
    let s = store();
    let repo: Arc<dyn ProductRepo> = s.products();
    repo.insert(puratan_testkit::fixtures::product("real", "REAL-1"))
        .await
        .expect("insert");
    // Values are always bound parameters; an injection attempt can only be
    // rejected by the domain type or match nothing.
    assert!(puratan_core::domain::Sku::parse("' OR '1'='1").is_err());
    let email = puratan_core::domain::Email::parse("x'--@example.com").expect("odd but valid");
    assert_eq!(
        s.users()
            .get_by_email(&email)
            .await
            .expect_err("no such user")
            .kind(),
        puratan_core::ErrorKind::NotFound
    );
}
