//! Conformance suite for [`SessionStore`].

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use puratan_core::domain::UserId;
use puratan_core::ports::{Session, SessionStore};

use crate::service::unique;

type S = Arc<dyn SessionStore>;

fn session(user: UserId) -> Session {
    Session {
        id: unique("s"),
        user_id: user,
        device: "Firefox on Linux".into(),
        ip: "192.0.2.7".into(),
        created_at: Utc::now(),
        last_seen: Utc::now(),
    }
}

pub async fn sessions_crud(store: S) {
    let user = UserId::new();
    let a = session(user);
    let b = session(user);
    store
        .put_session(&a, Duration::from_secs(60))
        .await
        .expect("put");
    store
        .put_session(&b, Duration::from_secs(60))
        .await
        .expect("put");
    store
        .put_session(&session(UserId::new()), Duration::from_secs(60))
        .await
        .expect("other user");
    assert_eq!(
        store.get_session(&a.id).await.expect("get"),
        Some(a.clone())
    );
    let mut listed: Vec<String> = store
        .list_sessions(user)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    listed.sort();
    let mut want = vec![a.id.clone(), b.id.clone()];
    want.sort();
    assert_eq!(listed, want);
    store.delete_session(&a.id).await.expect("delete");
    assert_eq!(store.get_session(&a.id).await.expect("get"), None);
    assert_eq!(store.list_sessions(user).await.expect("list").len(), 1);
}

pub async fn session_ttl_expiry(store: S) {
    let user = UserId::new();
    let s = session(user);
    store
        .put_session(&s, Duration::from_millis(300))
        .await
        .expect("put");
    assert!(store.get_session(&s.id).await.expect("get").is_some());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(store.get_session(&s.id).await.expect("get"), None);
    assert!(store.list_sessions(user).await.expect("list").is_empty());
}

pub async fn denylist_with_ttl(store: S) {
    let jti = unique("jti");
    let other = unique("jti");
    assert!(!store.is_denied(&jti).await.expect("check"));
    store
        .deny(&jti, Duration::from_millis(300))
        .await
        .expect("deny");
    assert!(store.is_denied(&jti).await.expect("check"));
    assert!(!store.is_denied(&other).await.expect("check"));
    // The batched check agrees, whichever position the denied id has.
    assert!(store.any_denied(&[&other, &jti]).await.expect("any"));
    assert!(store.any_denied(&[&jti]).await.expect("any"));
    assert!(!store.any_denied(&[&other]).await.expect("any"));
    assert!(!store.any_denied(&[]).await.expect("any"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !store.is_denied(&jti).await.expect("check"),
        "denial expires with the token"
    );
    assert!(!store.any_denied(&[&jti, &other]).await.expect("any"));
}

pub async fn one_time_token_taken_once(store: S) {
    let token = unique("ott");
    store
        .put_one_time(&token, "user-42", Duration::from_secs(60))
        .await
        .expect("put");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let token = token.clone();
            tokio::spawn(async move { store.take_one_time(&token).await })
        })
        .collect();
    let mut got = Vec::new();
    for t in tasks {
        if let Some(v) = t.await.expect("join").expect("take") {
            got.push(v);
        }
    }
    assert_eq!(got, vec!["user-42".to_owned()], "exactly one taker");

    let expiring = unique("ott");
    store
        .put_one_time(&expiring, "v", Duration::from_millis(300))
        .await
        .expect("put");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(store.take_one_time(&expiring).await.expect("take"), None);
}
