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
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_errors: IntCounterVec,
    pub http_duration: HistogramVec,
    pub rate_limited: IntCounterVec,
    pub rate_limit_fallback: IntCounter,
    pub events_published: IntCounterVec,
    pub events_consumed: IntCounterVec,
    pub cache_hits: IntGauge,
    pub cache_misses: IntGauge,
    pub queue_messages: IntGaugeVec,
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
        let cache_hits = must(IntGauge::new("cache_hits", "Cache hits since start"));
        let cache_misses = must(IntGauge::new("cache_misses", "Cache misses since start"));
        let queue_messages = must(IntGaugeVec::new(
            Opts::new("queue_messages", "Messages waiting in a queue"),
            &["queue"],
        ));
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_errors.clone()),
            Box::new(http_duration.clone()),
            Box::new(rate_limited.clone()),
            Box::new(rate_limit_fallback.clone()),
            Box::new(events_published.clone()),
            Box::new(events_consumed.clone()),
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
        Self {
            registry,
            http_requests,
            http_errors,
            http_duration,
            rate_limited,
            rate_limit_fallback,
            events_published,
            events_consumed,
            cache_hits,
            cache_misses,
            queue_messages,
        }
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
