//! The staff production queue's filters and the staff order search over
//! HTTP: filters and paging return exactly the expected orders, every bad
//! or hostile parameter is a typed 400 naming it, and free text is never
//! a pattern.
//!
//! Orders are stored directly through `app().orders` (their states and
//! dates are what is tested, not the workflow that leads there).

use chrono::{DateTime, Duration, TimeZone, Utc};
use puratan_core::domain::{Order, OrderId, Role, ShippingAddress, UserId};
use serde_json::Value;

use crate::auth::access;
use crate::support::{TestApp, expect_error, spawn_app_with};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0)
        .single()
        .expect("date")
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl TestApp {
    /// GET `path` with query parameters (URL-encoded by the client).
    async fn get_query(
        &self,
        path: &str,
        query: &[(&str, &str)],
        bearer: &str,
    ) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .query(query)
            .bearer_auth(bearer)
            .send()
            .await
            .expect("request")
    }

    /// Every page of `path` with `query` and `limit`, as order ids; checks
    /// that every page but the last is full.
    async fn all_pages(
        &self,
        path: &str,
        query: &[(&str, &str)],
        limit: u32,
        bearer: &str,
    ) -> Vec<String> {
        let limit_s = limit.to_string();
        let mut cursor: Option<String> = None;
        let mut ids = Vec::new();
        for _ in 0..100 {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            q.push(("limit", &limit_s));
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let r = self.get_query(path, &q, bearer).await;
            assert_eq!(r.status(), 200, "{path} {q:?}");
            let page: Value = r.json().await.expect("json");
            let items = page["items"].as_array().expect("items");
            ids.extend(
                items
                    .iter()
                    .map(|o| o["id"].as_str().expect("id").to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => {
                    assert_eq!(items.len(), limit as usize, "short page before the end");
                    cursor = Some(c.to_owned());
                }
                None => return ids,
            }
        }
        panic!("paging did not end");
    }

    async fn store_order(&self, o: Order) -> Order {
        self.app().orders.insert(o).await.expect("insert order")
    }
}

/// Query parameters and the order ids they must return, in order.
type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<String>);

