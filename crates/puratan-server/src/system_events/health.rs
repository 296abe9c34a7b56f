//! `system.health`: each replica probes its backends (the `/readyz`
//! probes) every `system_events.health_interval_secs` and publishes on
//! start and whenever the overall status or one probe's state changes —
//! a steady state costs pings, not messages.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{HealthV1, Outgoing, ProbeV1, publish};
use crate::state::App;

/// Decides when a health observation is news.
#[derive(Debug, Default)]
pub struct HealthTracker {
    /// The probe states last *published* (`None`: nothing published yet,
    /// or the last publish failed — so the next tick tries again).
    published: Option<Vec<ProbeV1>>,
}

impl HealthTracker {
    /// The event to publish for `probes`, or `None` when nothing changed
    /// since the last published one. The overall status is derived from
    /// the probes, so a probe change covers a status change.
    pub fn observe(&self, replica: &str, probes: Vec<ProbeV1>) -> Option<HealthV1> {
        if self.published.as_ref() == Some(&probes) {
            return None;
        }
        Some(HealthV1::new(replica, probes))
    }

    /// Records that `event` was published.
    pub fn published(&mut self, event: &HealthV1) {
        self.published = Some(event.probes.clone());
    }
}

/// Every backend up or down, as `/readyz` probes them (error texts stay
/// out: they can name hosts).
pub async fn probe_all(app: &App) -> Vec<ProbeV1> {
    crate::http::routes::health::probe_backends(app)
        .await
        .into_iter()
        .map(|b| ProbeV1 {
            name: b.name.to_owned(),
            ok: b.ok,
        })
        .collect()
}

/// One tick: probe, and publish when it is news. `true` when an event was
/// published.
pub async fn tick(app: &App, tracker: &mut HealthTracker) -> bool {
    let Some(event) = tracker.observe(&app.replica_id, probe_all(app).await) else {
        return false;
    };
    match publish(app, Outgoing::health(&event)).await {
        Ok(()) => {
            tracker.published(&event);
            true
        }
        Err(e) => {
            // The broker may be the backend that is down; the next tick
            // tries again.
            tracing::warn!(error = %e, status = %event.status, "could not publish system.health");
            false
        }
    }
}

/// Runs the health monitor until `shutdown` flips: a tick at once, then
/// one per interval.
pub fn start(app: App, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let every = Duration::from_secs(app.config.system_events.health_interval_secs);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        // A tick delayed by slow probes should not be followed by a burst.
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tracker = HealthTracker::default();
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = interval.tick() => {
                    tick(&app, &mut tracker).await;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probes(states: &[(&str, bool)]) -> Vec<ProbeV1> {
        states
            .iter()
            .map(|(n, ok)| ProbeV1 {
                name: (*n).to_owned(),
                ok: *ok,
            })
            .collect()
    }

    #[test]
    fn publishes_first_then_only_changes() {
        let mut t = HealthTracker::default();
        let up = probes(&[("sqlite", true), ("rabbitmq", true)]);
        let first = t
            .observe("r1", up.clone())
            .expect("the first observation is news");
        assert_eq!(first.status, "ready");
        assert_eq!(first.header.replica, "r1");
        t.published(&first);
        assert!(t.observe("r1", up.clone()).is_none(), "steady state");

        let down = probes(&[("sqlite", true), ("rabbitmq", false)]);
        let change = t.observe("r1", down.clone()).expect("a probe went down");
        assert_eq!(change.status, "unavailable");
        // Not published (the broker was down): still news next tick.
        assert!(t.observe("r1", down.clone()).is_some());
        t.published(&change);
        assert!(t.observe("r1", down).is_none());
        assert!(t.observe("r1", up).is_some(), "recovery is news");
    }
}
