//! The `[system_events]` configuration section.
//!
//! ```toml
//! [system_events]
//! health_interval_secs = 30   # how often each replica probes its backends for system.health
//! ```

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SystemEventsConfig {
    /// Seconds between two health probes. `system.health` is published
    /// on start and when a probe's state changes, not every tick, so a
    /// short interval costs pings, not messages.
    pub health_interval_secs: u64,
}

impl Default for SystemEventsConfig {
    fn default() -> Self {
        Self {
            health_interval_secs: 30,
        }
    }
}

impl SystemEventsConfig {
    /// The first invalid key and why (`config.rs` reports it).
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        // Probes time out after 2 s; a shorter interval would overlap them.
        if !(5..=3600).contains(&self.health_interval_secs) {
            return Err((
                "system_events.health_interval_secs",
                "must be between 5 and 3600",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_extremes_are_not() {
        assert_eq!(SystemEventsConfig::default().validate(), Ok(()));
        for bad in [0, 4, 3601] {
            let c = SystemEventsConfig {
                health_interval_secs: bad,
            };
            assert_eq!(
                c.validate().map_err(|e| e.0),
                Err("system_events.health_interval_secs"),
                "{bad}"
            );
        }
    }

    #[test]
    fn env_sets_it_and_a_bad_value_names_the_key() {
        let var = |v: &str| {
            [(
                "PURATAN__SYSTEM_EVENTS__HEALTH_INTERVAL_SECS".to_owned(),
                v.to_owned(),
            )]
        };
        let c = crate::config::Config::load(None, false, var("60")).expect("load");
        assert_eq!(c.system_events.health_interval_secs, 60);
        let e = crate::config::Config::load(None, false, var("1")).expect_err("too short");
        assert!(
            e.to_string().contains("system_events.health_interval_secs"),
            "{e}"
        );
    }
}
