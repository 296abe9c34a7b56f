//! Conformance of the ClamAV adapter against a real clamd, plus what only
//! the adapter can show (outages, timeouts, clamd's own size refusal, the
//! unix socket, protocol violations).
//!
//! clamd is the private, offline one of `scripts/services/clamav.sh`
//! (started on demand, once per process, on `PURATAN_CLAMAV_PORT`, default
//! 3310) with only the suite's test signatures. Without it the tests skip
//! loudly, or fail when `CI=true`. The tests that need no clamd (nothing
//! listening, a silent or lying server) always run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use puratan_files::FilesError;
use puratan_files::scan::{ScanOutcome, Scanner, Verdict, eicar, scan_before_processing};
use puratan_server::adapters::clamav::{ClamavConfig, ClamavScanner};
use puratan_testkit::scanner::{
    Clamd, EICAR, EICAR_BODY, STREAM_LIMIT, ensure_clamd, is_signature, pdf_like,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The adapter on clamd's TCP socket, with the suite's size limit.
fn config(address: String) -> ClamavConfig {
    ClamavConfig {
        stream_max_length: STREAM_LIMIT,
        ..ClamavConfig::new(address)
    }
}

async fn clamd() -> Option<Clamd> {
    ensure_clamd().await
}

async fn scanner() -> Option<Arc<dyn Scanner>> {
    let clamd = clamd().await?;
    let s = ClamavScanner::new(config(clamd.tcp_address())).expect("valid config");
    Some(Arc::new(s))
}

mod suite {
    puratan_testkit::scanner_suite!(super::scanner().await);
}

/// An address where nothing listens (a port just released).
async fn dead_address() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    addr.to_string()
}

fn assert_unavailable(v: &Result<Verdict, FilesError>) {
    assert!(
        matches!(v, Err(FilesError::ScannerUnavailable { .. })),
        "{v:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clamd_down_is_unavailable_quickly_and_the_pipeline_waits() {
    let s = ClamavScanner::new(ClamavConfig {
        connect_timeout_ms: 500,
        ..config(dead_address().await)
    })
    .expect("config");
    let started = Instant::now();
    assert_unavailable(&s.scan(eicar()).await);
    let err = s.ping().await.expect_err("down");
    assert_eq!(err.code(), "scanner_unavailable", "{err}");
    assert_eq!(err.http_status(), 503);
    let outcome = scan_before_processing(Some(&s), eicar())
        .await
        .expect("an outage is no error");
    assert!(
        matches!(&outcome, ScanOutcome::Wait { reason } if reason.contains("unavailable")),
        "{outcome:?}"
    );
    assert!(!outcome.may_process());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_unix_socket_is_unavailable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-clamd.sock");
    let s = ClamavScanner::new(config(format!("unix:{}", path.display()))).expect("config");
    assert_unavailable(&s.scan(Bytes::from_static(b"x")).await);
    assert_eq!(
        scan_before_processing(Some(&s), Bytes::from_static(b"x"))
            .await
            .map(|o| matches!(o, ScanOutcome::Wait { .. }))
            .ok(),
        Some(true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_limit_refuses_without_connecting() {
    // Nothing listens, yet the answer is "too large", not "unavailable":
    // the limit is checked before any connection.
    let s = ClamavScanner::new(ClamavConfig {
        stream_max_length: 1000,
        ..config(dead_address().await)
    })
    .expect("config");
    let v = s.scan(Bytes::from(vec![0u8; 1001])).await;
    assert!(
        matches!(v, Err(FilesError::ScanTooLarge { limit: Some(1000) })),
        "{v:?}"
    );
}

/// A server that accepts connections, reads everything, never answers.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                // Keep the socket open (a hung clamd), never reply.
                std::future::pending::<()>().await;
            });
        }
    });
    (addr, task)
}

/// A server that accepts connections and reads nothing at all.
async fn stalled_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_clamd_cannot_hang_a_scan() {
    // Reads everything, never answers: the scan deadline ends it.
    let (addr, task) = silent_server().await;
    let s = ClamavScanner::new(ClamavConfig {
        io_timeout_ms: 300,
        scan_timeout_ms: 800,
        ..config(addr)
    })
    .expect("config");
    let started = Instant::now();
    assert_unavailable(&s.scan(Bytes::from(pdf_like(100_000))).await);
    assert_unavailable(&s.ping().await.map(|()| Verdict::Clean));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    task.abort();

    // Reads nothing: once the socket buffers are full a write stalls, and
    // the per-write deadline ends it (well before the scan deadline).
    let (addr, task) = stalled_server().await;
    let s = ClamavScanner::new(ClamavConfig {
        io_timeout_ms: 300,
        scan_timeout_ms: 30_000,
        ..config(addr)
    })
    .expect("config");
    let started = Instant::now();
    let v = s.scan(Bytes::from(vec![0u8; 30 * 1024 * 1024])).await;
    assert_unavailable(&v);
    assert!(
        format!("{v:?}").contains("sending the file"),
        "the write deadline fired: {v:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    task.abort();
}

/// A server that answers every connection with `reply` right away, then
/// either closes it or reads (slowly, so a large upload is still being
/// sent) and drops whatever comes.
async fn lying_server(
    reply: &'static [u8],
    then_close: bool,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = socket.write_all(reply).await;
                if then_close {
                    return;
                }
                let mut buf = vec![0u8; 64 * 1024];
                while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
        }
    });
    (addr, task)
}

