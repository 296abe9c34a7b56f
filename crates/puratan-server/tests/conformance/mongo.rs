//! Conformance of the mongo adapter, plus its own checks (error mapping,
//! index idempotency, injection safety, persistence across connections).
//!
//! Needs a MongoDB-wire-compatible server: `scripts/services/mongo.sh`
//! starts SecantusDB on 127.0.0.1:27018; `PURATAN_TEST_MONGO_URI`
//! overrides the address (e.g. a real replica set). Every test works in a
//! database of its own. Without a server the tests skip loudly, or fail
//! when `CI=true`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use mongodb::bson::{Bson, Document, doc};
use puratan_core::domain::{Email, OrderId, Product, ProductId, Sku, UserId};
use puratan_core::ports::{
    AuditEvent, Cursor, OrderSearch, PageRequest, ProductFilter, QueueFilter, Reservations,
};
use puratan_core::{ConflictReason, Error, ErrorKind};
use puratan_server::adapters::mongo::{MongoConfig, MongoStore};
use puratan_testkit::fixtures;
use puratan_testkit::service::{require, unique};

const DEFAULT_URI: &str = "mongodb://127.0.0.1:27018/?retryWrites=false";

fn uri() -> String {
    std::env::var("PURATAN_TEST_MONGO_URI").unwrap_or_else(|_| DEFAULT_URI.to_owned())
}

fn config(database: &str) -> MongoConfig {
    MongoConfig {
        uri: uri(),
        database: database.to_owned(),
        connect_timeout_ms: 3_000,
    }
}

async fn open(database: &str) -> Result<MongoStore, Error> {
    let store = MongoStore::connect(&config(database)).await?;
    store.ensure_indexes().await?;
    Ok(store)
}

/// A store on a fresh database with every index, or `None` (skip).
async fn store() -> Option<MongoStore> {
    require("MongoDB", open(&unique("t")).await)
}

/// A raw driver handle on the same database, to look at what was stored.
async fn raw(store: &MongoStore) -> mongodb::Database {
    let client = mongodb::Client::with_uri_str(uri())
        .await
        .expect("raw client");
    client.database(store.database_name())
}

async fn drop_db(store: &MongoStore) {
    raw(store).await.drop().await.expect("drop database");
}

mod products {
    use super::*;
    puratan_testkit::product_repo_suite!(store().await.map(|s| s.products()));
}
mod users {
    use super::*;
    puratan_testkit::user_repo_suite!(store().await.map(|s| s.users()));
}
mod orders {
    use super::*;
    puratan_testkit::order_repo_suite!(store().await.map(|s| s.orders()));
}
mod orders_checkout {
    use super::*;
    puratan_testkit::order_checkout_suite!(store().await.map(|s| (s.orders(), s.products())));
}
mod file_repo {
    use super::*;
    puratan_testkit::file_repo_suite!(store().await.map(|s| s.file_records()));
}
mod carts {
    use super::*;
    puratan_testkit::cart_repo_suite!(store().await.map(|s| s.carts()));
}
mod jobs {
    use super::*;
    puratan_testkit::job_repo_suite!(store().await.map(|s| s.jobs()));
}
mod inbox {
    use super::*;
    puratan_testkit::inbox_repo_suite!(store().await.map(|s| s.inbox()));
}
mod audit {
    use super::*;
    puratan_testkit::audit_log_suite!(store().await.map(|s| s.audit()));
}

mod catalogs {
    use super::*;
    puratan_testkit::catalog_repo_suite!(store().await.map(|s| s.catalogs()));
}
mod refresh {
    use super::*;
    puratan_testkit::refresh_store_suite!(store().await.map(|s| s.refresh_tokens()));
}

fn duplicate_field(e: &Error) -> Option<&'static str> {
    match e {
        Error::Conflict {
            reason: ConflictReason::Duplicate { field },
            ..
        } => Some(field),
        _ => None,
    }
}

