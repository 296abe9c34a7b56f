//! One module per external service, each with the same skeleton:
//! `config.rs` (serde config, secrets redacted in `Debug`), `error.rs`
//! (driver error → `puratan_core::Error` mapping), then one file per port
//! it implements. Driver types never leave these modules.

pub mod clamav;
pub mod localfs;
pub mod mongo;
pub mod notify;
pub mod rabbitmq;
pub mod redis;
pub mod sqlite;
