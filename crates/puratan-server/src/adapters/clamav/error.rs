//! clamd trouble → [`FilesError`].
//!
//! * cannot connect, connection dropped, any I/O error, a timeout →
//!   [`FilesError::ScannerUnavailable`] (retryable: the pipeline waits);
//! * `INSTREAM size limit exceeded` → [`FilesError::ScanTooLarge`];
//! * any other `… ERROR` reply, or a reply that is not a verdict →
//!   [`FilesError::ScannerFailed`] (the pipeline waits too).
//!
//! None of them is ever a clean verdict.

use std::time::Duration;

use puratan_files::FilesError;

pub(crate) const SCANNER: &str = "clamav";

/// An I/O error while talking to clamd, with what we were doing.
pub(crate) fn io(doing: &str, e: std::io::Error) -> FilesError {
    FilesError::ScannerUnavailable {
        scanner: SCANNER,
        reason: format!("{doing}: {e}"),
    }
}

/// A step that did not finish in time.
pub(crate) fn timeout(doing: &str, after: Duration) -> FilesError {
    FilesError::ScannerUnavailable {
        scanner: SCANNER,
        reason: format!("{doing}: no progress within {after:?}"),
    }
}

/// clamd closed the connection without a complete reply.
pub(crate) fn closed(doing: &str) -> FilesError {
    FilesError::ScannerUnavailable {
        scanner: SCANNER,
        reason: format!("{doing}: clamd closed the connection without an answer"),
    }
}

/// clamd answered, but not with what the protocol promises.
pub(crate) fn failed(reason: impl Into<String>) -> FilesError {
    FilesError::ScannerFailed {
        scanner: SCANNER,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_trouble_is_unavailable_and_answers_are_failures() {
        let refused = io(
            "connecting to 127.0.0.1:1",
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        );
        assert_eq!(refused.code(), "scanner_unavailable");
        assert!(refused.to_string().contains("127.0.0.1:1"), "{refused}");
        assert_eq!(
            timeout("reading the verdict", Duration::from_secs(1)).code(),
            "scanner_unavailable"
        );
        assert_eq!(closed("PING").code(), "scanner_unavailable");
        assert_eq!(failed("stream: ?? ERROR").code(), "scanner_error");
    }
}
