//! System events from the real code paths — the health monitor's tick,
//! a catalog import and rollback, a request that times out, a consumer
//! that dead-letters — each checked against its schema; and the
//! invalidation consumer still accepting the old `catalog.changed`.

use std::time::{Duration, Instant};

use puratan_core::ports::{Exchange, Message, Subscriber, Subscription};
use puratan_server::system_events::health::{HealthTracker, tick};
use serde_json::{Value, json};

use super::{assert_valid, next_event};
use crate::admin::{TOKEN, admin_app};
use crate::support::{TestApp, sample_catalog, spawn_app, spawn_app_with};

async fn subscribe(
    app: &TestApp,
    queue: &str,
    exchange: Exchange,
    key: &str,
) -> Box<dyn Subscriber> {
    app.app()
        .events
        .subscribe(Subscription {
            queue: queue.into(),
            exchange,
            binding_key: key.into(),
            transient: true,
        })
        .await
        .expect("subscribe")
}

fn system_events(app: &TestApp, event: &str, outcome: &str) -> u64 {
    app.app()
        .metrics
        .system_events
        .with_label_values(&[event, outcome])
        .get()
}

#[tokio::test]
async fn system_health_is_published_on_start_and_not_again_while_nothing_changes() {
    let app = spawn_app().await;
    let mut sub = subscribe(&app, "test.health", Exchange::Topic, "system.#").await;
    let mut tracker = HealthTracker::default();
    assert!(
        tick(app.app(), &mut tracker).await,
        "the first tick publishes"
    );
    // (The server's own monitor may publish its start-up event here too;
    // it is the same kind of payload.)
    let (kind, id, payload) = next_event(&mut sub).await;
    assert_eq!(kind, "system.health");
    assert_valid(&payload);
    assert_eq!(payload["event_id"], id.as_str());
    assert_eq!(payload["status"], "ready");
    assert_eq!(payload["replica"], app.app().replica_id.as_str());
    let probes = payload["probes"].as_array().expect("probes");
    assert!(
        !probes.is_empty() && probes.iter().all(|p| p["ok"] == true),
        "{payload}"
    );
    assert!(!tick(app.app(), &mut tracker).await, "nothing changed");
}

async fn admin_post(app: &TestApp, path: &str, body: &Value) {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .expect("request");
    assert_eq!(
        r.status(),
        200,
        "{path}: {}",
        r.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn a_catalog_import_and_rollback_publish_cache_updated_and_config_changed() {
    let app = admin_app().await;
    let mut sub = subscribe(&app, "test.fanout", Exchange::Fanout, "").await;
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(sample_catalog()).expect("read")).expect("json");
    let old = doc["version"].as_str().expect("version").to_owned();
    doc["version"] = json!("2026-12-01.1");
    admin_post(&app, "/api/v1/admin/catalog", &doc).await;

    let (kind, _, cache) = next_event(&mut sub).await;
    assert_eq!(kind, "system.cache_updated");
    assert_valid(&cache);
    assert_eq!(cache["catalog_version"], "2026-12-01.1");
    assert!(
        cache["product_ids"]
            .as_array()
            .is_some_and(|ids| ids.contains(&json!("business-card"))),
        "{cache}"
    );
    let (kind, _, config) = next_event(&mut sub).await;
    assert_eq!(kind, "system.config_changed");
    assert_valid(&config);
    assert_eq!(
        (
            &config["key"],
            &config["version"],
            &config["previous_version"]
        ),
        (
            &json!("pricing.catalog"),
            &json!("2026-12-01.1"),
            &json!(old)
        )
    );

    admin_post(
        &app,
        "/api/v1/admin/catalog/rollback",
        &json!({"version": old}),
    )
    .await;
    let (kind, _, cache) = next_event(&mut sub).await;
    assert_eq!(kind, "system.cache_updated");
    assert_valid(&cache);
    assert_eq!(cache["catalog_version"], old.as_str());
    let (kind, _, config) = next_event(&mut sub).await;
    assert_eq!(kind, "system.config_changed");
    assert_valid(&config);
    assert_eq!(config["version"], old.as_str());
    assert_eq!(config["previous_version"], "2026-12-01.1");
}

#[tokio::test]
async fn the_invalidation_consumer_still_accepts_catalog_changed() {
    let app = spawn_app().await;
    let before = app.app().generation();
    let bus = &app.app().events;
    // Another fanout kind first: not an invalidation. Then a message of
    // the pre-schema kind, as an older replica publishes it.
    for kind in ["system.config_changed", "catalog.changed"] {
        bus.publish(
            Exchange::Fanout,
            kind,
            Message::json(
                kind,
                &json!({"product_ids": ["business-card"], "catalog_version": null}),
            ),
        )
        .await
        .expect("publish");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.app().generation() == before {
        assert!(Instant::now() < deadline, "catalog.changed was not applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // One queue, in order: the first message was handled before the
    // second, and did not invalidate.
    assert_eq!(app.app().generation(), before + 1);
}

#[tokio::test]
async fn a_request_ending_in_5xx_raises_one_system_error_per_second() {
    // Every request runs out of time: registration hashes a password.
    let app = spawn_app_with(|c| c.server.request_timeout_ms = 1).await;
    let mut sub = subscribe(&app, "test.alerts", Exchange::Direct, "system.alerts").await;
    for i in 0..5 {
        let r = app
            .client
            .post(app.url("/api/v1/auth/register"))
            .header("x-request-id", format!("evt-{i}"))
            .json(&json!({"email": format!("u{i}@example.com"), "password": "violet-tugboat-harmonica",
                          "display_name": "Ann"}))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 503);
    }
    let (kind, id, alert) = next_event(&mut sub).await;
    assert_eq!(kind, "system.error");
    assert_valid(&alert);
    assert_eq!(alert["event_id"], id.as_str());
    assert_eq!(
        (
            &alert["source"],
            &alert["code"],
            &alert["where"],
            &alert["status"],
            &alert["request_id"]
        ),
        (
            &json!("http"),
            &json!("timeout"),
            &json!("/api/v1/auth/register"),
            &json!(503),
            &json!("evt-0")
        )
    );
    // Five 5xx within well under two seconds: at most two alerts.
    let dropped = system_events(&app, "system.error", "dropped");
    assert!((3..=4).contains(&dropped), "dropped {dropped}");
    assert_eq!(
        app.app()
            .metrics
            .http_errors
            .with_label_values(&["/api/v1/auth/register"])
            .get(),
        5
    );
}

#[tokio::test]
async fn a_dead_lettered_message_raises_system_error() {
    let app = spawn_app().await;
    let mut sub = subscribe(&app, "test.alerts", Exchange::Direct, "system.alerts").await;
    let poison = Message {
        id: "poison-1".into(),
        kind: "order.poison".into(),
        payload: bytes::Bytes::from_static(b"not json"),
    };
    app.app()
        .events
        .publish(Exchange::Topic, "order.poison", poison)
        .await
        .expect("publish");
    let (kind, _, alert) = next_event(&mut sub).await;
    assert_eq!(kind, "system.error");
    assert_valid(&alert);
    assert_eq!(
        (
            &alert["source"],
            &alert["code"],
            &alert["where"],
            &alert["status"],
            &alert["request_id"]
        ),
        (
            &json!("consumer"),
            &json!("event_poison"),
            &json!("notifications"),
            &Value::Null,
            &Value::Null
        )
    );
    // Nothing of the message itself travels with the alert.
    assert!(!alert.to_string().contains("poison-1"), "{alert}");
}
