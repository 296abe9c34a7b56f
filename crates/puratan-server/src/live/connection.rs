//! One live connection: joining channels (checked against the stores),
//! the WebSocket loop and the SSE stream.
//!
//! Client commands (text frames, JSON, ≤ 4 KiB):
//! `{"op":"subscribe","channel":"order:<id>"}`, `{"op":"unsubscribe",…}`,
//! `{"op":"ping"}`. Server frames: `ready`, `subscribed`, `unsubscribed`,
//! `pong`, `event`, `lagged` (the client missed `missed` events and should
//! re-read what it shows), `error` (`code`, `message`; the connection
//! stays open).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::response::sse::Event;
use futures::{SinkExt as _, Stream, StreamExt as _};
use puratan_core::auth::rbac::Permission;

use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::channels::{Channel, Refusal, Subscriptions, Viewer};
use super::hub::LiveEvent;
use crate::http::routes::orders::find_visible;
use crate::state::App;

/// Close code telling the client to fetch a new ticket and reconnect.
pub const CLOSE_REAUTHENTICATE: u16 = 4001;
/// How long one frame may take to reach a client before it is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest client command.
pub const MAX_COMMAND_BYTES: usize = 4096;

/// Joins `channel`, checking single orders against the store: the
/// viewer's own, or any with `orders:read:any`; anything else is
/// `not_found`, like the REST API.
pub async fn join(
    app: &App,
    viewer: &Viewer,
    subs: &mut Subscriptions,
    channel: Channel,
) -> Result<(), Refusal> {
    if let Channel::Order(id) = &channel {
        let not_found = || Refusal {
            code: "not_found",
            message: "no such order".into(),
        };
        let may_read_any = viewer.may(Permission::OrdersReadAny);
        match find_visible(app, viewer.user, may_read_any, id).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(not_found()),
            Err(e) => {
                tracing::warn!(error = %e, "live: order lookup failed");
                return Err(Refusal {
                    code: "unavailable",
                    message: "temporarily unavailable; retry shortly".into(),
                });
            }
        }
    }
    subs.join(viewer, channel, app.config.live.max_order_subscriptions)
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Command {
    Subscribe { channel: String },
    Unsubscribe { channel: String },
    Ping,
}

fn error_frame(code: &str, message: &str) -> String {
    json!({"type": "error", "code": code, "message": message}).to_string()
}

/// The reply to one client command.
async fn command(app: &App, viewer: &Viewer, subs: &mut Subscriptions, text: &str) -> String {
    let cmd = match serde_json::from_str::<Command>(text) {
        Ok(c) => c,
        Err(_) => {
            return error_frame(
                "invalid_message",
                r#"expected {"op":"subscribe"|"unsubscribe","channel":…} or {"op":"ping"}"#,
            );
        }
    };
    match cmd {
        Command::Ping => json!({"type": "pong"}).to_string(),
        Command::Subscribe { channel } => {
            let parsed = match Channel::parse(&channel) {
                Ok(c) => c,
                Err(r) => return error_frame(r.code, &r.message),
            };
            match join(app, viewer, subs, parsed).await {
                Ok(()) => json!({"type": "subscribed", "channel": channel}).to_string(),
                Err(r) => error_frame(r.code, &r.message),
            }
        }
        Command::Unsubscribe { channel } => match Channel::parse(&channel) {
            Ok(c) => {
                subs.leave(&c);
                json!({"type": "unsubscribed", "channel": channel}).to_string()
            }
            Err(r) => error_frame(r.code, &r.message),
        },
    }
}

/// Counts the connection in `live_connections` while it lives.
struct Counted(prometheus::IntGauge);

