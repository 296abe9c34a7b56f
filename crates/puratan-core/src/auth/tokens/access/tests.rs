use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use hmac::Mac as _;
use serde_json::{Value, json};

use super::*;

const NOW: u64 = 1_800_000_000;
const SEED: [u8; 32] = [7; 32];
const ATTACKER_SEED: [u8; 32] = [9; 32];
const HMAC_SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

fn tokens() -> AccessTokens {
    let keys = KeySet::new(JwtKey::ed25519_from_seed("k1", &SEED).unwrap()).unwrap();
    AccessTokens::new(
        keys,
        AccessTokenConfig::new("https://shop.example", "puratan-api"),
    )
    .unwrap()
}

/// Ed25519 signing key k1 plus an HS256 key k2, for algorithm confusion
/// between two keys that are both configured.
fn mixed_tokens() -> AccessTokens {
    let keys = KeySet::new(JwtKey::ed25519_from_seed("k1", &SEED).unwrap())
        .unwrap()
        .with_key(JwtKey::hs256("k2", HMAC_SECRET).unwrap())
        .unwrap();
    AccessTokens::new(
        keys,
        AccessTokenConfig::new("https://shop.example", "puratan-api"),
    )
    .unwrap()
}

fn claims() -> Value {
    json!({
        "iss": "https://shop.example",
        "aud": "puratan-api",
        "sub": "user-1",
        "exp": NOW + 900,
        "iat": NOW,
        "nbf": NOW,
        "jti": "j1",
        "typ": "access",
        "roles": ["customer"],
    })
}

fn with(mut c: Value, key: &str, v: Value) -> Value {
    c[key] = v;
    c
}

fn without(mut c: Value, key: &str) -> Value {
    c.as_object_mut().unwrap().remove(key);
    c
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

enum Signer {
    Ed(&'static [u8; 32]),
    Hs(Vec<u8>),
    Empty,
}

fn raw(header: Value, claims: Value, signer: Signer) -> String {
    let input = format!("{}.{}", b64(&header), b64(&claims));
    let sig = match signer {
        Signer::Ed(seed) => ed25519_dalek::SigningKey::from_bytes(seed)
            .sign(input.as_bytes())
            .to_bytes()
            .to_vec(),
        Signer::Hs(secret) => {
            let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Signer::Empty => Vec::new(),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn ed(claims: Value) -> String {
    raw(
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "k1"}),
        claims,
        Signer::Ed(&SEED),
    )
}

fn replace_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], b64(claims), parts[2])
}

#[test]
fn issued_tokens_validate_and_carry_all_claims() {
    let t = tokens();
    let (token, claims) = t.issue("user-1", &[Role::Staff], NOW).unwrap();
    let got = t.validate(token.expose(), NOW + 1).unwrap();
    assert_eq!(got, claims);
    assert_eq!(got.exp - got.iat, 900, "15 minutes by default");
    assert_eq!(got.typ, "access");
    assert_eq!(got.roles, vec![Role::Staff]);
    assert!(!format!("{token:?}").contains(token.expose()));
    let header = jsonwebtoken::decode_header(token.expose()).unwrap();
    assert_eq!(header.kid.as_deref(), Some("k1"));
    assert_eq!(header.alg, Algorithm::EdDSA);
    // Unique jti per token.
    let (_, c2) = t.issue("user-1", &[Role::Staff], NOW).unwrap();
    assert_ne!(claims.jti, c2.jti);
}

