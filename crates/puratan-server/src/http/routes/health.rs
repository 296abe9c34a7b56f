//! Liveness, readiness and metrics.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::App;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackendStatus {
    pub name: &'static str,
    pub ok: bool,
    /// Why the backend failed, in operator terms (see docs/troubleshooting.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub backends: Vec<BackendStatus>,
}

/// Pings every configured backend concurrently, each within 2 s, in
/// probe order (readiness here, `system.health` in `system_events`).
pub(crate) async fn probe_backends(app: &App) -> Vec<BackendStatus> {
    let checks = app.probes.iter().map(|p| async move {
        let result = tokio::time::timeout(Duration::from_secs(2), (p.ping)()).await;
        let error = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("no answer within 2 s".to_owned()),
        };
        BackendStatus {
            name: p.name,
            ok: error.is_none(),
            error,
        }
    });
    futures::future::join_all(checks).await
}

/// Readiness: pings every configured backend (2 s each, concurrently);
/// 503 names the failing ones.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(app): State<App>) -> Response {
    let backends = probe_backends(&app).await;
    let ok = backends.iter().all(|b| b.ok);
    let body = Readiness {
        status: if ok { "ready" } else { "unavailable" },
        backends,
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, body = String, content_type = "text/plain")))]
pub async fn metrics(State(app): State<App>) -> Response {
    let stats = app.cache.stats();
    let m = &app.metrics;
    m.cache_hits
        .set(i64::try_from(stats.hits).unwrap_or(i64::MAX));
    m.cache_misses
        .set(i64::try_from(stats.misses).unwrap_or(i64::MAX));
    if let Some(counters) = &app.bus_counters {
        let c = counters();
        m.events_unroutable
            .set(i64::try_from(c.unroutable).unwrap_or(i64::MAX));
        m.events_reconnects
            .set(i64::try_from(c.reconnects).unwrap_or(i64::MAX));
    }
    if let Some(len) = &app.queue_len {
        for q in crate::events::WATCHED_QUEUES {
            if let Some(n) = len((*q).to_owned()).await {
                m.queue_messages
                    .with_label_values(&[q])
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        m.render(),
    )
        .into_response()
}
