//! Conformance suite for [`Cache`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use puratan_core::ports::Cache;

use crate::service::unique;

type C = Arc<dyn Cache>;

pub async fn cache_set_get_delete(cache: C) {
    let k = unique("k");
    assert_eq!(cache.get(&k).await.expect("get"), None);
    cache
        .set(&k, Bytes::from_static(b"one"), Duration::from_secs(60))
        .await
        .expect("set");
    assert_eq!(
        cache.get(&k).await.expect("get").as_deref(),
        Some(&b"one"[..])
    );
    cache
        .set(&k, Bytes::from_static(b"two"), Duration::from_secs(60))
        .await
        .expect("overwrite");
    assert_eq!(
        cache.get(&k).await.expect("get").as_deref(),
        Some(&b"two"[..])
    );
    cache.delete(&k).await.expect("delete");
    assert_eq!(cache.get(&k).await.expect("get"), None);
    cache
        .delete(&k)
        .await
        .expect("deleting a missing key is fine");
}

pub async fn cache_ttl_expiry(cache: C) {
    let short = unique("short");
    let long = unique("long");
    cache
        .set(&short, Bytes::from_static(b"x"), Duration::from_millis(300))
        .await
        .expect("set");
    cache
        .set(&long, Bytes::from_static(b"y"), Duration::from_secs(60))
        .await
        .expect("set");
    assert!(cache.get(&short).await.expect("get").is_some());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(cache.get(&short).await.expect("get"), None, "expired");
    assert!(
        cache.get(&long).await.expect("get").is_some(),
        "unexpired entry kept"
    );
}

pub async fn cache_counts_hits_and_misses(cache: C) {
    let k = unique("stats");
    let before = cache.stats();
    cache.get(&k).await.expect("miss");
    cache
        .set(&k, Bytes::from_static(b"v"), Duration::from_secs(60))
        .await
        .expect("set");
    cache.get(&k).await.expect("hit");
    cache.get(&k).await.expect("hit");
    let after = cache.stats();
    // Counters are per process and other tests may run concurrently on a
    // shared instance, so check at least our own traffic was counted.
    assert!(after.hits >= before.hits + 2, "{before:?} -> {after:?}");
    assert!(after.misses > before.misses, "{before:?} -> {after:?}");
}
