//! Conformance suite for [`OrderRepo`].

use std::sync::Arc;

use puratan_core::domain::{OrderId, UserId};
use puratan_core::ports::{OrderRepo, PageRequest};
use puratan_core::{ConflictReason, Error, ErrorKind};

use crate::fixtures::{day, order, status};
use crate::service::unique;

type Repo = Arc<dyn OrderRepo>;

pub async fn order_crud(repo: Repo) {
    let o = repo
        .insert(order(UserId::new(), "submitted", 50, day(3)))
        .await
        .expect("insert");
    assert_eq!(o.version, 1);
    assert_eq!(repo.get(o.id).await.expect("get"), o);
    let mut next = o.clone();
    next.status = status("queued");
    let next = repo.update(next).await.expect("update");
    assert_eq!((next.version, next.status.as_str()), (2, "queued"));
    assert_eq!(
        repo.get(OrderId::new()).await.expect_err("missing").kind(),
        ErrorKind::NotFound
    );
}

pub async fn order_concurrent_writers(repo: Repo) {
    let o = repo
        .insert(order(UserId::new(), "submitted", 50, day(3)))
        .await
        .expect("insert");
    let tasks: Vec<_> = ["queued", "cancelled", "on_hold", "approved"]
        .into_iter()
        .map(|s| {
            let repo = repo.clone();
            let mut copy = o.clone();
            copy.status = status(s);
            tokio::spawn(async move { repo.update(copy).await })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.expect("join") {
            Ok(o) => winners.push(o.status),
            Err(e) => assert!(
                matches!(
                    e,
                    Error::Conflict {
                        reason: ConflictReason::StaleVersion,
                        ..
                    }
                ),
                "{e:?}"
            ),
        }
    }
    assert_eq!(winners.len(), 1, "no lost update: exactly one writer wins");
    let stored = repo.get(o.id).await.expect("get");
    assert_eq!((stored.status, stored.version), (winners.remove(0), 2));
}

pub async fn orders_by_customer(repo: Repo) {
    let alice = UserId::new();
    let bob = UserId::new();
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(
            repo.insert(order(alice, "submitted", 50, day(i + 1)))
                .await
                .expect("insert")
                .id,
        );
        repo.insert(order(bob, "submitted", 50, day(i + 1)))
            .await
            .expect("insert");
    }
    let first = repo
        .list_by_customer(alice, &PageRequest::first(3))
        .await
        .expect("list");
    let second = repo
        .list_by_customer(alice, &PageRequest::first(3).after(first.next.clone()))
        .await
        .expect("list");
    assert!(second.next.is_none());
    let got: Vec<_> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|o| o.id)
        .collect();
    mine.reverse();
    assert_eq!(got, mine, "only alice's orders, newest first");
}

pub async fn orders_by_status_in_queue_order(repo: Repo) {
    // A status unique to this run isolates the queue from other tests.
    let queue = unique("q")
        .chars()
        .filter(|c| c.is_ascii_lowercase())
        .take(20)
        .collect::<String>();
    let c = UserId::new();
    let specs = [(50, 5), (80, 9), (50, 2), (30, 1), (80, 4), (50, 2)];
    let mut inserted = Vec::new();
    for (prio, due) in specs {
        inserted.push(
            repo.insert(order(c, &queue, prio, day(due)))
                .await
                .expect("insert"),
        );
    }
    repo.insert(order(c, "shipped", 99, day(1)))
        .await
        .expect("other status");

    let mut expected = inserted.clone();
    expected.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.due_at.cmp(&b.due_at))
            .then(a.id.cmp(&b.id))
    });
    let expected: Vec<_> = expected.iter().map(|o| o.id).collect();

    let mut got = Vec::new();
    let mut page = PageRequest::first(4);
    loop {
        let p = repo
            .list_by_status(&status(&queue), &page)
            .await
            .expect("list");
        got.extend(p.items.iter().map(|o| o.id));
        match p.next {
            Some(cur) => page = PageRequest::first(4).after(Some(cur)),
            None => break,
        }
    }
    assert_eq!(
        got, expected,
        "priority desc, due asc, submission asc, across pages"
    );
}
