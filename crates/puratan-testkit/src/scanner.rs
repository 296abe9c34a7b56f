//! Conformance suite for the virus-scanner port ([`Scanner`]), and a real
//! clamd for it ([`ensure_clamd`]).
//!
//! # The suite's signature set
//!
//! The suite needs the scanner under test to know three test signatures,
//! no real virus database (none can be downloaded here):
//!
//! * [`EICAR`] — the EICAR test file, whole;
//! * [`EICAR_BODY`] — the EICAR string anywhere in a file (a body
//!   signature, like ClamAV's `.ndb`);
//! * [`KNOWN_BLOB_NAME`] — the exact file [`KNOWN_BLOB`], by whole-file
//!   hash (like ClamAV's `.hdb`): the same bytes inside a larger file do
//!   *not* match, which the suite checks.
//!
//! and to refuse files over [`STREAM_LIMIT`] bytes while scanning files of
//! exactly that size. [`memory_scanner`] is a `MemoryScanner` set up so;
//! `scripts/services/clamav.sh` writes the same signatures for clamd
//! (`puratan.hdb`, `puratan.ndb`) and sets `StreamMaxLength 32M`. ClamAV
//! reports names from unsigned databases with a `.UNOFFICIAL` suffix, which
//! the suite accepts.
//!
//! Which name a whole EICAR file is reported with (hash or body signature)
//! is up to the scanner; both are accepted.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use puratan_files::FilesError;
use puratan_files::scan::{
    MemoryScanner, ScanOutcome, Scanner, Verdict, eicar, scan_before_processing,
};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

type S = Arc<dyn Scanner>;

/// The size limit the scanner under test must have (clamd's
/// `StreamMaxLength 32M`).
pub const STREAM_LIMIT: u64 = 32 * 1024 * 1024;
/// Whole-file signature of the EICAR test file.
pub const EICAR: &str = "Puratan.Test.EICAR";
/// Body signature: the EICAR string anywhere in a file.
pub const EICAR_BODY: &str = "Puratan.Test.EICAR-Body";
/// A harmless blob listed by whole-file hash. Must equal `blob` in
/// `scripts/services/clamav.sh`.
pub const KNOWN_BLOB: &[u8] =
    b"puratan scanner conformance: a harmless blob listed by whole-file hash";
/// The hash signature's name for [`KNOWN_BLOB`].
pub const KNOWN_BLOB_NAME: &str = "Puratan.Test.KnownBlob";

/// A [`MemoryScanner`] with the suite's signature set and size limit.
pub fn memory_scanner() -> MemoryScanner {
    MemoryScanner::new()
        .with_file(&eicar(), EICAR)
        .with_file(KNOWN_BLOB, KNOWN_BLOB_NAME)
        .with_pattern(eicar(), EICAR_BODY)
        .with_max_bytes(STREAM_LIMIT)
}

/// `signature` is `name`, possibly with ClamAV's `.UNOFFICIAL` suffix.
pub fn is_signature(signature: &str, name: &str) -> bool {
    signature
        .strip_prefix(name)
        .is_some_and(|rest| rest.is_empty() || rest == ".UNOFFICIAL")
}

// ---- test data -------------------------------------------------------------

