//! The payloads of the system events, one struct per schema
//! (docs/events/system.*.v1.schema.json). Fields are only ever added
//! within a version; consumers ignore fields they do not know.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The fields every system event starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// `puratan.system.<name>/v<n>`.
    pub schema: String,
    /// UUIDv7, = the message id.
    pub event_id: String,
    /// The publishing process (`App::replica_id`).
    pub replica: String,
    pub at: DateTime<Utc>,
}

impl Header {
    pub fn new(schema: &str, replica: &str) -> Self {
        Self {
            schema: schema.to_owned(),
            event_id: uuid::Uuid::now_v7().to_string(),
            replica: replica.to_owned(),
            at: Utc::now(),
        }
    }
}

/// One backend's state in `system.health`. Only up or down: a probe's
/// error text can name hosts and users, and the event goes to anyone
/// bound to the topic exchange (`/readyz` and the log have the details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeV1 {
    pub name: String,
    pub ok: bool,
}

/// `system.health` (`puratan.system.health/v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthV1 {
    #[serde(flatten)]
    pub header: Header,
    /// `ready` when every probe is ok, else `unavailable` (as `/readyz`).
    pub status: String,
    pub probes: Vec<ProbeV1>,
    /// The server's version (`CARGO_PKG_VERSION`).
    pub server_version: String,
}

impl HealthV1 {
    pub fn new(replica: &str, probes: Vec<ProbeV1>) -> Self {
        let ready = probes.iter().all(|p| p.ok);
        Self {
            header: Header::new("puratan.system.health/v1", replica),
            status: if ready { "ready" } else { "unavailable" }.to_owned(),
            probes,
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// `system.cache_updated` (`puratan.system.cache_updated/v1`): catalog
/// data changed; every replica evicts the products and bumps its listing
/// generation, and reloads pricing when `catalog_version` is set
/// (events.rs). The v1 fields are those of the `catalog.changed` message
/// it replaces, so either parses as [`crate::events::CatalogChanged`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheUpdatedV1 {
    #[serde(flatten)]
    pub header: Header,
    /// Products whose cached copies are stale (may be empty).
    pub product_ids: Vec<String>,
    /// The pricing catalog version now active, when it changed.
    pub catalog_version: Option<String>,
}

impl CacheUpdatedV1 {
    pub fn new(replica: &str, product_ids: Vec<String>, catalog_version: Option<String>) -> Self {
        Self {
            header: Header::new("puratan.system.cache_updated/v1", replica),
            product_ids,
            catalog_version,
        }
    }
}

/// `system.config_changed` (`puratan.system.config_changed/v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChangedV1 {
    #[serde(flatten)]
    pub header: Header,
    /// What changed, e.g. `pricing.catalog`.
    pub key: String,
    /// The version now in force.
    pub version: String,
    /// The version before, `null` when there was none.
    pub previous_version: Option<String>,
}

impl ConfigChangedV1 {
    pub fn new(replica: &str, key: &str, version: &str, previous_version: Option<String>) -> Self {
        Self {
            header: Header::new("puratan.system.config_changed/v1", replica),
            key: key.to_owned(),
            version: version.to_owned(),
            previous_version,
        }
    }
}

/// Where a `system.error` happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A request answered with a 5xx status.
    Http,
    /// A consumer dead-lettered a message.
    Consumer,
}

/// `system.error` (`puratan.system.error/v1`). Stable codes and names
/// only: no messages, no internal details, no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorV1 {
    #[serde(flatten)]
    pub header: Header,
    pub source: Source,
    /// A stable code: the HTTP error code (`internal`, `unavailable`,
    /// `timeout`, …) or a consumer's (`event_poison`,
    /// `event_retries_exhausted`).
    pub code: String,
    /// The route template (`/api/v1/orders/{id}`) or the consumer name.
    #[serde(rename = "where")]
    pub location: String,
    /// The HTTP status; `null` for consumers.
    pub status: Option<u16>,
    /// The request id (`x-request-id`) the log lines carry; `null` for
    /// consumers.
    pub request_id: Option<String>,
}
