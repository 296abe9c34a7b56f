//! The OpenID Connect login logic of `puratan_core::auth::oidc` against a
//! real provider (npm `oidc-provider`, started by scripts/services/oidc.sh):
//! discovery, authorization URL, a real login through the provider's forms,
//! callback check, token exchange, ID token validation and account mapping
//! — and the attacks: state mismatch (login CSRF), nonce mismatch (ID token
//! injection), wrong issuer (mix-up across tenants sharing keys), wrong
//! audience (a token issued to another client), a code without its PKCE
//! verifier.

use std::time::{SystemTime, UNIX_EPOCH};

use puratan_core::auth::AuthError;
use puratan_core::auth::oidc::{
    AuthorizationRequest, CallbackParams, Discovery, IdTokenClaims, IdTokenRejection, LinkDecision,
    PendingLogin, ProviderConfig, TokenResponse, check_callback, decide_link, encode_form,
    token_request_form, validate_id_token,
};
use puratan_core::domain::{Email, UserId};
use puratan_testkit::oidc::{
    CLIENT, Client, EDDSA_CLIENT, OTHER_CLIENT, ProviderHandle, REDIRECT_PATHS, drive_login,
    ensure_provider, http_client, loopback_redirect_uri,
};
use puratan_testkit::service::unique;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

async fn get(url: &str) -> Vec<u8> {
    let resp = http_client().get(url).send().await.expect("GET");
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.bytes().await.expect("body").to_vec()
}

/// What a server keeps per configured provider.
struct Rp {
    config: ProviderConfig,
    discovery: Discovery,
    jwks: Vec<u8>,
}

impl Rp {
    async fn new(config: ProviderConfig) -> Self {
        config.validate().expect("valid config");
        let doc = get(&config.discovery_url()).await;
        let discovery = Discovery::from_json(&doc, &config.issuer).expect("discovery");
        let jwks = get(discovery.jwks_uri()).await;
        Self {
            config,
            discovery,
            jwks,
        }
    }

    async fn main(p: &ProviderHandle, client: Client) -> Self {
        Self::new(p.config("local", client, &loopback_redirect_uri("/callback"))).await
    }

    fn start(&self) -> AuthorizationRequest {
        AuthorizationRequest::new(&self.config, &self.discovery, None, now()).expect("start")
    }

    /// Starts a login and plays the user at the provider: the callback.
    async fn login_at_provider(&self, login: &str) -> (PendingLogin, CallbackParams) {
        let req = self.start();
        let callback = drive_login(&req.url, login)
            .await
            .expect("login at provider");
        (req.pending, parse_callback(&callback))
    }

    async fn token(&self, pending: &PendingLogin, code: &str) -> Result<TokenResponse, AuthError> {
        self.token_with(&token_request_form(&self.config, pending, code))
            .await
    }

    async fn token_with(&self, form: &[(&str, String)]) -> Result<TokenResponse, AuthError> {
        let resp = http_client()
            .post(self.discovery.token_endpoint())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode_form(form))
            .send()
            .await
            .expect("POST token");
        TokenResponse::from_json(&resp.bytes().await.expect("token body"))
    }

    fn validate(&self, id_token: &str, expected_nonce: &str) -> Result<IdTokenClaims, AuthError> {
        validate_id_token(
            id_token,
            &self.jwks,
            &self.config,
            &self.discovery,
            expected_nonce,
            now(),
        )
    }

    /// The whole flow up to the token response.
    async fn login(&self, login: &str) -> (PendingLogin, TokenResponse) {
        let (pending, cb) = self.login_at_provider(login).await;
        let code =
            check_callback(&pending, &self.config, &self.discovery, &cb, now()).expect("callback");
        let tokens = self.token(&pending, &code).await.expect("token response");
        (pending, tokens)
    }
}

fn parse_callback(url: &str) -> CallbackParams {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    CallbackParams::from_query(query).expect("callback query")
}

fn id_token_rejection(e: AuthError) -> IdTokenRejection {
    match e {
        AuthError::OidcInvalidIdToken(r) => r,
        e => panic!("expected an ID token rejection, got {e:?}"),
    }
}