/// Shipping name, postal code, city.
type Ship = (&'static str, &'static str, &'static str);

fn queued(priority: u8, due: DateTime<Utc>) -> Order {
    puratan_testkit::fixtures::order(UserId::new(), "queued", priority, due)
}

fn ids(orders: &[&Order]) -> Vec<String> {
    orders.iter().map(|o| o.id.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_filters_by_priority_and_due_date_across_pages() {
    let app = spawn_app_with(|c| c.auth.sensitive_per_ip_per_minute = 10_000).await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let s = access(&staff);
    let mut orders = Vec::new();
    for (i, p) in [100_u8, 80, 79, 60, 59, 50, 49, 30, 0, 80, 60, 50]
        .into_iter()
        .enumerate()
    {
        // Due on days 1-4, several at the same instant.
        let due = at(1 + (i % 4) as u32, 12);
        orders.push(app.store_order(queued(p, due)).await);
    }
    // Another state is never in the queue of `queued`.
    app.store_order(puratan_testkit::fixtures::order(
        UserId::new(),
        "printing",
        100,
        at(1, 12),
    ))
    .await;

    let expect = |pred: &dyn Fn(&Order) -> bool| {
        let mut v: Vec<&Order> = orders.iter().filter(|o| pred(o)).collect();
        v.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.due_at.cmp(&b.due_at))
                .then(a.id.cmp(&b.id))
        });
        ids(&v)
    };
    let (d2, d4) = (rfc3339(at(2, 12)), rfc3339(at(4, 12)));
    let cases: Vec<Case<'_>> = vec![
        (vec![], expect(&|_| true)),
        (
            vec![("priority", "rush")],
            expect(&|o| o.priority.get() >= 80),
        ),
        (
            vec![("priority", "high")],
            expect(&|o| (60..=79).contains(&o.priority.get())),
        ),
        (
            vec![("priority", "normal")],
            expect(&|o| (50..=59).contains(&o.priority.get())),
        ),
        (
            vec![("priority", "low")],
            expect(&|o| o.priority.get() <= 49),
        ),
        (
            vec![("priority", "55")],
            expect(&|o| o.priority.get() >= 55),
        ),
        (vec![("priority", "0")], expect(&|_| true)),
        (vec![("due_after", &d2)], expect(&|o| o.due_at >= at(2, 12))),
        (vec![("due_before", &d4)], expect(&|o| o.due_at < at(4, 12))),
        (
            vec![
                ("priority", "high"),
                ("due_after", &d2),
                ("due_before", &d4),
            ],
            expect(&|o| {
                (60..=79).contains(&o.priority.get())
                    && o.due_at >= at(2, 12)
                    && o.due_at < at(4, 12)
            }),
        ),
        (
            vec![
                ("status", "queued"),
                ("priority", "50"),
                ("due_before", &d2),
            ],
            expect(&|o| o.priority.get() >= 50 && o.due_at < at(2, 12)),
        ),
    ];
    for (query, want) in &cases {
        assert!(!want.is_empty(), "{query:?} selects something");
        for limit in [1, 2, 5] {
            assert_eq!(
                &app.all_pages("/api/v1/staff/queue", query, limit, s).await,
                want,
                "{query:?}, limit {limit}"
            );
        }
    }
    // A `+01:00` offset is the same instant as 11:00Z.
    let r = app
        .all_pages(
            "/api/v1/staff/queue",
            &[("due_after", "2026-12-04T13:00:00+01:00")],
            20,
            s,
        )
        .await;
    assert_eq!(r, expect(&|o| o.due_at >= at(4, 12)));

    // Bad parameters: 400 invalid_parameter naming the parameter.
    let long = "9".repeat(10_000);
    for (query, field) in [
        (vec![("priority", "urgent")], "priority"),
        (vec![("priority", "101")], "priority"),
        (vec![("priority", "-1")], "priority"),
        (vec![("priority", "+80")], "priority"),
        (vec![("priority", "0080")], "priority"),
        (vec![("priority", "")], "priority"),
        (vec![("priority", &long)], "priority"),
        (vec![("due_after", "tomorrow")], "due_after"),
        (vec![("due_before", "2026-12-01")], "due_before"),
        (vec![("due_before", &long)], "due_before"),
        (vec![("due_after", &d4), ("due_before", &d2)], "due_after"),
        (vec![("due_after", &d2), ("due_before", &d2)], "due_after"),
        (vec![("status", "Queued")], "status"),
        (vec![("status", "$ne")], "status"),
    ] {
        let r = app.get_query("/api/v1/staff/queue", &query, s).await;
        let e = expect_error(r, 400, "invalid_parameter").await;
        assert_eq!(e["details"]["field"], field, "{query:?}");
    }
    let r = app
        .get_query("/api/v1/staff/queue", &[("sort", "priority")], s)
        .await;
    assert_eq!(r.status(), 400, "unknown parameter");
    let r = app
        .get_query("/api/v1/staff/queue", &[("cursor", "eyIkZ3QiOiIifQ")], s)
        .await;
    expect_error(r, 422, "validation_failed").await;
    let ann = app.customer("ann@example.com").await;
    let r = app
        .get_query("/api/v1/staff/queue", &[("priority", "rush")], access(&ann))
        .await;
    expect_error(r, 403, "forbidden").await;
}

fn address(name: &str, postal_code: &str, city: &str) -> ShippingAddress {
    ShippingAddress {
        name: name.to_owned(),
        line1: "Hauptstraße 1".to_owned(),
        line2: String::new(),
        postal_code: postal_code.to_owned(),
        city: city.to_owned(),
        country: "DE".to_owned(),
    }
}