/// `len` bytes that look like a PDF (header, objects, binary stream data)
/// and contain no signature. Deterministic.
pub fn pdf_like(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n\
                  2 0 obj\n<< /Length 0 >>\nstream\n"
        .to_vec();
    // xorshift: incompressible-looking, reproducible bytes.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// A tiny JPEG-looking blob (SOI, APP0/JFIF, EOI).
fn jpeg_like() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    v.extend_from_slice(&pdf_like(2000)[100..]);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

/// `filler` with `needle` written over it at `at`.
fn with_at(mut filler: Vec<u8>, needle: &[u8], at: usize) -> Bytes {
    filler[at..at + needle.len()].copy_from_slice(needle);
    Bytes::from(filler)
}

fn infected(v: &Result<Verdict, FilesError>) -> Option<&str> {
    match v {
        Ok(Verdict::Infected { signature }) => Some(signature),
        _ => None,
    }
}

fn assert_eicar(v: &Result<Verdict, FilesError>, what: &str) {
    let sig = infected(v).unwrap_or_else(|| panic!("{what}: expected EICAR, got {v:?}"));
    assert!(
        is_signature(sig, EICAR) || is_signature(sig, EICAR_BODY),
        "{what}: signature {sig:?}"
    );
}

fn assert_clean(v: &Result<Verdict, FilesError>, what: &str) {
    assert!(matches!(v, Ok(Verdict::Clean)), "{what}: {v:?}");
}

// ---- the suite -------------------------------------------------------------

pub async fn scanner_answers_ping_and_passes_clean_files(s: S) {
    s.ping().await.expect("ping");
    assert!(!s.name().is_empty());
    for (what, data) in [
        ("pdf", pdf_like(50_000)),
        ("jpeg", jpeg_like()),
        ("text", b"Business cards, 350 gsm, matt, 500 pcs\n".to_vec()),
        ("one byte", vec![0]),
        ("EICAR minus its last byte", eicar()[..67].to_vec()),
    ] {
        assert_clean(&s.scan(Bytes::from(data)).await, what);
    }
}

pub async fn scanner_detects_eicar(s: S) {
    assert_eicar(&s.scan(eicar()).await, "EICAR");
    // Again: verdicts do not depend on earlier scans.
    assert_eicar(&s.scan(eicar()).await, "EICAR again");
}

pub async fn scanner_hash_signature_matches_the_whole_file_only(s: S) {
    let v = s.scan(Bytes::from_static(KNOWN_BLOB)).await;
    let sig = infected(&v).unwrap_or_else(|| panic!("known blob: {v:?}"));
    assert!(is_signature(sig, KNOWN_BLOB_NAME), "{sig:?}");
    // One byte more, one byte less, or inside a larger file: another file.
    let mut longer = KNOWN_BLOB.to_vec();
    longer.push(b'\n');
    let shorter = &KNOWN_BLOB[..KNOWN_BLOB.len() - 1];
    let inside = with_at(pdf_like(100_000), KNOWN_BLOB, 50_000);
    assert_clean(&s.scan(Bytes::from(longer)).await, "blob + 1 byte");
    assert_clean(
        &s.scan(Bytes::copy_from_slice(shorter)).await,
        "blob - 1 byte",
    );
    assert_clean(&s.scan(inside).await, "blob inside a larger file");
}

pub async fn scanner_finds_embedded_eicar_across_chunk_boundaries(s: S) {
    let e = eicar();
    // Chunk sizes a client may use: the string straddles each boundary
    // (1, 34 and 67 bytes before it), and sits at the start and the end.
    let mut cases = Vec::new();
    for boundary in [8 * 1024, 64 * 1024, 1024 * 1024] {
        for before in [1, 34, 67] {
            cases.push((boundary + 4096, boundary - before));
        }
    }
    cases.push((300_000, 0));
    cases.push((3 * 1024 * 1024, 3 * 1024 * 1024 - e.len()));
    for (len, at) in cases {
        let v = s.scan(with_at(pdf_like(len), &e, at)).await;
        let sig = infected(&v).unwrap_or_else(|| panic!("EICAR at {at} of {len}: {v:?}"));
        assert!(is_signature(sig, EICAR_BODY), "at {at} of {len}: {sig:?}");
    }
    // A near miss (one byte changed) is no detection.
    let mut near = e.to_vec();
    near[40] ^= 0x20;
    assert_clean(
        &s.scan(with_at(pdf_like(200_000), &near, 65_500)).await,
        "altered EICAR",
    );
}

pub async fn scanner_empty_input_is_clean(s: S) {
    assert_clean(&s.scan(Bytes::new()).await, "empty");
}

pub async fn scanner_scans_large_input_to_the_end(s: S) {
    let len = 20 * 1024 * 1024;
    assert_clean(&s.scan(Bytes::from(pdf_like(len))).await, "20 MiB");
    let e = eicar();
    let v = s.scan(with_at(pdf_like(len), &e, len - e.len())).await;
    let sig = infected(&v).unwrap_or_else(|| panic!("EICAR at the end of 20 MiB: {v:?}"));
    assert!(is_signature(sig, EICAR_BODY), "{sig:?}");
}

pub async fn scanner_refuses_input_over_its_limit(s: S) {
    let limit = usize::try_from(STREAM_LIMIT).expect("fits");
    assert_clean(
        &s.scan(Bytes::from(vec![0u8; limit])).await,
        "exactly at the limit",
    );
    for (what, data) in [
        ("limit + 1", vec![0u8; limit + 1]),
        ("limit + 1 with EICAR first", {
            let mut v = vec![0u8; limit + 1];
            v[..68].copy_from_slice(&eicar());
            v
        }),
    ] {
        let v = s.scan(Bytes::from(data)).await;
        assert!(
            matches!(v, Err(FilesError::ScanTooLarge { .. })),
            "{what}: {v:?}"
        );
    }
    // And the scanner is still fine afterwards.
    s.ping().await.expect("ping after a refusal");
    assert_eicar(&s.scan(eicar()).await, "EICAR after a refusal");
}

pub async fn scanner_concurrent_scans_all_answer(s: S) {
    let tasks: Vec<_> = (0..16usize)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let len = 200_000 + i * 10_000;
                let data = match i % 3 {
                    0 => Bytes::from(pdf_like(len)),
                    1 => with_at(pdf_like(len), &eicar(), len / 2),
                    _ => Bytes::from_static(KNOWN_BLOB),
                };
                (i, s.scan(data).await)
            })
        })
        .collect();
    for t in tasks {
        let (i, v) = t.await.expect("join");
        match i % 3 {
            0 => assert_clean(&v, &format!("task {i}")),
            1 => assert_eicar(&v, &format!("task {i}")),
            _ => {
                let sig = infected(&v).unwrap_or_else(|| panic!("task {i}: {v:?}"));
                assert!(is_signature(sig, KNOWN_BLOB_NAME), "task {i}: {sig:?}");
            }
        }
    }
}

