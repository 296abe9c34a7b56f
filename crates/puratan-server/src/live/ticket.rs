//! One-time connection tickets: a bearer token buys a ticket (random, 256
//! bits, valid `live.ticket_ttl_secs`), the socket or event stream spends
//! it. Stored in the session store's one-time slots, so with Redis any
//! replica can redeem a ticket another issued; redeeming is atomic, so a
//! ticket opens at most one connection.

use std::time::Duration;

use puratan_core::accounts::{random_token, slot};

use super::channels::Viewer;
use crate::state::App;

const PURPOSE: &str = "live-ticket";
/// Tickets are recognisable in logs and never confused with tokens.
pub const PREFIX: &str = "lt_";

pub async fn issue(app: &App, viewer: &Viewer) -> puratan_core::Result<String> {
    let ticket = random_token(PREFIX)
        .map_err(|e| puratan_core::Error::unavailable("random", e.to_string(), true))?;
    let value = serde_json::to_string(viewer)
        .map_err(|e| puratan_core::Error::unavailable("live", e.to_string(), false))?;
    app.sessions
        .put_one_time(
            &slot(PURPOSE, &ticket),
            &value,
            Duration::from_secs(app.config.live.ticket_ttl_secs),
        )
        .await?;
    Ok(ticket)
}

/// The viewer the ticket was issued to, once; `None` for unknown, used or
/// expired tickets (and anything that is not shaped like one).
pub async fn redeem(app: &App, ticket: &str) -> puratan_core::Result<Option<Viewer>> {
    if !ticket.starts_with(PREFIX) || ticket.len() > 128 {
        return Ok(None);
    }
    let Some(value) = app.sessions.take_one_time(&slot(PURPOSE, ticket)).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_str(&value).ok())
}
