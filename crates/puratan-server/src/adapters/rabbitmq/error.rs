//! `lapin` errors → [`puratan_core::Error`].

use lapin::protocol::{AMQPErrorKind, AMQPHardError, AMQPSoftError};
use puratan_core::Error;

pub(crate) const BACKEND: &str = "rabbitmq";

/// * lost or unusable connection/channel, I/O, a broker closing the
///   connection, a full channel table → `Unavailable { retryable: true }`;
/// * access refused (bad credentials or vhost) → `Unavailable { retryable: false }`;
/// * a queue or exchange that does not exist → `NotFound`;
/// * anything else (e.g. `PRECONDITION_FAILED`: a queue re-declared with
///   other arguments) → `Backend`.
pub(crate) fn map(e: lapin::Error) -> Error {
    use lapin::Error as E;
    match &e {
        E::IOError(_)
        | E::InvalidChannelState(_)
        | E::InvalidConnectionState(_)
        | E::InvalidChannel(_)
        | E::ChannelsLimitReached
        | E::MissingHeartbeatError => Error::unavailable(BACKEND, e, true),
        E::ProtocolError(amqp) => match amqp.kind() {
            AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND) => Error::NotFound {
                entity: "queue or exchange",
            },
            AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED) => {
                Error::unavailable(BACKEND, e, false)
            }
            AMQPErrorKind::Hard(
                AMQPHardError::CONNECTIONFORCED
                | AMQPHardError::RESOURCEERROR
                | AMQPHardError::INTERNALERROR,
            ) => Error::unavailable(BACKEND, e, true),
            _ => Error::backend(BACKEND, e),
        },
        _ => Error::backend(BACKEND, e),
    }
}

/// The broker refused responsibility for a published message.
pub(crate) fn nacked(routing_key: &str) -> Error {
    Error::unavailable(
        BACKEND,
        format!("the broker nacked the message published to {routing_key:?}"),
        true,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use puratan_core::ErrorKind;

    #[test]
    fn connection_trouble_is_retryable() {
        let io = lapin::Error::IOError(Arc::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(matches!(
            map(io),
            Error::Unavailable {
                retryable: true,
                ..
            }
        ));
        assert!(matches!(
            map(lapin::Error::MissingHeartbeatError),
            Error::Unavailable {
                retryable: true,
                ..
            }
        ));
    }

    #[test]
    fn protocol_errors_are_classified() {
        let err =
            |kind| lapin::Error::ProtocolError(lapin::protocol::AMQPError::new(kind, "x".into()));
        assert_eq!(
            map(err(AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND))).kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            map(err(AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED))).kind(),
            ErrorKind::Backend
        );
        assert!(matches!(
            map(err(AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED))),
            Error::Unavailable {
                retryable: false,
                ..
            }
        ));
        assert_eq!(nacked("k").kind(), ErrorKind::Unavailable);
    }
}