pub async fn scanner_pipeline_quarantines_and_passes(s: S) {
    let outcome = scan_before_processing(Some(s.as_ref()), Bytes::from(pdf_like(10_000)))
        .await
        .expect("clean");
    assert_eq!(outcome, ScanOutcome::Clean);
    assert!(outcome.may_process());
    let e = eicar();
    let outcome = scan_before_processing(Some(s.as_ref()), with_at(pdf_like(90_000), &e, 7))
        .await
        .expect("infected");
    match &outcome {
        ScanOutcome::Quarantine { signature } => {
            assert!(is_signature(signature, EICAR_BODY), "{signature:?}")
        }
        other => panic!("expected quarantine, got {other:?}"),
    }
    assert!(!outcome.may_process());
    let big = Bytes::from(vec![0u8; usize::try_from(STREAM_LIMIT).expect("fits") + 1]);
    let err = scan_before_processing(Some(s.as_ref()), big)
        .await
        .expect_err("too large is an error, never clean");
    assert_eq!(err.code(), "scan_too_large");
}

// ---- a real clamd ------------------------------------------------------------

/// The clamd of `scripts/services/clamav.sh`.
#[derive(Debug, Clone)]
pub struct Clamd {
    pub host: String,
    pub port: u16,
    /// Its unix socket (`$PURATAN_CACHE/clamav/clamd.sock`).
    pub socket: PathBuf,
}

impl Clamd {
    /// `host:port` for the adapter's config.
    pub fn tcp_address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// `unix:/path` for the adapter's config.
    pub fn unix_address(&self) -> String {
        format!("unix:{}", self.socket.display())
    }
}

