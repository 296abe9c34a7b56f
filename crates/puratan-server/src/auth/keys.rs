//! Builds the access-token key set and the data-protection keyring from
//! configuration (or generated keys in the file store).

use puratan_core::auth::tokens::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use puratan_core::ports::FileStore;
use puratan_core::protect::{DataKey, KeyId, Keyring};

use super::config::{AuthConfig, JwtAlgorithm, ProtectConfig, SecretKeyConfig};
use crate::secrets::{decode_configured, load_or_generate};

pub async fn access_tokens(
    config: &AuthConfig,
    files: &dyn FileStore,
) -> anyhow::Result<AccessTokens> {
    let bad = |what: String, e: puratan_core::auth::AuthError| {
        anyhow::anyhow!("invalid configuration: {what}: {e}")
    };
    let mut keys: Vec<JwtKey> = Vec::new();
    if config.keys.is_empty() {
        let secret = load_or_generate(files, "jwt-signing-key", 32).await?;
        keys.push(jwt_key(
            config.algorithm,
            "local",
            &secret,
            "secrets/jwt-signing-key",
        )?);
    }
    for (i, k) in config.keys.iter().enumerate() {
        let what = format!("auth.keys[{i}]");
        let secret = decode_configured(&format!("{what}.secret"), &k.secret)?;
        keys.push(jwt_key(config.algorithm, &k.id, &secret, &what)?);
    }
    let active = active_index(
        &config.keys,
        config.active_key.as_deref(),
        "auth.active_key",
    )?;
    let signing = keys.remove(active);
    let mut set = KeySet::new(signing).map_err(|e| bad("auth.keys".into(), e))?;
    for k in keys {
        set = set.with_key(k).map_err(|e| bad("auth.keys".into(), e))?;
    }
    let mut tc = AccessTokenConfig::new(config.issuer.clone(), config.audience.clone());
    tc.ttl_secs = config.access_ttl_secs;
    AccessTokens::new(set, tc).map_err(|e| bad("auth".into(), e))
}

/// One signing key of `algorithm` from its secret (an Ed25519 seed is 32
/// bytes); `what` names its origin in errors.
fn jwt_key(
    algorithm: JwtAlgorithm,
    kid: &str,
    secret: &[u8],
    what: &str,
) -> anyhow::Result<JwtKey> {
    let key = match algorithm {
        JwtAlgorithm::EdDsa => {
            let seed: [u8; 32] = secret.try_into().map_err(|_| {
                anyhow::anyhow!("invalid configuration: {what}: an Ed25519 seed is 32 bytes")
            })?;
            JwtKey::ed25519_from_seed(kid, &seed)
        }
        JwtAlgorithm::Hs256 => JwtKey::hs256(kid, secret),
    };
    key.map_err(|e| anyhow::anyhow!("invalid configuration: {what}: {e}"))
}

pub async fn keyring(config: &ProtectConfig, files: &dyn FileStore) -> anyhow::Result<Keyring> {
    let bad = |e: puratan_core::protect::ProtectError| {
        anyhow::anyhow!("invalid configuration: protect: {e}")
    };
    if config.keys.is_empty() {
        let secret = load_or_generate(files, "data-key", 32).await?;
        let bytes: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| anyhow::anyhow!("secrets/data-key must hold 32 bytes"))?;
        let key = DataKey::new(KeyId::parse("local").map_err(bad)?, bytes);
        return Keyring::new([key], "local").map_err(bad);
    }
    let mut keys = Vec::new();
    for k in &config.keys {
        keys.push(DataKey::from_base64(&k.id, &k.secret).map_err(bad)?);
    }
    let active = active_index(
        &config.keys,
        config.active_key.as_deref(),
        "protect.active_key",
    )?;
    let active_id = config.keys[active].id.clone();
    Keyring::new(keys, &active_id).map_err(bad)
}

/// Index of the active key: the named one, or the first.
fn active_index(
    keys: &[SecretKeyConfig],
    active: Option<&str>,
    what: &str,
) -> anyhow::Result<usize> {
    match active {
        None => Ok(0),
        Some(id) => keys
            .iter()
            .position(|k| k.id == id)
            .ok_or_else(|| anyhow::anyhow!("invalid configuration: {what}: no key with id {id}")),
    }
}
