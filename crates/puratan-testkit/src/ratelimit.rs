//! Conformance suite for [`RateLimitStore`].

use std::sync::Arc;
use std::time::Duration;

use puratan_core::ports::{Quota, RateLimitStore};

use crate::service::unique;

type R = Arc<dyn RateLimitStore>;

pub async fn rate_limit_exact_burst(rl: R) {
    let key = unique("rl");
    let q = Quota {
        limit: 10,
        period: Duration::from_secs(60),
    };
    for i in 0..10u32 {
        let d = rl.check(&key, q).await.expect("check");
        assert!(d.allowed, "request {} of 10 refused", i + 1);
        assert_eq!(d.remaining, 9 - i);
        assert_eq!(d.limit, 10);
    }
    let d = rl.check(&key, q).await.expect("check");
    assert!(!d.allowed, "11th request allowed");
    assert_eq!(d.remaining, 0);
    // One slot frees after period/limit = 6 s.
    assert!(
        d.retry_after > Duration::from_secs(5) && d.retry_after <= Duration::from_secs(6),
        "{d:?}"
    );
}

pub async fn rate_limit_refills_after_period(rl: R) {
    let key = unique("rl");
    let q = Quota {
        limit: 4,
        period: Duration::from_millis(800),
    };
    for _ in 0..4 {
        assert!(rl.check(&key, q).await.expect("check").allowed);
    }
    assert!(!rl.check(&key, q).await.expect("check").allowed);
    tokio::time::sleep(Duration::from_millis(900)).await;
    for i in 0..4 {
        assert!(
            rl.check(&key, q).await.expect("check").allowed,
            "refilled slot {i}"
        );
    }
    assert!(!rl.check(&key, q).await.expect("check").allowed);
}

pub async fn rate_limit_atomic_under_concurrency(rl: R) {
    let key = unique("rl");
    let q = Quota {
        limit: 25,
        period: Duration::from_secs(60),
    };
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let rl = rl.clone();
            let key = key.clone();
            tokio::spawn(async move { rl.check(&key, q).await })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        if t.await.expect("join").expect("check").allowed {
            allowed += 1;
        }
    }
    assert_eq!(
        allowed, 25,
        "exactly the limit is allowed under concurrency"
    );
}

pub async fn rate_limit_keys_are_independent(rl: R) {
    let (a, b) = (unique("rl"), unique("rl"));
    let q = Quota {
        limit: 1,
        period: Duration::from_secs(60),
    };
    assert!(rl.check(&a, q).await.expect("check").allowed);
    assert!(!rl.check(&a, q).await.expect("check").allowed);
    assert!(rl.check(&b, q).await.expect("check").allowed);
}
