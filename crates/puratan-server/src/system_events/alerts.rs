//! `system.error` on the direct exchange (routing key `system.alerts`):
//! a request that ended in a 5xx, or a consumer that dead-lettered a
//! message. Best effort: published from a spawned task so no request
//! waits for the broker, at most one per second per replica (an outage
//! fails every request; the log and `http_errors_total` have them all,
//! the alert only has to say "something is wrong here"), and the rest
//! counted as `system_events_total{event="system.error",outcome="dropped"}`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::{ErrorV1, Header, Outgoing, SYSTEM_ERROR, Source, publish};
use crate::state::App;

/// The rate limit: one `system.error` per second of this process's life.
#[derive(Debug)]
pub struct AlertGate {
    start: Instant,
    /// 1 + the second (since `start`) of the last alert let through; 0:
    /// none yet.
    last: AtomicU64,
}

impl Default for AlertGate {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            last: AtomicU64::new(0),
        }
    }
}

impl AlertGate {
    /// Whether an alert may go out now (and if so, takes this second's).
    pub fn admit(&self) -> bool {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> bool {
        let slot = now.saturating_duration_since(self.start).as_secs() + 1;
        let last = self.last.load(Ordering::Relaxed);
        // Of concurrent callers in one second exactly one wins the swap.
        last < slot
            && self
                .last
                .compare_exchange(last, slot, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }
}

/// The stable code of a consumer's dead-lettered message: malformed.
pub const EVENT_POISON: &str = "event_poison";
/// The stable code of a consumer's dead-lettered message: failed on every
/// attempt.
pub const EVENT_RETRIES_EXHAUSTED: &str = "event_retries_exhausted";

/// Reports a request that ended with `status` (a 5xx) on `route`.
pub fn http_error(app: &App, code: &str, route: &str, status: u16, request_id: &str) {
    report(
        app,
        Source::Http,
        code,
        route,
        Some(status),
        (request_id != "-").then(|| request_id.to_owned()),
    );
}

/// Reports that `consumer` dead-lettered a message, with `code`
/// ([`EVENT_POISON`] or [`EVENT_RETRIES_EXHAUSTED`]).
pub fn consumer_error(app: &App, consumer: &str, code: &str) {
    report(app, Source::Consumer, code, consumer, None, None);
}

fn report(
    app: &App,
    source: Source,
    code: &str,
    location: &str,
    status: Option<u16>,
    request_id: Option<String>,
) {
    if !app.alert_gate.admit() {
        app.metrics
            .system_events
            .with_label_values(&[SYSTEM_ERROR, "dropped"])
            .inc();
        return;
    }
    let payload = ErrorV1 {
        header: Header::new("puratan.system.error/v1", &app.replica_id),
        source,
        code: code.to_owned(),
        location: location.to_owned(),
        status,
        request_id,
    };
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(e) = publish(&app, Outgoing::error(&payload)).await {
            tracing::warn!(error = %e, code = %payload.code, "could not publish system.error");
        }
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn one_alert_per_second() {
        let gate = AlertGate::default();
        let t0 = gate.start;
        assert!(gate.admit_at(t0));
        assert!(!gate.admit_at(t0 + Duration::from_millis(999)));
        assert!(gate.admit_at(t0 + Duration::from_millis(1000)));
        assert!(!gate.admit_at(t0 + Duration::from_millis(1500)));
        assert!(gate.admit_at(t0 + Duration::from_secs(60)));
        // A late caller with an older clock reading does not get a slot
        // back.
        assert!(!gate.admit_at(t0 + Duration::from_secs(59)));
    }

    #[test]
    fn concurrent_callers_share_one_slot() {
        let gate = std::sync::Arc::new(AlertGate::default());
        let now = gate.start + Duration::from_secs(5);
        let admitted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let gate = gate.clone();
                    s.spawn(move || usize::from(gate.admit_at(now)))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        assert_eq!(admitted, 1);
    }
}
