//! The tus endpoint (`/files/`) with the official clients — tus-js-client
//! (Node) and tuspy (Python), unchanged — plus raw requests for the error
//! cases the clients cannot be made to send: ownership, quota, maximum
//! size, expiry and cleanup, offset mismatch, checksums, hostile headers,
//! and resuming after a restart.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use puratan_core::domain::Role;
use puratan_server::config::Config;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::auth::access;
use crate::support::{TestApp, expect_error, spawn_app_with};

const CHUNK: usize = 64 * 1024;
/// 17 chunks of 64 KiB, the last one short.
const SIZE: usize = 16 * CHUNK + 1234;

/// Deterministic, incompressible test data.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn sha_b64(bytes: &[u8]) -> String {
    STANDARD.encode(sha256(bytes))
}

/// A file under the test app's lifetime with `bytes` in it.
fn write_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write source file");
    path.to_string_lossy().into_owned()
}

fn id_of(url: &str) -> &str {
    url.rsplit('/').next().expect("upload id")
}

impl TestApp {
    /// One tus request; `headers` beyond `Tus-Resumable: 1.0.0`.
    pub(crate) async fn tus(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                self.url(path),
            )
            .header("Tus-Resumable", "1.0.0");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.body(body).send().await.expect("request")
    }

    /// Creates an upload of `len` bytes; returns its path (`/files/<id>`).
    pub(crate) async fn create_upload(&self, token: &str, len: usize) -> String {
        let r = self
            .tus(
                "POST",
                "/files/",
                Some(token),
                &[("Upload-Length", &len.to_string())],
                Vec::new(),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        header(&r, "location")
    }

    pub(crate) async fn patch_at(
        &self,
        token: &str,
        path: &str,
        offset: usize,
        body: &[u8],
    ) -> reqwest::Response {
        self.tus(
            "PATCH",
            path,
            Some(token),
            &[
                ("Upload-Offset", &offset.to_string()),
                ("Content-Type", "application/offset+octet-stream"),
            ],
            body.to_vec(),
        )
        .await
    }

    async fn offset_of(&self, token: &str, path: &str) -> u64 {
        let r = self.tus("HEAD", path, Some(token), &[], Vec::new()).await;
        assert_eq!(r.status(), 200, "HEAD {path}");
        header(&r, "upload-offset").parse().expect("offset")
    }

    /// The finished upload's bytes as stored in the FileStore.
    async fn stored(&self, id: &str) -> (puratan_files::tus::Upload, Vec<u8>) {
        let (u, bytes) = self
            .app()
            .uploads
            .tus
            .read_upload(id)
            .await
            .expect("finished upload");
        (u, bytes.to_vec())
    }
}

pub(crate) fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Each test has its own server and the default upload limits unless
/// `tweak` changes them.
async fn app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(tweak).await
}

