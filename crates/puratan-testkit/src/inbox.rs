//! Conformance suite for [`InboxRepo`]: in-app notifications and the
//! processed-message record of idempotent consumers.

use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};
use puratan_core::ErrorKind;
use puratan_core::domain::{OrderId, UserId};
use puratan_core::ports::{InAppNotification, InboxRepo, PageRequest};
use uuid::Uuid;

use crate::service::unique;

type Repo = Arc<dyn InboxRepo>;

/// Now, at millisecond precision (what every backend keeps exactly).
fn now() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .unwrap_or_else(|e| panic!("truncate: {e}"))
}

fn note(user: UserId, title: &str) -> InAppNotification {
    InAppNotification {
        id: Uuid::now_v7(),
        user_id: user,
        kind: "order.shipped".into(),
        title: title.into(),
        body: format!("{title}: the body"),
        order_id: Some(OrderId::new()),
        created_at: now(),
        read_at: None,
    }
}

async fn all(repo: &Repo, user: UserId) -> Vec<InAppNotification> {
    repo.list(user, &PageRequest::first(100))
        .await
        .expect("list")
        .items
}

/// The first delivery stores; the same message again stores nothing;
/// another consumer of the same message is a separate effect.
pub async fn inbox_deliver_is_idempotent(repo: Repo) {
    let (consumer, msg) = (unique("c"), unique("m"));
    let user = UserId::new();
    let first = note(user, "Shipped");
    assert!(!repo.processed(&consumer, &msg).await.expect("processed"));
    assert!(
        repo.deliver(&msg, &consumer, first.clone())
            .await
            .expect("deliver")
    );
    assert!(repo.processed(&consumer, &msg).await.expect("processed"));
    // A redelivery builds a new notification (new id): still nothing stored.
    assert!(
        !repo
            .deliver(&msg, &consumer, note(user, "Shipped again"))
            .await
            .expect("redeliver")
    );
    assert_eq!(all(&repo, user).await, vec![first.clone()], "round trip");
    // The same message id for another consumer is that consumer's first.
    let other = unique("c");
    assert!(!repo.processed(&other, &msg).await.expect("processed"));
    assert!(
        repo.deliver(&msg, &other, note(user, "Other consumer"))
            .await
            .expect("deliver")
    );
    assert_eq!(all(&repo, user).await.len(), 2);
    assert_eq!(repo.unread_count(user).await.expect("unread"), 2);
}

/// `mark_processed` records the message without a notification, and
/// counts as processed for `deliver`.
pub async fn inbox_mark_processed_without_notification(repo: Repo) {
    let (consumer, msg) = (unique("c"), unique("m"));
    let user = UserId::new();
    assert!(repo.mark_processed(&msg, &consumer).await.expect("mark"));
    assert!(
        !repo
            .mark_processed(&msg, &consumer)
            .await
            .expect("mark again")
    );
    assert!(
        !repo
            .deliver(&msg, &consumer, note(user, "late"))
            .await
            .expect("deliver")
    );
    assert!(all(&repo, user).await.is_empty());
    // And the other way round.
    let msg2 = unique("m");
    assert!(
        repo.deliver(&msg2, &consumer, note(user, "first"))
            .await
            .expect("deliver")
    );
    assert!(!repo.mark_processed(&msg2, &consumer).await.expect("mark"));
    assert_eq!(all(&repo, user).await.len(), 1);
}

/// The issue's acceptance test at the store level: the same message
/// delivered by 10 concurrent tasks stores exactly one notification.
pub async fn inbox_same_message_concurrently_stores_one(repo: Repo) {
    const TASKS: usize = 10;
    let (consumer, msg) = (unique("c"), unique("m"));
    let user = UserId::new();
    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let (repo, start) = (repo.clone(), start.clone());
            let (consumer, msg) = (consumer.clone(), msg.clone());
            tokio::spawn(async move {
                start.wait().await;
                repo.deliver(&msg, &consumer, note(user, &format!("copy {i}")))
                    .await
            })
        })
        .collect();
    let mut stored = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(true) => stored += 1,
            Ok(false) => {}
            Err(e) => panic!("a racing delivery must answer true or false: {e:?}"),
        }
    }
    assert_eq!(stored, 1, "exactly one delivery stored");
    assert_eq!(all(&repo, user).await.len(), 1, "exactly one notification");
    assert_eq!(repo.unread_count(user).await.expect("unread"), 1);
}

