//! Conformance suite for [`RefreshStore`]: the storage contract of refresh
//! token rotation (insert/get, atomic `rotate`, family and subject
//! revocation that a racing `rotate` cannot undo), plus end-to-end runs of
//! [`RefreshTokens`] (rotation, reuse detection, logout, expiry) over the
//! store under test.
//!
//! Every test works on subjects, families and token hashes of its own, so
//! the suite can run against a long-lived shared server.

use std::sync::Arc;

use puratan_core::ErrorKind;
use puratan_core::auth::AuthError;
use puratan_core::auth::tokens::{
    FamilyId, RefreshPolicy, RefreshRecord, RefreshState, RefreshStore, RefreshTokens,
};

use crate::service::unique;

type R = Arc<dyn RefreshStore>;

/// A realistic "now" (2027), far from the `i64` edge.
const NOW: u64 = 1_800_000_000;
const DAY: u64 = 24 * 3600;

/// A fresh 64-hex-digit token hash.
fn hash() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn family() -> FamilyId {
    FamilyId(unique("fam-"))
}

fn subject() -> String {
    unique("user-")
}

/// An `Active` record of `family` for `subject`, issued at `issued_at`.
fn record(family: &FamilyId, subject: &str, issued_at: u64) -> RefreshRecord {
    RefreshRecord {
        token_hash: hash(),
        family: family.clone(),
        subject: subject.to_owned(),
        issued_at,
        expires_at: issued_at + 14 * DAY,
        family_expires_at: NOW + 30 * DAY,
        state: RefreshState::Active,
    }
}

/// The successor of `old` (same family and subject).
fn successor(old: &RefreshRecord) -> RefreshRecord {
    record(&old.family, &old.subject, old.issued_at + 60)
}

async fn state(store: &R, token_hash: &str) -> Option<RefreshState> {
    store.get(token_hash).await.expect("get").map(|r| r.state)
}

pub async fn refresh_insert_get_roundtrip(store: R) {
    let want = RefreshRecord {
        token_hash: hash(),
        family: family(),
        subject: format!("{}-ünïcödé", subject()),
        issued_at: NOW + 7,
        expires_at: NOW + 7 + 14 * DAY,
        family_expires_at: NOW + 30 * DAY,
        state: RefreshState::Active,
    };
    store.insert(want.clone()).await.expect("insert");
    assert_eq!(
        store.get(&want.token_hash).await.expect("get"),
        Some(want.clone()),
        "every field survives the roundtrip"
    );
    // A second token of the same family (as `rotate` would add) keeps its
    // own fields.
    let mut second = successor(&want);
    second.expires_at = want.family_expires_at;
    store.insert(second.clone()).await.expect("insert second");
    assert_eq!(
        store.get(&second.token_hash).await.expect("get"),
        Some(second)
    );
    assert_eq!(store.get(&want.token_hash).await.expect("get"), Some(want));
}

pub async fn refresh_get_unknown_is_none(store: R) {
    assert_eq!(store.get(&hash()).await.expect("get"), None);
    // Unknown tokens can neither be rotated nor create anything.
    let ghost = record(&family(), &subject(), NOW);
    let next = successor(&ghost);
    assert!(
        !store
            .rotate(&ghost.token_hash, next.clone())
            .await
            .expect("rotate unknown")
    );
    assert_eq!(store.get(&next.token_hash).await.expect("get"), None);
    // Revoking what does not exist is not an error.
    store.revoke_family(&family()).await.expect("revoke family");
    store
        .revoke_subject(&subject())
        .await
        .expect("revoke subject");
}

pub async fn refresh_duplicate_hash_conflicts(store: R) {
    let first = record(&family(), &subject(), NOW);
    store.insert(first.clone()).await.expect("insert");
    // Same hash, even in another family of another subject.
    let mut clash = record(&family(), &subject(), NOW + 5);
    clash.token_hash = first.token_hash.clone();
    let err = store.insert(clash).await.expect_err("duplicate hash");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err:?}");
    assert_eq!(
        store.get(&first.token_hash).await.expect("get"),
        Some(first),
        "the stored record is untouched"
    );
}