fn ns() -> String {
    unique("m").chars().take(12).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_duplicate_keys_name_the_field() {
    let Some(store) = store().await else { return };
    let (products, users, orders) = (store.products(), store.users(), store.orders());
    let n = ns();
    let (sku_a, sku_b) = (
        format!("{}-A", n.to_uppercase()),
        format!("{}-B", n.to_uppercase()),
    );
    let a = products
        .insert(fixtures::product(&format!("{n}-a"), &sku_a))
        .await
        .expect("a");
    let err = products
        .insert(fixtures::product(&format!("{n}-b"), &sku_a))
        .await
        .expect_err("dup sku");
    assert_eq!(duplicate_field(&err), Some("sku"), "{err:?}");
    let err = products
        .insert(fixtures::product(&format!("{n}-a"), &sku_b))
        .await
        .expect_err("dup id");
    assert_eq!(duplicate_field(&err), Some("id"), "{err:?}");
    // On update the duplicate comes from inside an update's write error.
    let b = products
        .insert(fixtures::product(&format!("{n}-b"), &sku_b))
        .await
        .expect("b");
    let mut steal = b.clone();
    steal.sku = a.sku.clone();
    let err = products
        .update(steal)
        .await
        .expect_err("update to taken sku");
    assert_eq!(duplicate_field(&err), Some("sku"), "{err:?}");

    let ann = users
        .insert(fixtures::user(&format!("ann-{n}@example.com")))
        .await
        .expect("ann");
    let bob = users
        .insert(fixtures::user(&format!("bob-{n}@example.com")))
        .await
        .expect("bob");
    let err = users
        .insert(fixtures::user(&format!("ANN-{n}@example.com")))
        .await
        .expect_err("dup email");
    assert_eq!(duplicate_field(&err), Some("email"), "{err:?}");
    let mut clash = bob.clone();
    clash.email = ann.email.clone();
    let err = users
        .update(clash)
        .await
        .expect_err("update to taken email");
    assert_eq!(duplicate_field(&err), Some("email"), "{err:?}");
    let mut same_id = fixtures::user(&format!("carl-{n}@example.com"));
    same_id.id = ann.id;
    let err = users.insert(same_id).await.expect_err("dup user id");
    assert_eq!(duplicate_field(&err), Some("id"), "{err:?}");

    let o = orders
        .insert(fixtures::order(ann.id, "submitted", 50, fixtures::day(3)))
        .await
        .expect("order");
    let err = orders.insert(o.clone()).await.expect_err("dup order id");
    assert_eq!(duplicate_field(&err), Some("id"), "{err:?}");
    drop_db(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_ensure_indexes_is_idempotent() {
    let Some(store) = store().await else { return };
    store.ensure_indexes().await.expect("second run");
    store.ensure_indexes().await.expect("third run");
    let db = raw(&store).await;
    let expected: [(&str, &[(&str, bool)]); 9] = [
        (
            "products",
            &[
                ("_id_", false),
                ("active_id", false),
                ("category_active_id", false),
                ("category_tags_active_id", false),
                ("sku_unique", true),
                ("tags_active_id", false),
            ],
        ),
        (
            "users",
            &[
                ("_id_", false),
                ("email_unique", true),
                ("identities", false),
            ],
        ),
        (
            "orders",
            &[
                ("_id_", false),
                ("customer_newest", false),
                ("idempotency_unique", true),
                ("status_newest", false),
                ("status_queue", false),
            ],
        ),
        (
            "jobs",
            &[("_id_", false), ("order_queue", false), ("queue", false)],
        ),
        (
            "audit",
            &[("_id_", false), ("actor_recent", false), ("recent", false)],
        ),
        (
            "notifications",
            &[
                ("_id_", false),
                ("user_newest", false),
                ("user_unread", false),
            ],
        ),
        (
            "processed_messages",
            &[("_id_", false), ("consumer_message_unique", true)],
        ),
        ("catalogs", &[("_id_", false), ("newest", false)]),
        ("refresh_families", &[("_id_", false), ("subject", false)]),
    ];
    for (collection, want) in expected {
        let mut got: Vec<(String, bool)> = Vec::new();
        let mut cursor = db
            .collection::<Document>(collection)
            .list_indexes()
            .await
            .expect("list");
        while cursor.advance().await.expect("next") {
            let model = cursor.deserialize_current().expect("index");
            let options = model.options.unwrap_or_default();
            got.push((
                options.name.unwrap_or_default(),
                options.unique.unwrap_or(false),
            ));
        }
        got.sort();
        let want: Vec<(String, bool)> = want.iter().map(|(n, u)| ((*n).to_owned(), *u)).collect();
        assert_eq!(got, want, "indexes of {collection}: exactly one of each");
    }
    drop_db(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_hostile_values_are_literals() {
    let Some(store) = store().await else { return };
    let hostile = r#"{"$ne": null}"#;
    // The domain types already refuse operator text where it cannot belong…
    assert!(Sku::parse(hostile).is_err() && ProductId::parse(hostile).is_err());
    assert!(ProductId::parse("$ne").is_err());

    // …but e-mail local parts, actors and cursor contents are free text:
    // they must reach MongoDB as literal strings, never as operators.
    let users = store.users();
    let n = ns();
    users
        .insert(fixtures::user(&format!("ann-{n}@example.com")))
        .await
        .expect("ann");
    let sneaky = Email::parse(&format!(r#"{{"$ne":null}}{n}@example.com"#)).expect("valid address");
    assert_eq!(
        users
            .get_by_email(&sneaky)
            .await
            .expect_err("no match")
            .kind(),
        ErrorKind::NotFound
    );
    let stored = users
        .insert(fixtures::user(sneaky.as_str()))
        .await
        .expect("literal address");
    assert_eq!(
        users.get_by_email(&sneaky).await.expect("exact match").id,
        stored.id
    );

    let audit = store.audit();
    for actor in ["alice", "bob"] {
        audit
            .append(event(actor, serde_json::json!({})))
            .await
            .expect("append");
    }
    for probe in [hostile, r#"{"$gt": ""}"#, "$where", ".*"] {
        assert!(
            audit
                .recent(Some(probe), 10)
                .await
                .expect("recent")
                .is_empty(),
            "{probe} matched"
        );
    }
    // Operator-looking keys in event details are data, stored verbatim.
    let details =
        serde_json::json!({"$where": "sleep(1000)", "q": {"$ne": null}, "n": [1, 2.5, "x"]});
    audit
        .append(event(hostile, details.clone()))
        .await
        .expect("append hostile");
    let got = audit.recent(Some(hostile), 10).await.expect("recent");
    assert_eq!(
        (got.len(), &got[0].actor, &got[0].details),
        (1, &hostile.to_owned(), &details)
    );

    // Cursors: an operator object is not a cursor; operator text inside a
    // well-formed cursor is compared as a string.
    let products = store.products();
    products
        .insert(fixtures::product(
            &format!("{n}-a"),
            &format!("{}-A", n.to_uppercase()),
        ))
        .await
        .expect("p");
    let filter = ProductFilter::default();
    let forged =
        PageRequest::first(10).after(Some(Cursor::encode(&serde_json::json!({"$gt": ""}))));
    assert_eq!(
        products
            .list(&filter, &forged)
            .await
            .expect_err("object cursor")
            .kind(),
        ErrorKind::Invalid
    );
    let literal = PageRequest::first(10).after(Some(Cursor::encode(&hostile)));
    // `{` sorts after every slug character, so nothing is "after" it.
    assert!(
        products
            .list(&filter, &literal)
            .await
            .expect("string cursor")
            .items
            .is_empty()
    );
    let forged = PageRequest::first(10).after(Some(Cursor::encode(&(
        50,
        serde_json::json!({"$gt": 0}),
        "x",
    ))));
    let err = store
        .orders()
        .list_queue(&QueueFilter::status(fixtures::status("queued")), &forged)
        .await
        .expect_err("forged");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    drop_db(&store).await;
}

fn event(actor: &str, details: serde_json::Value) -> AuditEvent {
    AuditEvent {
        at: Utc::now(),
        actor: actor.to_owned(),
        action: "test.hostile".into(),
        target: None,
        ip: None,
        details,
    }
}

/// A checkout of one order taking `quantity` units of `product`.
async fn take(store: &MongoStore, product: &ProductId, quantity: u64) -> Result<(), Error> {
    let o = fixtures::order(UserId::new(), "submitted", 50, fixtures::day(2));
    let reserve = Reservations {
        stock: vec![(product.clone(), quantity)],
        coupons: vec![],
    };
    store
        .orders()
        .insert_checkout(o, vec![], reserve)
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_records_persist_across_connections() {
    let database = unique("t");
    let Some(first) = require("MongoDB", open(&database).await) else {
        return;
    };
    let n = ns();
    let mut p = fixtures::product(&format!("{n}-a"), &format!("{}-A", n.to_uppercase()));
    p.stock = Some(7);
    p.description = "Line one\nLine two — ünïcödé".into();
    p.specifications
        .insert("Format (mm.)".into(), "85 × 55".into());
    p.tags = vec![fixtures::tag("eco"), fixtures::tag("sale")];
    let p = first.products().insert(p).await.expect("product");
    let p = first
        .products()
        .update(p)
        .await
        .expect("update with a dotted spec key");
    take(&first, &p.id, 2).await.expect("checkout takes 2");
    let u = first
        .users()
        .insert(fixtures::user(&format!("ann-{n}@example.com")))
        .await
        .expect("user");
    let o = first
        .orders()
        .insert(fixtures::order(u.id, "submitted", 80, fixtures::day(9)))
        .await
        .expect("order");
    first
        .audit()
        .append(event(
            &u.id.to_string(),
            serde_json::json!({"big": i64::MAX, "f": 0.1}),
        ))
        .await
        .expect("audit");
    drop(first);

    let second = MongoStore::connect(&config(&database))
        .await
        .expect("reconnect");
    second.ping().await.expect("ping");
    let got = second.products().get(&p.id).await.expect("product");
    assert_eq!(
        got.stock,
        Some(5),
        "stock is authoritative at the top level"
    );
    assert_eq!(
        got.version,
        p.version + 1,
        "the checkout's stock $inc bumps the version"
    );
    assert_eq!(
        got,
        Product {
            stock: Some(5),
            version: p.version + 1,
            ..p.clone()
        }
    );
    assert_eq!(second.users().get(u.id).await.expect("user"), u);
    assert_eq!(second.orders().get(o.id).await.expect("order"), o);
    let events = second
        .audit()
        .recent(Some(&u.id.to_string()), 5)
        .await
        .expect("audit");
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].details,
        serde_json::json!({"big": i64::MAX, "f": 0.1})
    );

    // The stored shape: typed top-level fields next to the full record.
    let db = raw(&second).await;
    let stored = db
        .collection::<Document>("orders")
        .find_one(doc! { "_id": o.id.to_string() })
        .await;
    let stored = stored.expect("find").expect("stored order");
    assert_eq!(
        stored.get("customer_id"),
        Some(&Bson::String(u.id.to_string()))
    );
    assert_eq!(
        stored.get("status"),
        Some(&Bson::String("submitted".into()))
    );
    assert_eq!(stored.get("priority"), Some(&Bson::Int32(80)));
    assert_eq!(
        stored.get("due_ms"),
        Some(&Bson::Int64(fixtures::day(9).timestamp_millis()))
    );
    assert_eq!(stored.get("version"), Some(&Bson::Int64(1)));
    assert!(stored.get_document("doc").is_ok());
    let stored = db
        .collection::<Document>("products")
        .find_one(doc! { "_id": p.id.as_str() })
        .await;
    let stored = stored.expect("find").expect("stored product");
    assert_eq!(stored.get("stock"), Some(&Bson::Int64(5)));
    assert_eq!(stored.get_array("tags").map(Vec::len).ok(), Some(2));
    drop_db(&second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_missing_records_and_stock_edges() {
    let Some(store) = store().await else { return };
    let products = store.products();
    let n = ns();
    let ghost = fixtures::product(&format!("{n}-ghost"), &format!("{}-G", n.to_uppercase()));
    let nf = |e: Error| e.kind() == ErrorKind::NotFound;
    assert!(nf(products
        .update(ghost.clone())
        .await
        .expect_err("update missing")));
    assert!(nf(take(&store, &ghost.id, 1)
        .await
        .expect_err("checkout of a missing product")));
    assert!(nf(products
        .get_by_sku(&ghost.sku)
        .await
        .expect_err("sku missing")));
    let mut ghost_user = fixtures::user(&format!("ghost-{n}@example.com"));
    ghost_user.version = 1;
    assert!(nf(store
        .users()
        .update(ghost_user)
        .await
        .expect_err("user missing")));
    let mut ghost_order = fixtures::order(UserId::new(), "queued", 50, fixtures::day(1));
    ghost_order.version = 1;
    assert!(nf(store
        .orders()
        .update(ghost_order)
        .await
        .expect_err("order missing")));
    assert!(nf(store
        .orders()
        .get(OrderId::new())
        .await
        .expect_err("order missing")));

    let mut p = fixtures::product(&format!("{n}-p"), &format!("{}-P", n.to_uppercase()));
    p.stock = Some(3);
    let p = products.insert(p).await.expect("insert");
    for q in [4, u64::MAX] {
        let err = take(&store, &p.id, q).await.expect_err("too many");
        assert!(
            matches!(
                err,
                Error::Conflict {
                    reason: ConflictReason::Exhausted { .. },
                    ..
                }
            ),
            "{err:?}"
        );
    }
    take(&store, &p.id, 3).await.expect("all of it");
    take(&store, &p.id, 0).await.expect("zero");
    let after = products.get(&p.id).await.expect("get");
    assert_eq!((after.stock, after.version), (Some(0), 3));
    // An update based on the pre-reservation version is stale.
    let err = products.update(p.clone()).await.expect_err("stale");
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
    let mut huge = after.clone();
    huge.version = u64::MAX;
    assert!(matches!(
        products.update(huge).await,
        Err(Error::Conflict {
            reason: ConflictReason::StaleVersion,
            ..
        })
    ));

    assert!(
        store
            .audit()
            .recent(None, 0)
            .await
            .expect("limit 0")
            .is_empty()
    );
    drop_db(&store).await;
}

#[tokio::test]
async fn mongo_unreachable_server_is_unavailable_quickly() {
    let cfg = MongoConfig {
        uri: "mongodb://127.0.0.1:1/?retryWrites=false".into(),
        database: "nowhere".into(),
        connect_timeout_ms: 300,
    };
    let store = MongoStore::connect(&cfg).await.expect("connect is lazy");
    let started = Instant::now();
    let err = store.ping().await.expect_err("nothing listens on port 1");
    assert!(
        matches!(
            err,
            Error::Unavailable {
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let err = store
        .products()
        .get(&ProductId::parse("x").expect("id"))
        .await
        .expect_err("down");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn mongo_bad_config_is_invalid_and_never_leaks_the_password() {
    for (uri, database) in [
        ("mongodb://app:hunter2@127.0.0.1:notaport/", "ok"),
        ("postgres://app:hunter2@127.0.0.1/", "ok"),
        (
            "mongodb://app:hunter2@127.0.0.1/?w=nonsense&journal=maybe",
            "ok",
        ),
        (DEFAULT_URI, "bad.name"),
        (DEFAULT_URI, ""),
    ] {
        let cfg = MongoConfig {
            uri: uri.into(),
            database: database.into(),
            connect_timeout_ms: 300,
        };
        let err = MongoStore::connect(&cfg).await.expect_err(uri);
        assert_eq!(err.kind(), ErrorKind::Invalid, "{uri} {database}: {err:?}");
        let shown = format!("{err} {err:?} {cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

/// Pages through a listing to the end, with `size` items per page.
async fn walk<T, F, Fut>(size: u32, mut fetch: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = puratan_core::Result<puratan_core::ports::Page<T>>>,
{
    let mut out = Vec::new();
    let mut page = PageRequest::first(size);
    // A cursor that does not advance must fail the test, not hang it.
    for _ in 0..1_000 {
        let got = fetch(page).await.expect("page");
        assert!(got.items.len() <= size as usize);
        out.extend(got.items);
        match got.next {
            Some(c) => page = PageRequest::first(size).after(Some(c)),
            None => return out,
        }
    }
    panic!("paging did not end after 1000 pages");
}

/// Every listing, at several page sizes, returns exactly what the
/// in-memory reference implementation returns for the same data: many
/// ties in the production queue (so every tie-break range is crossed by a
/// page boundary) and a mix of active and inactive products (so admin
/// views merge both across pages).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_listings_match_the_memory_reference() {
    use puratan_core::memory::{MemoryOrderRepo, MemoryProductRepo, MemoryUserRepo};
    use puratan_core::ports::{OrderRepo, ProductRepo, UserRepo};

    let Some(store) = store().await else { return };
    let (mp, mu, mo) = (store.products(), store.users(), store.orders());
    let rp: Arc<dyn ProductRepo> = Arc::new(MemoryProductRepo::new());
    let ru: Arc<dyn UserRepo> = Arc::new(MemoryUserRepo::new());
    let ro: Arc<dyn OrderRepo> = Arc::new(MemoryOrderRepo::new());

    let n = ns();
    for i in 0..30_usize {
        let mut p = fixtures::product(
            &format!("{n}-{i:02}"),
            &format!("{}-{i:02}", n.to_uppercase()),
        );
        p.category = fixtures::category(if i % 3 == 0 { "posters" } else { "cards" });
        p.tags = ["eco", "sale", "new"]
            .iter()
            .enumerate()
            .filter(|(k, _)| (i >> k) & 1 == 1)
            .map(|(_, t)| fixtures::tag(t))
            .collect();
        p.active = i % 4 != 1;
        p.stock = (i % 5 == 0).then_some(i as u64);
        assert_eq!(
            mp.insert(p.clone()).await.expect("mongo"),
            rp.insert(p).await.expect("memory")
        );
    }
    let mut customers = Vec::new();
    for i in 0..6 {
        let u = fixtures::user(&format!("u{i}-{n}@example.com"));
        customers.push(u.id);
        assert_eq!(
            mu.insert(u.clone()).await.expect("mongo"),
            ru.insert(u).await.expect("memory")
        );
    }
    let queue = fixtures::status("queued");
    for i in 0..40_usize {
        let status = if i % 7 == 3 { "printing" } else { "queued" };
        let priority = [30, 50, 80][i % 3];
        let due = fixtures::day(1 + (i % 4) as u32 / 2);
        let o = fixtures::order(customers[i % 6], status, priority, due);
        assert_eq!(
            mo.insert(o.clone()).await.expect("mongo"),
            ro.insert(o).await.expect("memory")
        );
    }

    for size in [1, 2, 3, 7, 100] {
        let filters = [None, Some("cards")].into_iter().flat_map(|c| {
            [None, Some("sale")].into_iter().flat_map(move |t| {
                [false, true].map(|include_inactive| ProductFilter {
                    category: c.map(fixtures::category),
                    tag: t.map(fixtures::tag),
                    include_inactive,
                })
            })
        });
        for f in filters {
            let got = walk(size, |p| {
                let (mp, f) = (mp.clone(), f.clone());
                async move { mp.list(&f, &p).await }
            })
            .await;
            let want = walk(size, |p| {
                let (rp, f) = (rp.clone(), f.clone());
                async move { rp.list(&f, &p).await }
            })
            .await;
            assert_eq!(got, want, "products, size {size}, {f:?}");
        }
        let got = walk(size, |p| {
            let mu = mu.clone();
            async move { mu.list(&p).await }
        })
        .await;
        let want = walk(size, |p| {
            let ru = ru.clone();
            async move { ru.list(&p).await }
        })
        .await;
        assert_eq!(got, want, "users, size {size}");
        let got = walk(size, |p| {
            let (mo, q) = (mo.clone(), queue.clone());
            async move { mo.list_queue(&QueueFilter::status(q), &p).await }
        })
        .await;
        let want = walk(size, |p| {
            let (ro, q) = (ro.clone(), queue.clone());
            async move { ro.list_queue(&QueueFilter::status(q), &p).await }
        })
        .await;
        assert_eq!(got.len(), 34);
        assert_eq!(got, want, "queue, size {size}");
        for (lo, hi, after, before) in [
            (Some(80), None, None, None),
            (Some(31), Some(79), None, None),
            (None, Some(30), Some(fixtures::day(2)), None),
            (Some(50), None, None, Some(fixtures::day(2))),
        ] {
            let filter = QueueFilter {
                min_priority: lo.map(|p| puratan_core::domain::Priority::new(p).expect("p")),
                max_priority: hi.map(|p| puratan_core::domain::Priority::new(p).expect("p")),
                due_after: after,
                due_before: before,
                ..QueueFilter::status(queue.clone())
            };
            let got = walk(size, |p| {
                let (mo, f) = (mo.clone(), filter.clone());
                async move { mo.list_queue(&f, &p).await }
            })
            .await;
            let want = walk(size, |p| {
                let (ro, f) = (ro.clone(), filter.clone());
                async move { ro.list_queue(&f, &p).await }
            })
            .await;
            assert!(!want.is_empty(), "{filter:?}");
            assert_eq!(got, want, "filtered queue, size {size}, {filter:?}");
        }
        for search in [
            OrderSearch {
                customer: Some(customers[1]),
                ..Default::default()
            },
            OrderSearch {
                status: Some(fixtures::status("printing")),
                ..Default::default()
            },
            OrderSearch {
                customer: Some(customers[3]),
                status: Some(queue.clone()),
                ..Default::default()
            },
        ] {
            let got = walk(size, |p| {
                let (mo, s) = (mo.clone(), search.clone());
                async move { mo.search(&s, &p).await }
            })
            .await;
            let want = walk(size, |p| {
                let (ro, s) = (ro.clone(), search.clone());
                async move { ro.search(&s, &p).await }
            })
            .await;
            assert!(!want.is_empty(), "{search:?}");
            assert_eq!(got, want, "search, size {size}, {search:?}");
        }
        for &c in &customers[..2] {
            let got = walk(size, |p| {
                let mo = mo.clone();
                async move { mo.list_by_customer(c, &p).await }
            })
            .await;
            let want = walk(size, |p| {
                let ro = ro.clone();
                async move { ro.list_by_customer(c, &p).await }
            })
            .await;
            assert_eq!(got, want, "customer, size {size}");
        }
    }
    drop_db(&store).await;
}
