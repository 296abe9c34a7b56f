//! Accounts over HTTP: registration → verification → login → tokens, 2FA,
//! refresh rotation, logout, password reset, lockout, mass assignment and
//! the route × role table.

use puratan_core::domain::{Role, UserId};
use puratan_core::ports::NotificationKind;
use serde_json::{Value, json};

use crate::support::{TestApp, expect_error, spawn_app, spawn_app_with};

pub const PASSWORD: &str = "violet-tugboat-harmonica";

impl TestApp {
    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        bearer: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn get_auth(&self, path: &str, bearer: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("request")
    }

    /// The link token of the newest message of `kind` to `email`.
    pub fn mailed_token(&self, email: &str, kind: NotificationKind) -> String {
        self.app()
            .outbox
            .as_ref()
            .expect("memory outbox")
            .last_to(email, kind)
            .and_then(|m| m.token)
            .unwrap_or_else(|| panic!("no {kind:?} mail to {email}"))
    }

    /// Registers, verifies and logs in; returns the token pair.
    pub async fn customer(&self, email: &str) -> Value {
        let r = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": email, "password": PASSWORD, "display_name": "Ann"}),
                None,
            )
            .await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
        let token = self.mailed_token(email, NotificationKind::VerifyEmail);
        let r = self
            .post_json(
                "/api/v1/auth/verify-email",
                &json!({ "token": token }),
                None,
            )
            .await;
        assert_eq!(r.status(), 204);
        self.login(email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        let r = self
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": email, "password": password}),
                None,
            )
            .await;
        assert_eq!(r.status(), 200, "login of {email}");
        r.json().await.expect("json")
    }

    /// A verified user with `role`, logged in after the role was granted.
    pub async fn user_with_role(&self, email: &str, role: Role) -> Value {
        let tokens = self.customer(email).await;
        if role != Role::Customer {
            let users = &self.app().users;
            let id = UserId::parse(&self.user_id(&tokens).await).expect("id");
            let mut u = users.get(id).await.expect("user");
            u.roles = vec![role];
            users.update(u).await.expect("update");
            return self.login(email, PASSWORD).await;
        }
        tokens
    }

    pub async fn user_id(&self, tokens: &Value) -> String {
        let me: Value = self
            .get_auth("/api/v1/me", access(tokens))
            .await
            .json()
            .await
            .expect("json");
        me["id"].as_str().expect("id").to_owned()
    }
}

pub fn access(tokens: &Value) -> &str {
    tokens["access_token"].as_str().expect("access_token")
}

fn refresh_token(tokens: &Value) -> &str {
    tokens["refresh_token"].as_str().expect("refresh_token")
}

#[tokio::test]
async fn register_verify_login_me_refresh_logout() {
    let app = spawn_app().await;
    // Before verification, the right password is not enough.
    let r = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "Ann@Example.com", "password": PASSWORD, "display_name": "Ann"}),
            None,
        )
        .await;
    assert_eq!(r.status(), 202);
    let r = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "ann@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    expect_error(r, 403, "email_not_verified").await;
    let token = app.mailed_token("ann@example.com", NotificationKind::VerifyEmail);
    assert_eq!(
        app.post_json(
            "/api/v1/auth/verify-email",
            &json!({ "token": token }),
            None
        )
        .await
        .status(),
        204
    );
    // A verification token works once.
    expect_error(
        app.post_json(
            "/api/v1/auth/verify-email",
            &json!({ "token": token }),
            None,
        )
        .await,
        400,
        "invalid_link_token",
    )
    .await;

    let tokens = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let me: Value = app
        .get_auth("/api/v1/me", access(&tokens))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["roles"], json!(["customer"]));
    assert_eq!(me["email_verified"], true);
    assert!(me.get("password_hash").is_none() && !me.to_string().contains("argon2"));

    // Refresh rotates: a new pair, same session.
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&tokens)}),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let rotated: Value = r.json().await.expect("json");
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
    assert_eq!(rotated["session_id"], tokens["session_id"]);

    // Logout: the access token is dead at once, so is the refresh token.
    let r = app
        .post_json("/api/v1/auth/logout", &json!({}), Some(access(&rotated)))
        .await;
    assert_eq!(r.status(), 204);
    expect_error(
        app.get_auth("/api/v1/me", access(&rotated)).await,
        401,
        "token_revoked",
    )
    .await;
    // The older access token of the same session is revoked with it.
    expect_error(
        app.get_auth("/api/v1/me", access(&tokens)).await,
        401,
        "token_revoked",
    )
    .await;
    expect_error(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&rotated)}),
            None,
        )
        .await,
        401,
        "refresh_revoked",
    )
    .await;

    // History shows the login and logout.
    let again = app.login("ann@example.com", PASSWORD).await;
    let history: Value = app
        .get_auth("/api/v1/me/history", access(&again))
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = history
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "auth.login",
        "auth.logout",
        "auth.email_verified",
        "auth.registered",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_session() {
    let app = spawn_app().await;
    let first = app.customer("reuse@example.com").await;
    let second: Value = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&first)}),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    // The attacker replays the first token…
    expect_error(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&first)}),
            None,
        )
        .await,
        401,
        "refresh_reuse_detected",
    )
    .await;
    // …and the legitimate newest token is dead too, as is its access token.
    expect_error(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&second)}),
            None,
        )
        .await,
        401,
        "refresh_revoked",
    )
    .await;
    expect_error(
        app.get_auth("/api/v1/me", access(&second)).await,
        401,
        "token_revoked",
    )
    .await;
    let audit = app.app().audit.recent(None, 50).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "auth.refresh_reuse"));
}