/// Short deadlines: these servers are not clamd.
fn impatient(addr: String) -> ClamavConfig {
    ClamavConfig {
        io_timeout_ms: 2_000,
        scan_timeout_ms: 5_000,
        ..config(addr)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ok_before_the_whole_file_was_sent_is_not_clean() {
    let (addr, task) = lying_server(b"stream: OK\0", false).await;
    let s = ClamavScanner::new(impatient(addr)).expect("config");
    let v = s.scan(Bytes::from(pdf_like(8 * 1024 * 1024))).await;
    assert!(
        matches!(&v, Err(FilesError::ScannerFailed { reason, .. }) if reason.contains("before the whole file")),
        "{v:?}"
    );
    let outcome = scan_before_processing(Some(&s), Bytes::from(pdf_like(8 * 1024 * 1024)))
        .await
        .expect("wait");
    assert!(matches!(outcome, ScanOutcome::Wait { .. }), "{outcome:?}");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_error_replies_are_failures_not_verdicts() {
    for (reply, then_close) in [
        (&b"stream: Can't allocate memory ERROR\0"[..], false),
        (b"stream: OKAY\0", false),
        (b"stream: \0", false),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", true),
    ] {
        let (addr, task) = lying_server(reply, then_close).await;
        let s = ClamavScanner::new(impatient(addr)).expect("config");
        let v = s.scan(Bytes::from_static(b"%PDF-1.7\n")).await;
        // A peer that answers garbage and closes may reset the connection
        // before we read its reply: that is indistinguishable from an
        // outage. Either way it is never a verdict.
        assert!(
            matches!(v, Err(FilesError::ScannerFailed { .. }))
                || (then_close && matches!(v, Err(FilesError::ScannerUnavailable { .. }))),
            "{reply:?}: {v:?}"
        );
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clamd_refuses_streams_over_its_stream_max_length() {
    let Some(clamd) = clamd().await else { return };
    // No local limit: clamd itself refuses (its StreamMaxLength is 32M),
    // at the last byte and in the middle of the stream (it then closes the
    // connection while we are still writing).
    let s = ClamavScanner::new(ClamavConfig {
        stream_max_length: 0,
        ..config(clamd.tcp_address())
    })
    .expect("config");
    let limit = usize::try_from(STREAM_LIMIT).expect("fits");
    for len in [limit + 1, limit + 8 * 1024 * 1024] {
        let v = s.scan(Bytes::from(vec![0u8; len])).await;
        assert!(
            matches!(v, Err(FilesError::ScanTooLarge { limit: None })),
            "{len} bytes: {v:?}"
        );
    }
    let err = scan_before_processing(Some(&s), Bytes::from(vec![0u8; limit + 1]))
        .await
        .expect_err("never clean, never wait");
    assert_eq!(err.code(), "scan_too_large");
    assert_eq!(
        s.scan(Bytes::from(vec![0u8; limit]))
            .await
            .expect("at the limit"),
        Verdict::Clean
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eicar_is_quarantined_by_the_pipeline() {
    let Some(clamd) = clamd().await else { return };
    let s = ClamavScanner::new(config(clamd.tcp_address())).expect("config");
    let outcome = scan_before_processing(Some(&s), eicar())
        .await
        .expect("verdict");
    match outcome {
        ScanOutcome::Quarantine { signature } => assert!(
            is_signature(&signature, EICAR) || is_signature(&signature, EICAR_BODY),
            "{signature:?}"
        ),
        other => panic!("expected quarantine, got {other:?}"),
    }
    // clamd names signatures of unsigned databases *.UNOFFICIAL.
    let v = s.scan(eicar()).await.expect("verdict");
    assert!(
        matches!(&v, Verdict::Infected { signature } if signature.ends_with(".UNOFFICIAL")),
        "{v:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unix_socket_speaks_the_same_protocol() {
    let Some(clamd) = clamd().await else { return };
    let s = ClamavScanner::new(config(clamd.unix_address())).expect("config");
    s.ping().await.expect("ping over the unix socket");
    let version = s.version().await.expect("version");
    assert!(version.starts_with("ClamAV "), "{version:?}");
    assert_eq!(
        s.scan(Bytes::from(pdf_like(500_000))).await.expect("clean"),
        Verdict::Clean
    );
    let mut embedded = pdf_like(500_000);
    embedded[65_500..65_568].copy_from_slice(&eicar());
    match s.scan(Bytes::from(embedded)).await.expect("verdict") {
        Verdict::Infected { signature } => {
            assert!(is_signature(&signature, EICAR_BODY), "{signature:?}")
        }
        other => panic!("expected EICAR, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_chunks_and_tight_concurrency_still_answer() {
    let Some(clamd) = clamd().await else { return };
    // 1-byte-ish chunks stress the framing; one slot serialises the scans.
    let s = Arc::new(
        ClamavScanner::new(ClamavConfig {
            chunk_size: 7,
            max_concurrent: 1,
            ..config(clamd.tcp_address())
        })
        .expect("config"),
    );
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut data = pdf_like(20_000);
                if i % 2 == 1 {
                    data[9_990..10_058].copy_from_slice(&eicar());
                }
                (i, s.scan(Bytes::from(data)).await)
            })
        })
        .collect();
    for t in tasks {
        let (i, v) = t.await.expect("join");
        if i % 2 == 1 {
            assert!(matches!(v, Ok(Verdict::Infected { .. })), "{i}: {v:?}");
        } else {
            assert_eq!(v.expect("clean"), Verdict::Clean, "{i}");
        }
    }
}
