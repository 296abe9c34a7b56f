use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Value, json};

use super::flow::pkce_challenge;
use super::url::{check_url, decode_component};
use super::*;
use crate::domain::{Email, UserId};

const ISSUER: &str = "https://idp.example";
const CLIENT: &str = "puratan";
const REDIRECT: &str = "https://shop.example/api/v1/auth/oidc/idp/callback";
const NOW: u64 = 1_800_000_000;
const NONCE: &str = "n-0S6_WzA2Mj";

fn provider() -> ProviderConfig {
    ProviderConfig::new(
        "idp",
        ISSUER,
        CLIENT,
        Some(ClientSecret::new("s3cret")),
        REDIRECT,
    )
}

fn discovery_doc(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "response_types_supported": ["code", "id_token"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
        "authorization_response_iss_parameter_supported": true,
    })
}

fn discovery() -> Discovery {
    Discovery::from_json(discovery_doc(ISSUER).to_string().as_bytes(), ISSUER).unwrap()
}

fn discovery_err(doc: &Value) -> AuthError {
    Discovery::from_json(doc.to_string().as_bytes(), ISSUER).unwrap_err()
}

// ----- keys and tokens -----

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn okp(kid: &str, seed: u8) -> Value {
    json!({
        "kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "alg": "EdDSA",
        "x": URL_SAFE_NO_PAD.encode(key(seed).verifying_key().to_bytes()),
    })
}