pub async fn refresh_rotate_happy_path(store: R) {
    let old = record(&family(), &subject(), NOW);
    store.insert(old.clone()).await.expect("insert");
    let new = successor(&old);
    assert!(
        store
            .rotate(&old.token_hash, new.clone())
            .await
            .expect("rotate")
    );
    let got_old = store.get(&old.token_hash).await.expect("get").expect("old");
    assert_eq!(
        got_old,
        RefreshRecord {
            state: RefreshState::Rotated,
            ..old.clone()
        },
        "only the state of the old token changes"
    );
    let got_new = store.get(&new.token_hash).await.expect("get").expect("new");
    assert_eq!(got_new, new);
    assert_eq!(got_new.family, old.family);
    assert_eq!(got_new.state, RefreshState::Active);
    // The successor rotates in turn.
    let third = successor(&new);
    assert!(
        store
            .rotate(&new.token_hash, third.clone())
            .await
            .expect("rotate again")
    );
    assert_eq!(
        state(&store, &new.token_hash).await,
        Some(RefreshState::Rotated)
    );
    assert_eq!(
        state(&store, &third.token_hash).await,
        Some(RefreshState::Active)
    );
}

pub async fn refresh_rotate_of_rotated_is_false(store: R) {
    let old = record(&family(), &subject(), NOW);
    store.insert(old.clone()).await.expect("insert");
    let first = successor(&old);
    assert!(
        store
            .rotate(&old.token_hash, first.clone())
            .await
            .expect("rotate")
    );
    let second = successor(&old);
    assert!(
        !store
            .rotate(&old.token_hash, second.clone())
            .await
            .expect("rotate rotated"),
        "a rotated token cannot rotate again"
    );
    assert_eq!(
        store.get(&second.token_hash).await.expect("get"),
        None,
        "a refused rotation inserts nothing"
    );
    assert_eq!(
        state(&store, &old.token_hash).await,
        Some(RefreshState::Rotated)
    );
    assert_eq!(
        state(&store, &first.token_hash).await,
        Some(RefreshState::Active)
    );
}

pub async fn refresh_rotate_family_mismatch_is_false(store: R) {
    let who = subject();
    let a = record(&family(), &who, NOW);
    let b = record(&family(), &who, NOW);
    store.insert(a.clone()).await.expect("insert a");
    store.insert(b.clone()).await.expect("insert b");
    // A successor claiming another (existing, active) family…
    let into_b = successor(&b);
    assert!(
        !store
            .rotate(&a.token_hash, into_b.clone())
            .await
            .expect("rotate into b")
    );
    // …or an unknown one.
    let into_nowhere = record(&family(), &who, NOW + 60);
    assert!(
        !store
            .rotate(&a.token_hash, into_nowhere.clone())
            .await
            .expect("rotate into unknown family")
    );
    for refused in [&into_b, &into_nowhere] {
        assert_eq!(store.get(&refused.token_hash).await.expect("get"), None);
    }
    assert_eq!(
        store.get(&a.token_hash).await.expect("get"),
        Some(a.clone())
    );
    assert_eq!(store.get(&b.token_hash).await.expect("get"), Some(b));
    // Nothing changed: `a` still rotates within its own family.
    assert!(
        store
            .rotate(&a.token_hash, successor(&a))
            .await
            .expect("rotate a")
    );
}

/// `rotate` is all or nothing: a successor whose hash is already taken
/// fails with a conflict and leaves the old token `Active` (not burned
/// without a successor) and the existing record untouched.
pub async fn refresh_rotate_onto_taken_hash_changes_nothing(store: R) {
    let old = record(&family(), &subject(), NOW);
    let taken = record(&family(), &subject(), NOW);
    store.insert(old.clone()).await.expect("insert old");
    store.insert(taken.clone()).await.expect("insert taken");
    let mut clash = successor(&old);
    clash.token_hash = taken.token_hash.clone();
    let err = store
        .rotate(&old.token_hash, clash)
        .await
        .expect_err("successor hash taken");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err:?}");
    assert_eq!(
        store.get(&old.token_hash).await.expect("get"),
        Some(old.clone()),
        "the old token is still active"
    );
    assert_eq!(
        store.get(&taken.token_hash).await.expect("get"),
        Some(taken)
    );
    let next = successor(&old);
    assert!(
        store
            .rotate(&old.token_hash, next.clone())
            .await
            .expect("rotate after the failed attempt")
    );
    assert_eq!(store.get(&next.token_hash).await.expect("get"), Some(next));
}