#[test]
fn rejection_table() {
    let t = tokens();
    let mixed = mixed_tokens();
    let public = JwtKey::ed25519_from_seed("k1", &SEED)
        .unwrap()
        .public_key()
        .unwrap();
    let valid = ed(claims());
    let attacker_jwk = json!({
        "kty": "OKP", "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(ed25519_dalek::SigningKey::from_bytes(&ATTACKER_SEED).verifying_key().to_bytes()),
    });
    let mut sig_flipped = valid.clone();
    {
        // Change the second-to-last character of the signature to a
        // different base64url one (the last may carry only padding bits).
        let last = sig_flipped.pop().unwrap();
        let prev = sig_flipped.pop().unwrap();
        sig_flipped.push(if prev == 'A' { 'B' } else { 'A' });
        sig_flipped.push(last);
    }
    let id_token = json!({
        "iss": "https://shop.example", "aud": "puratan-api", "sub": "user-1",
        "exp": NOW + 900, "iat": NOW, "nbf": NOW, "jti": "j1", "nonce": "n", "roles": ["admin"],
    });

    // (case, token, context, expected: Ok(()) or the error code)
    let cases: Vec<(&str, String, &AccessTokens, Result<(), &str>)> = vec![
        ("valid", valid.clone(), &t, Ok(())),
        (
            "alg none",
            raw(json!({"alg": "none", "kid": "k1"}), claims(), Signer::Empty),
            &t,
            Err("token_algorithm"),
        ),
        (
            "alg None (case variant)",
            raw(json!({"alg": "None", "kid": "k1"}), claims(), Signer::Empty),
            &t,
            Err("token_algorithm"),
        ),
        (
            "alg none, valid signature appended",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "none", "kid": "k1"})),
                b64(&claims()),
                valid.rsplit('.').next().unwrap()
            ),
            &t,
            Err("token_algorithm"),
        ),
        (
            "HS256 signed with the Ed25519 public key as secret",
            raw(
                json!({"alg": "HS256", "kid": "k1"}),
                claims(),
                Signer::Hs(public.to_vec()),
            ),
            &t,
            Err("token_algorithm"),
        ),
        (
            "HS256 with the public key, HS256 also configured for another kid",
            raw(
                json!({"alg": "HS256", "kid": "k1"}),
                claims(),
                Signer::Hs(public.to_vec()),
            ),
            &mixed,
            Err("token_algorithm"),
        ),
        (
            "EdDSA header naming the HS256 key",
            raw(
                json!({"alg": "EdDSA", "kid": "k2"}),
                claims(),
                Signer::Ed(&SEED),
            ),
            &mixed,
            Err("token_algorithm"),
        ),
        (
            "HS256 with the right secret and kid is fine",
            raw(
                json!({"alg": "HS256", "kid": "k2"}),
                claims(),
                Signer::Hs(HMAC_SECRET.to_vec()),
            ),
            &mixed,
            Ok(()),
        ),
        (
            "RS256",
            raw(
                json!({"alg": "RS256", "kid": "k1"}),
                claims(),
                Signer::Ed(&SEED),
            ),
            &t,
            Err("token_algorithm"),
        ),
        (
            "ES256",
            raw(
                json!({"alg": "ES256", "kid": "k1"}),
                claims(),
                Signer::Ed(&SEED),
            ),
            &t,
            Err("token_algorithm"),
        ),
        (
            "unknown kid",
            raw(
                json!({"alg": "EdDSA", "kid": "k9"}),
                claims(),
                Signer::Ed(&ATTACKER_SEED),
            ),
            &t,
            Err("token_unknown_key"),
        ),
        (
            "missing kid",
            raw(json!({"alg": "EdDSA"}), claims(), Signer::Ed(&SEED)),
            &t,
            Err("token_unknown_key"),
        ),
        (
            "kid of a valid key, signed by another key",
            raw(
                json!({"alg": "EdDSA", "kid": "k1"}),
                claims(),
                Signer::Ed(&ATTACKER_SEED),
            ),
            &t,
            Err("token_signature"),
        ),
        (
            "tampered payload (roles raised to admin)",
            replace_payload(&valid, &with(claims(), "roles", json!(["admin"]))),
            &t,
            Err("token_signature"),
        ),
        (
            "tampered payload (other subject)",
            replace_payload(&valid, &with(claims(), "sub", json!("user-2"))),
            &t,
            Err("token_signature"),
        ),
        (
            "tampered signature",
            sig_flipped,
            &t,
            Err("token_signature"),
        ),
        (
            "signature stripped",
            format!("{}.", valid.rsplit_once('.').unwrap().0),
            &t,
            Err("token_signature"),
        ),
        (
            "wrong iss",
            ed(with(claims(), "iss", json!("https://evil.example"))),
            &t,
            Err("token_issuer"),
        ),
        (
            "iss differing only by a trailing slash",
            ed(with(claims(), "iss", json!("https://shop.example/"))),
            &t,
            Err("token_issuer"),
        ),
        (
            "wrong aud",
            ed(with(claims(), "aud", json!("other-api"))),
            &t,
            Err("token_audience"),
        ),
        (
            "aud array without us",
            ed(with(claims(), "aud", json!(["a", "b"]))),
            &t,
            Err("token_audience"),
        ),
        (
            "aud array containing us",
            ed(with(claims(), "aud", json!(["a", "puratan-api"]))),
            &t,
            Ok(()),
        ),
        (
            "missing exp",
            ed(without(claims(), "exp")),
            &t,
            Err("token_missing_claim"),
        ),
        (
            "missing iss",
            ed(without(claims(), "iss")),
            &t,
            Err("token_missing_claim"),
        ),
        (
            "missing aud",
            ed(without(claims(), "aud")),
            &t,
            Err("token_missing_claim"),
        ),
        (
            "missing sub",
            ed(without(claims(), "sub")),
            &t,
            Err("token_missing_claim"),
        ),
        (
            "missing jti",
            ed(without(claims(), "jti")),
            &t,
            Err("token_missing_claim"),
        ),
        (
            "missing roles",
            ed(without(claims(), "roles")),
            &t,
            Err("token_missing_claim"),
        ),
        (
            "exp as a string",
            ed(with(claims(), "exp", json!("9999999999"))),
            &t,
            Err("token_malformed"),
        ),
        (
            "exp as a float",
            ed(with(claims(), "exp", json!(1.9e9))),
            &t,
            Err("token_malformed"),
        ),
        (
            "exp negative",
            ed(with(claims(), "exp", json!(-1))),
            &t,
            Err("token_malformed"),
        ),
        (
            "expired",
            ed(with(claims(), "exp", json!(NOW - 31))),
            &t,
            Err("token_expired"),
        ),
        (
            "expired within leeway",
            ed(with(claims(), "exp", json!(NOW - 29))),
            &t,
            Ok(()),
        ),
        (
            "exp = now - leeway",
            ed(with(claims(), "exp", json!(NOW - 30))),
            &t,
            Err("token_expired"),
        ),
        (
            "nbf in the future",
            ed(with(claims(), "nbf", json!(NOW + 31))),
            &t,
            Err("token_not_yet_valid"),
        ),
        (
            "nbf within leeway",
            ed(with(claims(), "nbf", json!(NOW + 30))),
            &t,
            Ok(()),
        ),
        (
            "iat in the future",
            ed(with(claims(), "iat", json!(NOW + 3600))),
            &t,
            Err("token_not_yet_valid"),
        ),
        (
            "refresh token presented as access",
            ed(with(claims(), "typ", json!("refresh"))),
            &t,
            Err("token_type"),
        ),
        (
            "typ differing in case",
            ed(with(claims(), "typ", json!("Access"))),
            &t,
            Err("token_type"),
        ),
        (
            "ID token (no typ) presented as access",
            ed(id_token.clone()),
            &t,
            Err("token_missing_claim"),
        ),
        (
            "ID token with typ=id",
            ed(with(id_token, "typ", json!("id"))),
            &t,
            Err("token_type"),
        ),
        (
            "header typ JWT (e.g. an ID token) with access claims",
            raw(
                json!({"alg": "EdDSA", "kid": "k1", "typ": "JWT"}),
                claims(),
                Signer::Ed(&SEED),
            ),
            &t,
            Err("token_type"),
        ),
        (
            "header typ application/at+jwt",
            raw(
                json!({"alg": "EdDSA", "kid": "k1", "typ": "application/at+jwt"}),
                claims(),
                Signer::Ed(&SEED),
            ),
            &t,
            Ok(()),
        ),
        (
            "unknown role",
            ed(with(claims(), "roles", json!(["superuser"]))),
            &t,
            Err("token_malformed"),
        ),
        (
            "jku header pointing at an attacker's key set",
            raw(
                json!({"alg": "EdDSA", "kid": "k1", "jku": "https://evil.example/jwks.json"}),
                claims(),
                Signer::Ed(&ATTACKER_SEED),
            ),
            &t,
            Err("token_signature"),
        ),
        (
            "x5u header pointing at an attacker's certificate",
            raw(
                json!({"alg": "EdDSA", "kid": "k1", "x5u": "https://evil.example/cert.pem"}),
                claims(),
                Signer::Ed(&ATTACKER_SEED),
            ),
            &t,
            Err("token_signature"),
        ),
        (
            "embedded jwk of the attacker",
            raw(
                json!({"alg": "EdDSA", "kid": "k1", "jwk": attacker_jwk.clone()}),
                claims(),
                Signer::Ed(&ATTACKER_SEED),
            ),
            &t,
            Err("token_signature"),
        ),
        (
            "embedded jwk, no kid",
            raw(
                json!({"alg": "EdDSA", "jwk": attacker_jwk}),
                claims(),
                Signer::Ed(&ATTACKER_SEED),
            ),
            &t,
            Err("token_unknown_key"),
        ),
        (
            "jku/x5u on a genuinely signed token are ignored",
            raw(
                json!({"alg": "EdDSA", "kid": "k1", "jku": "https://evil.example/j", "x5u": "https://evil.example/c"}),
                claims(),
                Signer::Ed(&SEED),
            ),
            &t,
            Ok(()),
        ),
        (
            "crit header",
            raw(
                json!({"alg": "EdDSA", "kid": "k1", "crit": ["exp"]}),
                claims(),
                Signer::Ed(&SEED),
            ),
            &t,
            Err("token_malformed"),
        ),
        ("empty", String::new(), &t, Err("token_malformed")),
        ("two parts", "a.b".into(), &t, Err("token_malformed")),
        (
            "four parts",
            format!("{valid}.x"),
            &t,
            Err("token_malformed"),
        ),
        (
            "not base64",
            "!!!.???.***".into(),
            &t,
            Err("token_malformed"),
        ),
        (
            "header not JSON",
            format!("{}.e30.", URL_SAFE_NO_PAD.encode("nope")),
            &t,
            Err("token_malformed"),
        ),
        (
            "header without alg",
            raw(json!({"kid": "k1"}), claims(), Signer::Ed(&SEED)),
            &t,
            Err("token_malformed"),
        ),
        ("huge", "a".repeat(100_000), &t, Err("token_malformed")),
        (
            "payload not JSON",
            format!(
                "{}.{}.{}",
                valid.split('.').next().unwrap(),
                URL_SAFE_NO_PAD.encode("[1,2"),
                "AAAA"
            ),
            &t,
            Err("token_signature"),
        ),
    ];

    for (name, token, ctx, want) in &cases {
        let got = ctx.validate(token, NOW).map(|_| ()).map_err(|e| e.code());
        assert_eq!(got, *want, "case: {name}");
    }
}