fn jwks(keys: &[Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

fn std_jwks() -> Vec<u8> {
    jwks(&[okp("k1", 1)])
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A JWS signed with Ed25519 key `seed`, whatever the header says.
fn sign_with(header: &Value, claims: &Value, seed: u8) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig = key(seed).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn header() -> Value {
    json!({ "alg": "EdDSA", "kid": "k1", "typ": "JWT" })
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT,
        "exp": NOW + 300,
        "iat": NOW - 5,
        "nonce": NONCE,
        "email": "Ann@Example.COM",
        "email_verified": true,
        "name": "Ann\u{0007} Example",
    })
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    if value.is_null() {
        v.as_object_mut().unwrap().remove(key);
    } else {
        v[key] = value;
    }
    v
}

fn validate(token: &str) -> Result<IdTokenClaims, AuthError> {
    validate_id_token(token, &std_jwks(), &provider(), &discovery(), NONCE, NOW)
}

fn rejection(token: &str) -> IdTokenRejection {
    match validate(token) {
        Err(AuthError::OidcInvalidIdToken(r)) => r,
        other => panic!("expected an ID token rejection, got {other:?}"),
    }
}

// ----- configuration -----

#[test]
fn provider_config_is_validated() {
    provider().validate().unwrap();
    let mut p = provider();
    p.name = "Google!".into();
    assert_eq!(p.validate().unwrap_err().code(), "oidc_config");
    let mut p = provider();
    p.issuer = "http://idp.example".into();
    assert!(p.validate().is_err(), "plain http off loopback");
    p.issuer = "http://127.0.0.1:4444".into();
    p.validate().unwrap();
    p.issuer = "https://idp.example?tenant=1".into();
    assert!(p.validate().is_err(), "issuer with a query");
    let mut p = provider();
    p.redirect_uri = "https://shop.example/cb#x".into();
    assert!(p.validate().is_err(), "redirect with a fragment");
    let mut p = provider();
    p.scopes = vec!["email profile".into()];
    assert!(p.validate().is_err(), "a scope is one token");
    let mut p = provider();
    p.client_id = String::new();
    assert!(p.validate().is_err());
}

#[test]
fn provider_config_deserialises_and_redacts_the_secret() {
    let p: ProviderConfig = serde_json::from_value(json!({
        "name": "idp", "issuer": ISSUER, "client_id": CLIENT,
        "client_secret": "hunter2-hunter2", "redirect_uri": REDIRECT,
    }))
    .unwrap();
    assert_eq!(p.scopes, ["openid", "email", "profile"]);
    assert_eq!(
        p.client_secret.as_ref().unwrap().expose(),
        "hunter2-hunter2"
    );
    let dbg = format!("{p:?}");
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert_eq!(
        p.discovery_url(),
        format!("{ISSUER}/.well-known/openid-configuration")
    );
    let mut slash = p.clone();
    slash.issuer = format!("{ISSUER}/");
    assert_eq!(slash.discovery_url(), p.discovery_url());
}

#[test]
fn provider_set_needs_unique_names_issuers_and_redirects() {
    let a = provider();
    let mut b = provider();
    b.name = "other".into();
    b.issuer = "https://other.example".into();
    b.redirect_uri = "https://shop.example/cb/other".into();
    validate_provider_set(&[a.clone(), b.clone()]).unwrap();
    for change in 0..3 {
        let mut c = b.clone();
        match change {
            0 => c.name = a.name.clone(),
            1 => c.issuer = a.issuer.clone(),
            _ => c.redirect_uri = a.redirect_uri.clone(),
        }
        let e = validate_provider_set(&[a.clone(), c]).unwrap_err();
        assert_eq!(e.code(), "oidc_config");
    }
}

#[test]
fn url_shapes() {
    assert!(check_url("https://a.example/x?y=1", true).is_ok());
    assert!(check_url("https://a.example:8443", false).is_ok());
    assert!(check_url("http://localhost:1/cb", true).is_ok());
    assert!(check_url("http://[::1]:80/cb", true).is_ok());
    assert!(check_url("http://127.0.0.1.evil.example/", true).is_err());
    assert!(check_url("https://user@a.example/", true).is_err());
    assert!(check_url("https://a.example:x/", true).is_err());
    assert!(check_url("https://", true).is_err());
    assert!(check_url("ftp://a.example/", true).is_err());
    assert!(check_url("https://a.example/ x", true).is_err());
    assert_eq!(decode_component("a%20b+c%2Bd").as_deref(), Some("a b c+d"));
    assert_eq!(decode_component("%+1"), None);
    assert_eq!(decode_component("%e9"), None, "not UTF-8");
}

// ----- discovery -----

#[test]
fn discovery_parses_a_good_document() {
    let d = discovery();
    assert_eq!(d.issuer(), ISSUER);
    assert_eq!(d.authorization_endpoint(), "https://idp.example/authorize");
    assert_eq!(d.token_endpoint(), "https://idp.example/token");
    assert_eq!(d.jwks_uri(), "https://idp.example/jwks");
    assert_eq!(d.userinfo_endpoint(), Some("https://idp.example/userinfo"));
    assert!(d.authorization_response_iss_parameter_supported());
}

#[test]
fn discovery_issuer_must_match_exactly() {
    for other in [
        "https://idp.example/",
        "https://IDP.example",
        "https://evil.example",
    ] {
        let e = discovery_err(&discovery_doc(other));
        assert!(matches!(e, AuthError::OidcIssuerMismatch), "{other}: {e:?}");
        assert_eq!(e.code(), "oidc_issuer_mismatch");
    }
    let e = discovery_err(&with(discovery_doc(ISSUER), "issuer", Value::Null));
    assert_eq!(e.code(), "oidc_discovery");
}

#[test]
fn discovery_requires_endpoints_code_and_s256() {
    for field in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
        let e = discovery_err(&with(discovery_doc(ISSUER), field, Value::Null));
        assert_eq!(e.code(), "oidc_discovery", "{field}");
        let e = discovery_err(&with(
            discovery_doc(ISSUER),
            field,
            json!("http://idp.example/x"),
        ));
        assert_eq!(e.code(), "oidc_discovery", "{field} over plain http");
    }
    let e = discovery_err(&with(
        discovery_doc(ISSUER),
        "code_challenge_methods_supported",
        json!(["plain"]),
    ));
    assert!(e.to_string().contains("S256"), "{e}");
    let e = discovery_err(&with(
        discovery_doc(ISSUER),
        "response_types_supported",
        json!(["id_token"]),
    ));
    assert_eq!(e.code(), "oidc_discovery");
    let e = discovery_err(&with(
        discovery_doc(ISSUER),
        "id_token_signing_alg_values_supported",
        json!(["HS256", "none"]),
    ));
    assert_eq!(e.code(), "oidc_discovery");
    // Absent lists are fine (S256 is used anyway).
    let mut doc = discovery_doc(ISSUER);
    for f in [
        "code_challenge_methods_supported",
        "token_endpoint_auth_methods_supported",
        "id_token_signing_alg_values_supported",
        "response_types_supported",
        "authorization_response_iss_parameter_supported",
    ] {
        doc = with(doc, f, Value::Null);
    }
    let d = Discovery::from_json(doc.to_string().as_bytes(), ISSUER).unwrap();
    assert!(!d.authorization_response_iss_parameter_supported());
    assert_eq!(
        Discovery::from_json(b"not json", ISSUER)
            .unwrap_err()
            .code(),
        "oidc_discovery"
    );
}

