//! Live tracking: tickets, the WebSocket audience rule, commands, the
//! Origin check and the SSE fallback — over real sockets.

use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use puratan_core::domain::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::auth::access;
use crate::orders::{body, card};
use crate::support::{TestApp, expect_error, spawn_app};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a live update may take (the issue's bound).
const WITHIN: Duration = Duration::from_secs(1);

impl TestApp {
    pub async fn ticket(&self, bearer: &str) -> String {
        let r = self
            .post_json("/api/v1/live/tickets", &json!({}), Some(bearer))
            .await;
        assert_eq!(r.status(), 201);
        let t: Value = r.json().await.expect("json");
        assert_eq!(t["expires_in"], 30);
        t["ticket"].as_str().expect("ticket").to_owned()
    }

    fn ws_url(&self, query: &str) -> String {
        format!("{}/api/v1/ws?{query}", self.base.replacen("http", "ws", 1))
    }

    /// Opens a socket; `Err(status)` when the handshake is refused.
    pub async fn ws(&self, query: &str, origin: Option<&str>) -> Result<Socket, u16> {
        let mut req = self.ws_url(query).into_client_request().expect("request");
        if let Some(o) = origin {
            req.headers_mut()
                .insert("origin", o.parse().expect("origin"));
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((socket, _)) => Ok(socket),
            Err(tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("handshake failed: {e}"),
        }
    }

    /// A socket for `bearer` joined to `channels`, past its `ready` frame.
    pub async fn subscriber(&self, bearer: &str, channels: &str) -> Socket {
        let ticket = self.ticket(bearer).await;
        let mut s = self
            .ws(&format!("ticket={ticket}&subscribe={channels}"), None)
            .await
            .expect("connect");
        let ready = next_json(&mut s, Duration::from_secs(5))
            .await
            .expect("ready");
        assert_eq!(ready["type"], "ready");
        s
    }
}

/// The next JSON text frame within `within`, or `None`.
pub async fn next_json(s: &mut Socket, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, s.next()).await.ok()??;
        match frame.expect("frame") {
            Message::Text(t) => return Some(serde_json::from_str(t.as_str()).expect("json frame")),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

async fn send(s: &mut Socket, v: Value) {
    s.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

async fn place_order(app: &TestApp, bearer: &str, key: &str) -> Value {
    let (line, total, cur) = app.line(&card()).await;
    let r = app
        .checkout(bearer, Some(key), &body(vec![line], &total, &cur))
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.expect("json")
}

#[tokio::test]
async fn subscribers_get_their_own_order_updates_within_a_second() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let ann_id = app.user_id(&ann).await;
    let bob_id = app.user_id(&bob).await;

    let mut ann_ws = app.subscriber(access(&ann), "orders").await;
    let mut bob_ws = app.subscriber(access(&bob), "orders").await;
    let mut floor = app.subscriber(access(&staff), "queue").await;

    let order = place_order(&app, access(&ann), "live-1").await;
    let id = order["id"].as_str().expect("id");
    let created = next_json(&mut ann_ws, WITHIN).await.expect("order.created");
    assert_eq!(created["type"], "event");
    assert_eq!(created["event"], "order.created");
    assert_eq!(created["data"]["order_id"], id);
    assert_eq!(created["data"]["customer_id"], ann_id.as_str());
    // The shop floor sees every order.
    let seen = next_json(&mut floor, WITHIN).await.expect("queue event");
    assert_eq!(seen["data"]["order_id"], id);

    // A status change reaches the owner within the bound.
    let fired = Instant::now();
    let r = app
        .post_json(
            &format!("/api/v1/orders/{id}/transitions"),
            &json!({"transition": "cancel", "reason": "changed my mind", "version": order["version"]}),
            Some(access(&ann)),
        )
        .await;
    assert_eq!(r.status(), 200);
    let mut changed = None;
    while let Some(f) = next_json(&mut ann_ws, WITHIN).await {
        if f["event"] == "order.status_changed" && f["data"]["to"] == "cancelled" {
            changed = Some(f);
            break;
        }
    }
    let changed = changed.expect("order.status_changed to cancelled within 1 s");
    assert!(fired.elapsed() < WITHIN, "took {:?}", fired.elapsed());
    assert_eq!(changed["data"]["to"], "cancelled");
    assert_eq!(changed["data"]["from"], "submitted");

    // Bob heard nothing of Ann's order: his first event is his own.
    let own = place_order(&app, access(&bob), "live-2").await;
    let first = next_json(&mut bob_ws, WITHIN).await.expect("bob's event");
    assert_eq!(first["data"]["order_id"], own["id"]);
    assert_eq!(first["data"]["customer_id"], bob_id.as_str());

    // Commands on an open socket: errors keep the connection.
    send(&mut ann_ws, json!({"op": "ping"})).await;
    assert_eq!(
        next_json(&mut ann_ws, WITHIN).await.expect("pong")["type"],
        "pong"
    );
    send(&mut ann_ws, json!({"op": "subscribe", "channel": "queue"})).await;
    let e = next_json(&mut ann_ws, WITHIN).await.expect("error");
    assert_eq!(
        (e["type"].clone(), e["code"].clone()),
        (json!("error"), json!("forbidden"))
    );
    let bobs = format!("order:{}", own["id"].as_str().expect("id"));
    send(&mut ann_ws, json!({"op": "subscribe", "channel": bobs})).await;
    assert_eq!(
        next_json(&mut ann_ws, WITHIN).await.expect("error")["code"],
        "not_found"
    );
    for junk in [
        json!({"op": "shout"}),
        json!({"channel": "orders"}),
        json!([1]),
    ] {
        send(&mut ann_ws, junk).await;
        assert_eq!(
            next_json(&mut ann_ws, WITHIN).await.expect("error")["code"],
            "invalid_message"
        );
    }
    ann_ws
        .send(Message::Text("x".repeat(10_000).into()))
        .await
        .expect("send");
    // An oversized frame ends the connection (no unbounded buffering).
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ann_ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "oversized frame must close the socket");

    // Unsubscribing stops the stream.
    send(
        &mut bob_ws,
        json!({"op": "unsubscribe", "channel": "orders"}),
    )
    .await;
    // Events of Bob's order already on their way may come first.
    loop {
        let f = next_json(&mut bob_ws, WITHIN).await.expect("ack");
        if f["type"] == "unsubscribed" {
            break;
        }
        assert_eq!(f["data"]["customer_id"], bob_id.as_str());
    }
    place_order(&app, access(&bob), "live-3").await;
    assert!(
        next_json(&mut bob_ws, Duration::from_millis(700))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn tickets_origins_and_channels_are_checked_at_the_handshake() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;

    // No bearer token, no ticket.
    expect_error(
        app.post_json("/api/v1/live/tickets", &json!({}), None)
            .await,
        401,
        "unauthorized",
    )
    .await;
    // A plain GET is not a handshake (and does not spend the ticket).
    let ticket = app.ticket(access(&ann)).await;
    expect_error(
        app.get(&format!("/api/v1/ws?ticket={ticket}")).await,
        426,
        "upgrade_required",
    )
    .await;
    // Single use.
    let s = app.ws(&format!("ticket={ticket}"), None).await;
    assert!(s.is_ok(), "first use opens");
    assert_eq!(
        app.ws(&format!("ticket={ticket}"), None).await.err(),
        Some(401)
    );
    for bad in ["", "ticket=", "ticket=lt_forged", "ticket=eyJhbGciOi"] {
        assert_eq!(app.ws(bad, None).await.err(), Some(401), "{bad}");
    }
    // The bearer token itself is not a ticket.
    assert_eq!(
        app.ws(&format!("ticket={}", access(&ann)), None)
            .await
            .err(),
        Some(401)
    );
    // Cross-site pages may not connect; the server's own origin may.
    let t = app.ticket(access(&ann)).await;
    assert_eq!(
        app.ws(&format!("ticket={t}"), Some("https://evil.example"))
            .await
            .err(),
        Some(403)
    );
    assert!(
        app.ws(&format!("ticket={t}"), Some(&app.base))
            .await
            .is_ok(),
        "a refused origin must not have spent the ticket"
    );
    // Channels: the queue is staff-only, other customers' orders are missing.
    let t = app.ticket(access(&ann)).await;
    assert_eq!(
        app.ws(&format!("ticket={t}&subscribe=queue"), None)
            .await
            .err(),
        Some(403)
    );
    let bobs = place_order(&app, access(&bob), "h-1").await;
    let t = app.ticket(access(&ann)).await;
    let q = format!(
        "ticket={t}&subscribe=order:{}",
        bobs["id"].as_str().expect("id")
    );
    assert_eq!(app.ws(&q, None).await.err(), Some(404));
    let t = app.ticket(access(&ann)).await;
    assert_eq!(
        app.ws(&format!("ticket={t}&subscribe=everything"), None)
            .await
            .err(),
        Some(400)
    );
}

#[tokio::test]
async fn server_sent_events_carry_the_same_updates() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let order = place_order(&app, access(&ann), "sse-1").await;
    let id = order["id"].as_str().expect("id");
    let ticket = app.ticket(access(&ann)).await;
    let mut stream = app
        .get(&format!(
            "/api/v1/live/events?ticket={ticket}&subscribe=order:{id}"
        ))
        .await;
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream.headers()["content-type"].to_str().expect("ascii"),
        "text/event-stream"
    );
    let mut text = String::new();
    let mut read_until = async |needle: &str, text: &mut String| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !text.contains(needle) {
            let chunk = tokio::time::timeout_at(deadline, stream.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {needle:?} in {text:?}"))
                .expect("chunk")
                .expect("stream open");
            text.push_str(std::str::from_utf8(&chunk).expect("utf8"));
        }
    };
    read_until("event: ready", &mut text).await;
    let r = app
        .post_json(
            &format!("/api/v1/orders/{id}/transitions"),
            &json!({"transition": "cancel", "version": order["version"]}),
            Some(access(&ann)),
        )
        .await;
    assert_eq!(r.status(), 200);
    read_until(r#""to":"cancelled""#, &mut text).await;
    // Every event is an `event:`/`id:`/`data:` block with the socket's frame.
    let frames: Vec<Value> = text
        .split("\n\n")
        .filter(|block| block.contains("event: order.status_changed"))
        .map(|block| {
            assert!(block.lines().any(|l| l.starts_with("id: ")), "{block}");
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .expect("data line");
            serde_json::from_str(data).expect("json")
        })
        .collect();
    let last = frames.last().expect("a status change");
    assert_eq!(last["type"], "event");
    assert_eq!(last["data"]["order_id"], id);
    assert_eq!(last["data"]["to"], "cancelled");
    // The ticket was spent by the stream.
    expect_error(
        app.get(&format!("/api/v1/live/events?ticket={ticket}"))
            .await,
        401,
        "invalid_ticket",
    )
    .await;
}

#[tokio::test]
async fn file_processing_events_reach_the_owner_only() {
    let app = spawn_app().await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let mut ann_ws = app.subscriber(access(&ann), "files").await;
    let mut bob_ws = app.subscriber(access(&bob), "files,orders").await;
    let pdf = crate::processing::corpus(crate::processing::FOUR_PAGES);
    let id = app.upload_file(access(&ann), "thesis.pdf", &pdf).await;
    // Processing runs in a child process; allow for it, then the event.
    let f = next_json(&mut ann_ws, Duration::from_secs(60))
        .await
        .expect("file.processed");
    assert_eq!(f["event"], "file.processed");
    assert_eq!(f["data"]["file_id"], id.as_str());
    assert_eq!(f["data"]["state"], "done");
    assert_eq!(f["data"]["pages"], 4);
    assert!(
        next_json(&mut bob_ws, Duration::from_millis(500))
            .await
            .is_none()
    );
}
