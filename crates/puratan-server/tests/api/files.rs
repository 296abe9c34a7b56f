//! The intake after a tus upload finishes (`crate::intake`): detection and
//! allow list, virus scan (real clamd and an injected `MemoryScanner`),
//! content-addressed storage, `/api/v1/files`.

use std::sync::Arc;
use std::time::Duration;

use puratan_core::domain::Role;
use puratan_files::scan::{MemoryScanner, Scanner};
use puratan_server::adapters::clamav::ClamavConfig;
use serde_json::Value;

use crate::auth::access;
use crate::support::{TestApp, expect_error, spawn_app_with};
use crate::uploads::header;

/// A small, structurally valid PDF; `extra` goes into a stream.
fn pdf(extra: &[u8]) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n3 0 obj\n<< /Length "
        .to_vec();
    v.extend_from_slice(format!("{} >>\nstream\n", extra.len()).as_bytes());
    v.extend_from_slice(extra);
    v.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    v
}

/// A 1x1 PNG (the structure the detector checks).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\0\0\0\0\
\0\0\0\0IEND\0\0\0\0";

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl TestApp {
    /// Uploads `bytes` named `name` with creation-with-upload; returns the
    /// `Puratan-File-Id`.
    pub(crate) async fn upload_file(&self, token: &str, name: &str, bytes: &[u8]) -> String {
        let meta = format!("filename {}", b64(name));
        let r = self
            .tus(
                "POST",
                "/files/",
                Some(token),
                &[
                    ("Upload-Length", &bytes.len().to_string()),
                    ("Upload-Metadata", &meta),
                    ("Content-Type", "application/offset+octet-stream"),
                ],
                bytes.to_vec(),
            )
            .await;
        assert_eq!(r.status(), 201);
        header(&r, "puratan-file-id")
    }

    async fn file(&self, token: &str, id: &str) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/api/v1/files/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn file_json(&self, token: &str, id: &str) -> Value {
        let r = self.file(token, id).await;
        assert_eq!(r.status(), 200);
        r.json().await.expect("json")
    }

    async fn keys(&self, prefix: &str) -> Vec<String> {
        self.app().files.list(prefix).await.expect("list")
    }
}

