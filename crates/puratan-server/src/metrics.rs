//! Prometheus metrics, rendered at `/metrics`.
//!
//! Hot-path metrics (requests, latency) are updated per request; values the
//! backends already track (cache hits, queue lengths) are read at scrape
//! time so the request path pays nothing for them.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

#[derive(Debug, Clone)]
pub struct Metrics {
    /// Unique per instance (for per-thread handle caches).
    id: u64,
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_errors: IntCounterVec,
    pub http_duration: HistogramVec,
    pub rate_limited: IntCounterVec,
    pub rate_limit_fallback: IntCounter,
    pub events_published: IntCounterVec,
    pub events_consumed: IntCounterVec,
    /// Messages a consumer rejected to the dead-letter exchange (poison,
    /// or failing on every attempt), by consumer.
    pub events_dead_lettered: IntCounterVec,
    /// Published messages no queue was bound to receive (read from the
    /// bus at scrape time).
    pub events_unroutable: IntGauge,
    /// Times the broker connection was re-established since start.
    pub events_reconnects: IntGauge,
    /// Customer notifications by channel (in_app, email) and outcome
    /// (sent, failed).
    pub notifications: IntCounterVec,
    /// System events (system_events/) by event and outcome (published,
    /// failed, dropped by the `system.error` rate limit).
    pub system_events: IntCounterVec,
    pub cache_hits: IntGauge,
    pub cache_misses: IntGauge,
    pub queue_messages: IntGaugeVec,
    /// File-processing jobs by outcome (done, failed, requeued, poison,
    /// not_ready, missing).
    pub processing_jobs: IntCounterVec,
    /// Open WebSocket and SSE connections on this replica.
    pub live_connections: IntGauge,
    /// Event frames sent to live connections.
    pub live_events_delivered: IntCounter,
    /// Times a slow live connection fell behind and was told `lagged`.
    pub live_lagged: IntCounter,
}

