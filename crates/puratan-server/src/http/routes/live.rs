//! Live tracking over HTTP: tickets, the WebSocket and the SSE fallback
//! (see `crate::live` for the design).

use axum::Json;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::ApiQuery;
use crate::live::channels::{Channel, Subscriptions, Viewer};
use crate::live::{connection, origin, ticket};
use crate::state::App;

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    /// Single use; pass it as `?ticket=` to `/api/v1/ws` or `/api/v1/live/events`.
    pub ticket: String,
    /// Seconds until it expires unused.
    pub expires_in: u64,
}

/// A one-time ticket for opening a live connection as the caller (browsers
/// cannot send an `Authorization` header on a WebSocket handshake).
#[utoipa::path(post, path = "/api/v1/live/tickets", tag = "live", security(("bearer" = [])),
    responses((status = 201, body = TicketView), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create_ticket(
    State(app): State<App>,
    caller: Caller,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let viewer = Viewer {
        user: caller.user,
        roles: caller.roles().to_vec(),
    };
    let ticket = ticket::issue(&app, &viewer).await?;
    Ok((
        StatusCode::CREATED,
        Json(TicketView {
            ticket,
            expires_in: app.config.live.ticket_ttl_secs,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConnectQuery {
    /// From `POST /api/v1/live/tickets`; spent by this request.
    pub ticket: Option<String>,
    /// Comma-separated channels to join at once: `orders`, `order:<id>`,
    /// `queue` (staff), `files`.
    pub subscribe: Option<String>,
}

/// Checks the origin, spends the ticket and joins the requested channels.
async fn open(
    app: &App,
    headers: &HeaderMap,
    q: ConnectQuery,
) -> Result<(Viewer, Subscriptions, Vec<String>), ApiError> {
    let mut allowed = app.config.live.allowed_origins.clone();
    allowed.extend(app.config.server.cors_origins.iter().cloned());
    if !origin::allowed(headers, &allowed) {
        return Err(ApiError::new(
            ErrorCode::OriginForbidden,
            "this origin may not open live connections",
        ));
    }
    let requested = q.subscribe.unwrap_or_default();
    let mut channels = Vec::new();
    for name in requested
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        // The three per-user channels plus the single-order ones.
        if channels.len() > 3 + app.config.live.max_order_subscriptions {
            return Err(ApiError::invalid_param("subscribe", "too many channels"));
        }
        let channel =
            Channel::parse(name).map_err(|r| ApiError::invalid_param("subscribe", r.message))?;
        channels.push(channel);
    }
    let viewer = match q.ticket.as_deref() {
        Some(t) => ticket::redeem(app, t).await?,
        None => None,
    }
    .ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidTicket,
            "missing, unknown, expired or already used ticket: get one from POST /api/v1/live/tickets",
        )
    })?;
    let mut subs = Subscriptions::default();
    let mut names = Vec::new();
    for channel in channels {
        let name = channel.name();
        connection::join(app, &viewer, &mut subs, channel)
            .await
            .map_err(|r| match r.code {
                "forbidden" => ApiError::new(ErrorCode::Forbidden, r.message),
                "not_found" => ApiError::not_found("order"),
                "unavailable" => ApiError::new(ErrorCode::Unavailable, r.message),
                _ => ApiError::invalid_param("subscribe", r.message),
            })?;
        names.push(name);
    }
    Ok((viewer, subs, names))
}

/// Live updates over WebSocket. Query: `ticket` (required, single use),
/// `subscribe` (optional channels). Then send
/// `{"op":"subscribe","channel":"orders"}` etc.; see docs/live.md.
#[utoipa::path(get, path = "/api/v1/ws", tag = "live", params(ConnectQuery),
    responses((status = 101, description = "switching to the WebSocket protocol"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 426, body = ErrorBody)))]
pub async fn ws(
    State(app): State<App>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ConnectQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // Before the ticket is spent: a plain GET must not burn it.
    let upgrade = upgrade.map_err(|_| {
        ApiError::new(
            ErrorCode::UpgradeRequired,
            "this endpoint speaks WebSocket only (use /api/v1/live/events for SSE)",
        )
    })?;
    let (viewer, subs, names) = open(&app, &headers, q).await?;
    Ok(upgrade
        .max_message_size(connection::MAX_COMMAND_BYTES)
        .max_frame_size(connection::MAX_COMMAND_BYTES)
        .on_upgrade(move |socket| connection::run(app, socket, viewer, subs, names))
        .into_response())
}

/// The same updates as Server-Sent Events (for clients that cannot use
/// WebSocket). Query as for `/api/v1/ws`; channels are fixed at connect.
#[utoipa::path(get, path = "/api/v1/live/events", tag = "live", params(ConnectQuery),
    responses((status = 200, content_type = "text/event-stream", description = "event stream"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn sse(
    State(app): State<App>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ConnectQuery>,
) -> Result<Response, ApiError> {
    let (viewer, subs, names) = open(&app, &headers, q).await?;
    let stream = connection::sse(app, viewer, subs, names);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
