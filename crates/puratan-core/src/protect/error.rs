use crate::Error;

/// Every failure of the protect module. Match on [`ProtectError::code`]
/// (stable) rather than on the message.
///
/// Messages never contain key material or plaintext; they may name a key id,
/// which is not secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectError {
    /// The sealed value names a key id that is not in the keyring (removed
    /// too early, or the configuration of this node is incomplete).
    #[error("sealed value uses unknown data key {kid:?}")]
    UnknownKey { kid: String },
    /// Authentication failed: the nonce, ciphertext or tag was modified, the
    /// key with this id is not the one that sealed it, or the value was
    /// sealed for another context (copied from another record or field).
    /// Deliberately one error: no detail about which.
    #[error("sealed value failed authentication (modified, or sealed for another context)")]
    Tampered,
    /// The key configuration is unusable (bad id, bad base64, wrong length,
    /// duplicate ids, missing active key).
    #[error("invalid data key configuration: {0}")]
    KeyConfig(String),
    /// The string is not a well-formed sealed value.
    #[error("malformed sealed value: {0}")]
    Malformed(&'static str),
    /// The plaintext is larger than [`MAX_PLAINTEXT_LEN`](super::MAX_PLAINTEXT_LEN).
    #[error("value to protect is too large (at most {max} bytes)")]
    TooLarge { max: usize },
    /// The context (associated data) is empty.
    #[error("protection context must not be empty")]
    EmptyContext,
    #[error("the system random number generator failed")]
    Random,
}

impl ProtectError {
    /// A stable, machine-readable code (snake_case, never reused).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownKey { .. } => "protect_unknown_key",
            Self::Tampered => "protect_tampered",
            Self::KeyConfig(_) => "protect_key_config",
            Self::Malformed(_) => "protect_malformed",
            Self::TooLarge { .. } => "protect_too_large",
            Self::EmptyContext => "protect_empty_context",
            Self::Random => "protect_random_failure",
        }
    }
}

/// Sealed values are stored data: failing to open one (unknown key,
/// tampering, a corrupt column) is an integrity problem of the backend, not
/// bad client input, so those map to [`Error::Backend`]. Key configuration
/// and caller mistakes (oversized value, empty context) map to
/// [`Error::Invalid`].
impl From<ProtectError> for Error {
    fn from(e: ProtectError) -> Self {
        match e {
            ProtectError::KeyConfig(reason) => Error::invalid("protect.keys", reason),
            e @ (ProtectError::TooLarge { .. } | ProtectError::EmptyContext) => {
                Error::invalid("protected value", e.to_string())
            }
            e @ (ProtectError::UnknownKey { .. }
            | ProtectError::Tampered
            | ProtectError::Malformed(_)
            | ProtectError::Random) => Error::backend("protect", e),
        }
    }
}