#[tokio::test]
async fn concurrent_refresh_of_one_token_succeeds_at_most_once() {
    let app = spawn_app().await;
    let tokens = app.customer("race@example.com").await;
    let body = json!({"refresh_token": refresh_token(&tokens)});
    let attempts = (0..8).map(|_| app.post_json("/api/v1/auth/refresh", &body, None));
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(ok <= 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn two_factor_login_codes_are_single_use() {
    use puratan_core::auth::totp::{Totp, TotpConfig, TotpSecret};
    let app = spawn_app().await;
    let tokens = app.customer("totp@example.com").await;
    let r = app
        .post_json(
            "/api/v1/auth/2fa/enrol",
            &json!({"password": PASSWORD}),
            Some(access(&tokens)),
        )
        .await;
    assert_eq!(r.status(), 200);
    let enrol: Value = r.json().await.expect("json");
    let uri = enrol["otpauth_uri"].as_str().expect("uri");
    assert!(uri.starts_with("otpauth://totp/Puratan:totp"), "{uri}");
    assert!(
        uri.contains("issuer=Puratan") && uri.contains("secret="),
        "{uri}"
    );
    assert!(enrol["qr_svg"].as_str().expect("svg").contains("<svg"));
    let totp = Totp::new(
        TotpSecret::from_base32(enrol["secret"].as_str().expect("secret")).expect("secret"),
        TotpConfig::default(),
    )
    .expect("totp");
    let now = || puratan_server::auth::now();
    let step = |t: u64| t / 30;

    // The TOTP secret is stored sealed, never in clear.
    let user = app
        .app()
        .users
        .get_by_email(&puratan_core::domain::Email::parse("totp@example.com").expect("email"))
        .await
        .expect("user");
    let stored = &user.security.totp.as_ref().expect("enrolment").secret;
    assert!(stored.starts_with("pe1."), "{stored}");
    assert!(!stored.contains(enrol["secret"].as_str().expect("secret")));

    let wrong = app
        .post_json(
            "/api/v1/auth/2fa/confirm",
            &json!({"code": "000000"}),
            Some(access(&tokens)),
        )
        .await;
    if totp.code_at(now()) != "000000" {
        expect_error(wrong, 401, "invalid_otp").await;
    }
    let r = app
        .post_json(
            "/api/v1/auth/2fa/confirm",
            &json!({"code": totp.code_at(now())}),
            Some(access(&tokens)),
        )
        .await;
    assert_eq!(r.status(), 200);
    let confirmed: Value = r.json().await.expect("json");
    let recovery: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    // Enabling 2FA ended the other sessions.
    expect_error(
        app.get_auth("/api/v1/me", access(&tokens)).await,
        401,
        "token_revoked",
    )
    .await;

    // Password alone now yields a challenge, not tokens.
    let challenge = app.login("totp@example.com", PASSWORD).await;
    assert_eq!(challenge["mfa_required"], true);
    assert!(challenge.get("access_token").is_none());
    let ch = challenge["challenge_token"]
        .as_str()
        .expect("challenge")
        .to_owned();
    // The code used for confirmation cannot log in (same step, already used).
    let t = now();
    let used_step = step(t);
    let code_now = totp.code_at(t);
    let r = app
        .post_json(
            "/api/v1/auth/login/2fa",
            &json!({"challenge_token": ch, "code": code_now}),
            None,
        )
        .await;
    if step(now()) == used_step {
        expect_error(r, 401, "otp_replay").await;
        // Wrong attempt left the challenge usable: next step's code (drift +1) works.
        let next = totp.code_for_step(used_step + 1);
        let r = app
            .post_json(
                "/api/v1/auth/login/2fa",
                &json!({"challenge_token": ch, "code": next}),
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
        // Drift +2 is too far.
        let ch2 = app.login("totp@example.com", PASSWORD).await["challenge_token"]
            .as_str()
            .expect("c")
            .to_owned();
        let far = totp.code_for_step(used_step + 3);
        expect_error(
            app.post_json(
                "/api/v1/auth/login/2fa",
                &json!({"challenge_token": ch2, "code": far}),
                None,
            )
            .await,
            401,
            "invalid_otp",
        )
        .await;
    }
    // A recovery code works once.
    let ch3 = app.login("totp@example.com", PASSWORD).await["challenge_token"]
        .as_str()
        .expect("c")
        .to_owned();
    let r = app
        .post_json(
            "/api/v1/auth/login/2fa",
            &json!({"challenge_token": ch3, "recovery_code": recovery[0]}),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let ch4 = app.login("totp@example.com", PASSWORD).await["challenge_token"]
        .as_str()
        .expect("c")
        .to_owned();
    expect_error(
        app.post_json(
            "/api/v1/auth/login/2fa",
            &json!({"challenge_token": ch4, "recovery_code": recovery[0]}),
            None,
        )
        .await,
        401,
        "invalid_recovery_code",
    )
    .await;
    // A challenge token is useless after max attempts.
    let ch5 = app.login("totp@example.com", PASSWORD).await["challenge_token"]
        .as_str()
        .expect("c")
        .to_owned();
    for _ in 0..5 {
        let _ = app
            .post_json(
                "/api/v1/auth/login/2fa",
                &json!({"challenge_token": ch5, "code": "12345x"}),
                None,
            )
            .await;
    }
    expect_error(
        app.post_json(
            "/api/v1/auth/login/2fa",
            &json!({"challenge_token": ch5, "recovery_code": recovery[1]}),
            None,
        )
        .await,
        400,
        "invalid_link_token",
    )
    .await;
}

#[tokio::test]
async fn password_reset_reveals_nothing_and_does_not_bypass_2fa() {
    let app = spawn_app().await;
    app.customer("reset@example.com").await;
    let known = app
        .post_json(
            "/api/v1/auth/password-reset",
            &json!({"email": "reset@example.com"}),
            None,
        )
        .await;
    let unknown = app
        .post_json(
            "/api/v1/auth/password-reset",
            &json!({"email": "nobody@example.com"}),
            None,
        )
        .await;
    assert_eq!(known.status(), 202);
    assert_eq!(unknown.status(), 202);
    assert_eq!(
        known.text().await.expect("body"),
        unknown.text().await.expect("body")
    );
    let token = app.mailed_token("reset@example.com", NotificationKind::PasswordReset);
    let new_password = "sapphire-lantern-orchestra";
    // Common passwords are refused.
    expect_error(
        app.post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({"token": token, "new_password": "password123"}),
            None,
        )
        .await,
        422,
        "password_too_common",
    )
    .await;
    let r = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({"token": token, "new_password": new_password}),
            None,
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "reset@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    expect_error(r, 401, "invalid_credentials").await;
    app.login("reset@example.com", new_password).await;
}

#[tokio::test]
async fn reset_with_2fa_needs_a_code() {
    use puratan_core::auth::totp::{Totp, TotpConfig, TotpSecret};
    let app = spawn_app().await;
    let tokens = app.customer("reset2fa@example.com").await;
    let enrol: Value = app
        .post_json(
            "/api/v1/auth/2fa/enrol",
            &json!({"password": PASSWORD}),
            Some(access(&tokens)),
        )
        .await
        .json()
        .await
        .expect("json");
    let totp = Totp::new(
        TotpSecret::from_base32(enrol["secret"].as_str().expect("secret")).expect("s"),
        TotpConfig::default(),
    )
    .expect("totp");
    let confirmed: Value = app
        .post_json(
            "/api/v1/auth/2fa/confirm",
            &json!({"code": totp.code_at(puratan_server::auth::now())}),
            Some(access(&tokens)),
        )
        .await
        .json()
        .await
        .expect("json");
    let recovery = confirmed["recovery_codes"][0]
        .as_str()
        .expect("code")
        .to_owned();
    app.post_json(
        "/api/v1/auth/password-reset",
        &json!({"email": "reset2fa@example.com"}),
        None,
    )
    .await;
    let token = app.mailed_token("reset2fa@example.com", NotificationKind::PasswordReset);
    let body = json!({"token": token, "new_password": "sapphire-lantern-orchestra"});
    expect_error(
        app.post_json("/api/v1/auth/password-reset/confirm", &body, None)
            .await,
        401,
        "otp_required",
    )
    .await;
    // The failed attempt kept the link usable; with a recovery code it works.
    let body =
        json!({"token": token, "new_password": "sapphire-lantern-orchestra", "code": recovery});
    assert_eq!(
        app.post_json("/api/v1/auth/password-reset/confirm", &body, None)
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn wrong_passwords_lock_the_account() {
    let app = spawn_app_with(|c| {
        c.auth.max_failed_logins = 3;
        c.notify.backend = puratan_server::config::NotifyBackend::Memory;
    })
    .await;
    app.customer("lock@example.com").await;
    for _ in 0..3 {
        let r = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": "lock@example.com", "password": "wrong-password-1"}),
                None,
            )
            .await;
        expect_error(r, 401, "invalid_credentials").await;
    }
    // Even the right password is refused while locked.
    let r = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "lock@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, 423, "account_locked").await;
    let audit = app.app().audit.recent(None, 50).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "auth.locked"));
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "auth.login_failed")
            .count(),
        3
    );
}