#[tokio::test]
async fn happy_path_code_flow_with_pkce() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let rp = Rp::main(&p, CLIENT).await;
    assert!(
        rp.discovery
            .authorization_response_iss_parameter_supported()
    );

    let login = unique("ann");
    let (pending, cb) = rp.login_at_provider(&login).await;
    assert_eq!(cb.iss.as_deref(), Some(p.issuer.as_str()), "RFC 9207 iss");
    let code = check_callback(&pending, &rp.config, &rp.discovery, &cb, now()).unwrap();
    let tokens = rp.token(&pending, &code).await.unwrap();
    assert_eq!(
        jwt_alg(&tokens.id_token),
        "RS256",
        "puratan-test gets RS256"
    );
    let claims = rp.validate(&tokens.id_token, pending.nonce()).unwrap();
    assert_eq!(claims.issuer, p.issuer);
    assert_eq!(claims.subject, login);
    assert_eq!(
        claims.email,
        Some(Email::parse(&format!("{login}@example.test")).unwrap())
    );
    assert!(claims.email_verified);
    assert_eq!(claims.name, Some(format!("Test {login}")));

    // A first login creates an account; once linked, it logs in.
    assert!(matches!(
        decide_link(&claims, None, None, None),
        LinkDecision::CreateNew { .. }
    ));
    let user = UserId::new();
    assert_eq!(
        decide_link(&claims, Some(user), None, None),
        LinkDecision::LoginExisting(user)
    );

    // The same person logging in again has the same identity.
    let (pending2, tokens2) = rp.login(&login).await;
    let again = rp.validate(&tokens2.id_token, pending2.nonce()).unwrap();
    assert_eq!(again.identity(), claims.identity());

    // A code is single-use (RFC 6749 §4.1.2).
    let replay = rp.token(&pending, &code).await.unwrap_err();
    match replay {
        AuthError::OidcProvider { error, .. } => assert_eq!(error, "invalid_grant"),
        e => panic!("{e:?}"),
    }
}

fn jwt_alg(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    v["alg"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn es256_and_eddsa_id_tokens_validate() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    for (client, alg) in [(OTHER_CLIENT, "ES256"), (EDDSA_CLIENT, "EdDSA")] {
        // The server's callback route, on `localhost` this time.
        let redirect = loopback_redirect_uri(REDIRECT_PATHS[1]).replace("127.0.0.1", "localhost");
        let rp = Rp::new(p.config("local", client, &redirect)).await;
        let login = unique("bob");
        let (pending, tokens) = rp.login(&login).await;
        assert_eq!(jwt_alg(&tokens.id_token), alg);
        let claims = rp.validate(&tokens.id_token, pending.nonce()).unwrap();
        assert_eq!(claims.subject, login);
    }
}

#[tokio::test]
async fn unverified_email_creates_no_account() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let rp = Rp::main(&p, CLIENT).await;
    // The provider reports email_verified=false for these login names.
    let (pending, tokens) = rp.login(&unique("unverified-")).await;
    let claims = rp.validate(&tokens.id_token, pending.nonce()).unwrap();
    assert!(claims.email.is_some());
    assert!(!claims.email_verified);
    assert_eq!(
        decide_link(&claims, None, None, None),
        LinkDecision::RefuseEmailUnverified
    );
    // An existing account with that address is not logged into either.
    let verified = IdTokenClaims {
        email_verified: true,
        ..claims
    };
    let d = decide_link(&verified, None, None, Some(UserId::new()));
    assert_eq!(d.refusal().unwrap().code(), "oidc_email_taken");
}

#[tokio::test]
async fn state_mismatch_is_rejected() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let rp = Rp::main(&p, CLIENT).await;
    // Login CSRF: the callback of the attacker's login arrives in a browser
    // whose own pending login has another state.
    let (_attacker_pending, attacker_cb) = rp.login_at_provider(&unique("mallory")).await;
    let victim_pending = rp.start().pending;
    let e = check_callback(
        &victim_pending,
        &rp.config,
        &rp.discovery,
        &attacker_cb,
        now(),
    )
    .unwrap_err();
    assert!(matches!(e, AuthError::OidcStateMismatch), "{e:?}");
    assert_eq!(e.code(), "oidc_state_mismatch");

    // A tampered state on an otherwise real callback.
    let (pending, mut cb) = rp.login_at_provider(&unique("ann")).await;
    cb.state = cb.state.map(|s| format!("{s}x"));
    let e = check_callback(&pending, &rp.config, &rp.discovery, &cb, now()).unwrap_err();
    assert_eq!(e.code(), "oidc_state_mismatch");
}

#[tokio::test]
async fn nonce_mismatch_is_rejected() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let rp = Rp::main(&p, CLIENT).await;
    let (pending, tokens) = rp.login(&unique("ann")).await;
    // The ID token of one login presented to another (token injection).
    let other = rp.start().pending;
    let e = rp.validate(&tokens.id_token, other.nonce()).unwrap_err();
    assert!(matches!(e, AuthError::OidcNonceMismatch), "{e:?}");
    assert_eq!(e.code(), "oidc_nonce_mismatch");
    rp.validate(&tokens.id_token, pending.nonce()).unwrap();
}