#[tokio::test]
async fn a_pdf_is_stored_ready_and_shown_to_its_owner_only() {
    let app = spawn_app_with(|_| {}).await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let bytes = pdf(b"hello");
    // In two PATCHes: the one that completes carries the id.
    let path = app.create_upload(access(&ann), bytes.len()).await;
    let r = app.patch_at(access(&ann), &path, 0, &bytes[..10]).await;
    assert_eq!(r.status(), 204);
    assert!(r.headers().get("puratan-file-id").is_none());
    let r = app.patch_at(access(&ann), &path, 10, &bytes[10..]).await;
    assert_eq!(r.status(), 204);
    let id = header(&r, "puratan-file-id");

    let f = app.file_json(access(&ann), &id).await;
    assert_eq!(f["status"], "ready", "{f}");
    assert_eq!(f["format"], "pdf");
    assert_eq!(f["size"], bytes.len());
    assert_eq!(f["owner"], app.user_id(&ann).await);
    let sha = f["sha256"].as_str().expect("sha").to_owned();
    assert_eq!(
        app.keys("originals/").await,
        vec![format!("originals/{sha}")]
    );
    // Another customer: 404, as for a missing id; staff see it.
    expect_error(app.file(access(&bob), &id).await, 404, "not_found").await;
    expect_error(app.file(access(&ann), "nope").await, 404, "not_found").await;
    assert_eq!(app.file_json(access(&staff), &id).await["id"], id.as_str());

    // Same bytes again: two records, one blob. The list is newest first.
    let id2 = app
        .upload_file(access(&ann), "../../again.pdf", &bytes)
        .await;
    assert_ne!(id, id2);
    let f2 = app.file_json(access(&ann), &id2).await;
    assert_eq!(f2["sha256"], sha.as_str());
    assert_eq!(f2["filename"], "again.pdf");
    assert_eq!(app.keys("originals/").await.len(), 1);
    let r = app
        .client
        .get(app.url("/api/v1/files?limit=1"))
        .bearer_auth(access(&ann))
        .send()
        .await
        .expect("list");
    let page: Value = r.json().await.expect("json");
    assert_eq!(page["items"][0]["id"], id2.as_str(), "{page}");
    let cursor = page["next_cursor"].as_str().expect("next");
    let r = app
        .client
        .get(app.url(&format!("/api/v1/files?limit=1&cursor={cursor}")))
        .bearer_auth(access(&ann))
        .send()
        .await
        .expect("list");
    let page: Value = r.json().await.expect("json");
    assert_eq!(page["items"][0]["id"], id.as_str(), "{page}");
    let r = app
        .client
        .get(app.url("/api/v1/files"))
        .bearer_auth(access(&bob))
        .send()
        .await
        .expect("list");
    let page: Value = r.json().await.expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_png_named_pdf_is_rejected_by_content() {
    let app = spawn_app_with(|_| {}).await;
    let ann = app.customer("ann@example.com").await;
    let id = app.upload_file(access(&ann), "flyer.pdf", PNG).await;
    let f = app.file_json(access(&ann), &id).await;
    assert_eq!(f["status"], "rejected", "{f}");
    assert_eq!(f["reason"], "file_type_mismatch");
    assert!(app.keys("originals/").await.is_empty());
    // Not artwork at all.
    let id = app.upload_file(access(&ann), "a.pdf", b"just text").await;
    let f = app.file_json(access(&ann), &id).await;
    assert_eq!(f["status"], "rejected", "{f}");
}

#[tokio::test]
async fn an_infected_pdf_is_quarantined_by_clamd() {
    let Some(clamd) = puratan_testkit::scanner::ensure_clamd().await else {
        return;
    };
    let app = spawn_app_with(|c| {
        c.uploads.scanner = Some(ClamavConfig::new(clamd.tcp_address()));
    })
    .await;
    let ann = app.customer("ann@example.com").await;
    let user = app.user_id(&ann).await;
    // EICAR assembled at run time inside a valid PDF.
    let bytes = pdf(&puratan_files::scan::eicar());
    let id = app.upload_file(access(&ann), "flyer.pdf", &bytes).await;
    let f = app.file_json(access(&ann), &id).await;
    assert_eq!(f["status"], "quarantined", "{f}");
    let sha = f["sha256"].as_str().expect("sha");
    assert!(app.keys("originals/").await.is_empty());
    assert_eq!(
        app.keys("quarantine/").await,
        vec![format!("quarantine/{sha}")]
    );
    let audit = app
        .app()
        .audit
        .recent(Some(&user), 50)
        .await
        .expect("audit");
    let entry = audit
        .iter()
        .find(|e| e.action == "files.quarantined")
        .expect("audit entry");
    assert_eq!(entry.target.as_deref(), Some(id.as_str()));
    // A clean PDF passes the same scanner.
    let id = app.upload_file(access(&ann), "ok.pdf", &pdf(b"fine")).await;
    assert_eq!(app.file_json(access(&ann), &id).await["status"], "ready");
}

#[tokio::test]
async fn a_file_waits_while_the_scanner_is_down_then_becomes_ready() {
    let app = spawn_app_with(|c| c.uploads.scan_retry_secs = 1).await;
    let scanner = Arc::new(MemoryScanner::new());
    scanner.set_down(true);
    app.app()
        .uploads
        .scanner
        .set(Some(scanner.clone() as Arc<dyn Scanner>));
    let ann = app.customer("ann@example.com").await;
    let id = app.upload_file(access(&ann), "flyer.pdf", &pdf(b"x")).await;
    let f = app.file_json(access(&ann), &id).await;
    assert_eq!(f["status"], "pending_scan", "{f}");
    scanner.set_down(false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let f = app.file_json(access(&ann), &id).await;
        if f["status"] == "ready" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {f}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_rescan_that_finds_a_signature_quarantines_the_waiting_file() {
    let app = spawn_app_with(|c| c.uploads.scan_retry_secs = 1).await;
    let scanner = Arc::new(MemoryScanner::new().with_pattern(b"PURATAN-BAD-MARKER", "Test.Marker"));
    scanner.set_down(true);
    app.app()
        .uploads
        .scanner
        .set(Some(scanner.clone() as Arc<dyn Scanner>));
    let ann = app.customer("ann@example.com").await;
    let user = app.user_id(&ann).await;
    let id = app
        .upload_file(access(&ann), "flyer.pdf", &pdf(b"PURATAN-BAD-MARKER"))
        .await;
    let f = app.file_json(access(&ann), &id).await;
    assert_eq!(f["status"], "pending_scan", "{f}");
    let sha = f["sha256"].as_str().expect("sha").to_owned();
    scanner.set_down(false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let f = app.file_json(access(&ann), &id).await;
        if f["status"] == "quarantined" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {f}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app.keys("originals/").await.is_empty());
    assert_eq!(
        app.keys("quarantine/").await,
        vec![format!("quarantine/{sha}")]
    );
    let audit = app
        .app()
        .audit
        .recent(Some(&user), 50)
        .await
        .expect("audit");
    assert!(audit.iter().any(|e| e.action == "files.quarantined"));
}