/// An order id created at `t` (the search's creation time is the id's
/// UUIDv7 timestamp).
fn id_at(t: DateTime<Utc>) -> OrderId {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        u64::try_from(t.timestamp()).expect("after 1970"),
        t.timestamp_subsec_nanos(),
    );
    OrderId::from(uuid::Uuid::new_v7(ts))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_search_finds_orders_and_treats_input_as_text() {
    let app = spawn_app_with(|c| c.auth.sensitive_per_ip_per_minute = 10_000).await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let s = access(&staff);
    let ann_tokens = app.customer("ann@example.com").await;
    let ann = UserId::parse(&app.user_id(&ann_tokens).await).expect("id");
    let bob_tokens = app.customer("bob@example.com").await;
    let bob = UserId::parse(&app.user_id(&bob_tokens).await).expect("id");

    // Ten orders, one hour apart; the shipping details vary.
    let t0 = at(1, 8);
    let spec: [(UserId, &str, Option<Ship>); 10] = [
        (ann, "submitted", Some(("Ann Example", "10115", "Berlin"))),
        (bob, "queued", Some(("Bob Builder", "50667", "Köln"))),
        (ann, "on_hold", Some(("Ann Example", "20095", "Hamburg"))),
        (bob, "queued", None),
        (ann, "queued", Some(("Dr. A.C. Müller", "80331", "München"))),
        (bob, "on_hold", Some(("Bob Builder", "10117", "Berlin"))),
        (ann, "queued", Some(("Ann Example", "10115", "Berlin"))),
        (bob, "submitted", Some(("Star .* Name", "01067", "Dresden"))),
        (ann, "on_hold", Some(("Ann Example", "10115", "Berlin"))),
        (bob, "queued", Some(("$where: 1", "04109", "Leipzig"))),
    ];
    let mut orders = Vec::new();
    for (i, (customer, state, ship)) in spec.iter().enumerate() {
        let mut o = puratan_testkit::fixtures::order(*customer, state, 50, at(20, 12));
        o.id = id_at(t0 + Duration::hours(i as i64));
        o.shipping_address = ship.map(|(n, p, c)| address(n, p, c));
        orders.push(app.store_order(o).await);
    }
    let newest_first = |pick: &[usize]| -> Vec<String> {
        let mut v: Vec<usize> = pick.to_vec();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.iter().map(|&i| orders[i].id.to_string()).collect()
    };
    let ann_s = ann.to_string();
    let stranger = UserId::new().to_string();
    let bob_s = bob.to_string();
    let id4 = orders[4].id.to_string();
    let id4_upper = id4.to_uppercase();
    let prefix = id4[..28].to_owned();
    let (h2, h6) = (
        rfc3339(t0 + Duration::hours(2)),
        rfc3339(t0 + Duration::hours(6)),
    );
    let cases: Vec<Case<'_>> = vec![
        (vec![], newest_first(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9])),
        (
            vec![("q", "ann@example.com")],
            newest_first(&[0, 2, 4, 6, 8]),
        ),
        (
            vec![("q", "  ANN@Example.COM ")],
            newest_first(&[0, 2, 4, 6, 8]),
        ),
        (
            vec![("customer", "bob@example.com")],
            newest_first(&[1, 3, 5, 7, 9]),
        ),
        (vec![("customer", &bob_s)], newest_first(&[1, 3, 5, 7, 9])),
        (
            vec![("customer", &ann_s), ("q", "ann@example.com")],
            newest_first(&[0, 2, 4, 6, 8]),
        ),
        (vec![("q", "berlin")], newest_first(&[0, 5, 6, 8])),
        (vec![("q", "BUILDER")], newest_first(&[1, 5])),
        (vec![("q", "köln")], newest_first(&[1])),
        (vec![("q", "MÜNCHEN")], newest_first(&[4])),
        (vec![("q", "1011")], newest_first(&[0, 5, 6, 8])),
        (vec![("q", "a.c.")], newest_first(&[4])),
        (vec![("q", &id4_upper)], newest_first(&[4])),
        (vec![("q", &prefix)], newest_first(&[4])),
        (vec![("status", "on_hold")], newest_first(&[2, 5, 8])),
        (
            vec![("status", "queued"), ("customer", "ann@example.com")],
            newest_first(&[4, 6]),
        ),
        (
            vec![("created_after", &h2), ("created_before", &h6)],
            newest_first(&[2, 3, 4, 5]),
        ),
        (
            vec![
                ("q", "berlin"),
                ("created_after", &h2),
                ("status", "on_hold"),
            ],
            newest_first(&[5, 8]),
        ),
        // Hostile text is literal: it matches only what contains it.
        (vec![("q", ".*")], newest_first(&[7])),
        (vec![("q", "$where")], newest_first(&[9])),
        (vec![("q", r#"{"$ne": null}"#)], vec![]),
        (vec![("q", "^A")], vec![]),
        (vec![("q", "(")], vec![]),
        (vec![("q", "\\")], vec![]),
        (vec![("q", "%")], vec![]),
        (vec![("q", "' OR 1=1 --")], vec![]),
        // Unknown or conflicting customers find nothing.
        (vec![("q", "nobody@example.com")], vec![]),
        (vec![("customer", "nobody@example.com")], vec![]),
        (vec![("customer", &bob_s), ("q", "ann@example.com")], vec![]),
        (vec![("customer", &stranger)], vec![]),
    ];
    for (query, want) in &cases {
        for limit in [1, 3, 20] {
            assert_eq!(
                &app.all_pages("/api/v1/staff/orders", query, limit, s).await,
                want,
                "{query:?}, limit {limit}"
            );
        }
    }

    // Bad and oversized parameters: 400 invalid_parameter naming them.
    let huge = "x".repeat(10 * 1024);
    let long = "y".repeat(101);
    for (query, field) in [
        (vec![("q", huge.as_str())], "q"),
        (vec![("q", long.as_str())], "q"),
        (vec![("customer", "not a customer")], "customer"),
        (vec![("customer", huge.as_str())], "customer"),
        (vec![("status", "ON HOLD")], "status"),
        (vec![("status", huge.as_str())], "status"),
        (vec![("created_after", "yesterday")], "created_after"),
        (vec![("created_before", huge.as_str())], "created_before"),
        (
            vec![("created_after", &h6), ("created_before", &h2)],
            "created_after",
        ),
    ] {
        let r = app.get_query("/api/v1/staff/orders", &query, s).await;
        let e = expect_error(r, 400, "invalid_parameter").await;
        assert_eq!(e["details"]["field"], field, "{query:?}");
    }
    // 100 characters are fine (and find nothing).
    let hundred = "z".repeat(100);
    assert!(
        app.all_pages("/api/v1/staff/orders", &[("q", &hundred)], 5, s)
            .await
            .is_empty()
    );
    // A blank `q` is no filter.
    assert_eq!(
        app.all_pages("/api/v1/staff/orders", &[("q", "   ")], 20, s)
            .await,
        newest_first(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    );
    let r = app
        .get_query("/api/v1/staff/orders", &[("cursor", "bm90LWFuLWlk")], s)
        .await;
    expect_error(r, 422, "validation_failed").await;
    let r = app
        .get_query("/api/v1/staff/orders", &[("where", "1")], s)
        .await;
    assert_eq!(r.status(), 400, "unknown parameter");
    // Customers may not search.
    let r = app
        .get_query(
            "/api/v1/staff/orders",
            &[("q", "berlin")],
            access(&ann_tokens),
        )
        .await;
    expect_error(r, 403, "forbidden").await;
    let r = app.get("/api/v1/staff/orders").await;
    expect_error(r, 401, "unauthorized").await;
}
