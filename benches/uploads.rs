//! Upload throughput of the tus endpoint to local disk: the full router
//! (gateway, token check, body limit, tus protocol, SQLite upload state,
//! `object_store` local file store) driven in-process, one 256 MiB upload
//! per iteration in 8 MiB `PATCH` chunks, the final whole-file SHA-256
//! included. Criterion reports MiB/s (throughput in bytes).
//!
//! `cargo bench -p puratan-server --bench uploads`

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use puratan_core::domain::Role;
use tower::ServiceExt;

const CHUNK: usize = 8 * 1024 * 1024;
const SIZE: usize = 256 * 1024 * 1024;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = puratan_server::config::Config::default();
    config.sqlite.path = dir.path().join("db.sqlite");
    config.files.root = dir.path().join("files");
    config.log.access_log = false;
    config.rate_limits.enabled = false;
    config.server.request_timeout_ms = 120_000;
    config.uploads.max_size = SIZE as u64;
    config.uploads.max_chunk = CHUNK as u64;
    let (router, token) = rt.block_on(async {
        let app = puratan_server::backends::build(config).await.expect("app");
        let now = u64::try_from(chrono::Utc::now().timestamp()).expect("time");
        let (token, _) = app
            .auth
            .tokens
            .issue_in_session(
                "0192f0c4-7d1e-7000-8000-000000000001",
                &[Role::Customer],
                None,
                now,
            )
            .expect("token");
        (
            puratan_server::http::router(app),
            format!("Bearer {}", token.into_string()),
        )
    });
    // Incompressible bytes, one buffer reused for every chunk.
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let chunk = bytes::Bytes::from(
        (0..CHUNK)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect::<Vec<u8>>(),
    );

    let upload = |router: axum::Router, token: String, chunk: bytes::Bytes| async move {
        let resp = router
            .clone()
            .oneshot(
                Request::post("/files/")
                    .header("authorization", &token)
                    .header("tus-resumable", "1.0.0")
                    .header("upload-length", SIZE.to_string())
                    .body(Body::empty())
                    .expect("req"),
            )
            .await
            .expect("resp");
        assert_eq!(resp.status(), 201);
        let location = resp.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        for offset in (0..SIZE).step_by(CHUNK) {
            let resp = router
                .clone()
                .oneshot(
                    Request::patch(&location)
                        .header("authorization", &token)
                        .header("tus-resumable", "1.0.0")
                        .header("upload-offset", offset.to_string())
                        .header("content-type", "application/offset+octet-stream")
                        .body(Body::from(chunk.clone()))
                        .expect("req"),
                )
                .await
                .expect("resp");
            assert_eq!(resp.status(), 204, "PATCH at {offset}");
        }
        location
    };
    let terminate = |router: axum::Router, token: String, location: String| async move {
        let resp = router
            .oneshot(
                Request::delete(&location)
                    .header("authorization", &token)
                    .header("tus-resumable", "1.0.0")
                    .body(Body::empty())
                    .expect("req"),
            )
            .await
            .expect("resp");
        assert_eq!(resp.status(), 204);
    };

    let mut group = c.benchmark_group("tus_upload_local_disk");
    group
        .throughput(Throughput::Bytes(SIZE as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("256MiB_in_8MiB_patches", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let location = rt.block_on(upload(router.clone(), token.clone(), chunk.clone()));
                total += start.elapsed();
                // Termination (removing 256 MiB) is not part of the upload.
                rt.block_on(terminate(router.clone(), token.clone(), location));
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
