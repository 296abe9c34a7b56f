//! `notify.backend = "smtp"` against a real SMTP server (`aiosmtpd`, see
//! scripts/services/smtp.sh): the verification mail arrives with the right
//! envelope and headers, its link token is the real one, and a relay that
//! is down never changes the HTTP answer.

use std::time::{Duration, Instant};

use puratan_server::config::{NotifyBackend, SmtpConfig, SmtpSecurity};
use puratan_testkit::service::unique;
use puratan_testkit::smtp::ensure_sink;
use serde_json::json;

use crate::support::{TestApp, spawn_app_with};

const FROM: &str = "shop@puratan.test";
const PASSWORD: &str = "violet-tugboat-harmonica";

fn smtp_config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        from: FROM.into(),
        username: None,
        password: None,
    }
}

async fn spawn_with_relay(port: u16) -> TestApp {
    spawn_app_with(|c| {
        c.notify.backend = NotifyBackend::Smtp;
        c.notify.smtp = Some(smtp_config(port));
    })
    .await
}

async fn post(app: &TestApp, path: &str, body: serde_json::Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn register(app: &TestApp, email: &str) -> reqwest::Response {
    post(
        app,
        "/api/v1/auth/register",
        json!({"email": email, "password": PASSWORD, "display_name": "Ann"}),
    )
    .await
}

#[tokio::test]
async fn verification_mail_arrives_with_the_real_token() {
    let Some(sink) = ensure_sink().await else {
        return;
    };
    let app = spawn_with_relay(sink.port).await;
    let email = format!("{}@example.com", unique("smtp-"));

    let r = register(&app, &email).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());

    let mail = sink
        .wait_for(&email, Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        mail.envelope_to(),
        std::slice::from_ref(&email),
        "{}",
        mail.raw
    );
    assert_eq!(mail.envelope_from(), Some(FROM), "{}", mail.raw);
    assert_eq!(mail.header("From"), Some(FROM), "{}", mail.raw);
    assert_eq!(mail.header("To"), Some(email.as_str()), "{}", mail.raw);
    assert_eq!(
        mail.header("Subject"),
        Some("Confirm your e-mail address"),
        "{}",
        mail.raw
    );
    let content_type = mail.header("Content-Type").unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{}", mail.raw);
    assert!(
        mail.header("Message-ID")
            .is_some_and(|id| id.ends_with("@puratan.test>")),
        "{}",
        mail.raw
    );

    let link_at = mail
        .body
        .find("/verify-email?token=")
        .unwrap_or_else(|| panic!("no verification link in the body: {}", mail.body));
    let link = &mail.body[link_at..];
    let token: String = link["/verify-email?token=".len()..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(token.len() >= 16, "token {token:?} in {}", mail.body);
    // The token travels in the body only: no header carries it.
    for (name, value) in &mail.headers {
        assert!(!value.contains(&token), "token in header {name}");
    }

    let r = post(&app, "/api/v1/auth/verify-email", json!({ "token": token })).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    // One-time: the same link does not work twice.
    let r = post(&app, "/api/v1/auth/verify-email", json!({ "token": token })).await;
    assert_eq!(r.status(), 400, "{}", r.text().await.unwrap_or_default());
}

#[tokio::test]
async fn relay_down_does_not_change_the_answer() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let app = spawn_with_relay(port).await;
    let email = format!("{}@example.com", unique("smtp-down-"));

    let started = Instant::now();
    let r = register(&app, &email).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "register took {:?} with the relay down",
        started.elapsed()
    );
    // The same answer for an address that already exists (no enumeration
    // through mail failures either).
    let r = register(&app, &email).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
}
