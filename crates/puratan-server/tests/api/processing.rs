//! The processing pipeline behind the intake (`crate::processing`): a
//! stored file gets a preflight report and previews from a worker running
//! the job in an isolated child process (the real `puratan` binary), the
//! results are served to the owner only, staff can re-run preflight, and
//! a file that blows the worker's memory limit fails that job only.

use std::time::{Duration, Instant};

use puratan_core::domain::Role;
use serde_json::{Value, json};

use crate::auth::access;
use crate::support::{TestApp, expect_error, spawn_app_with};

pub(crate) fn corpus(path: &str) -> Vec<u8> {
    let root = std::env::var("PURATAN_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| crate::support::repo_root().join("../shared/corpus"));
    std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("corpus file {path}: {e}"))
}

pub(crate) const FOUR_PAGES: &str =
    "pdf/pypdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf";

impl TestApp {
    /// Polls the file until its processing is `done` or `failed`.
    pub(crate) async fn processed(&self, token: &str, id: &str) -> Value {
        let start = Instant::now();
        loop {
            let f = self.file_json(token, id).await;
            let state = f["processing"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if state == "done" || state == "failed" {
                return f;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "file still {state:?} after 60 s: {f}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn get_with(
        &self,
        token: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut r = self.client.get(self.url(path)).bearer_auth(token);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.send().await.expect("request")
    }
}

#[tokio::test]
async fn a_pdf_gets_a_preflight_report_and_previews_served_to_its_owner_only() {
    let app = spawn_app_with(|_| {}).await;
    let owner = access(&app.customer("proc-owner@example.com").await).to_owned();
    let other = access(&app.customer("proc-other@example.com").await).to_owned();
    let id = app
        .upload_file(&owner, "thesis.pdf", &corpus(FOUR_PAGES))
        .await;

    let f = app.processed(&owner, &id).await;
    let p = &f["processing"];
    assert_eq!(p["state"], "done", "{f}");
    assert_eq!(p["pages"], 4);
    assert_eq!(p["preflight"]["profile"], "gwg2015_sheetfed");
    let names: Vec<&str> = p["previews"]
        .as_array()
        .expect("previews")
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["thumbnail", "page-1", "page-2", "page-3", "page-4"]);
    let thumb = &p["previews"][0];
    assert!(thumb["width"].as_u64().unwrap() <= 400 && thumb["height"].as_u64().unwrap() <= 400);
    assert_eq!(
        thumb["width"].as_u64().max(thumb["height"].as_u64()),
        Some(400)
    );

    // The report is the library's JSON, and agrees with the summary.
    let r = app
        .get_with(&owner, p["preflight"]["report_url"].as_str().unwrap(), &[])
        .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["schema"], "puratan.preflight/v1");
    assert_eq!(report["page_count"], 4);
    assert_eq!(report["verdict"], p["preflight"]["verdict"]);
    assert_eq!(report["summary"]["errors"], p["preflight"]["errors"]);
    // pdflatex embeds its Type 1 fonts: none reported as missing.
    assert!(!report["fonts"].as_array().unwrap().is_empty());
    assert!(
        report["fonts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["embedded"] == true),
        "{report}"
    );

    // The thumbnail: a JPEG, versioned URL cached forever, ETag revalidates.
    let url = thumb["url"].as_str().unwrap();
    let r = app.get_with(&owner, url, &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(
        r.headers()["cache-control"],
        "private, max-age=31536000, immutable"
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let body = r.bytes().await.unwrap();
    assert_eq!(&body[..3], b"\xFF\xD8\xFF");
    let r = app.get_with(&owner, url, &[("If-None-Match", &etag)]).await;
    assert_eq!(r.status(), 304);
    let unversioned = url.split('?').next().unwrap();
    let r = app.get_with(&owner, unversioned, &[]).await;
    assert_eq!(r.headers()["cache-control"], "private, no-cache");

    // Nobody else learns the file exists.
    for path in [
        format!("/api/v1/files/{id}/report"),
        url.to_owned(),
        format!("/api/v1/files/{id}/previews/nope"),
    ] {
        expect_error(app.get_with(&other, &path, &[]).await, 404, "not_found").await;
    }
    expect_error(
        app.get_with(&owner, &format!("/api/v1/files/{id}/previews/nope"), &[])
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn staff_rerun_preflight_against_another_size_and_customers_cannot() {
    let app = spawn_app_with(|_| {}).await;
    let owner = access(&app.customer("rerun-owner@example.com").await).to_owned();
    let staff = access(
        &app.user_with_role("rerun-staff@example.com", Role::Staff)
            .await,
    )
    .to_owned();
    let id = app
        .upload_file(&owner, "thesis.pdf", &corpus(FOUR_PAGES))
        .await;
    let first = app.processed(&owner, &id).await;
    let first_at = first["processing"]["preflight"]["at"].clone();

    let rerun = |token: String, body: Value| {
        let app = &app;
        let id = id.clone();
        async move {
            app.client
                .post(app.url(&format!("/api/v1/staff/files/{id}/preflight")))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("request")
        }
    };
    expect_error(rerun(owner.clone(), json!({})).await, 403, "forbidden").await;
    expect_error(
        rerun(staff.clone(), json!({"profile": "nope"})).await,
        400,
        "invalid_parameter",
    )
    .await;
    expect_error(
        rerun(
            staff.clone(),
            json!({"ordered": {"trim_width_mm": -5, "trim_height_mm": 10, "bleed_mm": 3}}),
        )
        .await,
        400,
        "invalid_parameter",
    )
    .await;
    // An A6 postcard: the US-letter-ish thesis pages are the wrong size.
    let r = rerun(
        staff.clone(),
        json!({"ordered": {"trim_width_mm": 105, "trim_height_mm": 148, "bleed_mm": 3}}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let again = app.processed(&staff, &id).await;
    assert_ne!(again["processing"]["preflight"]["at"], first_at);
    assert_eq!(again["processing"]["preflight"]["verdict"], "fail");
    // Previews were not remade by a preflight-only run, and are still there.
    assert_eq!(
        again["processing"]["previews"],
        first["processing"]["previews"]
    );
    let report: Value = app
        .get_with(&owner, &format!("/api/v1/files/{id}/report"), &[])
        .await
        .json()
        .await
        .unwrap();
    let checks: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(checks.contains(&"page_size_mismatch"), "{checks:?}");
}

/// A valid PNG that needs ~300 MB once decoded (10000 × 10000 RGB of one
/// colour compresses to a few hundred KB).
pub(crate) fn huge_png() -> Vec<u8> {
    use std::io::Write as _;
    let (w, h) = (10_000u32, 10_000u32);
    let mut raw = Vec::with_capacity((w as usize * 3 + 1) * h as usize);
    for _ in 0..h {
        raw.push(0); // filter: none
        raw.extend(std::iter::repeat_n(200u8, w as usize * 3));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&raw).unwrap();
    let idat = z.finish().unwrap();
    let chunk = |out: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(kind);
        out.extend(data);
        out.extend(crc.sum().to_be_bytes());
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", b"");
    png
}

#[tokio::test]
async fn a_file_over_the_memory_limit_fails_its_job_and_the_worker_lives_on() {
    let app = spawn_app_with(|c| c.processing.memory_limit_mb = 160).await;
    let owner = access(&app.customer("bomb-owner@example.com").await).to_owned();
    let big = app.upload_file(&owner, "poster.png", &huge_png()).await;
    let f = app.processed(&owner, &big).await;
    assert_eq!(f["processing"]["state"], "failed", "{f}");
    assert_eq!(f["processing"]["failure"], "processing_limit", "{f}");
    expect_error(
        app.get_with(&owner, &format!("/api/v1/files/{big}/report"), &[])
            .await,
        409,
        "file_not_ready",
    )
    .await;
    // The same worker processes the next file normally.
    let ok = app
        .upload_file(&owner, "thesis.pdf", &corpus(FOUR_PAGES))
        .await;
    let f = app.processed(&owner, &ok).await;
    assert_eq!(f["processing"]["state"], "done", "{f}");
}

#[tokio::test]
async fn a_photo_ordered_at_a_size_becomes_a_cmyk_print_pdf_with_its_ink_coverage() {
    let app = spawn_app_with(|_| {}).await;
    let owner = access(&app.customer("photo-owner@example.com").await).to_owned();
    let staff = access(
        &app.user_with_role("photo-staff@example.com", Role::Staff)
            .await,
    )
    .to_owned();
    let id = app
        .upload_file(
            &owner,
            "hopper.jpg",
            &corpus("images/pillow/Tests/images/hopper.jpg"),
        )
        .await;
    let first = app.processed(&owner, &id).await;
    assert_eq!(first["processing"]["state"], "done", "{first}");
    assert_eq!(first["processing"]["pages"], 1);

    // Ordered as a 50 × 50 mm sticker with 2 mm bleed.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/staff/files/{id}/preflight")))
        .bearer_auth(&staff)
        .json(&json!({"ordered": {"trim_width_mm": 50, "trim_height_mm": 50, "bleed_mm": 2}}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 202);
    let start = Instant::now();
    let print = loop {
        let f = app.processed(&owner, &id).await;
        if let Some(d) = f["processing"]["previews"]
            .as_array()
            .and_then(|ds| ds.iter().find(|d| d["name"] == "print-pdf"))
        {
            break d.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no print PDF: {f}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(print["mime"], "application/pdf");
    let r = app
        .get_with(&owner, print["url"].as_str().unwrap(), &[])
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // The library's own preflight of the result: 54 × 54 mm media box with
    // a 50 × 50 mm trim box, CMYK.
    let report = puratan_files::preflight::run(
        &pdf,
        puratan_files::Format::Pdf,
        &puratan_files::preflight::Intent {
            trim: Some(puratan_files::preflight::Size {
                width_mm: 50.0,
                height_mm: 50.0,
            }),
            bleed_mm: Some(2.0),
            pages: Some(1),
        },
        &puratan_files::preflight::Profile::gwg2015_sheetfed(),
        &puratan_files::preflight::Limits::default(),
    )
    .expect("preflight of the print PDF");
    assert!(!report.has("page_size_mismatch"), "{:?}", report.findings);
    let spaces = serde_json::to_string(&report.colour_spaces).unwrap();
    assert!(spaces.contains("DeviceCMYK"), "{spaces}");
    let tac = print["ink_coverage_percent"].as_u64();
    assert!(tac.is_some_and(|t| t > 0 && t <= 320), "{print}");
}

/// The order-line hook: the workflow guard `files_passed_preflight` reads
/// the attached files' records, and checkout only attaches the caller's
/// own files.
#[tokio::test]
async fn the_files_passed_preflight_guard_reads_the_attached_files() {
    use puratan_core::domain::{OrderLine, UserId};
    use puratan_server::processing::order_hook::{attachable, files_passed_preflight};

    let app = spawn_app_with(|_| {}).await;
    let owner_tokens = app.customer("guard-owner@example.com").await;
    let owner = access(&owner_tokens).to_owned();
    let owner_id = UserId::parse(&app.user_id(&owner_tokens).await).unwrap();
    let staff = access(
        &app.user_with_role("guard-staff@example.com", Role::Staff)
            .await,
    )
    .to_owned();
    let id = app
        .upload_file(&owner, "thesis.pdf", &corpus(FOUR_PAGES))
        .await;
    let f = app.processed(&owner, &id).await;
    assert_ne!(f["processing"]["preflight"]["verdict"], "fail", "{f}");

    let order_with = |customer: UserId, files: Vec<String>| {
        let mut o = puratan_testkit::fixtures::order(customer, "preflight", 50, chrono::Utc::now());
        let amount = o.total;
        o.lines = vec![OrderLine {
            product_id: puratan_core::domain::ProductId::parse("flyer-a5").unwrap(),
            quantity: 100,
            description: "Flyer".into(),
            amount,
            options: serde_json::Value::Null,
            quote_id: None,
            quote_token: None,
            file_ids: files,
        }];
        o
    };
    let a = app.app();
    assert!(
        files_passed_preflight(a, &order_with(owner_id, vec![id.clone()]))
            .await
            .unwrap()
    );
    // No artwork, an unknown file, or another customer's file: not passed.
    assert!(
        !files_passed_preflight(a, &order_with(owner_id, vec![]))
            .await
            .unwrap()
    );
    assert!(
        !files_passed_preflight(a, &order_with(owner_id, vec!["0123abcd".into()]))
            .await
            .unwrap()
    );
    let stranger = UserId::new();
    assert!(
        !files_passed_preflight(a, &order_with(stranger, vec![id.clone()]))
            .await
            .unwrap()
    );
    assert!(attachable(a, owner_id, &id).await.unwrap());
    assert!(!attachable(a, stranger, &id).await.unwrap());
    assert!(!attachable(a, owner_id, "../../etc").await.unwrap());

    // Staff re-check against the ordered size: it fails now, and so does the guard.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/staff/files/{id}/preflight")))
        .bearer_auth(&staff)
        .json(&json!({"ordered": {"trim_width_mm": 105, "trim_height_mm": 148, "bleed_mm": 3}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let f = app.processed(&owner, &id).await;
    assert_eq!(f["processing"]["preflight"]["verdict"], "fail", "{f}");
    assert!(
        !files_passed_preflight(a, &order_with(owner_id, vec![id.clone()]))
            .await
            .unwrap()
    );
}
