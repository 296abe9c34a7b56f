//! The one error type of `puratan-core` and of every port implementation.
//!
//! Adapters (SQLite, MongoDB, Redis, RabbitMQ, …) map their driver errors
//! into these kinds so callers can react without knowing the backend:
//! `Conflict` means "re-read and retry or report", `Unavailable` means "the
//! backend is down, maybe retry later".

use std::fmt;

/// Boxed source error from a backend driver.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a write conflicted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictReason {
    /// The record changed since it was read (optimistic concurrency).
    StaleVersion,
    /// A unique field already holds this value.
    Duplicate { field: &'static str },
    /// The operation is not allowed in the record's current state.
    State(String),
    /// A counted resource has too little left for this write: a product's
    /// stock (`key` = the product id) or a coupon's redemptions (`key` =
    /// the normalised coupon code); see `OrderRepo::insert_checkout`.
    Exhausted { key: String },
}

impl fmt::Display for ConflictReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StaleVersion => f.write_str("the record was modified concurrently"),
            Self::Duplicate { field } => write!(f, "{field} is already taken"),
            Self::State(why) => f.write_str(why),
            Self::Exhausted { key } => write!(f, "not enough left of {key}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{entity} not found")]
    NotFound { entity: &'static str },

    #[error("conflict on {entity}: {reason}")]
    Conflict {
        entity: &'static str,
        reason: ConflictReason,
    },

    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },

    #[error("{backend} is unavailable")]
    Unavailable {
        backend: &'static str,
        retryable: bool,
        #[source]
        source: Option<BoxError>,
    },

    /// A backend answered with something we did not expect (corrupt data,
    /// protocol error). Not retryable; log it.
    #[error("{backend} failed: {message}")]
    Backend {
        backend: &'static str,
        message: String,
        #[source]
        source: Option<BoxError>,
    },
}

/// The coarse classification callers match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Invalid,
    Unavailable,
    Backend,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Conflict { .. } => ErrorKind::Conflict,
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::Unavailable { .. } => ErrorKind::Unavailable,
            Self::Backend { .. } => ErrorKind::Backend,
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn stale(entity: &'static str) -> Self {
        Self::Conflict {
            entity,
            reason: ConflictReason::StaleVersion,
        }
    }

    pub fn duplicate(entity: &'static str, field: &'static str) -> Self {
        Self::Conflict {
            entity,
            reason: ConflictReason::Duplicate { field },
        }
    }

    pub fn exhausted(entity: &'static str, key: impl Into<String>) -> Self {
        Self::Conflict {
            entity,
            reason: ConflictReason::Exhausted { key: key.into() },
        }
    }

    pub fn unavailable(
        backend: &'static str,
        source: impl Into<BoxError>,
        retryable: bool,
    ) -> Self {
        Self::Unavailable {
            backend,
            retryable,
            source: Some(source.into()),
        }
    }

    pub fn backend(backend: &'static str, source: impl Into<BoxError>) -> Self {
        let source = source.into();
        Self::Backend {
            backend,
            message: source.to_string(),
            source: Some(source),
        }
    }
}
