//! Tests that run real `puratan serve` processes: graceful shutdown under
//! load, replicas sharing one rate-limit budget through Redis, and the
//! fail-open fallback when Redis disappears, and the fault tests
//! ([`faults`]: a crashing broker, a killed server).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod broker;
mod faults;
mod live_client;

use live_client::LiveClient;

const TOKEN: &str = "process-test-admin-token-0123456789abcdef";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path, extra: &[(&str, String)]) -> Server {
        Self::run(data, &["serve"], extra)
    }

    /// `puratan <args>` (serve, worker, users …) with the test environment.
    fn run(data: &Path, args: &[&str], extra: &[(&str, String)]) -> Server {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_puratan"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PURATAN__")) {
            cmd.env_remove(k);
        }
        cmd.args(args)
            .current_dir(data)
            .env("PURATAN__SERVER__PORT", port.to_string())
            .env("PURATAN__SQLITE__PATH", data.join("puratan.db"))
            .env("PURATAN__FILES__ROOT", data.join("files"))
            .env("PURATAN__ADMIN__TOKEN", TOKEN)
            .env("PURATAN__LOG__ACCESS_LOG", "false")
            .env(
                "PURATAN__CATALOG__SEED_FILE",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog.json"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn puratan");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn ready(mut self) -> Server {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return self;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("puratan exited during start-up: {status}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("puratan did not become healthy within 30 s");
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig} failed");
    }

    async fn wait_exit(mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "puratan did not exit within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_write_load_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(dir.path(), &[]).ready().await;
    let base = server.base.clone();

    let writers: Vec<_> = (0..8)
        .map(|w| {
            let base = base.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut acked = Vec::new();
                for i in 0.. {
                    let id = format!("load-{w}-{i}");
                    let body =
                        json!({"sku": format!("L{w}-{i}"), "name": "Load", "category": "load"});
                    let sent = client
                        .put(format!("{base}/api/v1/admin/products/{id}"))
                        .bearer_auth(TOKEN)
                        .json(&body)
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 201 => acked.push(id),
                        Ok(r) if r.status().is_server_error() => {
                            panic!("server error during shutdown: {}", r.status())
                        }
                        // Refused or reset once shutdown began: not acknowledged.
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(700)).await;
    server.signal("-TERM");
    let status = server.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "graceful exit, got {status}");

    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.expect("writer"));
    }
    assert!(
        acked.len() >= 20,
        "the load was real: {} writes acknowledged",
        acked.len()
    );

    // Same data directory, new process: every acknowledged write is there.
    let server = Server::start(dir.path(), &[]).ready().await;
    let client = reqwest::Client::new();
    for id in &acked {
        let r = client
            .get(format!("{}/api/v1/admin/products/{id}", server.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200, "acknowledged product {id} lost");
    }
}

