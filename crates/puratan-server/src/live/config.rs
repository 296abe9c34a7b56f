//! `[live]`: WebSocket / SSE settings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// How long a ticket from `POST /api/v1/live/tickets` stays valid.
    pub ticket_ttl_secs: u64,
    /// Browser origins allowed to open a socket, besides the server's own
    /// origin (the `Host` it was reached at) and `server.cors_origins`.
    pub allowed_origins: Vec<String>,
    /// Events buffered per connection before a slow client is told it
    /// lagged (`{"type":"lagged","missed":n}`) and must re-read state.
    pub buffer: usize,
    /// Server pings; a client silent for three intervals is disconnected.
    pub ping_secs: u64,
    /// A connection is closed (code 4001) after this long so revoked
    /// sessions do not keep listening; clients fetch a new ticket.
    pub max_connection_secs: u64,
    /// Single-order subscriptions per connection.
    pub max_order_subscriptions: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            ticket_ttl_secs: 30,
            allowed_origins: Vec::new(),
            buffer: 256,
            ping_secs: 30,
            max_connection_secs: 3600,
            max_order_subscriptions: 100,
        }
    }
}

impl LiveConfig {
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        let positive = [
            ("live.ticket_ttl_secs", self.ticket_ttl_secs),
            ("live.buffer", self.buffer as u64),
            ("live.ping_secs", self.ping_secs),
            ("live.max_connection_secs", self.max_connection_secs),
        ];
        for (key, v) in positive {
            if v == 0 {
                return Err((key, "must be greater than 0"));
            }
        }
        if self.buffer > 65_536 {
            return Err(("live.buffer", "must be at most 65536"));
        }
        Ok(())
    }
}
