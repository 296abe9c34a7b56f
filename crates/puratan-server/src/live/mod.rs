//! Live tracking: order and file-processing updates pushed to browsers
//! over WebSocket (`GET /api/v1/ws`) or Server-Sent Events
//! (`GET /api/v1/live/events`).
//!
//! ```text
//!  replica A: order change ─▶ outbox ─▶ relay ─▶ puratan.topic (order.#, file.#)
//!                                                     │ one transient queue per replica
//!  replica B: hub (consumer) ─▶ broadcast ─▶ each connection filters ─▶ its socket
//! ```
//!
//! * [`hub`]: one consumer per replica on the topic exchange turns each
//!   message into a [`LiveEvent`] whose frame is rendered **once** and then
//!   shared by every connection (fan-out costs a refcount per subscriber).
//! * [`ticket`]: browsers cannot set headers on a WebSocket handshake, and
//!   a long-lived access token in a URL ends up in logs. So a client first
//!   trades its bearer token for a one-time ticket (`POST
//!   /api/v1/live/tickets`, 30 s, single use) and opens the socket with it.
//! * [`channels`]: what a connection asked for and what it may see —
//!   customers their own orders and files, staff the whole queue.
//! * [`origin`]: the Origin check against cross-site WebSocket hijacking.
//! * [`connection`]: the per-socket loop (client commands, pings, slow
//!   consumers, maximum lifetime).
//!
//! **Invariant:** a connection only ever receives events whose audience
//! check in [`channels::Subscriptions::wants`] passed for the identity its
//! ticket was issued to.

pub mod channels;
pub mod config;
pub mod connection;
pub mod hub;
pub mod origin;
pub mod ticket;

pub use config::LiveConfig;
pub use hub::{Hub, LiveEvent};
