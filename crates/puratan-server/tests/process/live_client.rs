//! A WebSocket subscriber of `/api/v1/ws`, as a storefront would be.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct LiveClient {
    ws: Socket,
}

impl LiveClient {
    /// Takes a one-time ticket with `token` and subscribes to `channels`
    /// (comma-separated); returns once the server said `ready`.
    pub async fn connect(
        client: &reqwest::Client,
        base: &str,
        token: &str,
        channels: &str,
    ) -> Self {
        let ticket: Value = client
            .post(format!("{base}/api/v1/live/tickets"))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .expect("ticket")
            .json()
            .await
            .expect("json");
        let url = format!(
            "{}/api/v1/ws?ticket={}&subscribe={channels}",
            base.replacen("http", "ws", 1),
            ticket["ticket"].as_str().expect("ticket")
        );
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        let mut live = Self { ws };
        let ready = live.next(Duration::from_secs(5)).await.expect("ready");
        assert_eq!(ready["type"], "ready", "{ready}");
        live
    }

    /// The next event within `within` (pings skipped), `None` on timeout.
    pub async fn next(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??
            {
                Ok(Message::Text(t)) => {
                    return Some(serde_json::from_str(t.as_str()).expect("json"));
                }
                Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
