//! The caching decorators keep their ports' contracts (the same
//! conformance suites) and serve repeated reads from the cache.

use std::sync::Arc;
use std::time::Duration;

use puratan_core::cached::CachedFileRepo;
use puratan_core::domain::UserId;
use puratan_core::memory::{MemoryCache, MemoryFileRepo};
use puratan_core::ports::{Cache, FileRepo};

fn cached(store: Arc<dyn FileRepo>, cache: Arc<MemoryCache>) -> Arc<dyn FileRepo> {
    Arc::new(CachedFileRepo::new(store, cache, Duration::from_secs(60)))
}

/// A store, a cache, the cached repository over both, and one record
/// inserted through it.
struct Fixture {
    store: Arc<dyn FileRepo>,
    cache: Arc<MemoryCache>,
    repo: Arc<dyn FileRepo>,
    record: puratan_core::ports::FileRecord,
}

async fn fixture() -> Fixture {
    let store: Arc<dyn FileRepo> = Arc::new(MemoryFileRepo::new());
    let cache = Arc::new(MemoryCache::default());
    let repo = cached(store.clone(), cache.clone());
    let record = repo
        .insert(puratan_testkit::file_repo::record(UserId::new(), 1))
        .await
        .expect("insert");
    Fixture {
        store,
        cache,
        repo,
        record,
    }
}

mod suite {
    use super::*;
    puratan_testkit::file_repo_suite!(Some(cached(
        Arc::new(MemoryFileRepo::new()),
        Arc::new(MemoryCache::default())
    )));
}

#[tokio::test]
async fn repeated_reads_come_from_the_cache() {
    let Fixture {
        cache,
        repo,
        record: r,
        ..
    } = fixture().await;
    let before = cache.stats();
    for _ in 0..5 {
        assert_eq!(repo.get(&r.id).await.expect("get"), r);
    }
    let after = cache.stats();
    assert_eq!(
        after.hits - before.hits,
        5,
        "every read after the insert is a hit"
    );
    assert_eq!(after.misses, before.misses);
}

#[tokio::test]
async fn a_write_by_someone_else_is_seen_after_the_conflict_it_causes() {
    let Fixture {
        store,
        repo: replica_a,
        record: r,
        ..
    } = fixture().await;
    // Another replica (no shared cache) updates the store directly.
    let mut theirs = store.get(&r.id).await.expect("get");
    theirs.filename = "renamed.pdf".into();
    store.update(theirs).await.expect("their update");
    // A reads its stale copy, its update conflicts — and the retry sees the store.
    let stale = replica_a.get(&r.id).await.expect("get");
    assert_eq!(stale.filename, r.filename, "cached until a conflict");
    let conflict = replica_a.update(stale).await.expect_err("stale version");
    assert_eq!(conflict.kind(), puratan_core::ErrorKind::Conflict);
    let fresh = replica_a.get(&r.id).await.expect("get");
    assert_eq!(fresh.filename, "renamed.pdf");
    let mut mine = fresh;
    mine.filename = "mine.pdf".into();
    let stored = replica_a.update(mine).await.expect("retry succeeds");
    assert_eq!(store.get(&r.id).await.expect("get"), stored);
    assert_eq!(replica_a.get(&r.id).await.expect("get"), stored);
}

#[tokio::test]
async fn garbage_in_the_cache_is_ignored() {
    let Fixture {
        cache,
        repo,
        record: r,
        ..
    } = fixture().await;
    cache
        .set(
            &format!("file-record:{}", r.id),
            bytes::Bytes::from_static(b"{not json"),
            Duration::from_secs(60),
        )
        .await
        .expect("set");
    assert_eq!(repo.get(&r.id).await.expect("get"), r);
}