// ----- authorization request -----

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    let query = url.split_once('?').unwrap().1;
    query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (decode_component(k).unwrap(), decode_component(v).unwrap())
        })
        .collect()
}

#[test]
fn pkce_challenge_matches_rfc_7636_appendix_b() {
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn authorization_request_carries_state_nonce_and_pkce() {
    let req = AuthorizationRequest::new(&provider(), &discovery(), None, NOW).unwrap();
    assert!(req.url.starts_with("https://idp.example/authorize?"));
    assert!(
        req.url.contains(
            "redirect_uri=https%3A%2F%2Fshop.example%2Fapi%2Fv1%2Fauth%2Foidc%2Fidp%2Fcallback"
        ),
        "{}",
        req.url
    );
    let q = query_of(&req.url);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(q["redirect_uri"], REDIRECT);
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["code_challenge_method"], "S256");
    let p = &req.pending;
    assert_eq!(q["state"], p.state());
    assert_eq!(q["nonce"], p.nonce());
    assert_eq!(p.state().len(), 43);
    assert_eq!(p.nonce().len(), 43);
    let form = token_request_form(&provider(), p, "the-code");
    let verifier = &form.iter().find(|(k, _)| *k == "code_verifier").unwrap().1;
    assert!((43..=128).contains(&verifier.len()));
    assert_eq!(q["code_challenge"], pkce_challenge(verifier));
    assert_ne!(p.state(), p.nonce());
    assert_ne!(p.state(), verifier.as_str());
    assert_eq!(p.provider(), "idp");
    assert_eq!(p.issuer(), ISSUER);
    assert_eq!(p.created_at(), NOW);
    assert_eq!(p.link_user(), None);

    let again = AuthorizationRequest::new(&provider(), &discovery(), None, NOW).unwrap();
    assert_ne!(
        again.pending.state(),
        p.state(),
        "fresh randomness per login"
    );
}

#[test]
fn authorization_request_adds_openid_and_keeps_an_endpoint_query() {
    let mut p = provider();
    p.scopes = vec!["email".into()];
    let doc = with(
        discovery_doc(ISSUER),
        "authorization_endpoint",
        json!("https://idp.example/authorize?tenant=a%20b"),
    );
    let d = Discovery::from_json(doc.to_string().as_bytes(), ISSUER).unwrap();
    let req = AuthorizationRequest::new(&p, &d, None, NOW).unwrap();
    assert!(
        req.url
            .starts_with("https://idp.example/authorize?tenant=a%20b&response_type=code&"),
        "{}",
        req.url
    );
    assert_eq!(query_of(&req.url)["scope"], "openid email");
}

#[test]
fn authorization_request_checks_issuer_and_token_auth_method() {
    let mut other = provider();
    other.issuer = "https://other.example".into();
    let e = AuthorizationRequest::new(&other, &discovery(), None, NOW).unwrap_err();
    assert!(matches!(e, AuthError::OidcIssuerMismatch));

    let doc = with(
        discovery_doc(ISSUER),
        "token_endpoint_auth_methods_supported",
        json!(["client_secret_basic"]),
    );
    let d = Discovery::from_json(doc.to_string().as_bytes(), ISSUER).unwrap();
    let e = AuthorizationRequest::new(&provider(), &d, None, NOW).unwrap_err();
    assert_eq!(e.code(), "oidc_discovery");

    // A public client authenticates with "none": the secret is never sent.
    let mut public = provider();
    public.client_secret = None;
    assert!(AuthorizationRequest::new(&public, &discovery(), None, NOW).is_err());
    let doc = with(
        discovery_doc(ISSUER),
        "token_endpoint_auth_methods_supported",
        json!(["none"]),
    );
    let d = Discovery::from_json(doc.to_string().as_bytes(), ISSUER).unwrap();
    let req = AuthorizationRequest::new(&public, &d, None, NOW).unwrap();
    let form = token_request_form(&public, &req.pending, "c");
    assert!(form.iter().all(|(k, _)| *k != "client_secret"));
}