fn redis_url() -> String {
    std::env::var("PURATAN_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn redis_reachable(url: &str) -> Result<(), String> {
    let addr = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:6379")
        .to_owned();
    std::net::TcpStream::connect_timeout(
        &addr.parse().map_err(|e| format!("{e}"))?,
        Duration::from_secs(1),
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_one_rate_limit_budget_through_redis() {
    let url = redis_url();
    if puratan_testkit::service::require("Redis", redis_reachable(&url)).is_none() {
        return;
    }
    let prefix = puratan_testkit::service::unique("rl");
    let env = [
        ("PURATAN__CACHE", "redis".to_owned()),
        ("PURATAN__REDIS__URL", url),
        ("PURATAN__REDIS__KEY_PREFIX", prefix),
        ("PURATAN__RATE_LIMITS__PUBLIC_PER_MINUTE", "10".to_owned()),
    ];
    let (da, db) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let a = Server::start(da.path(), &env).ready().await;
    let b = Server::start(db.path(), &env).ready().await;
    let client = reqwest::Client::new();
    let mut allowed = 0;
    let mut refused = 0;
    for i in 0..16 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let r = client
            .get(format!("{base}/api/v1/products"))
            .send()
            .await
            .expect("get");
        match r.status().as_u16() {
            200 => allowed += 1,
            429 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        (allowed, refused),
        (10, 6),
        "one budget of 10 across both replicas"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn losing_redis_fails_login_closed_and_keeps_serving_the_catalog() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tmp");
    let spawned = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .spawn();
    let Some(mut redis) = puratan_testkit::service::require("redis-server binary", spawned) else {
        return;
    };
    let url = format!("redis://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis_reachable(&url).is_err() {
        assert!(
            Instant::now() < deadline,
            "private redis-server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let server = Server::start(
        dir.path(),
        &[
            ("PURATAN__CACHE", "redis".to_owned()),
            ("PURATAN__REDIS__URL", url),
            ("PURATAN__REDIS__CONNECT_TIMEOUT_MS", "300".to_owned()),
            ("PURATAN__RATE_LIMITS__PUBLIC_PER_MINUTE", "3".to_owned()),
        ],
    )
    .ready()
    .await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", server.base)).send();
    let login = || {
        client
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(&serde_json::json!({"email": "nobody@example.com", "password": "not-a-real-one"}))
            .send()
    };
    assert_eq!(get("/api/v1/products").await.expect("get").status(), 200);
    assert_eq!(login().await.expect("login").status(), 401);

    redis.kill().expect("kill redis");
    redis.wait().expect("reap redis");

    // Login fails closed (its attempt budgets live in Redis) with a clear
    // code, while the public catalog keeps being served below.
    let refused = login().await.expect("login");
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["code"], "unavailable", "{body}");

    // The catalog is still served (cache misses read through), limited by
    // the per-process limiter: exactly 3 per minute for this new budget.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            get("/api/v1/products/business-card")
                .await
                .expect("get")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    let ready = get("/readyz").await.expect("readyz");
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.expect("json");
    let redis_status = body["backends"]
        .as_array()
        .and_then(|b| b.iter().find(|x| x["name"] == "redis"))
        .cloned();
    assert_eq!(
        redis_status.map(|r| r["ok"].clone()),
        Some(Value::Bool(false)),
        "{body}"
    );
    let metrics = get("/metrics")
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let fallback = metrics
        .lines()
        .find(|l| l.starts_with("puratan_rate_limit_fallback_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(fallback >= 4, "fallback counted: {fallback}");
}

#[test]
fn quote_cli_prices_a_stream_of_requests() {
    use std::io::Write as _;
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_puratan"))
        .args(["quote", "--catalog"])
        .arg(&catalog)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let good = r#"{"product":"business-card","quantity":500,"paper":"silk-350","color":"4/4","finishing":["matt-lam"],"turnaround":"express","customer_group":"trade","coupon":"welcome10","region":"DE","currency":"GBP","at":"2026-11-28T10:00:00Z"}"#;
    let input = format!(
        "{good}\n\n{{\"product\":\"nope\",\"quantity\":1,\"turnaround\":\"x\",\"region\":\"DE\"}}\nnot json\n"
    );
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3, "one result per non-empty line");
    // The engine's own answer for the same request.
    let doc: Value = serde_json::from_slice(&std::fs::read(&catalog).expect("read")).expect("json");
    let engine = puratan_pricing::Catalog::from_value(&doc).expect("catalog");
    let expected = engine
        .quote(&puratan_pricing::QuoteRequest::from_json(good).expect("req"))
        .expect("quote");
    assert_eq!(lines[0]["total"], expected.total.to_string());
    assert_eq!(lines[1]["error"]["code"], "unknown_product");
    assert_eq!(lines[2]["error"]["code"], "invalid_request");

    let check = Command::new(env!("CARGO_BIN_EXE_puratan"))
        .args(["catalog", "check"])
        .arg(&catalog)
        .output()
        .expect("run");
    assert!(check.status.success());
    let dir = tempfile::tempdir().expect("tmp");
    let mut bad = doc.clone();
    bad["presses"][0]["spoilage_pct"] = Value::from("-1");
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, serde_json::to_vec(&bad).expect("ser")).expect("write");
    let check = Command::new(env!("CARGO_BIN_EXE_puratan"))
        .args(["catalog", "check"])
        .arg(&bad_path)
        .output()
        .expect("run");
    assert!(!check.status.success());
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(err.contains("presses[0].spoilage_pct"), "{err}");
}

fn amqp_reachable() -> Result<(), String> {
    std::net::TcpStream::connect_timeout(
        &"127.0.0.1:5672".parse().map_err(|e| format!("{e}"))?,
        Duration::from_secs(1),
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Two replicas on one store with RabbitMQ: a catalog change made through
/// replica A reaches replica B's cache and its in-memory pricing catalog
/// through the fanout exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_changes_reach_every_replica_through_rabbitmq() {
    if puratan_testkit::service::require("RabbitMQ", amqp_reachable()).is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let shared = [
        ("PURATAN__EVENTS", "rabbitmq".to_owned()),
        (
            "PURATAN__SQLITE__PATH",
            dir.path().join("shared.db").display().to_string(),
        ),
        (
            "PURATAN__FILES__ROOT",
            dir.path().join("files").display().to_string(),
        ),
        ("PURATAN__CATALOG__CACHE_TTL_SECS", "3600".to_owned()),
    ];
    let (da, db) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let a = Server::start(da.path(), &shared).ready().await;
    let b = Server::start(db.path(), &shared).ready().await;
    let client = reqwest::Client::new();

    // B caches the product and prices with the seeded version.
    let before: Value = client
        .get(format!("{}/api/v1/products/business-card", b.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(before["name"], "Business cards");
    let quote_body = json!({"product": "business-card", "quantity": 500, "paper": "silk-350", "color": "4/4",
                            "turnaround": "standard", "region": "DE"});
    let q: Value = client
        .post(format!("{}/api/v1/quotes", b.base))
        .json(&quote_body)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(q["catalog_version"], "2026-11-28.1");

    // A imports a new version with a renamed product.
    let mut doc: Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog.json"))
            .expect("read"),
    )
    .expect("json");
    doc["version"] = json!("2026-12-24.1");
    doc["products"][0]["name"] = json!("Festive business cards");
    let r = client
        .post(format!("{}/api/v1/admin/catalog", a.base))
        .bearer_auth(TOKEN)
        .json(&doc)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), 200);

    // B sees both changes shortly (its cache TTL is an hour: only the
    // fanout message can explain a fresh answer).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let p: Value = client
            .get(format!("{}/api/v1/products/business-card", b.base))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let q: Value = client
            .post(format!("{}/api/v1/quotes", b.base))
            .json(&quote_body)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        if p["name"] == "Festive business cards" && q["catalog_version"] == "2026-12-24.1" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replica B still serves stale data: {} / {}",
            p["name"],
            q["catalog_version"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn catalog_import_and_export_round_trip_through_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog.json");
    let cli = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_puratan"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PURATAN__")) {
            cmd.env_remove(k);
        }
        cmd.args(args)
            .env("PURATAN__SQLITE__PATH", dir.path().join("db.sqlite"))
            .env("PURATAN__FILES__ROOT", dir.path().join("files"))
            .output()
            .expect("run puratan")
    };
    let import = cli(&["catalog", "import", catalog.to_str().expect("utf8")]);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let report: Value = serde_json::from_slice(&import.stdout).expect("report");
    assert_eq!(
        (report["created"].as_u64(), report["updated"].as_u64()),
        (Some(3), Some(0))
    );

    let export = cli(&["catalog", "export"]);
    assert!(export.status.success());
    let exported: Value = serde_json::from_slice(&export.stdout).expect("json");
    let original: Value =
        serde_json::from_slice(&std::fs::read(&catalog).expect("read")).expect("json");
    assert_eq!(exported["version"], original["version"]);
    assert_eq!(
        exported["products"], original["products"],
        "pricing document kept verbatim"
    );
    assert_eq!(exported["storefront"]["poster-a3"]["stock"], 250);
    assert_eq!(exported["storefront"]["business-card"]["sku"], "BC-STD");

    // Re-importing the export changes nothing but counts as updates.
    let path = dir.path().join("exported.json");
    std::fs::write(&path, &export.stdout).expect("write");
    let again = cli(&["catalog", "import", path.to_str().expect("utf8")]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let report: Value = serde_json::from_slice(&again.stdout).expect("report");
    assert_eq!(
        (report["created"].as_u64(), report["updated"].as_u64()),
        (Some(0), Some(3))
    );

    let cfg = cli(&["check-config"]);
    assert!(cfg.status.success());
    let text = String::from_utf8_lossy(&cfg.stdout);
    assert!(text.contains("storage = \"embedded\""), "{text}");
    let migrate = cli(&["migrate"]);
    assert!(migrate.status.success());
}

const TEST_PASSWORD: &str = "correct horse battery staple 42";

/// The environment of replicas that share one SQLite file, one file
/// store and RabbitMQ, plus `extra`.
fn rabbit_replica_env(dir: &Path, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("PURATAN__EVENTS", "rabbitmq".to_owned()),
        (
            "PURATAN__SQLITE__PATH",
            dir.join("shared.db").display().to_string(),
        ),
        (
            "PURATAN__FILES__ROOT",
            dir.join("files").display().to_string(),
        ),
        ("PURATAN_NEW_PASSWORD", TEST_PASSWORD.to_owned()),
    ];
    env.extend(extra.iter().cloned());
    env
}

/// `puratan users create` with [`TEST_PASSWORD`].
async fn create_user(dir: &Path, email: &str, env: &[(&str, String)]) {
    let created = Server::run(dir, &["users", "create", "--email", email], env)
        .wait_exit(Duration::from_secs(60))
        .await;
    assert!(created.success(), "users create {email}");
}

/// An access token for `email` from `base`.
async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let tokens: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": TEST_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    tokens["access_token"].as_str().expect("token").to_owned()
}

/// A corpus PDF (`../shared/corpus`, or `PURATAN_CORPUS`).
fn corpus(path: &str) -> Vec<u8> {
    let root = std::env::var("PURATAN_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("corpus file {path}: {e}"))
}

/// Uploads `bytes` with tus creation-with-upload; returns the file id.
async fn tus_upload(client: &reqwest::Client, base: &str, token: &str, bytes: Vec<u8>) -> String {
    let r = client
        .post(format!("{base}/files/"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", "filename dGhlc2lzLnBkZg==")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 201);
    r.headers()["puratan-file-id"]
        .to_str()
        .expect("id")
        .to_owned()
}

async fn processing_state(client: &reqwest::Client, base: &str, token: &str, id: &str) -> Value {
    client
        .get(format!("{base}/api/v1/files/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
        .json::<Value>()
        .await
        .expect("json")["processing"]
        .clone()
}

/// `puratan serve` with no workers of its own and separate `puratan worker`
/// processes on one RabbitMQ: jobs wait in the durable queue while no
/// worker runs and are processed once one starts — processing scales by
/// starting workers, not by touching the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn separate_worker_processes_take_jobs_from_the_queue() {
    if puratan_testkit::service::require("RabbitMQ", amqp_reachable()).is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let shared = rabbit_replica_env(
        dir.path(),
        &[("PURATAN__PROCESSING__WORKERS", "0".to_owned())],
    );
    let server = Server::start(dir.path(), &shared).ready().await;
    create_user(dir.path(), "worker-test@example.com", &shared).await;
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "worker-test@example.com").await;
    let pdf = corpus("pdf/pypdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf");

    // No worker yet: the job waits on the queue.
    let id = tus_upload(&client, &server.base, &token, pdf.clone()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        processing_state(&client, &server.base, &token, &id).await["state"],
        "queued"
    );

    // Two worker processes compete for jobs; the waiting one and new ones get done.
    let _w1 = Server::run(dir.path(), &["worker"], &shared);
    let _w2 = Server::run(dir.path(), &["worker"], &shared);
    let mut ids = vec![id];
    for _ in 0..3 {
        ids.push(tus_upload(&client, &server.base, &token, pdf.clone()).await);
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    for id in &ids {
        loop {
            let p = processing_state(&client, &server.base, &token, id).await;
            if p["state"] == "done" {
                assert_eq!(p["pages"], 4);
                assert_eq!(p["previews"].as_array().map(Vec::len), Some(5), "{p}");
                break;
            }
            assert_ne!(p["state"], "failed", "{p}");
            assert!(Instant::now() < deadline, "not processed in time: {p}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Live tracking across replicas: a customer's WebSocket is on replica B,
/// the order is placed and cancelled on replica A; the updates travel
/// A → outbox → RabbitMQ topic exchange → B's hub → the socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn order_updates_made_on_one_replica_reach_a_websocket_on_another() {
    if puratan_testkit::service::require("RabbitMQ", amqp_reachable()).is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let shared = rabbit_replica_env(dir.path(), &[]);
    create_user(dir.path(), "live-test@example.com", &shared).await;
    let (da, db) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let a = Server::start(da.path(), &shared).ready().await;
    let b = Server::start(db.path(), &shared).ready().await;
    let client = reqwest::Client::new();
    let post = |base: &str, path: &str, token: Option<&str>, body: Value| {
        let mut r = client.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let token = login(&client, &a.base, "live-test@example.com").await;

    // Subscribed on B.
    let mut live = LiveClient::connect(&client, &b.base, &token, "orders").await;

    // Ordered and cancelled on A.
    let quote_body = json!({"product": "business-card", "quantity": 500, "paper": "silk-350", "color": "4/4",
                            "turnaround": "standard", "region": "DE"});
    let q: Value = post(&a.base, "/api/v1/quotes", None, quote_body)
        .await
        .expect("quote")
        .json()
        .await
        .expect("json");
    let order: Value = client
        .post(format!("{}/api/v1/orders", a.base))
        .bearer_auth(&token)
        .header("Idempotency-Key", "two-replicas")
        .json(&json!({
            "lines": [{"product_id": "business-card", "quantity": 500, "quote_token": q["token"],
                       "options": {"paper": "silk-350", "color": "4/4", "turnaround": "standard", "region": "DE"}}],
            "shipping_address": {"name": "Ann", "line1": "Main St 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
            "expected_total": {"amount": q["quote"]["total"], "currency": q["quote"]["currency"]},
        }))
        .send()
        .await
        .expect("checkout")
        .json()
        .await
        .expect("json");
    let id = order["id"].as_str().expect("order id").to_owned();
    let created = live
        .next(Duration::from_secs(5))
        .await
        .expect("order.created on B");
    assert_eq!(created["data"]["order_id"], id.as_str());

    let fired = Instant::now();
    let r = post(
        &a.base,
        &format!("/api/v1/orders/{id}/transitions"),
        Some(&token),
        json!({"transition": "cancel", "version": order["version"]}),
    )
    .await
    .expect("cancel");
    assert_eq!(r.status(), 200);
    loop {
        let f = live
            .next(Duration::from_secs(1))
            .await
            .expect("the cancellation reaches B within 1 s");
        if f["data"]["to"] == "cancelled" {
            break;
        }
    }
    assert!(
        fired.elapsed() < Duration::from_secs(1),
        "{:?}",
        fired.elapsed()
    );
}
