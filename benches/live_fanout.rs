//! WebSocket fan-out: N staff sockets subscribed to `queue` on one
//! in-process server (embedded default: SQLite, in-process bus), one order
//! status change (`cancel`), and how long until the last of the N sockets
//! has the `order.status_changed` frame.
//!
//! Socket times are measured from the moment the transition request was
//! sent ("last after response" from when its HTTP response arrived: the
//! first sockets usually have the frame before the client has read the
//! response). The path is: transition → outbox row (same SQLite
//! transaction) → outbox relay → bus → live hub → one broadcast channel →
//! N connection tasks → N sockets; "spread" (last − first) is the fan-out
//! itself. Client and server share the runtime and the machine's cores,
//! so the clients' frame reading is included.
//!
//! `ulimit -n 20000; cargo bench -p puratan-server --bench live_fanout`
//! (`FANOUT_N=1,1000,5000`, `FANOUT_ROUNDS=7` to change the defaults).

#![allow(clippy::print_stdout)] // prints the results table

#[path = "server_bench_support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt as _, stream};
use puratan_core::domain::Role;
use serde_json::{Value, json};
use support::{Server, ms, percentile, place_order};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Seen {
    Created,
    /// `order.status_changed` to `cancelled`.
    Changed,
    /// Any other frame (e.g. the checkout's own status change).
    Other,
}

/// Sockets opened at once while connecting.
const CONNECT_CONCURRENCY: usize = 64;
const WAIT: Duration = Duration::from_secs(60);

struct Round {
    transition: Duration,
    first: Duration,
    p50: Duration,
    p99: Duration,
    last: Duration,
    /// The last socket's frame after the HTTP response arrived (0 if
    /// every socket had it before).
    last_after_response: Duration,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn main() {
    let ns: Vec<usize> = env_or("FANOUT_N", "1,1000,5000")
        .split(',')
        .map(|s| s.trim().parse().expect("FANOUT_N: comma-separated counts"))
        .collect();
    let rounds: usize = env_or("FANOUT_ROUNDS", "7").parse().expect("FANOUT_ROUNDS");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "| subscribers | rounds | transition HTTP | first socket | p50 | p99 | last socket | last after response | spread (last − first) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for n in ns {
        let rs = rt.block_on(run(n, rounds));
        let med = |f: &dyn Fn(&Round) -> Duration| {
            let mut v: Vec<Duration> = rs.iter().map(f).collect();
            v.sort();
            ms(v[v.len() / 2])
        };
        println!(
            "| {n} | {rounds} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | **{:.1} ms** | {:.1} ms |",
            med(&|r| r.transition),
            med(&|r| r.first),
            med(&|r| r.p50),
            med(&|r| r.p99),
            med(&|r| r.last),
            med(&|r| r.last_after_response),
            med(&|r| r.last - r.first),
        );
        for (i, r) in rs.iter().enumerate() {
            eprintln!(
                "  n={n} round {i}: transition {:.1} ms, first {:.1}, p50 {:.1}, p99 {:.1}, last {:.1}",
                ms(r.transition),
                ms(r.first),
                ms(r.p50),
                ms(r.p99),
                ms(r.last)
            );
        }
    }
}

async fn run(n: usize, rounds: usize) -> Vec<Round> {
    let server = support::spawn(|c| {
        c.live.buffer = 1024;
    })
    .await;
    let staff = server
        .user_with_role("floor@example.com", Role::Staff)
        .await;
    let customer = server.customer("ann@example.com").await;

    let (tx, mut rx) = mpsc::unbounded_channel::<(Seen, Instant)>();
    let opened = Instant::now();
    let server = Arc::new(server);
    let staff = Arc::new(staff);
    let sockets: Vec<Socket> = stream::iter(0..n)
        .map(|_| {
            let (server, staff) = (server.clone(), staff.clone());
            async move { subscriber(&server, &staff).await }
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    assert_eq!(sockets.len(), n);
    let readers: Vec<tokio::task::JoinHandle<()>> = sockets
        .into_iter()
        .map(|mut socket| {
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(Ok(frame)) = socket.next().await {
                    if let Message::Text(t) = frame {
                        let now = Instant::now();
                        let t = t.as_str();
                        let seen = if t.contains(r#""event":"order.status_changed""#)
                            && t.contains(r#""to":"cancelled""#)
                        {
                            Seen::Changed
                        } else if t.contains(r#""event":"order.created""#) {
                            Seen::Created
                        } else {
                            Seen::Other
                        };
                        if tx.send((seen, now)).is_err() {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    assert_eq!(server.running.app.live.connections(), n, "hub receivers");
    eprintln!(
        "n={n}: {n} sockets open in {:.1} s",
        opened.elapsed().as_secs_f64()
    );

    let mut out = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let order = place_order(&server, &customer, &format!("fanout-{n}-{round}")).await;
        // Every socket has the order.created frame …
        collect(&mut rx, Seen::Created, n).await;
        // … and the checkout's other frames (its draft → submitted change).
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {}
        let id = order["id"].as_str().expect("id");
        let sent = Instant::now();
        let r = server
            .post(
                &format!("/api/v1/orders/{id}/transitions"),
                &json!({"transition": "cancel", "version": order["version"]}),
                Some(&customer),
            )
            .await;
        let answered = Instant::now();
        assert_eq!(r.status(), 200);
        let _: Value = r.json().await.expect("json");
        let arrived = collect(&mut rx, Seen::Changed, n).await;
        let mut lat: Vec<Duration> = arrived
            .iter()
            .map(|t| t.saturating_duration_since(sent))
            .collect();
        lat.sort();
        let last_at = arrived.iter().max().copied().unwrap_or(answered);
        out.push(Round {
            transition: answered - sent,
            first: lat[0],
            p50: percentile(&lat, 50.0),
            p99: percentile(&lat, 99.0),
            last: lat[lat.len() - 1],
            last_after_response: last_at.saturating_duration_since(answered),
        });
    }
    for r in readers {
        r.abort();
    }
    let server = Arc::into_inner(server).expect("sole owner");
    server.running.shutdown().await.expect("shutdown");
    out
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket on `queue`, past its `ready` frame.
async fn subscriber(server: &Server, bearer: &str) -> Socket {
    let r = server
        .post("/api/v1/live/tickets", &json!({}), Some(bearer))
        .await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.expect("json");
    let url = format!(
        "{}/api/v1/ws?ticket={}&subscribe=queue",
        server.base.replacen("http", "ws", 1),
        t["ticket"].as_str().expect("ticket")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("handshake");
    loop {
        match tokio::time::timeout(WAIT, socket.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                assert!(t.as_str().contains(r#""type":"ready""#), "{t}");
                return socket;
            }
            Ok(Some(Ok(_))) => continue,
            other => panic!("no ready frame: {other:?}"),
        }
    }
}

/// Waits for `n` frames of kind `want`; returns their arrival times.
async fn collect(
    rx: &mut mpsc::UnboundedReceiver<(Seen, Instant)>,
    want: Seen,
    n: usize,
) -> Vec<Instant> {
    let mut got = Vec::with_capacity(n);
    let deadline = tokio::time::Instant::now() + WAIT;
    while got.len() < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((seen, at))) if seen == want => got.push(at),
            Ok(Some(_)) => {}
            Ok(None) => panic!("readers ended"),
            Err(_) => panic!("only {} of {n} {want:?} frames within {WAIT:?}", got.len()),
        }
    }
    got
}