#[tokio::test]
async fn wrong_issuer_is_rejected() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let rp = Rp::main(&p, CLIENT).await;
    let tenant =
        Rp::new(p.tenant_config("tenant", CLIENT, &loopback_redirect_uri("/callback"))).await;
    assert_ne!(tenant.discovery.issuer(), rp.discovery.issuer());

    // Discovery: the configured issuer is the main one, the document (e.g.
    // a misconfigured discovery URL) is the tenant's.
    let tenant_doc = get(&tenant.config.discovery_url()).await;
    let e = Discovery::from_json(&tenant_doc, &p.issuer).unwrap_err();
    assert!(matches!(e, AuthError::OidcIssuerMismatch), "{e:?}");
    // Exact match: not even a trailing slash is forgiven.
    let main_doc = get(&rp.config.discovery_url()).await;
    let e = Discovery::from_json(&main_doc, &format!("{}/", p.issuer)).unwrap_err();
    assert_eq!(e.code(), "oidc_issuer_mismatch");

    // ID token: a real token of the tenant, valid there…
    let (pending, tokens) = tenant.login(&unique("ann")).await;
    tenant.validate(&tokens.id_token, pending.nonce()).unwrap();
    // …is signed with keys the main issuer publishes too (shared keys, as
    // tenants of one service have): only the issuer check rejects it.
    let e = rp.validate(&tokens.id_token, pending.nonce()).unwrap_err();
    assert_eq!(id_token_rejection(e), IdTokenRejection::Issuer);

    // Callback (mix-up, RFC 9207): an authorization response that names
    // the tenant as its issuer, for a login started at the main issuer.
    let main_pending = rp.start().pending;
    let (_, mut tenant_cb) = tenant.login_at_provider(&unique("ann")).await;
    assert_eq!(tenant_cb.iss.as_deref(), Some(p.tenant_issuer.as_str()));
    tenant_cb.state = Some(main_pending.state().to_owned());
    let e =
        check_callback(&main_pending, &rp.config, &rp.discovery, &tenant_cb, now()).unwrap_err();
    assert_eq!(e.code(), "oidc_issuer_mismatch");
}

#[tokio::test]
async fn wrong_audience_is_rejected() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let ours = Rp::main(&p, CLIENT).await;
    // Another client of the same provider logs a user in…
    let other = Rp::main(&p, OTHER_CLIENT).await;
    let (pending, tokens) = other.login(&unique("ann")).await;
    other.validate(&tokens.id_token, pending.nonce()).unwrap();
    // …and presents that ID token to us: right issuer, right keys, right
    // nonce, wrong audience.
    let e = ours
        .validate(&tokens.id_token, pending.nonce())
        .unwrap_err();
    assert_eq!(id_token_rejection(e), IdTokenRejection::Audience);
    assert_eq!(
        ours.validate(&tokens.id_token, pending.nonce())
            .unwrap_err()
            .code(),
        "oidc_invalid_id_token"
    );
}

#[tokio::test]
async fn code_without_its_pkce_verifier_is_useless() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    let rp = Rp::main(&p, CLIENT).await;
    // A stolen code redeemed with another login's verifier (code injection,
    // RFC 9700 §4.5): the provider refuses it.
    let (pending, cb) = rp.login_at_provider(&unique("ann")).await;
    let code = check_callback(&pending, &rp.config, &rp.discovery, &cb, now()).unwrap();
    let attacker = rp.start().pending;
    let mut form = token_request_form(&rp.config, &pending, &code);
    let attacker_form = token_request_form(&rp.config, &attacker, &code);
    for (field, value) in &mut form {
        if *field == "code_verifier" {
            value.clone_from(
                &attacker_form
                    .iter()
                    .find(|(k, _)| *k == "code_verifier")
                    .unwrap()
                    .1,
            );
        }
    }
    match rp.token_with(&form).await.unwrap_err() {
        AuthError::OidcProvider { error, .. } => assert_eq!(error, "invalid_grant"),
        e => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn unregistered_redirect_uri_is_refused_by_the_provider() {
    let Some(p) = ensure_provider().await else {
        return;
    };
    // Any loopback port is fine, any path is not.
    let rp = Rp::new(p.config("local", CLIENT, &loopback_redirect_uri("/not-registered"))).await;
    let err = drive_login(&rp.start().url, "ann").await.unwrap_err();
    assert!(err.contains("invalid_redirect_uri"), "{err}");
}