pub async fn refresh_rotate_after_revoke_family_is_false(store: R) {
    let old = record(&family(), &subject(), NOW);
    store.insert(old.clone()).await.expect("insert");
    store.revoke_family(&old.family).await.expect("revoke");
    let new = successor(&old);
    assert!(
        !store
            .rotate(&old.token_hash, new.clone())
            .await
            .expect("rotate revoked")
    );
    assert_eq!(
        state(&store, &old.token_hash).await,
        Some(RefreshState::Revoked)
    );
    assert_eq!(store.get(&new.token_hash).await.expect("get"), None);
}

pub async fn refresh_revoke_family_is_scoped(store: R) {
    let who = subject();
    let t0 = record(&family(), &who, NOW);
    store.insert(t0.clone()).await.expect("insert");
    let t1 = successor(&t0);
    assert!(
        store
            .rotate(&t0.token_hash, t1.clone())
            .await
            .expect("rotate")
    );
    let t2 = successor(&t1);
    assert!(
        store
            .rotate(&t1.token_hash, t2.clone())
            .await
            .expect("rotate")
    );
    // Another family of the same subject and one of another subject.
    let sibling = record(&family(), &who, NOW);
    let stranger = record(&family(), &subject(), NOW);
    store.insert(sibling.clone()).await.expect("insert");
    store.insert(stranger.clone()).await.expect("insert");

    store.revoke_family(&t0.family).await.expect("revoke");
    for t in [&t0, &t1, &t2] {
        let got = store.get(&t.token_hash).await.expect("get").expect("kept");
        assert_eq!(
            got,
            RefreshRecord {
                state: RefreshState::Revoked,
                ..(*t).clone()
            },
            "rotated and active tokens alike are revoked, nothing else changes"
        );
    }
    assert_eq!(
        store.get(&sibling.token_hash).await.expect("get"),
        Some(sibling)
    );
    assert_eq!(
        store.get(&stranger.token_hash).await.expect("get"),
        Some(stranger)
    );
    // Idempotent.
    store.revoke_family(&t0.family).await.expect("revoke again");
    assert_eq!(
        state(&store, &t2.token_hash).await,
        Some(RefreshState::Revoked)
    );
}

/// The race rule: a successor written into a family after it was revoked
/// (a `rotate` that read the old token just before the revocation) must
/// read as `Revoked`.
pub async fn refresh_insert_into_revoked_family_is_revoked(store: R) {
    let first = record(&family(), &subject(), NOW);
    store.insert(first.clone()).await.expect("insert");
    store.revoke_family(&first.family).await.expect("revoke");
    let late = successor(&first);
    store.insert(late.clone()).await.expect("late insert");
    let got = store
        .get(&late.token_hash)
        .await
        .expect("get")
        .expect("late");
    assert_eq!(got.state, RefreshState::Revoked, "{got:?}");
    assert!(
        !store
            .rotate(&late.token_hash, successor(&late))
            .await
            .expect("rotate late"),
        "a token of a revoked family never rotates"
    );
}

/// `revoke_family` and `rotate` racing on the same family: whichever wins,
/// nothing of the family is usable afterwards.
pub async fn refresh_revoke_family_races_rotate(store: R) {
    for round in 0..12 {
        let old = record(&family(), &subject(), NOW);
        store.insert(old.clone()).await.expect("insert");
        let new = successor(&old);
        let rotate = {
            let (store, old_hash, new) = (store.clone(), old.token_hash.clone(), new.clone());
            tokio::spawn(async move { store.rotate(&old_hash, new).await })
        };
        let revoke = {
            let (store, fam) = (store.clone(), old.family.clone());
            tokio::spawn(async move { store.revoke_family(&fam).await })
        };
        let rotated = rotate.await.expect("join").expect("rotate");
        revoke.await.expect("join").expect("revoke");
        assert_eq!(
            state(&store, &old.token_hash).await,
            Some(RefreshState::Revoked),
            "round {round}"
        );
        let successor = state(&store, &new.token_hash).await;
        if rotated {
            assert_eq!(successor, Some(RefreshState::Revoked), "round {round}");
        } else {
            assert_ne!(successor, Some(RefreshState::Active), "round {round}");
        }
    }
}

