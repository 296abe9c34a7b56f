use std::sync::{Arc, Barrier};

use super::tests_support::block_on;
use super::*;

const NOW: u64 = 1_800_000_000;
const DAY: u64 = 24 * 3600;

fn svc() -> RefreshTokens {
    RefreshTokens::default()
}

#[test]
fn rotation_issues_a_successor_in_the_same_family() {
    block_on(async {
        let store = MemoryRefreshStore::new();
        let (t0, r0) = svc().issue(&store, "user-1", NOW).await.unwrap();
        assert!(t0.expose().starts_with("prt_"));
        assert!(!format!("{t0:?}").contains(t0.expose()));
        assert_ne!(r0.token_hash, t0.expose());
        let r1 = svc().rotate(&store, t0.expose(), NOW + 60).await.unwrap();
        assert_eq!(r1.record.family, r0.family);
        assert_eq!(r1.record.subject, "user-1");
        assert_ne!(r1.token, t0);
        let r2 = svc()
            .rotate(&store, r1.token.expose(), NOW + 120)
            .await
            .unwrap();
        assert_eq!(r2.record.family, r0.family);
        assert_eq!(
            store.get(&r0.token_hash).await.unwrap().unwrap().state,
            RefreshState::Rotated
        );
    });
}

#[test]
fn reuse_of_a_rotated_token_revokes_the_whole_family() {
    block_on(async {
        let store = MemoryRefreshStore::new();
        let (t0, r0) = svc().issue(&store, "user-1", NOW).await.unwrap();
        let (other, _) = svc().issue(&store, "user-1", NOW).await.unwrap();
        let t1 = svc()
            .rotate(&store, t0.expose(), NOW + 1)
            .await
            .unwrap()
            .token;
        let t2 = svc()
            .rotate(&store, t1.expose(), NOW + 2)
            .await
            .unwrap()
            .token;
        // The attacker replays t0.
        match svc().rotate(&store, t0.expose(), NOW + 3).await {
            Err(AuthError::ReuseDetected { family }) => assert_eq!(family, r0.family.0),
            other => panic!("expected reuse, got {other:?}"),
        }
        // Including the newest token of the family.
        let err = svc()
            .rotate(&store, t2.expose(), NOW + 4)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "refresh_revoked");
        let err = svc()
            .rotate(&store, t1.expose(), NOW + 4)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "refresh_revoked");
        // Another login (family) of the same user is untouched.
        assert!(svc().rotate(&store, other.expose(), NOW + 5).await.is_ok());
    });
}

#[test]
fn lifetimes_per_token_and_absolute() {
    block_on(async {
        let store = MemoryRefreshStore::new();
        let s = RefreshTokens::new(RefreshPolicy {
            ttl_secs: 10 * DAY,
            absolute_secs: 25 * DAY,
        });
        let (t0, r0) = s.issue(&store, "u", NOW).await.unwrap();
        assert_eq!(r0.expires_at, NOW + 10 * DAY);
        // Per-token expiry.
        let err = s
            .rotate(&store, t0.expose(), NOW + 10 * DAY)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "refresh_expired");
        // Keep using it: the family never outlives 25 days.
        let t1 = s.rotate(&store, t0.expose(), NOW + 9 * DAY).await.unwrap();
        let t2 = s
            .rotate(&store, t1.token.expose(), NOW + 18 * DAY)
            .await
            .unwrap();
        assert_eq!(t2.record.expires_at, NOW + 25 * DAY, "capped by the family");
        let err = s
            .rotate(&store, t2.token.expose(), NOW + 25 * DAY)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "refresh_expired");
        store.purge_expired(NOW + 25 * DAY);
        assert!(store.is_empty());
    });
}

#[test]
fn logout_and_revoke_subject() {
    block_on(async {
        let store = MemoryRefreshStore::new();
        let (a, ra) = svc().issue(&store, "u1", NOW).await.unwrap();
        let (b, _) = svc().issue(&store, "u1", NOW).await.unwrap();
        let (c, _) = svc().issue(&store, "u2", NOW).await.unwrap();
        assert_eq!(
            svc().revoke_token(&store, a.expose()).await.unwrap(),
            ra.family
        );
        assert_eq!(
            svc()
                .rotate(&store, a.expose(), NOW)
                .await
                .unwrap_err()
                .code(),
            "refresh_revoked"
        );
        let b1 = svc().rotate(&store, b.expose(), NOW).await.unwrap();
        store.revoke_subject("u1").await.unwrap();
        // Every u1 family is dead, including b's successor…
        let err = svc()
            .rotate(&store, b1.token.expose(), NOW)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "refresh_revoked");
        // …and u2 is untouched.
        assert!(svc().rotate(&store, c.expose(), NOW).await.is_ok());
    });
}

#[test]
fn hostile_tokens_are_invalid() {
    block_on(async {
        let store = MemoryRefreshStore::new();
        let long = format!("prt_{}", "A".repeat(10_000));
        for bad in [
            "",
            "prt_",
            "prt_!!",
            "abc",
            "prt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &long,
            "prt_\u{0}",
        ] {
            let err = svc().rotate(&store, bad, NOW).await.unwrap_err();
            assert_eq!(err.code(), "refresh_invalid", "{bad:?}");
            assert_eq!(
                svc().revoke_token(&store, bad).await.unwrap_err().code(),
                "refresh_invalid"
            );
        }
    });
}

#[test]
fn concurrent_refresh_of_one_token_yields_at_most_one_success() {
    for _round in 0..20 {
        let store = Arc::new(MemoryRefreshStore::new());
        let (t0, _) = block_on(svc().issue(store.as_ref(), "u", NOW)).unwrap();
        let n = 16;
        let barrier = Arc::new(Barrier::new(n));
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let store = Arc::clone(&store);
                let barrier = Arc::clone(&barrier);
                let presented = t0.expose().to_owned();
                std::thread::spawn(move || {
                    barrier.wait();
                    block_on(svc().rotate(store.as_ref(), &presented, NOW + 1))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let wins: Vec<&Rotated> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert!(wins.len() <= 1, "{} successes", wins.len());
        for r in &results {
            if let Err(e) = r {
                assert!(
                    matches!(
                        e,
                        AuthError::ReuseDetected { .. } | AuthError::RefreshRevoked
                    ),
                    "{e:?}"
                );
            }
        }
        // The losers' reuse detection revoked the family, winner included.
        if let Some(w) = wins.first() {
            let err =
                block_on(svc().rotate(store.as_ref(), w.token.expose(), NOW + 2)).unwrap_err();
            assert_eq!(err.code(), "refresh_revoked");
        }
    }
}