#[tokio::test]
async fn unknown_fields_cannot_assign_roles_status_or_prices() {
    let app = spawn_app().await;
    let r = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "mass@example.com", "password": PASSWORD, "display_name": "M", "roles": ["admin"]}),
            None,
        )
        .await;
    expect_error(r, 422, "validation_failed").await;
    let tokens = app.customer("mass@example.com").await;
    let me: Value = app
        .get_auth("/api/v1/me", access(&tokens))
        .await
        .json()
        .await
        .expect("json");
    for field in [
        "roles",
        "status",
        "email",
        "email_verified",
        "price",
        "total",
    ] {
        let r = app
            .client
            .patch(app.url("/api/v1/me"))
            .bearer_auth(access(&tokens))
            .json(&json!({"version": me["version"], field: "admin"}))
            .send()
            .await
            .expect("req");
        expect_error(r, 422, "validation_failed").await;
    }
    let ok = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(access(&tokens))
        .json(&json!({"version": me["version"], "display_name": "Mass", "preferences": {"lang": "de"}}))
        .send()
        .await
        .expect("req");
    assert_eq!(ok.status(), 200);
    let after: Value = ok.json().await.expect("json");
    assert_eq!(after["roles"], json!(["customer"]));
    assert_eq!(after["preferences"]["lang"], "de");
    // The cached profile view was evicted by the write.
    let again: Value = app
        .get_auth("/api/v1/me", access(&tokens))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["display_name"], "Mass");
    assert_eq!(again["version"], after["version"]);
}

