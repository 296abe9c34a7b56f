//! `redis` errors → [`puratan_core::Error`].

use puratan_core::Error;
use redis::{ErrorKind, RedisError, ServerErrorKind};

pub(crate) const BACKEND: &str = "redis";

/// Connection trouble (refused, timed out, dropped, any I/O error) and the
/// server's "not now" answers (loading, failover) are retryable
/// `Unavailable`; everything else is a `Backend` error.
pub(crate) fn map(e: RedisError) -> Error {
    let transient = e.is_connection_refusal()
        || e.is_timeout()
        || e.is_io_error()
        || e.is_connection_dropped()
        || matches!(
            e.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ClusterDown
            )
        );
    if transient {
        Error::unavailable(BACKEND, e, true)
    } else {
        Error::backend(BACKEND, e)
    }
}

/// Redis answered with a value we cannot use (a corrupt entry).
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Backend {
        backend: BACKEND,
        message: format!("corrupt {what}: {detail}"),
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use puratan_core::ErrorKind as Kind;

    #[test]
    fn io_errors_are_retryable_unavailable() {
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let e = map(refused);
        assert_eq!(e.kind(), Kind::Unavailable);
        assert!(matches!(
            e,
            Error::Unavailable {
                retryable: true,
                ..
            }
        ));
        let timeout = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(map(timeout).kind(), Kind::Unavailable);
    }

    #[test]
    fn other_errors_are_backend_errors() {
        let e = RedisError::from((ErrorKind::UnexpectedReturnType, "wrong type"));
        assert_eq!(map(e).kind(), Kind::Backend);
    }
}
