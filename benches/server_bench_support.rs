//! Shared by the server benches (`live_fanout`, `orders`), included with
//! `#[path]`: an in-process server on port 0 like the API tests'
//! `tests/api/support.rs`, accounts made through the HTTP API, signed
//! quotes and checkout bodies, percentiles.

#![allow(dead_code)] // each bench uses part of it

use std::path::PathBuf;
use std::time::Duration;

use puratan_core::domain::{Role, UserId};
use puratan_core::ports::NotificationKind;
use puratan_server::config::Config;
use puratan_server::server::Running;
use serde_json::{Value, json};

pub const PASSWORD: &str = "violet-tugboat-harmonica";

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub running: Running,
    pub _dir: tempfile::TempDir,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The embedded default (SQLite in a temp dir, in-process cache and bus),
/// the sample catalog, mail to memory, rate limits off; then `tweak`.
pub async fn spawn(tweak: impl FnOnce(&mut Config)) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.sqlite.path = dir.path().join("puratan.db");
    config.files.root = dir.path().join("files");
    config.catalog.seed_file = Some(repo_root().join("examples/catalog.json"));
    config.log.access_log = false;
    config.rate_limits.enabled = false;
    config.notify.backend = puratan_server::config::NotifyBackend::Memory;
    config.processing.worker_exe = Some(env!("CARGO_BIN_EXE_puratan").into());
    tweak(&mut config);
    let app = puratan_server::backends::build(config)
        .await
        .expect("build app");
    let running = puratan_server::server::start_on(app, listener)
        .await
        .expect("start");
    Server {
        base: format!("http://{}", running.addr),
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()
            .expect("client"),
        running,
        _dir: dir,
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, body: &Value, bearer: Option<&str>) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// Registers, verifies (token from the memory mail outbox) and logs
    /// in; returns the access token.
    pub async fn customer(&self, email: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/register",
                &json!({"email": email, "password": PASSWORD, "display_name": "Bench"}),
                None,
            )
            .await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
        let token = self
            .running
            .app
            .outbox
            .as_ref()
            .expect("memory outbox")
            .last_to(email, NotificationKind::VerifyEmail)
            .and_then(|m| m.token)
            .expect("verification mail");
        let r = self
            .post(
                "/api/v1/auth/verify-email",
                &json!({ "token": token }),
                None,
            )
            .await;
        assert_eq!(r.status(), 204);
        self.login(email).await
    }

    pub async fn login(&self, email: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/login",
                &json!({"email": email, "password": PASSWORD}),
                None,
            )
            .await;
        assert_eq!(r.status(), 200, "login of {email}");
        let v: Value = r.json().await.expect("json");
        v["access_token"].as_str().expect("access_token").to_owned()
    }

    /// A verified account with `role` (granted through the user store, as
    /// `puratan users grant` does), logged in afterwards.
    pub async fn user_with_role(&self, email: &str, role: Role) -> String {
        let token = self.customer(email).await;
        let me: Value = self
            .client
            .get(self.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("json");
        let id = UserId::parse(me["id"].as_str().expect("id")).expect("user id");
        let users = &self.running.app.users;
        let mut u = users.get(id).await.expect("user");
        u.roles = vec![role];
        users.update(u).await.expect("update");
        self.login(email).await
    }

    /// A checkout line for 500 business cards with a fresh signed quote,
    /// and its total and currency.
    pub async fn card_line(&self) -> (Value, String, String) {
        let request = json!({"product": "business-card", "quantity": 500, "paper": "silk-350",
                             "color": "4/4", "turnaround": "standard", "region": "DE"});
        let r = self.post("/api/v1/quotes", &request, None).await;
        assert_eq!(r.status(), 201);
        let q: Value = r.json().await.expect("json");
        let line = json!({"product_id": "business-card", "quantity": 500,
            "options": {"paper": "silk-350", "color": "4/4", "turnaround": "standard", "region": "DE"},
            "quote_token": q["token"]});
        (
            line,
            q["quote"]["total"].as_str().expect("total").to_owned(),
            q["quote"]["currency"]
                .as_str()
                .expect("currency")
                .to_owned(),
        )
    }
}

/// A checkout body with one line.
pub fn checkout_body(line: &Value, amount: &str, currency: &str) -> Value {
    json!({"lines": [line],
           "shipping_address": {"name": "Ann Example", "line1": "Main St 1", "postal_code": "10115",
                                "city": "Berlin", "country": "DE"},
           "expected_total": {"amount": amount, "currency": currency}})
}

/// Places an order as `bearer`; returns the order view.
pub async fn place_order(s: &Server, bearer: &str, key: &str) -> Value {
    let (line, total, cur) = s.card_line().await;
    let r = s
        .client
        .post(s.url("/api/v1/orders"))
        .bearer_auth(bearer)
        .header("Idempotency-Key", key)
        .json(&checkout_body(&line, &total, &cur))
        .send()
        .await
        .expect("checkout");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    r.json().await.expect("json")
}

/// The `p`-th percentile (0–100, nearest rank) of sorted `xs`.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Whether something accepts TCP connections at `addr` (within 2 s).
pub async fn reachable(addr: &str) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}