pub async fn refresh_revoke_subject_is_scoped(store: R) {
    let (who, other) = (subject(), subject());
    let a0 = record(&family(), &who, NOW);
    store.insert(a0.clone()).await.expect("insert");
    let a1 = successor(&a0);
    assert!(
        store
            .rotate(&a0.token_hash, a1.clone())
            .await
            .expect("rotate")
    );
    let b0 = record(&family(), &who, NOW);
    store.insert(b0.clone()).await.expect("insert");
    let theirs = record(&family(), &other, NOW);
    store.insert(theirs.clone()).await.expect("insert");

    store.revoke_subject(&who).await.expect("revoke subject");
    for t in [&a0, &a1, &b0] {
        assert_eq!(
            state(&store, &t.token_hash).await,
            Some(RefreshState::Revoked)
        );
    }
    assert_eq!(
        store.get(&theirs.token_hash).await.expect("get"),
        Some(theirs.clone()),
        "other subjects are untouched"
    );
    assert!(
        !store
            .rotate(&b0.token_hash, successor(&b0))
            .await
            .expect("rotate revoked")
    );
    // A late successor in a revoked family is revoked too…
    let late = successor(&a1);
    store.insert(late.clone()).await.expect("late insert");
    assert_eq!(
        state(&store, &late.token_hash).await,
        Some(RefreshState::Revoked)
    );
    // …but logging in again afterwards starts a usable family.
    let fresh = record(&family(), &who, NOW + 120);
    store.insert(fresh.clone()).await.expect("new login");
    assert_eq!(
        store.get(&fresh.token_hash).await.expect("get"),
        Some(fresh.clone())
    );
    assert!(
        store
            .rotate(&fresh.token_hash, successor(&fresh))
            .await
            .expect("rotate fresh")
    );
    assert!(
        store
            .rotate(&theirs.token_hash, successor(&theirs))
            .await
            .expect("rotate theirs")
    );
}

pub async fn refresh_concurrent_rotate_has_one_winner(store: R) {
    let old = record(&family(), &subject(), NOW);
    store.insert(old.clone()).await.expect("insert");
    let candidates: Vec<RefreshRecord> = (0..16).map(|_| successor(&old)).collect();
    let tasks: Vec<_> = candidates
        .iter()
        .cloned()
        .map(|new| {
            let (store, old_hash) = (store.clone(), old.token_hash.clone());
            tokio::spawn(async move { store.rotate(&old_hash, new).await })
        })
        .collect();
    let mut won = Vec::new();
    for (i, t) in futures::future::join_all(tasks)
        .await
        .into_iter()
        .enumerate()
    {
        if t.expect("join").expect("rotate") {
            won.push(i);
        }
    }
    assert_eq!(won.len(), 1, "exactly one winner, got {won:?}");
    assert_eq!(
        state(&store, &old.token_hash).await,
        Some(RefreshState::Rotated)
    );
    for (i, c) in candidates.iter().enumerate() {
        let got = store.get(&c.token_hash).await.expect("get");
        if i == won[0] {
            assert_eq!(got.as_ref(), Some(c), "the winner's successor is stored");
        } else {
            assert_eq!(got, None, "loser {i} left a successor behind");
        }
    }
}

/// Issue → rotate → replay of the rotated token: reuse is detected, named
/// by family, and the newest token of the family is revoked with it.
pub async fn refresh_tokens_end_to_end_reuse(store: R) {
    let svc = RefreshTokens::default();
    let who = subject();
    let (t0, r0) = svc.issue(&*store, &who, NOW).await.expect("issue");
    assert_eq!(
        store.get(&r0.token_hash).await.expect("get"),
        Some(r0.clone())
    );
    // An unrelated login of the same user must survive the reuse.
    let (other, _) = svc.issue(&*store, &who, NOW).await.expect("issue other");

    let r1 = svc
        .rotate(&*store, t0.expose(), NOW + 60)
        .await
        .expect("rotate");
    assert_eq!((&r1.record.family, &r1.record.subject), (&r0.family, &who));
    assert_eq!(
        state(&store, &r0.token_hash).await,
        Some(RefreshState::Rotated)
    );
    assert_eq!(
        store.get(&r1.record.token_hash).await.expect("get"),
        Some(r1.record.clone())
    );

    match svc.rotate(&*store, t0.expose(), NOW + 120).await {
        Err(AuthError::ReuseDetected { family }) => assert_eq!(family, r0.family.0),
        other => panic!("expected ReuseDetected, got {other:?}"),
    }
    assert_eq!(
        state(&store, &r1.record.token_hash).await,
        Some(RefreshState::Revoked)
    );
    match svc.rotate(&*store, r1.token.expose(), NOW + 180).await {
        Err(AuthError::RefreshRevoked) => {}
        other => panic!("expected RefreshRevoked for the newest token, got {other:?}"),
    }
    svc.rotate(&*store, other.expose(), NOW + 240)
        .await
        .expect("the other family is unaffected");
}

