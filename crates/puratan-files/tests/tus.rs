//! tus 1.0 protocol tests: one table row per status code, plus resume,
//! checksum, quota, expiry and termination scenarios.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use chrono::{DateTime, Duration, TimeZone, Utc};
use puratan_core::memory::MemoryFileStore;
use puratan_core::ports::FileStore;
use puratan_files::tus::{
    Headers, IdGenerator, MemoryUploadStore, TusConfig, TusRequest, TusResponse, TusServer,
    UploadStore, UuidV7Ids, parse_http_date,
};
use sha2::{Digest, Sha256};

#[derive(Debug, Default)]
struct SeqIds(AtomicU64);

impl IdGenerator for SeqIds {
    fn new_id(&self, _now: DateTime<Utc>) -> String {
        format!("u{}", self.0.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

struct Fixture {
    server: TusServer,
    uploads: Arc<MemoryUploadStore>,
    files: Arc<MemoryFileStore>,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap()
}

fn config() -> TusConfig {
    TusConfig {
        max_size: 1000,
        user_quota: Some(1500),
        expiry: Duration::hours(1),
        max_chunks: 100,
        ..TusConfig::default()
    }
}

fn fixture_with(config: TusConfig) -> Fixture {
    let uploads = Arc::new(MemoryUploadStore::new());
    let files = Arc::new(MemoryFileStore::new());
    let server = TusServer::new(
        config,
        uploads.clone(),
        files.clone(),
        Arc::new(SeqIds::default()),
    );
    Fixture {
        server,
        uploads,
        files,
    }
}

fn fixture() -> Fixture {
    fixture_with(config())
}

fn req(method: &str, id: Option<&str>, headers: &[(&str, &str)], body: &[u8]) -> TusRequest {
    TusRequest {
        method: method.to_owned(),
        upload_id: id.map(str::to_owned),
        headers: headers.iter().copied().collect::<Headers>(),
        body: Bytes::copy_from_slice(body),
        user: "alice".to_owned(),
    }
}

const V: (&str, &str) = ("Tus-Resumable", "1.0.0");
const OCTET: (&str, &str) = ("Content-Type", "application/offset+octet-stream");

fn sha_b64(data: &[u8]) -> String {
    format!("sha256 {}", STANDARD.encode(Sha256::digest(data)))
}

impl Fixture {
    async fn send(&self, r: TusRequest) -> TusResponse {
        self.server.handle(r, t0()).await
    }

    async fn create(&self, len: u64) -> String {
        let l = len.to_string();
        let r = self
            .send(req("POST", None, &[V, ("Upload-Length", &l)], b""))
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        r.get("Location")
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    }

    async fn patch(&self, id: &str, offset: u64, body: &[u8]) -> TusResponse {
        let o = offset.to_string();
        self.send(req(
            "PATCH",
            Some(id),
            &[V, OCTET, ("Upload-Offset", &o)],
            body,
        ))
        .await
    }

    async fn offset(&self, id: &str) -> u64 {
        let r = self.send(req("HEAD", Some(id), &[V], b"")).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.get("Upload-Offset").unwrap().parse().unwrap()
    }
}

#[tokio::test]
async fn status_code_table() {
    let f = fixture();
    let _big = f.create(1000).await; // most of alice's 1500-byte quota
    let id = f.create(10).await;
    f.patch(&id, 0, b"abc").await;
    let other_users = {
        let mut r = req("HEAD", Some(&id), &[V], b"");
        r.user = "mallory".to_owned();
        r
    };
    let good_sum = sha_b64(b"defg");
    let bad_sum = sha_b64(b"nope");
    let md5 = format!("md5 {}", STANDARD.encode([0u8; 16]));
    let cases: Vec<(&str, TusRequest, u16, Option<&str>)> = vec![
        (
            "options needs no version",
            req("OPTIONS", None, &[], b""),
            204,
            None,
        ),
        (
            "create",
            req("POST", None, &[V, ("Upload-Length", "5")], b""),
            201,
            None,
        ),
        (
            "create with upload",
            req("POST", None, &[V, OCTET, ("Upload-Length", "3")], b"xyz"),
            201,
            None,
        ),
        (
            "create zero length",
            req("POST", None, &[V, ("Upload-Length", "0")], b""),
            201,
            None,
        ),
        ("head", req("HEAD", Some(&id), &[V], b""), 200, None),
        (
            "patch ok",
            req(
                "PATCH",
                Some(&id),
                &[
                    V,
                    OCTET,
                    ("Upload-Offset", "3"),
                    ("Upload-Checksum", &good_sum),
                ],
                b"defg",
            ),
            204,
            None,
        ),
        (
            "patch empty body",
            req("PATCH", Some(&id), &[V, OCTET, ("Upload-Offset", "7")], b""),
            204,
            None,
        ),
        (
            "missing version",
            req("HEAD", Some(&id), &[], b""),
            412,
            Some("tus_unsupported_version"),
        ),
        (
            "wrong version",
            req(
                "POST",
                None,
                &[("Tus-Resumable", "0.2.2"), ("Upload-Length", "5")],
                b"",
            ),
            412,
            Some("tus_unsupported_version"),
        ),
        (
            "offset mismatch",
            req(
                "PATCH",
                Some(&id),
                &[V, OCTET, ("Upload-Offset", "0")],
                b"zz",
            ),
            409,
            Some("tus_offset_mismatch"),
        ),
        (
            "above max size",
            req("POST", None, &[V, ("Upload-Length", "1001")], b""),
            413,
            Some("upload_too_large"),
        ),
        (
            "beyond declared length",
            req(
                "PATCH",
                Some(&id),
                &[V, OCTET, ("Upload-Offset", "7")],
                b"1234",
            ),
            413,
            Some("upload_too_large"),
        ),
        (
            "quota",
            req("POST", None, &[V, ("Upload-Length", "1000")], b""),
            413,
            Some("upload_quota_exceeded"),
        ),
        (
            "patch wrong content type",
            req(
                "PATCH",
                Some(&id),
                &[
                    V,
                    ("Content-Type", "application/octet-stream"),
                    ("Upload-Offset", "7"),
                ],
                b"x",
            ),
            415,
            Some("tus_wrong_content_type"),
        ),
        (
            "patch no content type",
            req("PATCH", Some(&id), &[V, ("Upload-Offset", "7")], b"x"),
            415,
            Some("tus_wrong_content_type"),
        ),
        (
            "create-with-upload wrong type",
            req(
                "POST",
                None,
                &[V, ("Content-Type", "text/plain"), ("Upload-Length", "3")],
                b"xyz",
            ),
            415,
            Some("tus_wrong_content_type"),
        ),
        (
            "checksum mismatch",
            req(
                "PATCH",
                Some(&id),
                &[
                    V,
                    OCTET,
                    ("Upload-Offset", "7"),
                    ("Upload-Checksum", &bad_sum),
                ],
                b"h",
            ),
            460,
            Some("tus_checksum_mismatch"),
        ),
        (
            "unsupported checksum",
            req(
                "PATCH",
                Some(&id),
                &[V, OCTET, ("Upload-Offset", "7"), ("Upload-Checksum", &md5)],
                b"h",
            ),
            400,
            Some("tus_unsupported_checksum"),
        ),
        (
            "bad checksum digest",
            req(
                "PATCH",
                Some(&id),
                &[
                    V,
                    OCTET,
                    ("Upload-Offset", "7"),
                    ("Upload-Checksum", "sha256 !!!"),
                ],
                b"h",
            ),
            400,
            Some("tus_invalid_header"),
        ),
        (
            "unknown upload",
            req("HEAD", Some("nope"), &[V], b""),
            404,
            Some("upload_not_found"),
        ),
        (
            "hostile id",
            req("HEAD", Some("../../etc/passwd"), &[V], b""),
            404,
            Some("upload_not_found"),
        ),
        (
            "someone else's upload",
            other_users,
            404,
            Some("upload_not_found"),
        ),
        (
            "missing length",
            req("POST", None, &[V], b""),
            400,
            Some("tus_missing_header"),
        ),
        (
            "negative length",
            req("POST", None, &[V, ("Upload-Length", "-1")], b""),
            400,
            Some("tus_invalid_header"),
        ),
        (
            "huge length",
            req(
                "POST",
                None,
                &[V, ("Upload-Length", "99999999999999999999999")],
                b"",
            ),
            400,
            Some("tus_invalid_header"),
        ),
        (
            "defer length",
            req("POST", None, &[V, ("Upload-Defer-Length", "1")], b""),
            400,
            Some("tus_invalid_header"),
        ),
        (
            "missing offset",
            req("PATCH", Some(&id), &[V, OCTET], b"x"),
            400,
            Some("tus_missing_header"),
        ),
        (
            "bad offset",
            req(
                "PATCH",
                Some(&id),
                &[V, OCTET, ("Upload-Offset", "+7")],
                b"x",
            ),
            400,
            Some("tus_invalid_header"),
        ),
        (
            "bad metadata",
            req(
                "POST",
                None,
                &[
                    V,
                    ("Upload-Length", "1"),
                    ("Upload-Metadata", "filename %%%"),
                ],
                b"",
            ),
            400,
            Some("tus_invalid_header"),
        ),
        (
            "duplicate metadata",
            req(
                "POST",
                None,
                &[
                    V,
                    ("Upload-Length", "1"),
                    ("Upload-Metadata", "a YQ==,a Yg=="),
                ],
                b"",
            ),
            400,
            Some("tus_invalid_header"),
        ),
        (
            "method not allowed",
            req("PUT", Some(&id), &[V], b""),
            405,
            Some("method_not_allowed"),
        ),
        (
            "post to an upload",
            req("POST", Some(&id), &[V, ("Upload-Length", "1")], b""),
            405,
            Some("method_not_allowed"),
        ),
        (
            "patch without id",
            req("PATCH", None, &[V, OCTET, ("Upload-Offset", "0")], b""),
            404,
            Some("upload_not_found"),
        ),
    ];
    for (name, r, status, code) in cases {
        let resp = f.send(r).await;
        assert_eq!(resp.status, status, "{name}: {resp:?}");
        assert_eq!(resp.error, code, "{name}");
        assert_eq!(resp.get("Tus-Resumable"), Some("1.0.0"), "{name}");
        if status == 412 {
            assert_eq!(resp.get("Tus-Version"), Some("1.0.0"));
        }
    }
    // The failed requests left the first upload at 7 bytes.
    assert_eq!(f.offset(&id).await, 7);
}

#[tokio::test]
async fn options_advertises_the_server() {
    let f = fixture();
    let r = f.send(req("OPTIONS", None, &[], b"")).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.get("Tus-Version"), Some("1.0.0"));
    assert_eq!(r.get("Tus-Max-Size"), Some("1000"));
    assert_eq!(r.get("Tus-Checksum-Algorithm"), Some("sha256"));
    let ext = r.get("Tus-Extension").unwrap();
    for e in [
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    ] {
        assert!(ext.split(',').any(|x| x == e), "{e}");
    }
}

#[tokio::test]
async fn expired_upload_is_410_then_404_after_cleanup() {
    let f = fixture();
    let id = f.create(10).await;
    f.patch(&id, 0, b"abc").await;
    let later = t0() + Duration::hours(1);
    let r = f
        .server
        .handle(req("HEAD", Some(&id), &[V], b""), later)
        .await;
    assert_eq!(r.status, 410);
    assert_eq!(r.error, Some("upload_expired"));
    let r = f
        .server
        .handle(
            req(
                "PATCH",
                Some(&id),
                &[V, OCTET, ("Upload-Offset", "3")],
                b"d",
            ),
            later,
        )
        .await;
    assert_eq!(r.status, 410);
    // Not yet expired a second earlier.
    let r = f
        .server
        .handle(
            req("HEAD", Some(&id), &[V], b""),
            later - Duration::seconds(1),
        )
        .await;
    assert_eq!(r.status, 200);

    // A fresh upload created later survives the cleanup.
    let fresh = {
        let r = f
            .server
            .handle(req("POST", None, &[V, ("Upload-Length", "5")], b""), later)
            .await;
        r.get("Location")
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(f.server.cleanup_expired(later).await.unwrap(), 1);
    assert!(
        f.files
            .list(&format!("tus/{id}/"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(f.uploads.get(&id).await.unwrap().is_none());
    let r = f
        .server
        .handle(req("HEAD", Some(&id), &[V], b""), later)
        .await;
    assert_eq!(r.status, 404);
    let r = f
        .server
        .handle(req("HEAD", Some(&fresh), &[V], b""), later)
        .await;
    assert_eq!(r.status, 200);
    // Cleanup released the quota.
    assert_eq!(f.uploads.reserved_bytes("alice").await.unwrap(), 5);
    assert_eq!(f.server.cleanup_expired(later).await.unwrap(), 0);
}

#[tokio::test]
async fn upload_expires_header_is_an_http_date() {
    let f = fixture();
    let r = f
        .send(req("POST", None, &[V, ("Upload-Length", "5")], b""))
        .await;
    let exp = r.get("Upload-Expires").unwrap();
    assert_eq!(exp, "Sat, 28 Nov 2026 09:00:00 GMT");
    assert_eq!(parse_http_date(exp), Some(t0() + Duration::hours(1)));
    let id = r
        .get("Location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(r.get("Location").unwrap(), format!("/files/{id}"));
    let p = f.patch(&id, 0, b"ab").await;
    assert_eq!(p.get("Upload-Expires"), Some(exp));
}

#[tokio::test]
async fn resume_after_partial_patch() {
    let f = fixture();
    let data: Vec<u8> = (0..=255u8).cycle().take(700).collect();
    let id = f.create(700).await;
    // First connection delivered 300 bytes and dropped; the HTTP layer
    // passes what arrived.
    let r = f.patch(&id, 0, &data[..300]).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.get("Upload-Offset"), Some("300"));
    assert!(r.completed.is_none());
    // The client asks where to resume …
    let resume_at = f.offset(&id).await;
    assert_eq!(resume_at, 300);
    // … a retry of an old request is rejected …
    assert_eq!(f.patch(&id, 0, &data[..300]).await.status, 409);
    // … and the rest completes the upload.
    let r = f.patch(&id, resume_at, &data[300..]).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.get("Upload-Offset"), Some("700"));
    assert!(r.get("Upload-Expires").is_none());
    let done = r.completed.expect("completed");
    let digest: [u8; 32] = Sha256::digest(&data).into();
    assert_eq!(done.sha256, Some(digest));
    let (u, bytes) = f.server.read_upload(&id).await.unwrap();
    assert_eq!(&bytes[..], &data[..]);
    assert_eq!(u.chunks.len(), 2);
    // A PATCH after completion with no data is harmless.
    let r = f.patch(&id, 700, b"").await;
    assert_eq!(r.status, 204);
    assert!(r.completed.is_none());
}

#[tokio::test]
async fn checksum_mismatch_leaves_offset_and_storage_unchanged() {
    let f = fixture();
    let id = f.create(8).await;
    f.patch(&id, 0, b"abcd").await;
    let before = f.files.list("tus/").await.unwrap();
    let bad = sha_b64(b"EFGH");
    let r = f
        .send(req(
            "PATCH",
            Some(&id),
            &[V, OCTET, ("Upload-Offset", "4"), ("Upload-Checksum", &bad)],
            b"efgh",
        ))
        .await;
    assert_eq!(r.status, 460);
    assert_eq!(f.offset(&id).await, 4);
    assert_eq!(f.files.list("tus/").await.unwrap(), before);
    let good = sha_b64(b"efgh");
    let r = f
        .send(req(
            "PATCH",
            Some(&id),
            &[V, OCTET, ("Upload-Offset", "4"), ("Upload-Checksum", &good)],
            b"efgh",
        ))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        f.server.read_upload(&id).await.unwrap().1,
        Bytes::from_static(b"abcdefgh")
    );
}

#[tokio::test]
async fn creation_with_upload_and_metadata() {
    let f = fixture();
    let meta = format!(
        "filename {},filetype {},is_confidential",
        STANDARD.encode("flyer A5.pdf"),
        STANDARD.encode("application/pdf")
    );
    let sum = sha_b64(b"hello");
    let r = f
        .send(req(
            "POST",
            None,
            &[
                V,
                OCTET,
                ("Upload-Length", "5"),
                ("Upload-Metadata", &meta),
                ("Upload-Checksum", &sum),
            ],
            b"hello",
        ))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.get("Upload-Offset"), Some("5"));
    let done = r.completed.expect("completed in one request");
    assert_eq!(done.metadata_str("filename"), Some("flyer A5.pdf"));
    assert_eq!(done.metadata_str("filetype"), Some("application/pdf"));
    assert!(
        done.metadata
            .iter()
            .any(|(k, v)| k == "is_confidential" && v.is_none())
    );
    let id = done.id.clone();
    let h = f.send(req("HEAD", Some(&id), &[V], b"")).await;
    assert_eq!(h.get("Upload-Metadata"), Some(meta.as_str()));
    assert_eq!(h.get("Upload-Length"), Some("5"));
    assert_eq!(h.get("Cache-Control"), Some("no-store"));
    // A creation body with a bad checksum creates nothing.
    let bad = sha_b64(b"other");
    let r = f
        .send(req(
            "POST",
            None,
            &[V, OCTET, ("Upload-Length", "5"), ("Upload-Checksum", &bad)],
            b"hello",
        ))
        .await;
    assert_eq!(r.status, 460);
    assert_eq!(f.uploads.reserved_bytes("alice").await.unwrap(), 5);
}

#[tokio::test]
async fn quota_is_per_user_and_released_by_termination() {
    let f = fixture();
    let a = f.create(1000).await;
    let _b = f.create(500).await;
    let r = f
        .send(req("POST", None, &[V, ("Upload-Length", "1")], b""))
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.error, Some("upload_quota_exceeded"));
    // Another user has their own quota.
    let mut bob = req("POST", None, &[V, ("Upload-Length", "1000")], b"");
    bob.user = "bob".to_owned();
    assert_eq!(f.send(bob).await.status, 201);
    // Bob cannot terminate Alice's upload.
    let mut del = req("DELETE", Some(&a), &[V], b"");
    del.user = "bob".to_owned();
    assert_eq!(f.send(del).await.status, 404);
    // Termination frees the quota and the stored chunks.
    f.patch(&a, 0, b"some bytes").await;
    let r = f.send(req("DELETE", Some(&a), &[V], b"")).await;
    assert_eq!(r.status, 204);
    assert!(f.files.list(&format!("tus/{a}/")).await.unwrap().is_empty());
    assert_eq!(f.send(req("HEAD", Some(&a), &[V], b"")).await.status, 404);
    assert_eq!(f.send(req("DELETE", Some(&a), &[V], b"")).await.status, 404);
    assert_eq!(
        f.send(req("POST", None, &[V, ("Upload-Length", "1000")], b""))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn method_override_and_header_case() {
    let f = fixture();
    let id = f.create(3).await;
    let r = f
        .send(req(
            "POST",
            Some(&id),
            &[
                ("tus-resumable", "1.0.0"),
                ("x-http-method-override", "PATCH"),
                ("content-type", "application/offset+octet-stream; charset=x"),
                ("upload-offset", "0"),
            ],
            b"abc",
        ))
        .await;
    assert_eq!(r.status, 204, "{r:?}");
    assert!(r.completed.is_some());
}

#[tokio::test]
async fn chunk_limit_bounds_state() {
    let f = fixture_with(TusConfig {
        max_chunks: 2,
        ..config()
    });
    let id = f.create(10).await;
    assert_eq!(f.patch(&id, 0, b"a").await.status, 204);
    assert_eq!(f.patch(&id, 1, b"b").await.status, 204);
    let r = f.patch(&id, 2, b"c").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error, Some("upload_too_many_chunks"));
    assert_eq!(f.offset(&id).await, 2);
    // The rejected chunk's blob was removed.
    assert_eq!(f.files.list(&format!("tus/{id}/")).await.unwrap().len(), 2);
}

#[tokio::test]
async fn racing_patches_at_the_same_offset_keep_one() {
    let f = fixture();
    let id = f.create(4).await;
    let (a, b) = tokio::join!(f.patch(&id, 0, b"aaaa"), f.patch(&id, 0, b"bbbb"));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [204, 409]);
    let (_, bytes) = f.server.read_upload(&id).await.unwrap();
    assert!(bytes == Bytes::from_static(b"aaaa") || bytes == Bytes::from_static(b"bbbb"));
    assert_eq!(f.files.list(&format!("tus/{id}/")).await.unwrap().len(), 1);
}

#[test]
fn uuid_ids_are_valid_and_distinct() {
    let g = UuidV7Ids;
    let a = g.new_id(t0());
    let b = g.new_id(t0());
    assert_ne!(a, b);
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
}
