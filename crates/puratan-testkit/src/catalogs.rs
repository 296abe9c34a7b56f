//! Conformance suite for [`CatalogRepo`].

use std::sync::Arc;

use puratan_core::ports::CatalogRepo;
use puratan_core::{ConflictReason, Error, ErrorKind};

use crate::service::unique;

pub async fn catalog_versions_lifecycle(repo: Arc<dyn CatalogRepo>) {
    let v1 = unique("v1-");
    let v2 = unique("v2-");
    assert_eq!(
        repo.get(&v1).await.expect_err("missing").kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        repo.activate(&v1).await.expect_err("missing").kind(),
        ErrorKind::NotFound
    );

    repo.put(&v1, r#"{"version":"one"}"#).await.expect("put v1");
    repo.put(&v1, r#"{"version":"one"}"#)
        .await
        .expect("same content again is a no-op");
    let err = repo
        .put(&v1, r#"{"version":"changed"}"#)
        .await
        .expect_err("versions are immutable");
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::Duplicate { field: "version" },
                ..
            }
        ),
        "{err:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    repo.put(&v2, r#"{"version":"two"}"#).await.expect("put v2");

    repo.activate(&v1).await.expect("activate v1");
    assert_eq!(
        repo.active().await.expect("active").map(|v| v.version),
        Some(v1.clone())
    );
    repo.activate(&v2).await.expect("activate v2");
    let active = repo.active().await.expect("active").expect("some");
    assert_eq!(
        (active.version.as_str(), active.document.as_str()),
        (v2.as_str(), r#"{"version":"two"}"#)
    );

    // Rollback: the old version is still there, byte for byte.
    assert_eq!(
        repo.get(&v1).await.expect("old").document,
        r#"{"version":"one"}"#
    );
    repo.activate(&v1).await.expect("roll back");
    let listed = repo.list(100).await.expect("list");
    let mine: Vec<_> = listed
        .iter()
        .filter(|s| s.version == v1 || s.version == v2)
        .collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].version, v2, "newest first");
    assert!(mine[1].active && !mine[0].active, "{mine:?}");
    assert_eq!(
        listed.iter().filter(|s| s.active).count(),
        1,
        "exactly one active version"
    );
}