#[test]
fn pending_login_round_trips_and_hides_its_secrets() {
    let user = UserId::new();
    let req = AuthorizationRequest::new(&provider(), &discovery(), Some(user), NOW).unwrap();
    let json = req.pending.to_json();
    let back = PendingLogin::from_json(&json).unwrap();
    assert_eq!(back, req.pending);
    assert_eq!(back.link_user(), Some(user));
    let dbg = format!("{:?}", req.pending);
    assert!(!dbg.contains(req.pending.state()), "{dbg}");
    assert!(!dbg.contains(req.pending.nonce()), "{dbg}");
    assert_eq!(
        PendingLogin::from_json("{}").unwrap_err().code(),
        "oidc_state_mismatch"
    );
}

// ----- callback -----

fn pending() -> PendingLogin {
    AuthorizationRequest::new(&provider(), &discovery(), None, NOW)
        .unwrap()
        .pending
}

fn callback(state: &str, extra: &str) -> CallbackParams {
    let mut q = String::from("code=SplxlOBeZQQYbYS6WxSbIA");
    q.push_str("&state=");
    super::url::encode_into(&mut q, state);
    q.push_str("&iss=https%3A%2F%2Fidp.example");
    q.push_str(extra);
    CallbackParams::from_query(&q).unwrap()
}

fn check(p: &PendingLogin, cb: &CallbackParams, now: u64) -> Result<String, AuthError> {
    check_callback(p, &provider(), &discovery(), cb, now)
}

#[test]
fn callback_happy_path_returns_the_code() {
    let p = pending();
    let code = check(&p, &callback(p.state(), ""), NOW + 30).unwrap();
    assert_eq!(code, "SplxlOBeZQQYbYS6WxSbIA");
}

#[test]
fn callback_state_mismatch() {
    let p = pending();
    for cb in [
        callback("forged-state", ""),
        callback(&p.state()[..42], ""),
        CallbackParams::from_query("code=abc&iss=https%3A%2F%2Fidp.example").unwrap(),
    ] {
        let e = check(&p, &cb, NOW).unwrap_err();
        assert!(matches!(e, AuthError::OidcStateMismatch), "{e:?}");
        assert_eq!(e.code(), "oidc_state_mismatch");
    }
    // A forged error response cannot skip the state check.
    let cb = CallbackParams::from_query("error=access_denied&state=forged").unwrap();
    assert_eq!(
        check(&p, &cb, NOW).unwrap_err().code(),
        "oidc_state_mismatch"
    );
}

#[test]
fn callback_expired_or_for_another_provider_is_a_state_mismatch() {
    let p = pending();
    let cb = callback(p.state(), "");
    let e = check(&p, &cb, NOW + PENDING_LOGIN_TTL_SECS + 1).unwrap_err();
    assert_eq!(e.code(), "oidc_state_mismatch");
    let mut other = provider();
    other.name = "other".into();
    let e = check_callback(&p, &other, &discovery(), &cb, NOW).unwrap_err();
    assert_eq!(e.code(), "oidc_state_mismatch");
}

#[test]
fn callback_checks_the_rfc_9207_issuer() {
    let p = pending();
    let q = format!("code=c&state={}&iss=https%3A%2F%2Fevil.example", p.state());
    let cb = CallbackParams::from_query(&q).unwrap();
    assert_eq!(
        check(&p, &cb, NOW).unwrap_err().code(),
        "oidc_issuer_mismatch"
    );
    // Missing although advertised…
    let cb = CallbackParams::from_query(&format!("code=c&state={}", p.state())).unwrap();
    assert_eq!(
        check(&p, &cb, NOW).unwrap_err().code(),
        "oidc_issuer_mismatch"
    );
    // …fine when the provider does not advertise it.
    let doc = with(
        discovery_doc(ISSUER),
        "authorization_response_iss_parameter_supported",
        Value::Null,
    );
    let d = Discovery::from_json(doc.to_string().as_bytes(), ISSUER).unwrap();
    assert_eq!(check_callback(&p, &provider(), &d, &cb, NOW).unwrap(), "c");
}