#[test]
fn rotation_old_key_still_verifies_new_key_signs() {
    let old = tokens();
    let (token, _) = old.issue("user-1", &[Role::Customer], NOW).unwrap();
    let (new_key, _) = JwtKey::ed25519_generate("k2").unwrap();
    let old_public =
        JwtKey::ed25519_public("k1", &old.keys().signing_key().public_key().unwrap()).unwrap();
    let rotated = AccessTokens::new(
        KeySet::new(new_key).unwrap().with_key(old_public).unwrap(),
        old.config().clone(),
    )
    .unwrap();
    assert!(rotated.validate(token.expose(), NOW).is_ok());
    let (fresh, _) = rotated.issue("user-1", &[Role::Customer], NOW).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(fresh.expose())
            .unwrap()
            .kid
            .as_deref(),
        Some("k2")
    );
    // The old deployment does not know k2.
    assert_eq!(
        old.validate(fresh.expose(), NOW).unwrap_err().code(),
        "token_unknown_key"
    );
}

#[test]
fn key_configuration_is_validated() {
    assert_eq!(
        JwtKey::hs256("k", &[0; 31]).unwrap_err().code(),
        "key_config"
    );
    assert!(JwtKey::hs256("k", &[0; 32]).is_ok());
    assert!(JwtKey::ed25519_from_seed("", &SEED).is_err());
    assert!(JwtKey::ed25519_from_seed("has space", &SEED).is_err());
    let public = JwtKey::ed25519_public(
        "p",
        &JwtKey::ed25519_from_seed("k", &SEED)
            .unwrap()
            .public_key()
            .unwrap(),
    )
    .unwrap();
    assert!(KeySet::new(public).is_err(), "verify-only key cannot sign");
    let dup = KeySet::new(JwtKey::ed25519_from_seed("k", &SEED).unwrap())
        .unwrap()
        .with_key(JwtKey::hs256("k", HMAC_SECRET).unwrap());
    assert!(dup.is_err());
    let dbg = format!("{:?}", JwtKey::hs256("k", HMAC_SECRET).unwrap());
    assert!(!dbg.contains("0123456789abcdef"), "{dbg}");
    let seed_dbg = format!("{:?}", JwtKey::ed25519_from_seed("k", &SEED).unwrap());
    assert!(!seed_dbg.contains("7, 7, 7"), "{seed_dbg}");
}

