//! The shared conformance suites (crates/puratan-testkit) against every
//! adapter in this crate. One test binary keeps link time down.

mod clamav;
mod consumers;
mod localfs;
mod mongo;
mod rabbitmq;
mod redis;
mod sqlite;
