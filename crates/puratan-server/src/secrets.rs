//! Key material: from configuration, or — for a single embedded server with
//! none configured — generated once and kept in the file store (never in
//! the database), so restarts keep verifying what was issued before.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use puratan_core::ports::FileStore;

/// The secret stored at `secrets/{name}`, or `len` fresh random bytes
/// stored there on first use.
pub async fn load_or_generate(
    files: &dyn FileStore,
    name: &str,
    len: usize,
) -> anyhow::Result<Vec<u8>> {
    let key = format!("secrets/{name}");
    match files.get(&key).await {
        Ok(bytes) => STANDARD
            .decode(&bytes)
            .map_err(|e| anyhow::anyhow!("{key} in the file store is corrupt: {e}")),
        Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => {
            let mut secret = vec![0u8; len];
            getrandom::fill(&mut secret)
                .map_err(|e| anyhow::anyhow!("no randomness for {key}: {e}"))?;
            files
                .put(&key, bytes::Bytes::from(STANDARD.encode(&secret)))
                .await?;
            tracing::warn!(
                secret = %key,
                "no key configured: generated one in the file store; replicas must share configured keys"
            );
            Ok(secret)
        }
        Err(e) => Err(e.into()),
    }
}

/// Standard base64 from configuration, with the key's name in the error.
pub fn decode_configured(what: &str, value: &str) -> anyhow::Result<Vec<u8>> {
    STANDARD
        .decode(value.trim())
        .map_err(|_| anyhow::anyhow!("invalid configuration: {what}: not base64"))
}