#[test]
fn denylist_revocation_after_logout() {
    use crate::memory::MemorySessionStore;
    let store = MemorySessionStore::default();
    let t = tokens();
    let (token, claims) = t.issue("user-1", &[Role::Customer], NOW).unwrap();
    super::super::refresh::tests_support::block_on(async {
        assert!(
            t.validate_not_denied(token.expose(), NOW, &store)
                .await
                .is_ok()
        );
        t.revoke(&claims, NOW, &store).await.unwrap();
        let err = t
            .validate_not_denied(token.expose(), NOW, &store)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "token_revoked");
    });
    assert_eq!(t.remaining_lifetime(&claims, NOW), Duration::from_secs(930));
    assert_eq!(t.remaining_lifetime(&claims, NOW + 10_000), Duration::ZERO);
}

#[test]
fn every_single_character_mutation_is_rejected() {
    let t = tokens();
    let (token, _) = t.issue("user-1", &[Role::Admin], NOW).unwrap();
    let token = token.into_string();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
    let mut tried = 0;
    for (i, orig) in token.bytes().enumerate() {
        // One substitute per position, chosen deterministically (each
        // check costs an Ed25519 verification, slow in debug builds).
        for k in [(i * 7 + 3) % alphabet.len()] {
            let sub = alphabet[k];
            if sub == orig {
                continue;
            }
            let mut bytes = token.clone().into_bytes();
            bytes[i] = sub;
            let mutated = String::from_utf8(bytes).unwrap();
            assert!(
                t.validate(&mutated, NOW).is_err(),
                "position {i}: {mutated}"
            );
            tried += 1;
        }
    }
    assert!(tried > token.len() * 9 / 10);
    // Truncations too (every 5th prefix and the last few).
    for end in (0..token.len()).filter(|e| e % 5 == 0 || e + 8 > token.len()) {
        assert!(t.validate(&token[..end], NOW).is_err(), "prefix {end}");
    }
}

#[test]
fn jwks_lists_only_public_keys() {
    let keys = KeySet::new(JwtKey::ed25519_from_seed("k1", &SEED).unwrap())
        .unwrap()
        .with_key(JwtKey::hs256("k2", HMAC_SECRET).unwrap())
        .unwrap();
    let jwks = keys.jwks();
    let list = jwks["keys"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["kid"], "k1");
    assert_eq!(list[0]["kty"], "OKP");
    // The published key verifies our tokens.
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(list[0].clone()).unwrap();
    let dk = DecodingKey::from_jwk(&jwk).unwrap();
    let t = tokens();
    let (token, _) = t.issue("u", &[], NOW).unwrap();
    let mut v = Validation::new(Algorithm::EdDSA);
    v.validate_exp = false;
    v.validate_aud = false;
    assert!(jsonwebtoken::decode::<serde_json::Value>(token.expose(), &dk, &v).is_ok());
    assert!(!jwks.to_string().contains("0123456789abcdef"));
}
