//! Conformance suite for [`ProductRepo`].

use std::collections::HashSet;
use std::sync::Arc;

use puratan_core::ports::{PageRequest, ProductFilter, ProductRepo};
use puratan_core::{ConflictReason, Error, ErrorKind};

use crate::fixtures::{category, product, tag};
use crate::service::unique;

type Repo = Arc<dyn ProductRepo>;

/// Ids unique per test run: backends such as MongoDB outlive a test.
fn ids(n: usize) -> (String, Vec<(String, String)>) {
    let ns = unique("p").chars().take(12).collect::<String>();
    let rows = (0..n)
        .map(|i| {
            (
                format!("{ns}-{i:03}"),
                format!("{}-{i:03}", ns.to_uppercase()),
            )
        })
        .collect();
    (ns, rows)
}

pub async fn product_crud(repo: Repo) {
    let (_, rows) = ids(1);
    let (id, sku) = &rows[0];
    let inserted = repo.insert(product(id, sku)).await.expect("insert");
    assert_eq!(inserted.version, 1);
    let got = repo.get(&inserted.id).await.expect("get");
    assert_eq!(got, inserted);
    assert_eq!(
        repo.get_by_sku(&inserted.sku).await.expect("by sku").id,
        inserted.id
    );

    let mut changed = got.clone();
    changed.name = "Renamed".into();
    let updated = repo.update(changed).await.expect("update");
    assert_eq!(updated.version, 2);
    assert_eq!(repo.get(&inserted.id).await.expect("get").name, "Renamed");

    repo.delete(&inserted.id).await.expect("delete");
    let gone = repo.get(&inserted.id).await.expect_err("deleted");
    assert_eq!(gone.kind(), ErrorKind::NotFound);
    assert_eq!(
        repo.delete(&inserted.id).await.expect_err("twice").kind(),
        ErrorKind::NotFound
    );
}

pub async fn product_sku_unique(repo: Repo) {
    let (_, rows) = ids(2);
    let a = repo
        .insert(product(&rows[0].0, &rows[0].1))
        .await
        .expect("a");
    let err = repo
        .insert(product(&rows[1].0, &rows[0].1))
        .await
        .expect_err("dup sku");
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::Duplicate { field: "sku" },
                ..
            }
        ),
        "{err:?}"
    );
    let err = repo
        .insert(product(&rows[0].0, &rows[1].1))
        .await
        .expect_err("dup id");
    assert_eq!(err.kind(), ErrorKind::Conflict);

    let b = repo
        .insert(product(&rows[1].0, &rows[1].1))
        .await
        .expect("b");
    let mut steal = b.clone();
    steal.sku = a.sku.clone();
    let err = repo.update(steal).await.expect_err("update to taken sku");
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::Duplicate { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        repo.get(&b.id).await.expect("b").sku,
        b.sku,
        "failed update changed nothing"
    );
}

pub async fn product_stale_update(repo: Repo) {
    let (_, rows) = ids(1);
    let v1 = repo
        .insert(product(&rows[0].0, &rows[0].1))
        .await
        .expect("insert");
    let mut first = v1.clone();
    first.name = "first".into();
    repo.update(first).await.expect("first update");
    let mut stale = v1.clone();
    stale.name = "stale".into();
    let err = repo.update(stale).await.expect_err("stale");
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::StaleVersion,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(repo.get(&v1.id).await.expect("get").name, "first");
}

pub async fn product_concurrent_writers(repo: Repo) {
    let (_, rows) = ids(1);
    let base = repo
        .insert(product(&rows[0].0, &rows[0].1))
        .await
        .expect("insert");
    for round in 0..5 {
        let current = repo.get(&base.id).await.expect("get");
        let tasks: Vec<_> = (0..2)
            .map(|w| {
                let repo = repo.clone();
                let mut p = current.clone();
                p.name = format!("round {round} writer {w}");
                tokio::spawn(async move { repo.update(p).await })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            match t.await.expect("join") {
                Ok(_) => wins += 1,
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
        assert_eq!(wins, 1, "exactly one concurrent writer wins");
        assert_eq!(
            repo.get(&base.id).await.expect("get").version,
            current.version + 1
        );
    }
}

pub async fn product_paging(repo: Repo) {
    let (ns, rows) = ids(25);
    for (id, sku) in &rows {
        let mut p = product(id, sku);
        // A category unique to this run isolates the listing.
        p.category = category(&ns);
        repo.insert(p).await.expect("insert");
    }
    let filter = ProductFilter {
        category: Some(category(&ns)),
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut page = PageRequest::first(10);
    let mut sizes = Vec::new();
    loop {
        let got = repo.list(&filter, &page).await.expect("list");
        sizes.push(got.items.len());
        seen.extend(got.items.iter().map(|p| p.id.to_string()));
        match got.next {
            Some(c) => page = PageRequest::first(10).after(Some(c)),
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    let expected: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(seen, expected, "ordered by id, no gaps, no duplicates");
    let bad = PageRequest::first(10).after(Some(puratan_core::ports::Cursor::from_client(
        "{\"$gt\":\"\"}",
    )));
    assert_eq!(
        repo.list(&filter, &bad)
            .await
            .expect_err("bad cursor")
            .kind(),
        ErrorKind::Invalid
    );
}

pub async fn product_filters(repo: Repo) {
    let (ns, rows) = ids(3);
    let other = format!("{ns}-x");
    for (i, (id, sku)) in rows.iter().enumerate() {
        let mut p = product(id, sku);
        p.category = category(if i == 0 { &other } else { &ns });
        p.tags = if i == 1 { vec![tag("sale")] } else { vec![] };
        p.active = i != 2;
        repo.insert(p).await.expect("insert");
    }
    let list = |f: ProductFilter| {
        let repo = repo.clone();
        async move {
            repo.list(&f, &PageRequest::first(100))
                .await
                .expect("list")
                .items
                .into_iter()
                .map(|p| p.id.to_string())
                .collect::<HashSet<_>>()
        }
    };
    let in_ns = list(ProductFilter {
        category: Some(category(&ns)),
        ..Default::default()
    })
    .await;
    assert_eq!(
        in_ns,
        HashSet::from([rows[1].0.clone()]),
        "inactive hidden by default"
    );
    let all = list(ProductFilter {
        category: Some(category(&ns)),
        include_inactive: true,
        ..Default::default()
    })
    .await;
    assert_eq!(all, HashSet::from([rows[1].0.clone(), rows[2].0.clone()]));
    let tagged = list(ProductFilter {
        tag: Some(tag("sale")),
        category: Some(category(&ns)),
        ..Default::default()
    })
    .await;
    assert_eq!(tagged, HashSet::from([rows[1].0.clone()]));
}