fn must<T>(r: prometheus::Result<T>) -> T {
    // Metric definitions are static; a failure is a programming error that
    // every test run would catch.
    r.unwrap_or_else(|e| panic!("invalid metric definition: {e}"))
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("puratan".into()), None).unwrap_or_default();
        let http_requests = must(IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        ));
        let http_errors = must(IntCounterVec::new(
            Opts::new(
                "http_errors_total",
                "HTTP responses with status >= 500 by route",
            ),
            &["route"],
        ));
        let http_duration = must(HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ],
            ),
            &["method", "route", "status"],
        ));
        let rate_limited = must(IntCounterVec::new(
            Opts::new("rate_limited_total", "Requests refused with 429, by tier"),
            &["tier"],
        ));
        let rate_limit_fallback = must(IntCounter::new(
            "rate_limit_fallback_total",
            "Rate-limit checks decided by the per-process limiter because the shared store was unavailable",
        ));
        let events_published = must(IntCounterVec::new(
            Opts::new("events_published_total", "Messages published, by exchange"),
            &["exchange"],
        ));
        let events_consumed = must(IntCounterVec::new(
            Opts::new("events_consumed_total", "Messages consumed, by consumer"),
            &["consumer"],
        ));
        let events_dead_lettered = must(IntCounterVec::new(
            Opts::new(
                "events_dead_lettered_total",
                "Messages rejected to the dead-letter exchange, by consumer",
            ),
            &["consumer"],
        ));
        let events_unroutable = must(IntGauge::new(
            "events_unroutable",
            "Published messages that no queue was bound to receive, since start",
        ));
        let events_reconnects = must(IntGauge::new(
            "events_reconnects",
            "Times the event bus re-established its broker connection, since start",
        ));
        let notifications = must(IntCounterVec::new(
            Opts::new(
                "notifications_total",
                "Customer notifications, by channel and outcome",
            ),
            &["channel", "outcome"],
        ));
        let system_events = must(IntCounterVec::new(
            Opts::new(
                "system_events_total",
                "System events, by event and outcome (published, failed, dropped)",
            ),
            &["event", "outcome"],
        ));
        let cache_hits = must(IntGauge::new("cache_hits", "Cache hits since start"));
        let cache_misses = must(IntGauge::new("cache_misses", "Cache misses since start"));
        let queue_messages = must(IntGaugeVec::new(
            Opts::new("queue_messages", "Messages waiting in a queue"),
            &["queue"],
        ));
        let processing_jobs = must(IntCounterVec::new(
            Opts::new("processing_jobs_total", "File-processing jobs, by outcome"),
            &["outcome"],
        ));
        let live_connections = must(IntGauge::new(
            "live_connections",
            "Open WebSocket and SSE connections",
        ));
        let live_events_delivered = must(IntCounter::new(
            "live_events_delivered_total",
            "Event frames sent to live connections",
        ));
        let live_lagged = must(IntCounter::new(
            "live_lagged_total",
            "Times a slow live connection fell behind",
        ));
        for c in [
            Box::new(processing_jobs.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(live_connections.clone()),
            Box::new(live_events_delivered.clone()),
            Box::new(live_lagged.clone()),
            Box::new(http_requests.clone()),
            Box::new(http_errors.clone()),
            Box::new(http_duration.clone()),
            Box::new(rate_limited.clone()),
            Box::new(rate_limit_fallback.clone()),
            Box::new(events_published.clone()),
            Box::new(events_consumed.clone()),
            Box::new(events_dead_lettered.clone()),
            Box::new(events_unroutable.clone()),
            Box::new(events_reconnects.clone()),
            Box::new(notifications.clone()),
            Box::new(system_events.clone()),
            Box::new(cache_hits.clone()),
            Box::new(cache_misses.clone()),
            Box::new(queue_messages.clone()),
        ] {
            must(registry.register(c));
        }
        #[cfg(target_os = "linux")]
        must(registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        )));
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            registry,
            http_requests,
            http_errors,
            http_duration,
            rate_limited,
            rate_limit_fallback,
            events_published,
            events_consumed,
            events_dead_lettered,
            events_unroutable,
            events_reconnects,
            notifications,
            system_events,
            cache_hits,
            cache_misses,
            queue_messages,
            processing_jobs,
            live_connections,
            live_events_delivered,
            live_lagged,
        }
    }

    /// The request counter and latency histogram for one (method, route,
    /// status). Resolving labels in `prometheus` hashes three strings under
    /// a lock on every call; handles are cached per thread instead, keyed by
    /// cheap values (the route string is one of the router's, so its
    /// address and length identify it).
    pub fn http_handles(
        &self,
        method: &axum::http::Method,
        route: &str,
        status: axum::http::StatusCode,
    ) -> (prometheus::IntCounter, prometheus::Histogram) {
        use std::collections::HashMap;
        type Key = (u64, usize, usize, u8, u16);
        let method_id = match *method {
            axum::http::Method::GET => 1,
            axum::http::Method::POST => 2,
            axum::http::Method::PUT => 3,
            axum::http::Method::DELETE => 4,
            axum::http::Method::PATCH => 5,
            axum::http::Method::HEAD => 6,
            axum::http::Method::OPTIONS => 7,
            _ => {
                let labels = [method.as_str(), route, status.as_str()];
                return (
                    self.http_requests.with_label_values(&labels),
                    self.http_duration.with_label_values(&labels),
                );
            }
        };
        thread_local! {
            static HANDLES: std::cell::RefCell<HashMap<Key, (prometheus::IntCounter, prometheus::Histogram)>> =
                std::cell::RefCell::new(HashMap::new());
        }
        // The instance id is part of the key so several apps in one process
        // (tests) never share handles.
        let key: Key = (
            self.id,
            route.as_ptr() as usize,
            route.len(),
            method_id,
            status.as_u16(),
        );
        HANDLES.with(|h| {
            let mut h = h.borrow_mut();
            if let Some(found) = h.get(&key) {
                return found.clone();
            }
            let labels = [method.as_str(), route, status.as_str()];
            let pair = (
                self.http_requests.with_label_values(&labels),
                self.http_duration.with_label_values(&labels),
            );
            // Bounded: routes × methods × statuses, reset if it ever grows odd.
            if h.len() > 4096 {
                h.clear();
            }
            h.insert(key, pair.clone());
            pair
        })
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