/// The requests a tus-js-client phase made, as (method, status, request
/// offset, response offset).
fn requests(phase: &Value) -> Vec<(String, u64, Option<u64>, Option<u64>)> {
    let num = |v: &Value| -> Option<u64> {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_u64())
    };
    phase["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| {
            (
                r["method"].as_str().expect("method").to_owned(),
                r["status"].as_u64().expect("status"),
                num(&r["offset"]),
                num(&r["responseOffset"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn tus_js_client_uploads_in_chunks_with_creation_with_upload() {
    let Some(clients) = puratan_testkit::tus::ensure_clients().await else {
        return;
    };
    let app = app_with(|_| {}).await;
    let tokens = app.customer("ann@example.com").await;
    let user = app.user_id(&tokens).await;
    let src = data(SIZE, 1);
    let dir = tempfile::tempdir().expect("tmp");
    let file = write_file(&dir, "flyer.pdf", &src);

    let out = clients
        .tus_js(json!({
            "endpoint": app.url("/files/"),
            "token": access(&tokens),
            "file": file,
            "chunkSize": CHUNK,
            "uploadDataDuringCreation": true,
            "metadata": {"filename": "flyer.pdf", "filetype": "application/pdf"},
        }))
        .await;
    let phase = &out["first"];
    assert_eq!(phase["ok"], true, "{out}");
    let reqs = requests(phase);
    // creation-with-upload: the POST carries the first chunk.
    assert_eq!(
        reqs[0],
        ("POST".to_owned(), 201, None, Some(CHUNK as u64)),
        "{out}"
    );
    let patches: Vec<_> = reqs.iter().filter(|r| r.0 == "PATCH").collect();
    assert_eq!(patches.len(), 16, "{out}");
    for (i, p) in patches.iter().enumerate() {
        let start = ((i + 1) * CHUNK) as u64;
        assert_eq!(p.1, 204);
        assert_eq!(p.2, Some(start));
        assert_eq!(p.3, Some((start + CHUNK as u64).min(SIZE as u64)));
    }
    assert_eq!(phase["chunks"], 17, "{out}");

    let url = phase["url"].as_str().expect("url");
    assert!(url.starts_with(&app.url("/files/")), "{url}");
    let (upload, bytes) = app.stored(id_of(url)).await;
    assert_eq!(upload.owner, user);
    assert_eq!(upload.metadata_str("filename"), Some("flyer.pdf"));
    assert_eq!(upload.sha256, Some(sha256(&src)));
    assert_eq!(
        sha256(&bytes),
        sha256(&src),
        "the stored file is the source"
    );
}

#[tokio::test]
async fn tus_js_client_resumes_after_abort_from_the_server_offset() {
    let Some(clients) = puratan_testkit::tus::ensure_clients().await else {
        return;
    };
    let app = app_with(|_| {}).await;
    let tokens = app.customer("ann@example.com").await;
    let src = data(SIZE, 2);
    let dir = tempfile::tempdir().expect("tmp");
    let file = write_file(&dir, "poster.tif", &src);

    let out = clients
        .tus_js(json!({
            "mode": "abort-resume",
            "abortAfterChunks": 5,
            "endpoint": app.url("/files/"),
            "token": access(&tokens),
            "file": file,
            "chunkSize": CHUNK,
            "urlStorage": dir.path().join("tus-urls.json"),
        }))
        .await;
    let (first, second) = (&out["first"], &out["second"]);
    assert_eq!(first["aborted"], true, "{out}");
    assert_eq!(first["chunks"], 5, "{out}");
    let url = first["url"].as_str().expect("url");
    let sent: Vec<_> = requests(first).into_iter().map(|r| (r.0, r.1)).collect();
    let mut expected = vec![("POST".to_owned(), 201)];
    expected.extend(std::iter::repeat_n(("PATCH".to_owned(), 204), 5));
    assert_eq!(sent, expected, "{out}");

    // The new Upload found the URL by the file's fingerprint, asked the
    // server (HEAD) and continued at its offset: no new upload, no byte
    // sent twice.
    assert_eq!(second["ok"], true, "{out}");
    assert_eq!(second["previousUploads"], 1, "{out}");
    assert_eq!(second["url"], first["url"], "{out}");
    let reqs = requests(second);
    assert_eq!(
        reqs[0],
        ("HEAD".to_owned(), 200, None, Some(5 * CHUNK as u64)),
        "{out}"
    );
    assert!(reqs.iter().all(|r| r.0 != "POST"), "{out}");
    assert_eq!(reqs[1].0, "PATCH");
    assert_eq!(reqs[1].2, Some(5 * CHUNK as u64), "{out}");
    assert_eq!(second["chunks"], 12, "{out}");

    let (_, bytes) = app.stored(id_of(url)).await;
    assert_eq!(sha256(&bytes), sha256(&src));
}

/// A TCP proxy in front of `target` that cuts its connection (client and
/// server side) once `cut_after` request bytes passed through, in the
/// middle of whatever request is on the wire; later connections pass.
async fn cutting_proxy(target: SocketAddr, cut_after: usize) -> (String, Arc<AtomicBool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let addr = listener.local_addr().expect("addr");
    let cut = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let flag = cut.clone();
    tokio::spawn(async move {
        while let Ok((down, _)) = listener.accept().await {
            let (cut, sent) = (flag.clone(), sent.clone());
            tokio::spawn(async move {
                let Ok(up) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                let (mut dr, mut dw) = down.into_split();
                let (mut ur, mut uw) = up.into_split();
                let back = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut ur, &mut dw).await;
                });
                let mut buf = vec![0u8; 8192];
                loop {
                    let n = match dr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let before = sent.fetch_add(n, Ordering::SeqCst);
                    if !cut.load(Ordering::SeqCst) && before + n > cut_after {
                        let keep = cut_after.saturating_sub(before);
                        let _ = uw.write_all(&buf[..keep]).await;
                        cut.store(true, Ordering::SeqCst);
                        // Drop both connections mid-request.
                        back.abort();
                        return;
                    }
                    if uw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = uw.shutdown().await;
                let _ = back.await;
            });
        }
    });
    (format!("http://{addr}"), cut)
}

#[tokio::test]
async fn tus_js_client_resumes_after_a_dropped_connection() {
    let Some(clients) = puratan_testkit::tus::ensure_clients().await else {
        return;
    };
    let app = app_with(|_| {}).await;
    let tokens = app.customer("ann@example.com").await;
    let src = data(SIZE, 3);
    let dir = tempfile::tempdir().expect("tmp");
    let file = write_file(&dir, "banner.pdf", &src);
    let target: SocketAddr = app
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    // Cut in the middle of the fourth chunk's body.
    let (proxy, cut) = cutting_proxy(target, 3 * CHUNK + CHUNK / 2).await;

    let out = clients
        .tus_js(json!({
            "endpoint": format!("{proxy}/files/"),
            "token": access(&tokens),
            "file": file,
            "chunkSize": CHUNK,
            "retryDelays": [100, 500, 1000],
        }))
        .await;
    assert!(cut.load(Ordering::SeqCst), "the proxy cut a connection");
    let phase = &out["first"];
    assert_eq!(phase["ok"], true, "{out}");
    let reqs = requests(phase);
    // The cut PATCH got no answer and stored nothing: the client asked
    // the server where to continue and resent from the last whole chunk.
    let heads: Vec<_> = reqs.iter().filter(|r| r.0 == "HEAD").collect();
    assert_eq!(heads.len(), 1, "{out}");
    assert_eq!(heads[0].3, Some(3 * CHUNK as u64), "{out}");
    let patch_offsets: Vec<u64> = reqs
        .iter()
        .filter(|r| r.0 == "PATCH" && r.1 == 204)
        .filter_map(|r| r.2)
        .collect();
    let expected: Vec<u64> = (0..17).map(|i| (i * CHUNK) as u64).collect();
    assert_eq!(patch_offsets, expected, "{out}");
    let (_, bytes) = app.stored(id_of(phase["url"].as_str().expect("url"))).await;
    assert_eq!(sha256(&bytes), sha256(&src));
}

#[tokio::test]
async fn tus_js_client_gets_the_right_errors() {
    let Some(clients) = puratan_testkit::tus::ensure_clients().await else {
        return;
    };
    let app = app_with(|c| c.uploads.max_size = 512 * 1024).await;
    let tokens = app.customer("ann@example.com").await;
    let dir = tempfile::tempdir().expect("tmp");
    let file = write_file(&dir, "big.pdf", &data(SIZE, 4));
    let run = |token: String| {
        let clients = clients.clone();
        let endpoint = app.url("/files/");
        let file = file.clone();
        async move {
            clients
                .tus_js(
                    json!({"endpoint": endpoint, "token": token, "file": file, "chunkSize": CHUNK}),
                )
                .await
        }
    };
    // No valid token: 401 with the API's error body.
    let out = run("not-a-token".to_owned()).await;
    assert_eq!(out["first"]["error"]["status"], 401, "{out}");
    let body: Value =
        serde_json::from_str(out["first"]["error"]["body"].as_str().expect("body")).expect("json");
    assert_eq!(body["code"], "token_malformed", "{body}");
    // Above Tus-Max-Size: 413 at creation.
    let out = run(access(&tokens).to_owned()).await;
    assert_eq!(out["first"]["error"]["status"], 413, "{out}");
    let body: Value =
        serde_json::from_str(out["first"]["error"]["body"].as_str().expect("body")).expect("json");
    assert_eq!(body["code"], "upload_too_large");
}

#[tokio::test]
async fn tuspy_uploads_with_sha256_checksums_and_resumes() {
    let Some(clients) = puratan_testkit::tus::ensure_clients().await else {
        return;
    };
    let app = app_with(|_| {}).await;
    let tokens = app.customer("ann@example.com").await;
    let user = app.user_id(&tokens).await;
    let src = data(SIZE, 5);
    let dir = tempfile::tempdir().expect("tmp");
    let file = write_file(&dir, "brochure.pdf", &src);

    let out = clients
        .tuspy(json!({
            "endpoint": app.url("/files/"),
            "token": access(&tokens),
            "file": file,
            "chunk_size": CHUNK,
            "checksum": "sha256",
            "store": dir.path().join("tuspy-urls.json"),
            "stop_after": 3,
            "metadata": {"filename": "brochure.pdf"},
        }))
        .await;
    assert_eq!(out["ok"], true, "{out}");
    // The second uploader learnt the offset from the server (HEAD).
    assert_eq!(out["resumed_offset"], 3 * CHUNK, "{out}");
    assert_eq!(out["chunks"], 17, "{out}");
    let (upload, bytes) = app.stored(id_of(out["url"].as_str().expect("url"))).await;
    assert_eq!(upload.owner, user);
    assert_eq!(upload.metadata_str("filename"), Some("brochure.pdf"));
    assert_eq!(sha256(&bytes), sha256(&src));
    assert_eq!(upload.chunks.len(), 17);
}

#[tokio::test]
async fn tuspy_gets_the_right_errors() {
    let Some(clients) = puratan_testkit::tus::ensure_clients().await else {
        return;
    };
    let app = app_with(|c| c.uploads.per_user_quota = (SIZE + SIZE / 2) as u64).await;
    let tokens = app.customer("ann@example.com").await;
    let dir = tempfile::tempdir().expect("tmp");
    let file = write_file(&dir, "a.pdf", &data(SIZE, 6));
    let opts = |checksum: &str| {
        json!({
            "endpoint": app.url("/files/"),
            "token": access(&tokens),
            "file": file,
            "chunk_size": CHUNK,
            "checksum": checksum,
        })
    };
    // tuspy's built-in checksum is sha1, which this server does not speak:
    // 400 (tus: unsupported algorithm) and nothing stored.
    let out = clients.tuspy(opts("sha1")).await;
    assert_eq!(out["error"]["status"], 400, "{out}");
    let body: Value =
        serde_json::from_str(out["error"]["body"].as_str().expect("body")).expect("json");
    assert_eq!(body["code"], "tus_unsupported_checksum");
    // That upload still reserves its bytes: the next one is over quota.
    let out = clients.tuspy(opts("none")).await;
    assert_eq!(out["error"]["status"], 413, "{out}");
    let body: Value =
        serde_json::from_str(out["error"]["body"].as_str().expect("body")).expect("json");
    assert_eq!(body["code"], "upload_quota_exceeded", "{body}");
    assert_eq!(body["details"]["quota"], SIZE + SIZE / 2);
    assert_eq!(body["details"]["reserved"], SIZE);
}

#[tokio::test]
async fn options_discovery_needs_no_token() {
    let app = app_with(|c| c.uploads.max_size = 1 << 30).await;
    let r = app.tus("OPTIONS", "/files/", None, &[], Vec::new()).await;
    assert_eq!(r.status(), 204);
    assert_eq!(header(&r, "tus-version"), "1.0.0");
    assert_eq!(header(&r, "tus-max-size"), (1u64 << 30).to_string());
    let ext = header(&r, "tus-extension");
    for e in [
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    ] {
        assert!(ext.split(',').any(|x| x == e), "{ext}");
    }
    assert_eq!(header(&r, "tus-checksum-algorithm"), "sha256");
}

#[tokio::test]
async fn errors_use_tus_statuses_and_the_json_error_model() {
    let app = app_with(|c| {
        c.uploads.max_size = 4 * CHUNK as u64;
        c.uploads.max_chunk = 2 * CHUNK as u64;
        c.uploads.per_user_quota = 6 * CHUNK as u64;
    })
    .await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let (ann, bob) = (access(&ann), access(&bob));

    // No token: 401, JSON, and still a tus answer.
    let r = app
        .tus(
            "POST",
            "/files/",
            None,
            &[("Upload-Length", "10")],
            Vec::new(),
        )
        .await;
    assert_eq!(header(&r, "tus-resumable"), "1.0.0");
    expect_error(r, 401, "unauthorized").await;

    // Wrong protocol version: 412 naming the one we speak.
    let r = app
        .client
        .post(app.url("/files/"))
        .bearer_auth(ann)
        .header("Tus-Resumable", "0.2.2")
        .header("Upload-Length", "10")
        .send()
        .await
        .expect("request");
    assert_eq!(header(&r, "tus-version"), "1.0.0");
    expect_error(r, 412, "tus_unsupported_version").await;

    // Above the maximum size: 413.
    let len = (4 * CHUNK + 1).to_string();
    let r = app
        .tus(
            "POST",
            "/files/",
            Some(ann),
            &[("Upload-Length", &len)],
            Vec::new(),
        )
        .await;
    expect_error(r, 413, "upload_too_large").await;

    let path = app.create_upload(ann, 4 * CHUNK).await;
    let upload = data(4 * CHUNK, 7);

    // Someone else's upload does not exist for them.
    for method in ["HEAD", "DELETE"] {
        let r = app.tus(method, &path, Some(bob), &[], Vec::new()).await;
        assert_eq!(r.status(), 404, "{method}");
    }
    let r = app.patch_at(bob, &path, 0, &upload[..CHUNK]).await;
    expect_error(r, 404, "upload_not_found").await;
    let r = app.tus("HEAD", &path, None, &[], Vec::new()).await;
    assert_eq!(r.status(), 401);

    // Offset mismatch: 409, nothing stored.
    let r = app.patch_at(ann, &path, 0, &upload[..CHUNK]).await;
    assert_eq!(r.status(), 204);
    let r = app.patch_at(ann, &path, 0, &upload[..CHUNK]).await;
    let body = expect_error(r, 409, "tus_offset_mismatch").await;
    assert!(
        body["message"]
            .as_str()
            .expect("msg")
            .contains(&CHUNK.to_string())
    );
    assert_eq!(app.offset_of(ann, &path).await, CHUNK as u64);

    // Wrong content type: 415.
    let r = app
        .tus(
            "PATCH",
            &path,
            Some(ann),
            &[
                ("Upload-Offset", &CHUNK.to_string()),
                ("Content-Type", "application/json"),
            ],
            b"{}".to_vec(),
        )
        .await;
    expect_error(r, 415, "tus_wrong_content_type").await;

    // A body above uploads.max_chunk: 413 before it is read.
    let r = app.patch_at(ann, &path, CHUNK, &upload[CHUNK..]).await;
    assert_eq!(header(&r, "tus-resumable"), "1.0.0");
    let body = expect_error(r, 413, "payload_too_large").await;
    assert_eq!(body["details"]["max_chunk"], 2 * CHUNK);

    // Quota: 4 chunks reserved by the first upload, 3 more do not fit.
    let len = (3 * CHUNK).to_string();
    let r = app
        .tus(
            "POST",
            "/files/",
            Some(ann),
            &[("Upload-Length", &len)],
            Vec::new(),
        )
        .await;
    let body = expect_error(r, 413, "upload_quota_exceeded").await;
    assert_eq!(body["details"]["quota"], 6 * CHUNK);
    assert_eq!(body["details"]["reserved"], 4 * CHUNK);
    // … but fit for another user, and again for ann after termination.
    app.create_upload(bob, 3 * CHUNK).await;
    let r = app.tus("DELETE", &path, Some(ann), &[], Vec::new()).await;
    assert_eq!(r.status(), 204);
    let r = app.tus("HEAD", &path, Some(ann), &[], Vec::new()).await;
    assert_eq!(r.status(), 404);
    app.create_upload(ann, 3 * CHUNK).await;
}

#[tokio::test]
async fn checksums_are_verified_before_anything_is_stored() {
    let app = app_with(|_| {}).await;
    let tokens = app.customer("ann@example.com").await;
    let t = access(&tokens);
    let src = data(2 * CHUNK, 8);
    let path = app.create_upload(t, src.len()).await;
    let (a, b) = src.split_at(CHUNK);
    let patch = |offset: usize, body: &[u8], checksum: String| {
        let body = body.to_vec();
        let path = path.clone();
        let app = &app;
        async move {
            app.tus(
                "PATCH",
                &path,
                Some(t),
                &[
                    ("Upload-Offset", &offset.to_string()),
                    ("Content-Type", "application/offset+octet-stream"),
                    ("Upload-Checksum", &checksum),
                ],
                body,
            )
            .await
        }
    };
    let r = patch(0, a, format!("sha256 {}", sha_b64(a))).await;
    assert_eq!(r.status(), 204);
    // The digest of other bytes: 460, offset unchanged.
    let r = patch(CHUNK, b, format!("sha256 {}", sha_b64(a))).await;
    expect_error(r, 460, "tus_checksum_mismatch").await;
    assert_eq!(app.offset_of(t, &path).await, CHUNK as u64);
    // An algorithm we do not speak: 400.
    let r = patch(CHUNK, b, "md5 1B2M2Y8AsgTpgAmY7PhCfg==".to_owned()).await;
    expect_error(r, 400, "tus_unsupported_checksum").await;
    let r = patch(CHUNK, b, format!("sha256 {}", sha_b64(b))).await;
    assert_eq!(r.status(), 204);
    let (_, bytes) = app.stored(id_of(&path)).await;
    assert_eq!(bytes, src);
}

#[tokio::test]
async fn staff_with_files_read_any_see_every_upload() {
    let app = app_with(|_| {}).await;
    let ann = app.customer("ann@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let path = app.create_upload(access(&ann), 1000).await;
    let r = app
        .tus("HEAD", &path, Some(access(&staff)), &[], Vec::new())
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "upload-length"), "1000");
    // Staff do not upload artwork themselves (no files:upload:own).
    let r = app
        .tus(
            "POST",
            "/files/",
            Some(access(&staff)),
            &[("Upload-Length", "10")],
            Vec::new(),
        )
        .await;
    expect_error(r, 403, "forbidden").await;
}

#[tokio::test]
async fn expired_uploads_answer_410_then_disappear() {
    let app = app_with(|c| {
        c.uploads.expiry_secs = 1;
        c.uploads.cleanup_interval_secs = 3600;
    })
    .await;
    let tokens = app.customer("ann@example.com").await;
    let t = access(&tokens);
    let r = app
        .tus(
            "POST",
            "/files/",
            Some(t),
            &[("Upload-Length", "100")],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status(), 201);
    let expires = puratan_files::tus::parse_http_date(&header(&r, "upload-expires"))
        .expect("Upload-Expires is an HTTP date");
    assert!(expires > chrono::Utc::now() - chrono::Duration::seconds(1));
    let path = header(&r, "location");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = app.patch_at(t, &path, 0, b"late").await;
    expect_error(r, 410, "upload_expired").await;
    let removed = app
        .app()
        .uploads
        .tus
        .cleanup_expired(chrono::Utc::now())
        .await
        .expect("cleanup");
    assert_eq!(removed, 1);
    let r = app.patch_at(t, &path, 0, b"late").await;
    expect_error(r, 404, "upload_not_found").await;
}

#[tokio::test]
async fn the_cleanup_task_removes_abandoned_uploads_and_their_bytes() {
    let app = app_with(|c| {
        c.uploads.expiry_secs = 1;
        c.uploads.cleanup_interval_secs = 1;
    })
    .await;
    let tokens = app.customer("ann@example.com").await;
    let t = access(&tokens);
    let path = app.create_upload(t, 2 * CHUNK).await;
    let r = app.patch_at(t, &path, 0, &data(CHUNK, 9)).await;
    assert_eq!(r.status(), 204);
    let id = id_of(&path).to_owned();
    let inner = app.app();
    let blobs = format!("tus/{id}/");
    assert_eq!(inner.files.list(&blobs).await.expect("list").len(), 1);
    let user = app.user_id(&tokens).await;
    assert_eq!(
        inner
            .uploads
            .store
            .reserved_bytes(&user)
            .await
            .expect("reserved"),
        2 * CHUNK as u64
    );
    // The record goes first (so no PATCH can continue), then the blobs:
    // wait for both.
    let mut gone = false;
    for _ in 0..100 {
        if inner.uploads.store.get(&id).await.expect("get").is_none()
            && inner.files.list(&blobs).await.expect("list").is_empty()
        {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        gone,
        "the cleanup task removed the abandoned upload and its bytes"
    );
    assert_eq!(
        inner
            .uploads
            .store
            .reserved_bytes(&user)
            .await
            .expect("reserved"),
        0,
        "the quota is released"
    );
}

#[tokio::test]
async fn an_upload_survives_a_server_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, files) = (dir.path().join("p.db"), dir.path().join("files"));
    let keep = |c: &mut Config| {
        c.sqlite.path = db.clone();
        c.files.root = files.clone();
    };
    let mut first = app_with(keep).await;
    let tokens = first.customer("ann@example.com").await;
    let t = access(&tokens).to_owned();
    let src = data(3 * CHUNK, 10);
    let path = first.create_upload(&t, src.len()).await;
    let r = first.patch_at(&t, &path, 0, &src[..CHUNK]).await;
    assert_eq!(r.status(), 204);
    first
        .running
        .take()
        .expect("running")
        .shutdown()
        .await
        .expect("shutdown");

    let second = app_with(keep).await;
    assert_eq!(second.offset_of(&t, &path).await, CHUNK as u64);
    let r = second.patch_at(&t, &path, CHUNK, &src[CHUNK..]).await;
    assert_eq!(r.status(), 204);
    assert_eq!(header(&r, "upload-offset"), src.len().to_string());
    let (_, bytes) = second.stored(id_of(&path)).await;
    assert_eq!(bytes, src);
}