impl Counted {
    fn new(app: &App) -> Self {
        app.metrics.live_connections.inc();
        Self(app.metrics.live_connections.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Serves one WebSocket until the client leaves, goes silent, the
/// connection reaches its maximum lifetime or the server shuts down.
pub async fn run(
    app: App,
    socket: WebSocket,
    viewer: Viewer,
    mut subs: Subscriptions,
    channels: Vec<String>,
) {
    let _counted = Counted::new(&app);
    let cfg = app.config.live.clone();
    let mut events = app.live.subscribe();
    let mut closing = app.live.closing();
    let (mut sink, mut stream) = socket.split();
    let ping_every = Duration::from_secs(cfg.ping_secs);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let lifetime = tokio::time::sleep(Duration::from_secs(cfg.max_connection_secs));
    tokio::pin!(lifetime);
    let mut last_heard = Instant::now();

    let ready = json!({"type": "ready", "user_id": viewer.user.to_string(), "channels": channels});
    let mut outgoing = Some(Message::Text(ready.to_string().into()));
    let mut close: Option<(u16, &'static str)> = None;
    loop {
        if let Some(m) = outgoing.take() {
            match tokio::time::timeout(SEND_TIMEOUT, sink.send(m)).await {
                Ok(Ok(())) => {}
                _ => return, // gone or too slow to read its frames
            }
        }
        if close.is_some() {
            break;
        }
        outgoing = tokio::select! {
            _ = closing.changed() => { close = Some((1001, "server shutting down")); None }
            _ = &mut lifetime => {
                close = Some((CLOSE_REAUTHENTICATE, "connection lifetime reached: fetch a new ticket"));
                None
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > ping_every * 3 {
                    return; // dead peer
                }
                Some(Message::Ping(Default::default()))
            }
            incoming = stream.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    Some(Message::Text(command(&app, &viewer, &mut subs, text.as_str()).await.into()))
                }
                Some(Ok(Message::Binary(_))) => {
                    last_heard = Instant::now();
                    Some(Message::Text(error_frame("invalid_message", "send JSON text frames").into()))
                }
                // axum answers pings itself; both prove the peer is alive.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => { last_heard = Instant::now(); None }
            },
            event = events.recv() => match event {
                Ok(e) if subs.wants(&viewer, &e) => {
                    app.metrics.live_events_delivered.inc();
                    Some(Message::Text(e.frame.clone()))
                }
                Ok(_) => None,
                Err(RecvError::Lagged(missed)) => {
                    app.metrics.live_lagged.inc();
                    Some(Message::Text(json!({"type": "lagged", "missed": missed}).to_string().into()))
                }
                Err(RecvError::Closed) => { close = Some((1001, "server shutting down")); None }
            },
        };
        if let Some((code, reason)) = close {
            outgoing = Some(Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            })));
        }
    }
}

struct SseState {
    app: App,
    viewer: Viewer,
    subs: Subscriptions,
    events: broadcast::Receiver<Arc<LiveEvent>>,
    closing: watch::Receiver<bool>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    ready: Option<Event>,
}

/// The same events as an SSE stream (`event:` is the event type, `id:`
/// the message id, `data:` the same frame a socket gets). Ends at the
/// connection lifetime or shutdown; `EventSource` reconnects by itself
/// (with a new ticket from the page).
pub fn sse(
    app: App,
    viewer: Viewer,
    subs: Subscriptions,
    channels: Vec<String>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let ready = json!({"type": "ready", "user_id": viewer.user.to_string(), "channels": channels});
    let state = SseState {
        events: app.live.subscribe(),
        closing: app.live.closing(),
        deadline: Box::pin(tokio::time::sleep(Duration::from_secs(
            app.config.live.max_connection_secs,
        ))),
        ready: Some(Event::default().event("ready").data(ready.to_string())),
        app,
        viewer,
        subs,
    };
    futures::stream::unfold(state, |mut s| async move {
        if let Some(ready) = s.ready.take() {
            return Some((Ok(ready), s));
        }
        loop {
            let event = tokio::select! {
                _ = s.closing.changed() => return None,
                _ = &mut s.deadline => return None,
                e = s.events.recv() => e,
            };
            match event {
                Ok(e) if s.subs.wants(&s.viewer, &e) => {
                    s.app.metrics.live_events_delivered.inc();
                    let out = Event::default()
                        .event(e.kind.as_str())
                        .id(e.id.as_str())
                        .data(e.frame.as_str());
                    return Some((Ok(out), s));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => {
                    s.app.metrics.live_lagged.inc();
                    let out = Event::default()
                        .event("lagged")
                        .data(json!({"type": "lagged", "missed": missed}).to_string());
                    return Some((Ok(out), s));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}