#[test]
fn callback_error_and_malformed_queries() {
    let p = pending();
    let q = format!(
        "error=access_denied%3Cscript%3E&error_description=User+said+no&state={}&iss=https%3A%2F%2Fidp.example",
        p.state()
    );
    let cb = CallbackParams::from_query(&q).unwrap();
    match check(&p, &cb, NOW).unwrap_err() {
        AuthError::OidcProvider { error, description } => {
            assert_eq!(error, "access_deniedscript");
            assert_eq!(description.as_deref(), Some("User said no"));
        }
        e => panic!("{e:?}"),
    }
    let cb = CallbackParams::from_query(&format!(
        "state={}&iss=https%3A%2F%2Fidp.example",
        p.state()
    ))
    .unwrap();
    assert_eq!(
        check(&p, &cb, NOW).unwrap_err().code(),
        "oidc_provider_error"
    );
    assert!(CallbackParams::from_query("state=a&state=b").is_err());
    assert!(CallbackParams::from_query("code=%zz").is_err());
    let dbg = format!("{:?}", callback("secret-state", ""));
    assert!(
        !dbg.contains("secret-state") && !dbg.contains("SplxlOBe"),
        "{dbg}"
    );
}

// ----- token request and response -----

#[test]
fn token_request_form_uses_client_secret_post() {
    let p = pending();
    let form = token_request_form(&provider(), &p, "the code");
    let keys: Vec<&str> = form.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        [
            "grant_type",
            "code",
            "redirect_uri",
            "code_verifier",
            "client_id",
            "client_secret"
        ]
    );
    assert_eq!(form[0].1, "authorization_code");
    assert_eq!(form[2].1, REDIRECT);
    assert_eq!(form[5].1, "s3cret");
    let body = encode_form(&form);
    assert!(
        body.starts_with(
            "grant_type=authorization_code&code=the%20code&redirect_uri=https%3A%2F%2F"
        )
    );
}

#[test]
fn token_response_parsing() {
    let ok = TokenResponse::from_json(
        br#"{"access_token":"at","token_type":"bearer","id_token":"a.b.c","expires_in":"3600"}"#,
    )
    .unwrap();
    assert_eq!(ok.id_token, "a.b.c");
    assert_eq!(ok.expires_in, Some(3600));
    assert!(!format!("{ok:?}").contains("a.b.c"));
    let e = TokenResponse::from_json(
        br#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
    )
    .unwrap_err();
    match e {
        AuthError::OidcProvider { ref error, .. } => assert_eq!(error, "invalid_grant"),
        ref e => panic!("{e:?}"),
    }
    assert_eq!(e.code(), "oidc_provider_error");
    for bad in [
        &br#"{"access_token":"at","token_type":"Bearer"}"#[..],
        br#"{"access_token":"at","token_type":"mac","id_token":"a.b.c"}"#,
        b"<html>",
    ] {
        assert_eq!(
            TokenResponse::from_json(bad).unwrap_err().code(),
            "oidc_provider_error"
        );
    }
}

// ----- ID token -----

#[test]
fn id_token_happy_path() {
    let c = validate(&sign_with(&header(), &claims(), 1)).unwrap();
    assert_eq!(c.issuer, ISSUER);
    assert_eq!(c.subject, "248289761001");
    assert_eq!(c.email, Some(Email::parse("ann@example.com").unwrap()));
    assert!(c.email_verified);
    assert_eq!(c.name.as_deref(), Some("Ann Example"), "control stripped");
    assert_eq!(c.expires_at, NOW + 300);
    assert_eq!(
        c.identity(),
        ExternalIdentity {
            issuer: ISSUER.into(),
            subject: "248289761001".into()
        }
    );
}

#[test]
fn id_token_nonce_mismatch() {
    for nonce in [json!("another-nonce"), json!(""), Value::Null] {
        let t = sign_with(&header(), &with(claims(), "nonce", nonce), 1);
        let e = validate(&t).unwrap_err();
        assert!(matches!(e, AuthError::OidcNonceMismatch), "{e:?}");
        assert_eq!(e.code(), "oidc_nonce_mismatch");
    }
    // An empty expected nonce never matches, not even an empty claim.
    let t = sign_with(&header(), &with(claims(), "nonce", json!("")), 1);
    let e = validate_id_token(&t, &std_jwks(), &provider(), &discovery(), "", NOW).unwrap_err();
    assert_eq!(e.code(), "oidc_nonce_mismatch");
}

