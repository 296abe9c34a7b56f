//! Conformance suite for [`CartRepo`].

use std::sync::Arc;

use chrono::Utc;
use puratan_core::domain::{Cart, CartLine, ProductId, UserId};
use puratan_core::ports::CartRepo;
use puratan_core::{ConflictReason, Error};

type Repo = Arc<dyn CartRepo>;

fn line(n: u32) -> CartLine {
    CartLine {
        id: format!("line{n}"),
        product_id: ProductId::parse("business-card").expect("id"),
        options: serde_json::json!({"paper": "silk-350"}),
        quantity: 100 * n,
        quote_token: format!("pq1.k.{n}.sig"),
        file_ids: vec![format!("file{n}")],
    }
}

fn stale(e: &Error) -> bool {
    matches!(
        e,
        Error::Conflict {
            reason: ConflictReason::StaleVersion,
            ..
        }
    )
}

pub async fn cart_missing_is_empty_at_version_zero(repo: Repo) {
    let who = UserId::new();
    let c = repo.get(who).await.expect("get");
    assert_eq!(c.customer_id, who);
    assert!(c.lines.is_empty());
    assert_eq!(c.version, 0);
}

pub async fn cart_put_round_trips_and_bumps_the_version(repo: Repo) {
    let who = UserId::new();
    let mut c = Cart::empty(who, Utc::now());
    c.lines = vec![line(1), line(2)];
    let stored = repo.put(c.clone()).await.expect("first put");
    assert_eq!(stored.version, 1);
    let read = repo.get(who).await.expect("get");
    assert_eq!(read.lines, c.lines);
    assert_eq!(read.version, 1);
    let mut next = read;
    next.lines.remove(0);
    let stored = repo.put(next).await.expect("second put");
    assert_eq!(stored.version, 2);
    let read = repo.get(who).await.expect("get");
    assert_eq!(read.lines, vec![line(2)]);
    // Another customer's cart is untouched.
    assert!(repo.get(UserId::new()).await.expect("get").lines.is_empty());
}

pub async fn cart_stale_versions_are_refused(repo: Repo) {
    let who = UserId::new();
    let first = repo
        .put(Cart::empty(who, Utc::now()))
        .await
        .expect("create");
    // A second "create" (version 0) is stale now.
    let e = repo
        .put(Cart::empty(who, Utc::now()))
        .await
        .expect_err("second create");
    assert!(stale(&e), "{e:?}");
    let mut a = first.clone();
    a.lines.push(line(1));
    repo.put(a).await.expect("tab A");
    let mut b = first;
    b.lines.push(line(2));
    let e = repo.put(b).await.expect_err("tab B is stale");
    assert!(stale(&e), "{e:?}");
    assert_eq!(repo.get(who).await.expect("get").lines, vec![line(1)]);
}

pub async fn cart_concurrent_first_writes_one_wins(repo: Repo) {
    let who = UserId::new();
    let mut tasks = Vec::new();
    for n in 1..=10 {
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Cart::empty(who, Utc::now());
            c.lines.push(line(n));
            repo.put(c).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(_) => won += 1,
            Err(e) => assert!(stale(&e), "{e:?}"),
        }
    }
    assert_eq!(won, 1);
    let c = repo.get(who).await.expect("get");
    assert_eq!((c.version, c.lines.len()), (1, 1));
}
