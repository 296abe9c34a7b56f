//! # puratan-core
//!
//! The heart of Puratan that knows nothing about HTTP, databases or brokers:
//!
//! * [`domain`] — validated value types (`Sku`, `Email`, `Money`, …) and the
//!   records the ports store (`Product`, `User`, `Order`).
//! * [`ports`] — one small async trait per external capability (repositories,
//!   cache, sessions, rate limits, event bus, audit log, file store). Driver
//!   types never appear in these signatures.
//! * [`memory`] — an in-memory implementation of every port, for tests and
//!   for integrators who want to start without infrastructure.
//! * [`gcra`] — the rate-limit algorithm shared by every `RateLimitStore`.
//! * [`auth`] — passwords, TOTP, tokens, RBAC, OIDC (pure logic);
//!   [`accounts`] — the account flows over the ports; [`protect`] — field
//!   encryption at rest.
//!
//! **Invariant:** this crate never reads environment variables, never opens
//! sockets or files, and never depends on a specific async runtime's I/O.

pub mod accounts;
pub mod auth;
pub mod cached;
pub mod domain;
pub mod error;
pub mod gcra;
pub mod hex;
pub mod memory;
pub mod orders;
pub mod ports;
pub mod protect;
pub mod workflow;

pub use error::{ConflictReason, Error, ErrorKind, Result};