#[test]
fn id_token_wrong_issuer() {
    for iss in [json!("https://evil.example"), json!("https://idp.example/")] {
        let t = sign_with(&header(), &with(claims(), "iss", iss), 1);
        assert_eq!(rejection(&t), IdTokenRejection::Issuer);
        assert_eq!(validate(&t).unwrap_err().code(), "oidc_invalid_id_token");
    }
    let t = sign_with(&header(), &with(claims(), "iss", Value::Null), 1);
    assert_eq!(rejection(&t), IdTokenRejection::MissingClaim("iss"));
}

#[test]
fn id_token_wrong_audience() {
    for aud in [json!("other-client"), json!(["other-client"]), json!([])] {
        let t = sign_with(&header(), &with(claims(), "aud", aud), 1);
        assert_eq!(rejection(&t), IdTokenRejection::Audience);
    }
    // Our client id among untrusted audiences: still rejected.
    let t = sign_with(
        &header(),
        &with(
            with(claims(), "aud", json!([CLIENT, "other-client"])),
            "azp",
            json!(CLIENT),
        ),
        1,
    );
    assert_eq!(rejection(&t), IdTokenRejection::Audience);
    let t = sign_with(&header(), &with(claims(), "aud", Value::Null), 1);
    assert_eq!(rejection(&t), IdTokenRejection::MissingClaim("aud"));
}

#[test]
fn id_token_azp_rules() {
    let mut p = provider();
    p.trusted_audiences = vec!["api.example".into()];
    let run = |c: Value| {
        validate_id_token(
            &sign_with(&header(), &c, 1),
            &std_jwks(),
            &p,
            &discovery(),
            NONCE,
            NOW,
        )
    };
    let multi = with(claims(), "aud", json!([CLIENT, "api.example"]));
    // Several audiences need azp = our client id.
    assert!(matches!(
        run(multi.clone()).unwrap_err(),
        AuthError::OidcInvalidIdToken(IdTokenRejection::AuthorizedParty)
    ));
    run(with(multi.clone(), "azp", json!(CLIENT))).unwrap();
    assert!(matches!(
        run(with(multi, "azp", json!("api.example"))).unwrap_err(),
        AuthError::OidcInvalidIdToken(IdTokenRejection::AuthorizedParty)
    ));
    // A present azp must be us even with one audience.
    assert!(matches!(
        run(with(claims(), "azp", json!("other-client"))).unwrap_err(),
        AuthError::OidcInvalidIdToken(IdTokenRejection::AuthorizedParty)
    ));
    run(with(claims(), "azp", json!(CLIENT))).unwrap();
}

#[test]
fn id_token_time_claims() {
    let t = |k: &str, v: Value| sign_with(&header(), &with(claims(), k, v), 1);
    assert_eq!(
        rejection(&t("exp", json!(NOW - 61))),
        IdTokenRejection::Expired
    );
    assert_eq!(
        rejection(&t("exp", json!(NOW - ID_TOKEN_LEEWAY_SECS))),
        IdTokenRejection::Expired
    );
    validate(&t("exp", json!(NOW - 30))).unwrap(); // within the leeway
    validate(&t("exp", json!(1_800_000_300.5))).unwrap(); // fractional NumericDate
    assert_eq!(
        rejection(&t("exp", json!("tomorrow"))),
        IdTokenRejection::Malformed
    );
    assert_eq!(
        rejection(&t("exp", Value::Null)),
        IdTokenRejection::MissingClaim("exp")
    );
    assert_eq!(
        rejection(&t("iat", json!(NOW + 120))),
        IdTokenRejection::IssuedInFuture
    );
    assert_eq!(
        rejection(&t("iat", Value::Null)),
        IdTokenRejection::MissingClaim("iat")
    );
    assert_eq!(
        rejection(&t("nbf", json!(NOW + 120))),
        IdTokenRejection::NotYetValid
    );
    validate(&t("nbf", json!(NOW + 30))).unwrap();
}

