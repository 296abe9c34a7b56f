//! File processing events from real jobs against their schema.

use puratan_core::ports::{Exchange, Subscription};

use super::{assert_valid, next_event_within};
use crate::auth::access;
use crate::processing::{FOUR_PAGES, corpus, huge_png};
use crate::support::{TestApp, spawn_app, spawn_app_with};

async fn file_events(app: &TestApp) -> Box<dyn puratan_core::ports::Subscriber> {
    app.app()
        .events
        .subscribe(Subscription {
            queue: "test.file-event-schemas".into(),
            exchange: Exchange::Topic,
            binding_key: "file.#".into(),
            transient: true,
        })
        .await
        .expect("subscribe")
}

#[tokio::test]
async fn a_processed_file_announces_itself_as_documented() {
    let app = spawn_app().await;
    let mut sub = file_events(&app).await;
    let ann = app.customer("ann@example.com").await;
    let id = app
        .upload_file(access(&ann), "thesis.pdf", &corpus(FOUR_PAGES))
        .await;
    // Processing runs in a child process.
    let (kind, _, payload) = next_event_within(&mut sub, 60).await;
    assert_eq!(kind, "file.processed");
    assert_eq!(payload["file_id"], id.as_str());
    assert_eq!(payload["state"], "done");
    assert_eq!(payload["pages"], 4);
    assert!(payload["preflight"].is_object(), "{payload}");
    assert_valid(&payload);
}

#[tokio::test]
async fn a_failed_job_announces_itself_as_documented() {
    let app = spawn_app_with(|c| c.processing.memory_limit_mb = 160).await;
    let mut sub = file_events(&app).await;
    let ann = app.customer("bomb-owner@example.com").await;
    let id = app
        .upload_file(access(&ann), "poster.png", &huge_png())
        .await;
    let (kind, _, payload) = next_event_within(&mut sub, 60).await;
    assert_eq!(kind, "file.processing_failed");
    assert_eq!(payload["file_id"], id.as_str());
    assert_eq!(payload["state"], "failed");
    assert_eq!(payload["failure"], "processing_limit");
    assert_valid(&payload);
}