fn cache_dir() -> PathBuf {
    match std::env::var_os("PURATAN_CACHE") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/puratan"),
    }
}

/// One request to clamd and its NUL-terminated reply, within 5 s, with no
/// client library (tokio's readiness API only).
async fn exchange(host: &str, port: u16, request: &[u8]) -> Result<String, String> {
    let run = async {
        let s = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("connect {host}:{port}: {e}"))?;
        let mut sent = 0;
        while sent < request.len() {
            s.writable().await.map_err(|e| e.to_string())?;
            match s.try_write(&request[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        let mut reply = Vec::new();
        let mut buf = [0u8; 512];
        while !reply.contains(&0) {
            s.readable().await.map_err(|e| e.to_string())?;
            match s.try_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
        let text = String::from_utf8_lossy(&reply);
        Ok(text.trim_end_matches('\0').to_owned())
    };
    tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .map_err(|_| format!("no answer from {host}:{port} within 5s"))?
}

async fn pings(host: &str, port: u16) -> Result<(), String> {
    match exchange(host, port, b"zPING\0").await? {
        r if r == "PONG" => Ok(()),
        r => Err(format!("{host}:{port} answers PING with {r:?}")),
    }
}

async fn start() -> Result<Clamd, String> {
    let port = std::env::var("PURATAN_CLAMAV_PORT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3310);
    let clamd = Clamd {
        host: "127.0.0.1".into(),
        port,
        socket: cache_dir().join("clamav/clamd.sock"),
    };
    if pings(&clamd.host, port).await.is_err() {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/services/clamav.sh"
        );
        let out = tokio::process::Command::new("bash")
            .arg(script)
            .output()
            .await
            .map_err(|e| format!("running {script}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{script} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        pings(&clamd.host, port).await?;
    }
    // It must be ours: the suite's hash signature is loaded.
    let mut request = b"zINSTREAM\0".to_vec();
    let len = u32::try_from(KNOWN_BLOB.len()).expect("small");
    request.extend_from_slice(&len.to_be_bytes());
    request.extend_from_slice(KNOWN_BLOB);
    request.extend_from_slice(&[0; 4]);
    let reply = exchange(&clamd.host, port, &request).await?;
    if !reply.contains(KNOWN_BLOB_NAME) {
        return Err(format!(
            "a clamd answers on {}:{port} but does not have the test signatures of scripts/services/clamav.sh (scanning the known blob: {reply:?})",
            clamd.host
        ));
    }
    Ok(clamd)
}

/// clamd, started by `scripts/services/clamav.sh` if needed (once per
/// process). `None` means it is unavailable and the test should return (a
/// panic under `CI=true`).
pub async fn ensure_clamd() -> Option<Clamd> {
    static STARTED: OnceCell<Result<Clamd, String>> = OnceCell::const_new();
    let result = STARTED.get_or_init(start).await.clone();
    crate::service::require("clamd (scripts/services/clamav.sh)", result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_names_allow_only_the_unofficial_suffix() {
        assert!(is_signature("Puratan.Test.EICAR", EICAR));
        assert!(is_signature("Puratan.Test.EICAR.UNOFFICIAL", EICAR));
        assert!(!is_signature("Puratan.Test.EICAR-Body", EICAR));
        assert!(is_signature(
            "Puratan.Test.EICAR-Body.UNOFFICIAL",
            EICAR_BODY
        ));
        assert!(!is_signature("Other", EICAR));
    }

    #[test]
    fn test_data_is_deterministic_and_sized() {
        assert_eq!(pdf_like(1000), pdf_like(1000));
        assert_eq!(pdf_like(12_345).len(), 12_345);
        assert!(pdf_like(100).starts_with(b"%PDF-1.7"));
        assert!(jpeg_like().starts_with(&[0xFF, 0xD8]));
    }
}