#[test]
fn id_token_alg_none_and_hmac_are_refused() {
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": "k1"})),
        b64(&claims())
    );
    assert_eq!(rejection(&none), IdTokenRejection::Algorithm);
    let none_upper = format!("{}.{}.", b64(&json!({"alg": "NONE"})), b64(&claims()));
    assert_eq!(rejection(&none_upper), IdTokenRejection::Algorithm);

    // HS256 "signed" with a key the attacker also put in the JWKS.
    let secret = b"a-shared-secret-of-32-bytes-long";
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("k1".into());
    let hs = jsonwebtoken::encode(
        &h,
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap();
    let keys = jwks(&[json!({"kty": "oct", "kid": "k1", "k": URL_SAFE_NO_PAD.encode(secret)})]);
    let e = validate_id_token(&hs, &keys, &provider(), &discovery(), NONCE, NOW).unwrap_err();
    assert!(
        matches!(
            e,
            AuthError::OidcInvalidIdToken(IdTokenRejection::Algorithm)
        ),
        "{e:?}"
    );
}

#[test]
fn id_token_algorithm_must_fit_the_key() {
    // RS256 header naming an Ed25519 key (algorithm confusion).
    let h = json!({"alg": "RS256", "kid": "k1"});
    assert_eq!(
        rejection(&sign_with(&h, &claims(), 1)),
        IdTokenRejection::Algorithm
    );
    // A key marked for encryption does not verify signatures.
    let mut enc = okp("k1", 1);
    enc["use"] = json!("enc");
    let t = sign_with(&header(), &claims(), 1);
    let e =
        validate_id_token(&t, &jwks(&[enc]), &provider(), &discovery(), NONCE, NOW).unwrap_err();
    assert!(matches!(
        e,
        AuthError::OidcInvalidIdToken(IdTokenRejection::Algorithm)
    ));
    // A key whose own alg is another one.
    let mut es = okp("k1", 1);
    es["alg"] = json!("ES256");
    let e = validate_id_token(&t, &jwks(&[es]), &provider(), &discovery(), NONCE, NOW).unwrap_err();
    assert!(matches!(
        e,
        AuthError::OidcInvalidIdToken(IdTokenRejection::Algorithm)
    ));
}

#[test]
fn id_token_unknown_kid() {
    let h = json!({"alg": "EdDSA", "kid": "rotated-away"});
    assert_eq!(
        rejection(&sign_with(&h, &claims(), 1)),
        IdTokenRejection::UnknownKey
    );
    // Without a kid: fine with one suitable key, ambiguous with two.
    let h = json!({"alg": "EdDSA"});
    let t = sign_with(&h, &claims(), 1);
    validate(&t).unwrap();
    let two = jwks(&[okp("k1", 1), okp("k2", 2)]);
    let e = validate_id_token(&t, &two, &provider(), &discovery(), NONCE, NOW).unwrap_err();
    assert!(matches!(
        e,
        AuthError::OidcInvalidIdToken(IdTokenRejection::UnknownKey)
    ));
    // Keys this crate cannot use are skipped, not fatal.
    let mixed = jwks(&[
        json!({"kty": "EC", "crv": "P-521", "kid": "weird"}),
        json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB", "alg": "RSA-OAEP"}),
        json!("not a key"),
        okp("k1", 1),
    ]);
    validate_id_token(
        &sign_with(&header(), &claims(), 1),
        &mixed,
        &provider(),
        &discovery(),
        NONCE,
        NOW,
    )
    .unwrap();
    let e = validate_id_token(
        &sign_with(&header(), &claims(), 1),
        b"{\"nokeys\":1}",
        &provider(),
        &discovery(),
        NONCE,
        NOW,
    )
    .unwrap_err();
    assert_eq!(e.code(), "oidc_discovery");
}

#[test]
fn id_token_bad_signature() {
    // Signed by another key under the known kid.
    assert_eq!(
        rejection(&sign_with(&header(), &claims(), 2)),
        IdTokenRejection::Signature
    );
    // Payload swapped after signing.
    let good = sign_with(&header(), &claims(), 1);
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(&with(claims(), "sub", json!("admin"))),
        parts[2]
    );
    assert_eq!(rejection(&forged), IdTokenRejection::Signature);
}