/// Method, path, extra headers.
type Case<'a> = (&'a str, String, Vec<(&'a str, String)>);

#[tokio::test]
async fn hostile_tus_headers_never_cause_a_server_error() {
    let app = app_with(|c| {
        c.rate_limits.enabled = false;
        c.uploads.max_size = 1 << 20;
    })
    .await;
    let tokens = app.customer("ann@example.com").await;
    let t = access(&tokens);
    let path = app.create_upload(t, 1000).await;
    let long = "a".repeat(10_000);
    let numbers = [
        "",
        " ",
        "-1",
        "+5",
        "1e3",
        "0x10",
        "18446744073709551616",
        "99999999999999999999999",
        "9223372036854775808",
        "1 000",
        "١٢٣",
        "1,2",
        &long,
    ];
    let metadata = [
        "",
        ",",
        ",,",
        "key",
        "key ",
        "k v",
        "k !!!",
        "k a,k b",
        " k  dmFsdWU= ",
        "\u{7f}",
        "key dmFsdWU=,",
        &long,
    ];
    let checksums = [
        "",
        "sha256",
        "sha256 ",
        "sha256 !!",
        "sha256 AAAA",
        "SHA256 x",
        "crc32 AAAA",
        &long,
    ];
    let mut cases: Vec<Case<'_>> = Vec::new();
    for n in numbers {
        cases.push(("POST", "/files/".into(), vec![("Upload-Length", n.into())]));
        cases.push((
            "PATCH",
            path.clone(),
            vec![
                ("Upload-Offset", n.into()),
                ("Content-Type", "application/offset+octet-stream".into()),
            ],
        ));
    }
    for m in metadata {
        cases.push((
            "POST",
            "/files/".into(),
            vec![
                ("Upload-Length", "10".into()),
                ("Upload-Metadata", m.into()),
            ],
        ));
    }
    for c in checksums {
        cases.push((
            "PATCH",
            path.clone(),
            vec![
                ("Upload-Offset", "0".into()),
                ("Content-Type", "application/offset+octet-stream".into()),
                ("Upload-Checksum", c.into()),
            ],
        ));
    }
    for o in ["GET", "PUT", "OPTIONS", "CONNECT", "", &long] {
        cases.push((
            "POST",
            path.clone(),
            vec![("X-HTTP-Method-Override", o.into())],
        ));
        cases.push((
            "POST",
            "/files/".into(),
            vec![("X-HTTP-Method-Override", o.into())],
        ));
    }
    for (h, v) in [
        ("Upload-Defer-Length", "1"),
        ("Upload-Concat", "final;/files/a /files/b"),
        ("Content-Type", "application/offset+octet-stream; x=\u{0}"),
        ("Tus-Resumable", "1.0.0, 1.0.0"),
    ] {
        cases.push((
            "POST",
            "/files/".into(),
            vec![("Upload-Length", "10".into()), (h, v.into())],
        ));
    }
    for id in [
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "a%20b",
        "%E2%80%AE",
        &"x".repeat(65),
        &"x".repeat(5000),
        "tus",
        "-",
    ] {
        for m in ["HEAD", "PATCH", "DELETE"] {
            cases.push((
                m,
                format!("/files/{id}"),
                vec![
                    ("Upload-Offset", "0".into()),
                    ("Content-Type", "application/offset+octet-stream".into()),
                ],
            ));
        }
    }
    for (method, path, headers) in &cases {
        let mut req = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                app.url(path),
            )
            .bearer_auth(t)
            .header("Tus-Resumable", "1.0.0")
            .body(b"payload".to_vec());
        for (k, v) in headers {
            // Values reqwest itself refuses never reach a server either.
            if let Ok(v) = reqwest::header::HeaderValue::from_bytes(v.as_bytes()) {
                req = req.header(*k, v);
            }
        }
        let r = req.send().await.expect("request");
        assert!(
            r.status().as_u16() < 500,
            "{method} {path} {headers:?} -> {}",
            r.status()
        );
    }
    // The upload the PATCH cases aimed at is intact.
    assert!(app.offset_of(t, &path).await <= 1000);
}

