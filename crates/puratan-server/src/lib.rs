//! # puratan-server
//!
//! The reference server: configuration, the CLI, the HTTP API (axum) and
//! the adapters that connect `puratan-core`'s ports to real services.
//!
//! **Invariant:** this is the only crate that speaks HTTP/JSON, and the
//! only one that names a database, cache or broker driver.

pub mod adapters;
pub mod auth;
pub mod backends;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod events;
pub mod http;
pub mod intake;
pub mod live;
pub mod metrics;
pub mod notifications;
pub mod outbox_relay;
pub mod pricing;
pub mod processing;
pub mod production;
pub mod profile_cache;
pub mod redact;
pub mod secrets;
pub mod server;
pub mod state;
pub mod system_events;
pub mod telemetry;
pub mod uploads_config;
