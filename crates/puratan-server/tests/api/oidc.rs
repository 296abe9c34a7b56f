//! "Log in with …" against a real OpenID provider (npm `oidc-provider`,
//! started by scripts/services/oidc.sh): happy path, account linking, and
//! the failures — state mismatch, missing browser binding, a replayed
//! callback, wrong issuer, e-mail collision, unverified e-mail.

use puratan_server::config::{NotifyBackend, OidcProviderConfig};
use puratan_testkit::oidc::{CLIENT, Client, ProviderHandle, drive_login, ensure_provider};
use serde_json::{Value, json};

use crate::auth::{PASSWORD, access};
use crate::support::{TestApp, expect_error, spawn_app_at};

fn provider(
    name: &str,
    issuer: &str,
    client: Client,
    base: &str,
    redirect_name: &str,
) -> OidcProviderConfig {
    OidcProviderConfig {
        name: name.into(),
        issuer: issuer.into(),
        client_id: client.id.into(),
        client_secret: client.secret.into(),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        redirect_uri: format!("{base}/api/v1/auth/oauth/{redirect_name}/callback"),
    }
}

/// A server whose `local` provider is the real one; `tweak` may adjust the
/// provider list (e.g. a wrong issuer).
async fn app_with(
    p: &ProviderHandle,
    tweak: impl FnOnce(&mut Vec<OidcProviderConfig>, &str),
) -> TestApp {
    let p = p.clone();
    spawn_app_at(move |c, base| {
        c.notify.backend = NotifyBackend::Memory;
        let mut list = vec![provider("local", &p.issuer, CLIENT, base, "local")];
        tweak(&mut list, base);
        c.auth.oidc = list;
    })
    .await
}

/// Start → provider login → our callback URL (with the binding cookie).
async fn begin(app: &TestApp, provider: &str, bearer: Option<&str>) -> (String, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut req = client.get(app.url(&format!("/api/v1/auth/oauth/{provider}/start")));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("start");
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap_or_default());
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().expect("pair").to_owned();
    (location, cookie)
}

async fn finish(app: &TestApp, callback_url: &str, cookie: &str) -> reqwest::Response {
    app.client
        .get(callback_url)
        .header("cookie", cookie)
        .send()
        .await
        .expect("callback")
}

async fn login_as(app: &TestApp, name: &str) -> reqwest::Response {
    let (url, cookie) = begin(app, "local", None).await;
    let callback = drive_login(&url, name).await.expect("provider login");
    finish(app, &callback, &cookie).await
}

#[tokio::test]
async fn oidc_login_creates_then_logs_into_the_same_account() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let app = app_with(&p, |_, _| {}).await;
    let r = login_as(&app, "oidc-ann").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let tokens: Value = r.json().await.expect("json");
    let me: Value = app
        .get_auth("/api/v1/me", access(&tokens))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "oidc-ann@example.test");
    assert_eq!(me["linked_providers"], json!([p.issuer]));
    // Second login: same account, no duplicate.
    let again: Value = login_as(&app, "oidc-ann").await.json().await.expect("json");
    let me2: Value = app
        .get_auth("/api/v1/me", access(&again))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["id"], me2["id"]);
    // A replayed callback (same state, same code) finds no pending login.
    let (url, cookie) = begin(&app, "local", None).await;
    let callback = drive_login(&url, "oidc-ann").await.expect("login");
    assert_eq!(finish(&app, &callback, &cookie).await.status(), 200);
    expect_error(
        finish(&app, &callback, &cookie).await,
        400,
        "oidc_state_mismatch",
    )
    .await;
}

#[tokio::test]
async fn state_must_match_and_be_bound_to_the_browser() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let app = app_with(&p, |_, _| {}).await;
    let (url, cookie) = begin(&app, "local", None).await;
    let callback = drive_login(&url, "oidc-csrf").await.expect("login");
    // Another browser (no cookie) presenting a valid callback: login CSRF.
    expect_error(
        app.get(&callback.replacen(&app.base, "", 1)).await,
        400,
        "oidc_state_mismatch",
    )
    .await;
    // A tampered state with the right cookie.
    let tampered = callback.replace("state=", "state=x");
    expect_error(
        finish(&app, &tampered, &cookie).await,
        400,
        "oidc_state_mismatch",
    )
    .await;
    // The untouched callback still works (nothing above consumed it).
    assert_eq!(finish(&app, &callback, &cookie).await.status(), 200);
}

#[tokio::test]
async fn a_wrong_issuer_is_refused_before_the_user_leaves() {
    // Wrong audience and wrong ID-token issuer are covered against the same
    // provider in crates/puratan-testkit/tests/oidc_provider.rs.
    let Some(p) = ensure_provider().await else {
        return;
    };
    let main = p.issuer.clone();
    let app = app_with(&p, move |list, base| {
        // Configured issuer differs from what the provider's discovery says.
        let mut wrong = provider("wrongiss", &main, CLIENT, base, "wrongiss");
        wrong.issuer = format!("{main}/");
        list.push(wrong);
    })
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    // Discovery of the misconfigured issuer fails before the user leaves.
    let r = client
        .get(app.url("/api/v1/auth/oauth/wrongiss/start"))
        .send()
        .await
        .expect("start");
    expect_error(r, 400, "oidc_issuer_mismatch").await;
    // Unknown provider name.
    expect_error(
        app.get("/api/v1/auth/oauth/nope/start").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_unlinked_identity_never_takes_over_an_account_by_email() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let app = app_with(&p, |_, _| {}).await;
    // A password account already owns the address the provider will assert.
    let tokens = app.customer("oidc-bob@example.test").await;
    expect_error(login_as(&app, "oidc-bob").await, 400, "oidc_email_taken").await;
    // Logged in, Bob links the provider; then it logs him in.
    let (url, cookie) = begin(&app, "local", Some(access(&tokens))).await;
    let callback = drive_login(&url, "oidc-bob").await.expect("login");
    assert_eq!(finish(&app, &callback, &cookie).await.status(), 200);
    let via_oidc: Value = login_as(&app, "oidc-bob").await.json().await.expect("json");
    let me: Value = app
        .get_auth("/api/v1/me", access(&via_oidc))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "oidc-bob@example.test");
    // Password login still works too.
    app.login("oidc-bob@example.test", PASSWORD).await;
    // Unverified provider e-mail cannot create an account.
    expect_error(
        login_as(&app, "unverified-eve").await,
        400,
        "oidc_email_unverified",
    )
    .await;
}