/// Concurrent use of one token through [`RefreshTokens`]: one caller gets
/// the successor, the others are treated as reuse, which fails closed (the
/// family, winner's successor included, ends up revoked).
pub async fn refresh_tokens_concurrent_use_fails_closed(store: R) {
    let svc = RefreshTokens::default();
    let (t0, r0) = svc.issue(&*store, &subject(), NOW).await.expect("issue");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, presented) = (store.clone(), t0.expose().to_owned());
            tokio::spawn(async move { svc.rotate(&*store, &presented, NOW + 60).await })
        })
        .collect();
    let mut winners = Vec::new();
    for t in futures::future::join_all(tasks).await {
        match t.expect("join") {
            Ok(rotated) => winners.push(rotated),
            Err(AuthError::ReuseDetected { family }) => assert_eq!(family, r0.family.0),
            Err(AuthError::RefreshRevoked) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    // Revocation only ever follows a winner, so there is always exactly one.
    assert_eq!(winners.len(), 1, "{} winners", winners.len());
    for w in &winners {
        match svc.rotate(&*store, w.token.expose(), NOW + 120).await {
            Err(AuthError::RefreshRevoked) => {}
            other => panic!("a contested family must be revoked, got {other:?}"),
        }
    }
}

/// Logout revokes the family whatever the token's state; expiry and
/// malformed or unknown tokens are reported as such.
pub async fn refresh_tokens_logout_and_expiry(store: R) {
    let svc = RefreshTokens::new(RefreshPolicy {
        ttl_secs: 3_600,
        absolute_secs: 2 * 3_600,
    });
    let who = subject();

    let (t0, r0) = svc.issue(&*store, &who, NOW).await.expect("issue");
    let r1 = svc
        .rotate(&*store, t0.expose(), NOW + 10)
        .await
        .expect("rotate");
    // Logging out with the rotated token still ends the session.
    assert_eq!(
        svc.revoke_token(&*store, t0.expose())
            .await
            .expect("logout"),
        r0.family
    );
    match svc.rotate(&*store, r1.token.expose(), NOW + 20).await {
        Err(AuthError::RefreshRevoked) => {}
        other => panic!("expected RefreshRevoked after logout, got {other:?}"),
    }

    let (t, r) = svc.issue(&*store, &who, NOW).await.expect("issue");
    assert_eq!(r.expires_at, NOW + 3_600);
    assert_eq!(r.family_expires_at, NOW + 2 * 3_600);
    match svc.rotate(&*store, t.expose(), NOW + 3_600).await {
        Err(AuthError::RefreshExpired) => {}
        other => panic!("expected RefreshExpired, got {other:?}"),
    }
    // Rotation never extends a token past the family's absolute lifetime.
    let (t, _) = svc.issue(&*store, &who, NOW).await.expect("issue");
    let mid = svc
        .rotate(&*store, t.expose(), NOW + 3_500)
        .await
        .expect("rotate");
    assert_eq!(mid.record.expires_at, NOW + 3_500 + 3_600);
    let late = svc
        .rotate(&*store, mid.token.expose(), NOW + 7_000)
        .await
        .expect("rotate late");
    assert_eq!(late.record.expires_at, NOW + 2 * 3_600, "capped");
    match svc
        .rotate(&*store, late.token.expose(), NOW + 2 * 3_600)
        .await
    {
        Err(AuthError::RefreshExpired) => {}
        other => panic!("expected RefreshExpired at the family's end, got {other:?}"),
    }

    for bogus in [
        "",
        "prt_",
        "not-a-token",
        "prt_unknown0000000000000000000000",
    ] {
        match svc.rotate(&*store, bogus, NOW).await {
            Err(AuthError::RefreshInvalid) => {}
            other => panic!("{bogus:?}: expected RefreshInvalid, got {other:?}"),
        }
    }
    match svc
        .revoke_token(&*store, "prt_unknown0000000000000000000000")
        .await
    {
        Err(AuthError::RefreshInvalid) => {}
        other => panic!("expected RefreshInvalid, got {other:?}"),
    }
}