#[tokio::test]
async fn cors_exposes_the_tus_headers() {
    let app = app_with(|c| c.server.cors_origins = vec!["https://shop.example".into()]).await;
    let r = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/files/"))
        .header("Origin", "https://shop.example")
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "tus-resumable, upload-offset, upload-checksum, content-type, authorization",
        )
        .send()
        .await
        .expect("preflight");
    assert!(r.status().is_success(), "{}", r.status());
    let allowed = header(&r, "access-control-allow-headers").to_ascii_lowercase();
    for h in [
        "tus-resumable",
        "upload-offset",
        "upload-checksum",
        "upload-length",
    ] {
        assert!(allowed.contains(h), "{allowed}");
    }
    let r = app
        .client
        .head(app.url("/files/0123"))
        .header("Origin", "https://shop.example")
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .expect("head");
    assert_eq!(r.status(), 401);
    let exposed = header(&r, "access-control-expose-headers").to_ascii_lowercase();
    for h in [
        "location",
        "upload-offset",
        "upload-length",
        "tus-resumable",
        "tus-version",
        "tus-extension",
        "tus-max-size",
        "upload-expires",
        "puratan-file-id",
    ] {
        assert!(exposed.contains(h), "{exposed}");
    }
}

/// Two replicas on one MongoDB database (and one file store): an upload
/// started on one is resumed and finished on the other. Needs the test
/// MongoDB (`scripts/services/mongo.sh`, or `PURATAN_TEST_MONGO_URI`).
#[tokio::test]
async fn on_mongodb_any_replica_resumes_an_upload() {
    let uri = std::env::var("PURATAN_TEST_MONGO_URI")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27018/?retryWrites=false".to_owned());
    let probe = async {
        let client = mongodb::Client::with_uri_str(&uri).await?;
        client
            .database("admin")
            .run_command(mongodb::bson::doc! { "ping": 1 })
            .await
    };
    let reachable = tokio::time::timeout(Duration::from_secs(5), probe)
        .await
        .map_err(|_| "timed out".to_owned())
        .and_then(|r| r.map_err(|e| e.to_string()));
    if puratan_testkit::service::require("MongoDB", reachable).is_none() {
        return;
    }
    let database = puratan_testkit::service::unique("tus");
    let files = tempfile::tempdir().expect("tmp");
    let on_mongo = |c: &mut Config| {
        c.storage = puratan_server::config::StorageBackend::Mongodb;
        c.mongodb.uri = uri.clone();
        c.mongodb.database = database.clone();
        c.files.root = files.path().to_path_buf();
    };
    let a = app_with(on_mongo).await;
    let b = app_with(on_mongo).await;
    let tokens = a.customer("ann@example.com").await;
    let t = access(&tokens);
    let src = data(3 * CHUNK, 11);
    let path = a.create_upload(t, src.len()).await;
    let r = a.patch_at(t, &path, 0, &src[..CHUNK]).await;
    assert_eq!(r.status(), 204);
    assert_eq!(b.offset_of(t, &path).await, CHUNK as u64);
    let r = b.patch_at(t, &path, CHUNK, &src[CHUNK..]).await;
    assert_eq!(r.status(), 204);
    // The stale replica's view is the shared one: a late PATCH conflicts.
    let r = a.patch_at(t, &path, CHUNK, &src[CHUNK..]).await;
    expect_error(r, 409, "tus_offset_mismatch").await;
    let (_, bytes) = a.stored(id_of(&path)).await;
    assert_eq!(bytes, src);
    let client = mongodb::Client::with_uri_str(&uri).await.expect("client");
    client
        .database(&database)
        .drop()
        .await
        .expect("drop test database");
}

