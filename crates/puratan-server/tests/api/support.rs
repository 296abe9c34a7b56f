use std::path::PathBuf;

use puratan_server::config::Config;
use puratan_server::server::Running;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub running: Option<Running>,
    pub _dir: tempfile::TempDir,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn sample_catalog() -> PathBuf {
    repo_root().join("examples/catalog.json")
}

/// A server on the embedded default with the sample catalog, after
/// `tweak` adjusted its configuration.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_at(|c, _| tweak(c)).await
}

/// Like [`spawn_app_with`], but `tweak` also gets the server's base URL
/// (bound before the configuration is built: redirect URIs need it).
pub async fn spawn_app_at(tweak: impl FnOnce(&mut Config, &str)) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.sqlite.path = dir.path().join("puratan.db");
    config.files.root = dir.path().join("files");
    config.catalog.seed_file = Some(sample_catalog());
    config.log.access_log = false;
    config.notify.backend = puratan_server::config::NotifyBackend::Memory;
    // Jobs run isolated in the real binary, as in production.
    config.processing.worker_exe = Some(env!("CARGO_BIN_EXE_puratan").into());
    tweak(&mut config, &base);
    let app = puratan_server::backends::build(config)
        .await
        .expect("build app");
    let running = puratan_server::server::start_on(app, listener)
        .await
        .expect("start");
    TestApp {
        base: format!("http://{}", running.addr),
        client: reqwest::Client::new(),
        running: Some(running),
        _dir: dir,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub fn app(&self) -> &puratan_server::state::App {
        &self.running.as_ref().expect("running").app
    }
}

/// Asserts the JSON error model and returns the body.
pub async fn expect_error(resp: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let header_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("x-request-id header");
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let body: serde_json::Value = resp.json().await.expect("json body");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(
        body["request_id"], header_id,
        "request id in body matches header"
    );
    body
}