/// Newest first, paged with cursors, one user's only.
pub async fn inbox_list_newest_first_paged_per_user(repo: Repo) {
    let consumer = unique("c");
    let (ann, bob) = (UserId::new(), UserId::new());
    let mut anns = Vec::new();
    for i in 0..5 {
        let n = note(ann, &format!("ann {i}"));
        anns.push(n.clone());
        assert!(
            repo.deliver(&unique("m"), &consumer, n)
                .await
                .expect("deliver")
        );
        assert!(
            repo.deliver(&unique("m"), &consumer, note(bob, &format!("bob {i}")))
                .await
                .expect("deliver")
        );
    }
    anns.reverse();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let p = repo.list(ann, &page).await.expect("list");
        assert!(p.items.len() <= 2);
        seen.extend(p.items);
        match p.next {
            Some(c) => page = PageRequest::first(2).after(Some(c)),
            None => break,
        }
    }
    assert_eq!(seen, anns, "every one of ann's, newest first, once");
    assert!(all(&repo, UserId::new()).await.is_empty());
    assert_eq!(all(&repo, bob).await.len(), 5);
    let bad = PageRequest::first(2).after(Some(puratan_core::ports::Cursor::from_client("!!")));
    assert_eq!(
        repo.list(ann, &bad).await.expect_err("bad cursor").kind(),
        ErrorKind::Invalid
    );
}

/// `mark_read` sets `read_at` once, only for the owner; the unread count
/// follows.
pub async fn inbox_mark_read_and_unread_count(repo: Repo) {
    let consumer = unique("c");
    let (ann, bob) = (UserId::new(), UserId::new());
    let mut ids = Vec::new();
    for i in 0..3 {
        let n = note(ann, &format!("n {i}"));
        ids.push(n.id);
        repo.deliver(&unique("m"), &consumer, n)
            .await
            .expect("deliver");
    }
    assert_eq!(repo.unread_count(ann).await.expect("unread"), 3);
    assert_eq!(repo.unread_count(bob).await.expect("unread"), 0);
    let at = now();
    let read = repo.mark_read(ann, ids[1], at).await.expect("read");
    assert_eq!(read.read_at, Some(at));
    assert_eq!(read.id, ids[1]);
    assert_eq!(repo.unread_count(ann).await.expect("unread"), 2);
    // Again: the first time stays.
    let again = repo
        .mark_read(ann, ids[1], at + Duration::seconds(5))
        .await
        .expect("read again");
    assert_eq!(again.read_at, Some(at));
    assert_eq!(repo.unread_count(ann).await.expect("unread"), 2);
    // Someone else's, or nobody's: not found, and nothing changes.
    for (user, id) in [(bob, ids[0]), (ann, Uuid::now_v7())] {
        assert_eq!(
            repo.mark_read(user, id, at)
                .await
                .expect_err("not theirs")
                .kind(),
            ErrorKind::NotFound
        );
    }
    assert_eq!(repo.unread_count(ann).await.expect("unread"), 2);
    let listed = all(&repo, ann).await;
    let unread: Vec<_> = listed
        .iter()
        .filter(|n| n.read_at.is_none())
        .map(|n| n.id)
        .collect();
    assert_eq!(unread, vec![ids[2], ids[0]]);
}

/// Empty or over-long ids and consumer names are refused; nothing stored.
pub async fn inbox_rejects_bad_keys(repo: Repo) {
    let user = UserId::new();
    let long = "x".repeat(256);
    for (msg, consumer) in [
        ("", "c"),
        ("m", ""),
        (long.as_str(), "c"),
        ("m", long.as_str()),
    ] {
        let e = repo
            .deliver(msg, consumer, note(user, "bad"))
            .await
            .expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::Invalid, "{e:?}");
        let e = repo
            .mark_processed(msg, consumer)
            .await
            .expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::Invalid, "{e:?}");
    }
    assert!(all(&repo, user).await.is_empty());
    // Hostile-looking but valid ids are literals.
    let odd = r#"{"$ne": null}' OR '1'='1"#;
    assert!(
        repo.deliver(odd, odd, note(user, "odd"))
            .await
            .expect("deliver")
    );
    assert!(repo.processed(odd, odd).await.expect("processed"));
    assert!(!repo.processed("c", odd).await.expect("processed"));
}
