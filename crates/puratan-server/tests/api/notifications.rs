//! Customer notifications: order events → in-app notifications and
//! e-mails through the notification consumer, respecting preferences;
//! the `/api/v1/me/notifications` routes.

use std::time::{Duration, Instant};

use puratan_core::ports::NotificationKind;
use serde_json::{Value, json};

use crate::auth::access;
use crate::orders::{body, card};
use crate::support::{TestApp, expect_error, spawn_app};

impl TestApp {
    /// Checks out one business-card order for `tokens` and cancels it
    /// with `reason`; returns the order id.
    async fn order_and_cancel(&self, tokens: &Value, key: &str, reason: &str) -> String {
        let (line, total, cur) = self.line(&card()).await;
        let r = self
            .checkout(access(tokens), Some(key), &body(vec![line], &total, &cur))
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let order: Value = r.json().await.expect("json");
        let id = order["id"].as_str().expect("id").to_owned();
        let r = self
            .post_json(
                &format!("/api/v1/orders/{id}/transitions"),
                &json!({"transition": "cancel", "reason": reason, "version": order["version"]}),
                Some(access(tokens)),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        id
    }

    async fn notifications(&self, tokens: &Value) -> Value {
        let r = self
            .get_auth("/api/v1/me/notifications", access(tokens))
            .await;
        assert_eq!(r.status(), 200);
        r.json().await.expect("json")
    }

    /// Waits until `tokens` has `n` notifications.
    async fn wait_notifications(&self, tokens: &Value, n: usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let page = self.notifications(tokens).await;
            let got = page["items"].as_array().map_or(0, Vec::len);
            if got >= n || Instant::now() > deadline {
                assert_eq!(got, n, "{page}");
                return page;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Order-update e-mails sent to `email`.
    fn order_mails(&self, email: &str) -> Vec<puratan_core::ports::Notification> {
        self.app()
            .outbox
            .as_ref()
            .expect("memory outbox")
            .sent()
            .into_iter()
            .filter(|m| m.kind == NotificationKind::OrderUpdate && m.to.as_str() == email)
            .collect()
    }

    async fn wait_mails(&self, email: &str, n: usize) -> Vec<puratan_core::ports::Notification> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.order_mails(email);
            if got.len() >= n || Instant::now() > deadline {
                assert_eq!(got.len(), n, "{got:?}");
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn set_preferences(&self, tokens: &Value, prefs: Value) -> reqwest::Response {
        let me: Value = self
            .get_auth("/api/v1/me", access(tokens))
            .await
            .json()
            .await
            .expect("json");
        self.client
            .patch(self.url("/api/v1/me"))
            .bearer_auth(access(tokens))
            .json(&json!({"version": me["version"], "preferences": prefs}))
            .send()
            .await
            .expect("request")
    }
}

#[tokio::test]
async fn order_events_notify_the_customer_in_app_and_by_mail() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let order = app.order_and_cancel(&ann, "n-1", "ordered twice").await;

    // order.created and the cancellation; draft → submitted is noise.
    let page = app.wait_notifications(&ann, 2).await;
    assert_eq!(page["unread"], 2);
    let (newest, oldest) = (&page["items"][0], &page["items"][1]);
    assert_eq!(newest["kind"], "order.cancelled");
    assert_eq!(oldest["kind"], "order.created");
    assert_eq!(newest["order_id"], order.as_str());
    assert_eq!(newest["read"], false);
    assert!(
        newest["body"]
            .as_str()
            .is_some_and(|b| b.contains("ordered twice")),
        "{newest}"
    );
    let mails = app.wait_mails("ann@example.com", 2).await;
    assert!(
        mails.iter().any(|m| m.subject == newest["title"]),
        "{mails:?}"
    );
    // Nothing more arrives (no duplicates, no noise).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.notifications(&ann).await["items"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(app.order_mails("ann@example.com").len(), 2);

    // Bob sees none of it and cannot touch it.
    let bobs = app.notifications(&bob).await;
    assert_eq!(bobs["items"], json!([]));
    assert_eq!(bobs["unread"], 0);
    assert!(app.order_mails("bob@example.com").is_empty());
    let id = newest["id"].as_str().expect("id");
    let read_path = format!("/api/v1/me/notifications/{id}/read");
    expect_error(
        app.post_json(&read_path, &json!({}), Some(access(&bob)))
            .await,
        404,
        "not_found",
    )
    .await;

    // Ann marks it read; again is harmless.
    let r = app
        .post_json(&read_path, &json!({}), Some(access(&ann)))
        .await;
    assert_eq!(r.status(), 200);
    let read: Value = r.json().await.expect("json");
    assert_eq!(read["read"], true);
    let r = app
        .post_json(&read_path, &json!({}), Some(access(&ann)))
        .await;
    let again: Value = r.json().await.expect("json");
    assert_eq!(again["read_at"], read["read_at"]);
    let page = app.notifications(&ann).await;
    assert_eq!(page["unread"], 1);
    assert_eq!(page["items"][0]["read"], true);
    for bad in ["not-a-uuid", "00000000-0000-0000-0000-000000000000"] {
        expect_error(
            app.post_json(
                &format!("/api/v1/me/notifications/{bad}/read"),
                &json!({}),
                Some(access(&ann)),
            )
            .await,
            404,
            "not_found",
        )
        .await;
    }
    // Paging.
    let r = app
        .get_auth("/api/v1/me/notifications?limit=1", access(&ann))
        .await;
    let first: Value = r.json().await.expect("json");
    assert_eq!(first["items"].as_array().map(Vec::len), Some(1));
    let cursor = first["next_cursor"].as_str().expect("more");
    let r = app
        .get_auth(
            &format!("/api/v1/me/notifications?limit=1&cursor={cursor}"),
            access(&ann),
        )
        .await;
    let second: Value = r.json().await.expect("json");
    assert_eq!(second["items"][0]["kind"], "order.created");
    assert_eq!(second["next_cursor"], Value::Null);
    let r = app
        .get_auth("/api/v1/me/notifications?colour=red", access(&ann))
        .await;
    assert_eq!(r.status(), 400);
    // Anonymous: 401.
    assert_eq!(app.get("/api/v1/me/notifications").await.status(), 401);

    // Metrics.
    let metrics = app.get("/metrics").await.text().await.expect("text");
    assert!(
        metrics.contains(r#"puratan_events_consumed_total{consumer="notifications"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"puratan_notifications_total{channel="email",outcome="sent"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn preferences_choose_the_channels() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let carol = app.customer("carol@example.com").await;

    // Typed refusals for notification settings; other keys stay free.
    for bad in [
        json!({"notify.email.order_updates": "sometimes"}),
        json!({"notify.sms.order_updates": "on"}),
        json!({"notify.email.order_updates": "OFF"}),
    ] {
        let e = expect_error(
            app.set_preferences(&ann, bad.clone()).await,
            422,
            "preference_invalid",
        )
        .await;
        let key = bad.as_object().and_then(|o| o.keys().next().cloned());
        assert_eq!(e["details"]["key"].as_str(), key.as_deref(), "{e}");
        assert_eq!(e["details"]["allowed_values"], json!(["on", "off"]));
    }
    let r = app
        .set_preferences(
            &ann,
            json!({"notify.email.order_updates": "off", "language": "de"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let r = app
        .set_preferences(&carol, json!({"notify.in_app.order_updates": "off"}))
        .await;
    assert_eq!(r.status(), 200);

    app.order_and_cancel(&ann, "p-1", "changed my mind").await;
    app.order_and_cancel(&carol, "p-2", "changed my mind").await;

    // Ann: in-app only.
    app.wait_notifications(&ann, 2).await;
    // Carol: e-mail only.
    let mails = app.wait_mails("carol@example.com", 2).await;
    assert!(mails.iter().any(|m| m.body.contains("changed my mind")));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.order_mails("ann@example.com").is_empty());
    let carols = app.notifications(&carol).await;
    assert_eq!(carols["items"], json!([]));
    assert_eq!(carols["unread"], 0);
}