#[test]
fn id_token_shape_and_header() {
    assert_eq!(rejection("a.b"), IdTokenRejection::Malformed);
    assert_eq!(rejection("a.b.c.d.e"), IdTokenRejection::Encrypted);
    assert_eq!(rejection("!!.b.c"), IdTokenRejection::Malformed);
    assert_eq!(rejection(&"a".repeat(20_000)), IdTokenRejection::Malformed);
    let t = |h: Value| sign_with(&h, &claims(), 1);
    assert_eq!(
        rejection(&t(json!({"alg": "EdDSA", "kid": "k1", "typ": "at+jwt"}))),
        IdTokenRejection::Type
    );
    assert_eq!(
        rejection(&t(
            json!({"alg": "EdDSA", "kid": "k1", "typ": "logout+jwt"})
        )),
        IdTokenRejection::Type
    );
    validate(&t(json!({"alg": "EdDSA", "kid": "k1", "typ": "jwt"}))).unwrap();
    validate(&t(json!({"alg": "EdDSA", "kid": "k1"}))).unwrap();
    assert_eq!(
        rejection(&t(json!({"alg": "EdDSA", "kid": "k1", "crit": ["exp"]}))),
        IdTokenRejection::Malformed
    );
}

#[test]
fn id_token_subject_and_profile_claims() {
    let t = |c: Value| sign_with(&header(), &c, 1);
    assert_eq!(
        rejection(&t(with(claims(), "sub", Value::Null))),
        IdTokenRejection::MissingClaim("sub")
    );
    assert_eq!(
        rejection(&t(with(claims(), "sub", json!("")))),
        IdTokenRejection::Malformed
    );
    assert_eq!(
        rejection(&t(with(claims(), "sub", json!("x".repeat(256))))),
        IdTokenRejection::Malformed
    );
    let c = validate(&t(with(claims(), "email_verified", json!("true")))).unwrap();
    assert!(c.email_verified, "string \"true\" as some providers send");
    let c = validate(&t(with(claims(), "email_verified", json!(false)))).unwrap();
    assert!(!c.email_verified);
    let c = validate(&t(with(claims(), "email_verified", Value::Null))).unwrap();
    assert!(!c.email_verified);
    let c = validate(&t(with(claims(), "email", json!("not an address")))).unwrap();
    assert_eq!(c.email, None);
    assert!(!c.email_verified, "no address, nothing verified");
    let c = validate(&t(with(claims(), "name", json!(42)))).unwrap();
    assert_eq!(c.name, None);
}

// ----- account mapping -----

fn verified() -> IdTokenClaims {
    validate(&sign_with(&header(), &claims(), 1)).unwrap()
}

fn unverified() -> IdTokenClaims {
    IdTokenClaims {
        email_verified: false,
        ..verified()
    }
}

#[test]
fn link_decisions() {
    let (u, v, w) = (UserId::new(), UserId::new(), UserId::new());
    let c = verified();
    // Linked: logs in, whatever the e-mail says.
    assert_eq!(
        decide_link(&c, Some(u), None, Some(w)),
        LinkDecision::LoginExisting(u)
    );
    assert_eq!(
        decide_link(&c, Some(u), Some(u), None),
        LinkDecision::LoginExisting(u)
    );
    // Linked to someone else while linking: refused, never moved.
    let d = decide_link(&c, Some(u), Some(v), None);
    assert_eq!(d, LinkDecision::RefuseLinkedElsewhere);
    assert_eq!(
        d.refusal().unwrap().code(),
        "oidc_identity_linked_elsewhere"
    );
    // Explicit linking by a logged-in user.
    assert_eq!(
        decide_link(&c, None, Some(v), Some(w)),
        LinkDecision::LinkToCurrent(v)
    );
    assert_eq!(
        decide_link(&unverified(), None, Some(v), None),
        LinkDecision::LinkToCurrent(v)
    );
    // Not linked, address taken: never logs into that account.
    let d = decide_link(&c, None, None, Some(w));
    assert_eq!(d, LinkDecision::RefuseEmailTaken);
    assert_eq!(d.refusal().unwrap().code(), "oidc_email_taken");
    // Not linked, address free and verified: a new account.
    let d = decide_link(&c, None, None, None);
    assert_eq!(
        d,
        LinkDecision::CreateNew {
            email: Email::parse("ann@example.com").unwrap(),
            name: Some("Ann Example".into())
        }
    );
    assert!(d.refusal().is_none());
    // Not linked, unverified or no address: no account.
    for c in [
        unverified(),
        IdTokenClaims {
            email: None,
            email_verified: false,
            ..verified()
        },
    ] {
        for owner in [None, Some(w)] {
            let d = decide_link(&c, None, None, owner);
            assert_eq!(d, LinkDecision::RefuseEmailUnverified);
            assert_eq!(d.refusal().unwrap().code(), "oidc_email_unverified");
        }
    }
}