#[tokio::test]
async fn sessions_are_listed_and_revocable_by_their_owner_only() {
    let app = spawn_app().await;
    let a1 = app.customer("sess@example.com").await;
    let a2 = app.login("sess@example.com", PASSWORD).await;
    let other = app.customer("other@example.com").await;
    let list: Value = app
        .get_auth("/api/v1/me/sessions", access(&a1))
        .await
        .json()
        .await
        .expect("json");
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    let sid2 = a2["session_id"].as_str().expect("sid");
    // Someone else's session: 404, not 403.
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{sid2}")))
        .bearer_auth(access(&other))
        .send()
        .await
        .expect("req");
    expect_error(r, 404, "not_found").await;
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{sid2}")))
        .bearer_auth(access(&a1))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 204);
    expect_error(
        app.get_auth("/api/v1/me", access(&a2)).await,
        401,
        "token_revoked",
    )
    .await;
    assert_eq!(app.get_auth("/api/v1/me", access(&a1)).await.status(), 200);
    // Log out everywhere.
    let r = app
        .post_json("/api/v1/auth/logout-all", &json!({}), Some(access(&a1)))
        .await;
    assert_eq!(r.status(), 200);
    expect_error(
        app.get_auth("/api/v1/me", access(&a1)).await,
        401,
        "token_revoked",
    )
    .await;
}

