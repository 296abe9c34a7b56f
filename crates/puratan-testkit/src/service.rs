//! Whether a test may skip when its service is missing.
//!
//! In CI (`CI=true`) a missing service is a test failure, never a silent
//! skip. Locally the test is skipped with a loud message so a contributor
//! without RabbitMQ can still run the rest.

use std::fmt::Display;

/// Unwraps a connection attempt, or skips/fails as described above.
pub fn require<T, E: Display>(service: &str, attempt: Result<T, E>) -> Option<T> {
    match attempt {
        Ok(v) => Some(v),
        Err(e) => {
            let msg = format!("{service} is not reachable: {e}");
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("{msg} (CI=true: a missing service is a failure)");
            }
            eprintln!("\n!!! SKIPPING: {msg}. Start it (see README) to run this test. !!!\n");
            None
        }
    }
}

/// A short random namespace so parallel tests (and repeated runs against a
/// long-lived service) never see each other's data.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}