/// Cleanup is for abandoned uploads only: a finished upload is the
/// customer's artwork and outlives its `Upload-Expires`.
#[tokio::test]
async fn finished_uploads_survive_the_cleanup() {
    let app = app_with(|c| {
        c.uploads.expiry_secs = 1;
        c.uploads.cleanup_interval_secs = 3600;
    })
    .await;
    let tokens = app.customer("ann@example.com").await;
    let t = access(&tokens);
    let done = app.create_upload(t, CHUNK).await;
    assert_eq!(
        app.patch_at(t, &done, 0, &data(CHUNK, 3)).await.status(),
        204
    );
    let abandoned = app.create_upload(t, 2 * CHUNK).await;
    assert_eq!(
        app.patch_at(t, &abandoned, 0, &data(CHUNK, 4))
            .await
            .status(),
        204
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let inner = app.app();
    let removed = inner
        .uploads
        .tus
        .cleanup_expired(chrono::Utc::now())
        .await
        .expect("cleanup");
    assert_eq!(removed, 1, "only the unfinished upload");
    let kept = inner
        .uploads
        .store
        .get(id_of(&done))
        .await
        .expect("get")
        .expect("the finished upload is kept");
    assert!(kept.is_complete());
    assert!(
        inner
            .uploads
            .store
            .get(id_of(&abandoned))
            .await
            .expect("get")
            .is_none()
    );
    let (_, bytes) = inner
        .uploads
        .tus
        .read_upload(id_of(&done))
        .await
        .expect("bytes still there");
    assert_eq!(bytes.len(), CHUNK);
}