/// Every route × {anonymous, customer, staff, admin} → status. Bodies are
/// chosen so no row changes the callers' own sessions (those two routes,
/// logout and logout-all, are checked after the table).
#[tokio::test]
async fn route_role_table() {
    // One IP makes every call here: lift the per-IP login budget (its own
    // behaviour is tested in the gateway tests).
    let app = spawn_app_with(|c| {
        c.notify.backend = puratan_server::config::NotifyBackend::Memory;
        c.auth.sensitive_per_ip_per_minute = 10_000;
    })
    .await;
    let customer = app.user_with_role("c@example.com", Role::Customer).await;
    let staff = app.user_with_role("s@example.com", Role::Staff).await;
    let admin = app.user_with_role("a@example.com", Role::Admin).await;
    let target = app.user_id(&customer).await;
    let tokens = [
        None,
        Some(access(&customer).to_owned()),
        Some(access(&staff).to_owned()),
        Some(access(&admin).to_owned()),
    ];
    let none = Value::Null;
    let wrong_pw = json!({"password": "not-my-password", "code": "123456"});
    // (method, path, body, [anonymous, customer, staff, admin])
    let table: Vec<(&str, String, Value, [u16; 4])> = vec![
        // Public.
        ("GET", "/healthz".into(), none.clone(), [200; 4]),
        ("GET", "/api/v1/products".into(), none.clone(), [200; 4]),
        (
            "GET",
            "/api/v1/products/business-card".into(),
            none.clone(),
            [200; 4],
        ),
        (
            "POST",
            "/api/v1/quotes".into(),
            json!({"product": "nope"}),
            [422; 4],
        ),
        (
            "GET",
            "/.well-known/jwks.json".into(),
            none.clone(),
            [200; 4],
        ),
        (
            "POST",
            "/api/v1/auth/register".into(),
            json!({"email": "x@example.com"}),
            [422; 4],
        ),
        (
            "POST",
            "/api/v1/auth/verify-email".into(),
            json!({"token": "ver_nope"}),
            [400; 4],
        ),
        (
            "POST",
            "/api/v1/auth/login".into(),
            json!({"email": "c@example.com", "password": "wrong-password"}),
            [401; 4],
        ),
        (
            "POST",
            "/api/v1/auth/login/2fa".into(),
            json!({"challenge_token": "chl_nope", "code": "123456"}),
            [400; 4],
        ),
        (
            "POST",
            "/api/v1/auth/refresh".into(),
            json!({"refresh_token": "prt_nope"}),
            [401; 4],
        ),
        (
            "POST",
            "/api/v1/auth/password-reset".into(),
            json!({"email": "ghost@example.com"}),
            [202; 4],
        ),
        (
            "POST",
            "/api/v1/auth/password-reset/confirm".into(),
            json!({"token": "rst_nope", "new_password": "sapphire-lantern-orchestra"}),
            [400; 4],
        ),
        // Any logged-in user, on their own data.
        (
            "GET",
            "/api/v1/me".into(),
            none.clone(),
            [401, 200, 200, 200],
        ),
        (
            "PATCH",
            "/api/v1/me".into(),
            json!({"version": 999, "display_name": "X"}),
            [401, 409, 409, 409],
        ),
        (
            "GET",
            "/api/v1/me/sessions".into(),
            none.clone(),
            [401, 200, 200, 200],
        ),
        (
            "DELETE",
            "/api/v1/me/sessions/not-mine".into(),
            none.clone(),
            [401, 404, 404, 404],
        ),
        (
            "GET",
            "/api/v1/me/history".into(),
            none.clone(),
            [401, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/auth/password".into(),
            json!({"current_password": "not-my-password", "new_password": "sapphire-lantern-orchestra"}),
            [401, 401, 401, 401],
        ),
        (
            "POST",
            "/api/v1/auth/2fa/enrol".into(),
            json!({"password": "not-my-password"}),
            [401, 401, 401, 401],
        ),
        (
            "POST",
            "/api/v1/auth/2fa/confirm".into(),
            json!({"code": "123456"}),
            [401, 409, 409, 409],
        ),
        (
            "POST",
            "/api/v1/auth/2fa/disable".into(),
            wrong_pw.clone(),
            [401, 409, 409, 409],
        ),
        (
            "POST",
            "/api/v1/auth/2fa/recovery-codes".into(),
            wrong_pw.clone(),
            [401, 409, 409, 409],
        ),
        // Staff read customers; admins manage them.
        (
            "GET",
            "/api/v1/admin/users".into(),
            none.clone(),
            [401, 403, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/admin/users/{target}"),
            none.clone(),
            [401, 403, 200, 200],
        ),
        (
            "POST",
            format!("/api/v1/admin/users/{target}/status"),
            json!({"action": "unlock"}),
            [401, 403, 403, 200],
        ),
        (
            "PUT",
            format!("/api/v1/admin/users/{target}/roles"),
            json!({"roles": ["customer"], "version": 999}),
            [401, 403, 403, 409],
        ),
        (
            "POST",
            format!("/api/v1/admin/users/{target}/message"),
            json!({"subject": "Hi", "body": "Proof ready"}),
            [401, 403, 403, 202],
        ),
        // Catalog management: admins only.
        (
            "PUT",
            "/api/v1/admin/products/table-x".into(),
            json!({"sku": "TX-1", "name": "X", "category": "flyers"}),
            [401, 403, 403, 201],
        ),
        (
            "GET",
            "/api/v1/admin/products/table-x".into(),
            none.clone(),
            [401, 403, 403, 200],
        ),
        (
            "DELETE",
            "/api/v1/admin/products/table-x".into(),
            none.clone(),
            [401, 403, 403, 204],
        ),
        (
            "POST",
            "/api/v1/admin/catalog".into(),
            json!({"not": "a catalog"}),
            [401, 403, 403, 422],
        ),
        (
            "GET",
            "/api/v1/admin/catalog/versions".into(),
            none.clone(),
            [401, 403, 403, 200],
        ),
        (
            "GET",
            "/api/v1/admin/catalog/versions/nope".into(),
            none.clone(),
            [401, 403, 403, 404],
        ),
        (
            "GET",
            "/api/v1/admin/catalog/diff?from=nope&to=nope".into(),
            none.clone(),
            [401, 403, 403, 404],
        ),
        (
            "POST",
            "/api/v1/admin/catalog/rollback".into(),
            json!({"version": "nope"}),
            [401, 403, 403, 404],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &table {
        for (who, token) in tokens.iter().enumerate() {
            let mut req = app
                .client
                .request(method.parse().expect("method"), app.url(path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if !body.is_null() {
                req = req.json(body);
            }
            let resp = req.send().await.expect("req");
            let status = resp.status().as_u16();
            let who_name = ["anonymous", "customer", "staff", "admin"][who];
            if status != expected[who] {
                failures.push(format!(
                    "{method} {path} as {who_name}: {status}, expected {}",
                    expected[who]
                ));
            } else if who == 0 && status == 401 && !path.starts_with("/api/v1/auth/") {
                // Anonymous callers are told to authenticate, nothing else.
                let body: Value = resp.json().await.expect("json");
                assert_eq!(body["code"], "unauthorized", "{method} {path}");
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Session-ending routes, with fresh logins per role.
    for (email, _) in [
        ("c@example.com", 0),
        ("s@example.com", 1),
        ("a@example.com", 2),
    ] {
        let t = app.login(email, PASSWORD).await;
        assert_eq!(
            app.post_json("/api/v1/auth/logout", &json!({}), Some(access(&t)))
                .await
                .status(),
            204
        );
        let t = app.login(email, PASSWORD).await;
        assert_eq!(
            app.post_json("/api/v1/auth/logout-all", &json!({}), Some(access(&t)))
                .await
                .status(),
            200
        );
    }
    for path in ["/api/v1/auth/logout", "/api/v1/auth/logout-all"] {
        expect_error(
            app.post_json(path, &json!({}), None).await,
            401,
            "unauthorized",
        )
        .await;
    }
}

#[tokio::test]
async fn forged_and_misused_tokens_are_rejected() {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use puratan_core::auth::tokens::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
    let seed = [7u8; 32];
    let secret = base64::engine::general_purpose::STANDARD.encode(seed);
    let app = spawn_app_with(|c| {
        c.notify.backend = puratan_server::config::NotifyBackend::Memory;
        c.auth.keys = vec![puratan_server::config::SecretKeyConfig {
            id: "k1".into(),
            secret,
        }];
    })
    .await;
    let tokens = app.customer("forge@example.com").await;
    let good = access(&tokens).to_owned();
    let sub = app.user_id(&tokens).await;
    let now = puratan_server::auth::now();
    let issuer = |iss: &str, aud: &str, kid: &str, seed: [u8; 32]| {
        AccessTokens::new(
            KeySet::new(JwtKey::ed25519_from_seed(kid, &seed).expect("key")).expect("set"),
            AccessTokenConfig::new(iss, aud),
        )
        .expect("tokens")
    };
    let cfg = puratan_server::config::AuthConfig::default();
    let (iss, aud) = (cfg.issuer.as_str(), cfg.audience.as_str());
    let mint = |t: &AccessTokens| {
        t.issue(&sub, &[Role::Admin], now)
            .expect("issue")
            .0
            .into_string()
    };
    let parts: Vec<&str> = good.split('.').collect();
    let none_header = B64.encode(br#"{"alg":"none","typ":"at+jwt","kid":"k1"}"#);
    let mut payload: Value =
        serde_json::from_slice(&B64.decode(parts[1]).expect("b64")).expect("json");
    payload["roles"] = json!(["admin"]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(payload.to_string()),
        parts[2]
    );
    // HS256 "signed" with our public key as the HMAC secret.
    let public = JwtKey::ed25519_from_seed("k1", &seed)
        .expect("key")
        .public_key()
        .expect("pub");
    let confused = issuer(iss, aud, "k1", seed);
    let hs = AccessTokens::new(
        KeySet::new(JwtKey::hs256("k1", &public).expect("hs")).expect("set"),
        AccessTokenConfig::new(iss, aud),
    )
    .expect("tokens");
    let mut expired_cfg = AccessTokenConfig::new(iss, aud);
    expired_cfg.ttl_secs = 1;
    let short = AccessTokens::new(
        KeySet::new(JwtKey::ed25519_from_seed("k1", &seed).expect("k")).expect("s"),
        expired_cfg,
    )
    .expect("t");
    let expired = short
        .issue(&sub, &[Role::Customer], now - 3600)
        .expect("issue")
        .0
        .into_string();
    let future = confused
        .issue(&sub, &[Role::Customer], now + 3600)
        .expect("issue")
        .0
        .into_string();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            format!("{none_header}.{}.", parts[1]),
            "token_algorithm",
        ),
        ("HS256 with the public key", mint(&hs), "token_algorithm"),
        (
            "unknown kid",
            mint(&issuer(iss, aud, "k9", seed)),
            "token_unknown_key",
        ),
        (
            "other key, same kid",
            mint(&issuer(iss, aud, "k1", [9u8; 32])),
            "token_signature",
        ),
        ("tampered payload", tampered, "token_signature"),
        (
            "wrong issuer",
            mint(&issuer("https://evil.example", aud, "k1", seed)),
            "token_issuer",
        ),
        (
            "wrong audience",
            mint(&issuer(iss, "other-api", "k1", seed)),
            "token_audience",
        ),
        ("expired", expired, "token_expired"),
        ("not yet valid", future, "token_not_yet_valid"),
        (
            "refresh token as access token",
            refresh_token(&tokens).to_owned(),
            "token_malformed",
        ),
        ("garbage", "x".repeat(10_000), "token_malformed"),
    ];
    for (name, token, code) in cases {
        let r = app.get_auth("/api/v1/me", &token).await;
        let body = expect_error(r, 401, code).await;
        assert!(
            !body.to_string().contains(&token[..token.len().min(20)]) || token.len() < 20,
            "{name}"
        );
    }
    // A correctly minted token for our issuer works (the table is not
    // rejecting everything).
    assert_eq!(
        app.get_auth("/api/v1/me", &mint(&confused)).await.status(),
        200
    );
    // jku/x5u/jwk headers are ignored: a token pointing elsewhere still
    // validates only against our keys.
    let h = B64
        .encode(br#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1","jku":"https://evil.example/jwks"}"#);
    let with_jku = format!("{h}.{}.{}", parts[1], parts[2]);
    expect_error(
        app.get_auth("/api/v1/me", &with_jku).await,
        401,
        "token_signature",
    )
    .await;
}

#[tokio::test]
async fn login_for_unknown_email_does_the_same_work_as_a_wrong_password() {
    let app = spawn_app().await;
    app.customer("timing@example.com").await;
    let hasher = &app.app().auth.hasher;
    // Counted, not timed: both paths must run exactly one argon2id
    // verification, and the one for unknown accounts must be against a
    // hash with the current parameters (so it costs the same).
    let verifications_of = |email: &'static str| {
        let app = &app;
        async move {
            let before = hasher.verifications();
            let r = app
                .post_json(
                    "/api/v1/auth/login",
                    &json!({"email": email, "password": "not-the-password"}),
                    None,
                )
                .await;
            assert_eq!(r.status(), 401);
            hasher.verifications() - before
        }
    };
    assert_eq!(verifications_of("timing@example.com").await, 1);
    assert_eq!(verifications_of("ghost@example.com").await, 1);
}

#[tokio::test]
async fn rate_tier_follows_the_caller() {
    let app = spawn_app_with(|c| {
        c.notify.backend = puratan_server::config::NotifyBackend::Memory;
        c.auth.sensitive_per_ip_per_minute = 6;
    })
    .await;
    let customer = app.customer("tier@example.com").await; // register + verify + login: 3 sensitive calls
    let policy = |r: &reqwest::Response| {
        r.headers()
            .get("ratelimit-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert!(policy(&app.get("/api/v1/products").await).starts_with("\"public\";q=100"));
    let r = app.get_auth("/api/v1/products", access(&customer)).await;
    assert!(
        policy(&r).starts_with("\"authenticated\";q=1000"),
        "{}",
        policy(&r)
    );
    let r = app.get_auth("/api/v1/me", access(&customer)).await;
    assert!(
        policy(&r).starts_with("\"authenticated\""),
        "{}",
        policy(&r)
    );
    // Login attempts are per IP and tight, whoever calls.
    let body = json!({"email": "tier@example.com", "password": "wrong-password-x"});
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = app
            .post_json("/api/v1/auth/login", &body, Some(access(&customer)))
            .await;
        assert!(
            policy(&r).starts_with("\"sensitive\";q=6"),
            "{}",
            policy(&r)
        );
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}

#[tokio::test]
async fn security_events_reach_the_topic_exchange() {
    use puratan_core::ports::{Exchange, Subscription};
    let app = spawn_app().await;
    let mut sub = app
        .app()
        .events
        .subscribe(Subscription {
            queue: "test.security".into(),
            exchange: Exchange::Topic,
            binding_key: "security.#".into(),
            transient: true,
        })
        .await
        .expect("subscribe");
    app.customer("events@example.com").await;
    let r = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "events@example.com", "password": "wrong-password-9"}),
            None,
        )
        .await;
    assert_eq!(r.status(), 401);
    let mut kinds = Vec::new();
    while kinds.len() < 4 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), sub.next())
            .await
            .expect("an event within 5 s")
            .expect("subscriber")
            .expect("open");
        let event: Value = serde_json::from_slice(&next.message.payload).expect("json");
        assert!(
            event["at"].is_string() && event["actor"].is_string(),
            "{event}"
        );
        kinds.push(next.message.kind.clone());
        next.ack().await.expect("ack");
    }
    assert_eq!(
        kinds,
        [
            "security.registered",
            "security.email_verified",
            "security.login",
            "security.login_failed"
        ]
    );
}
