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
