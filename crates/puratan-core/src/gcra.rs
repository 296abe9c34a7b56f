//! GCRA (generic cell rate algorithm), the rate-limit algorithm behind
//! every [`RateLimitStore`](crate::ports::RateLimitStore).
//!
//! One number per key — the theoretical arrival time (TAT) — makes a check
//! O(1) in time and space and exact: with `limit = N`, a burst of N is
//! allowed, the N+1th is refused, and one request's worth of budget comes
//! back every `period / N`. The Redis adapter runs the same arithmetic in a
//! Lua script (on Redis server time) so all replicas share one budget; this
//! function is the reference both are tested against.
//!
//! We use our own ten lines rather than `governor` because the port takes
//! the quota per call (tiers differ per route) and must match the Lua
//! script bit for bit.

use std::time::Duration;

use crate::ports::{Quota, RateLimitDecision};

/// Emission interval in microseconds (at least 1).
pub fn interval_us(quota: Quota) -> u64 {
    let period = u64::try_from(quota.period.as_micros()).unwrap_or(u64::MAX);
    (period / u64::from(quota.limit.max(1))).max(1)
}

/// Checks one request at `now_us` against the stored `tat_us` (None if the
/// key is new). Returns the decision and, if allowed, the TAT to store
/// (with a TTL of `decision.reset_after`).
pub fn check(tat_us: Option<u64>, now_us: u64, quota: Quota) -> (RateLimitDecision, Option<u64>) {
    let t = interval_us(quota);
    let window = t.saturating_mul(u64::from(quota.limit.max(1)));
    let tat = tat_us.unwrap_or(now_us).max(now_us);
    let new_tat = tat.saturating_add(t);
    let used = new_tat - now_us;
    if quota.limit == 0 || used > window {
        let retry = used.saturating_sub(window);
        let decision = RateLimitDecision {
            allowed: false,
            limit: quota.limit,
            remaining: 0,
            retry_after: Duration::from_micros(retry.max(1)),
            reset_after: Duration::from_micros(tat - now_us),
        };
        return (decision, None);
    }
    let remaining = u32::try_from((window - used) / t).unwrap_or(u32::MAX);
    let decision = RateLimitDecision {
        allowed: true,
        limit: quota.limit,
        remaining,
        retry_after: Duration::ZERO,
        reset_after: Duration::from_micros(used),
    };
    (decision, Some(new_tat))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(quota: Quota, times: &[u64]) -> Vec<bool> {
        let mut tat = None;
        times
            .iter()
            .map(|&now| {
                let (d, new) = check(tat, now, quota);
                if let Some(n) = new {
                    tat = Some(n);
                }
                d.allowed
            })
            .collect()
    }

    #[test]
    fn burst_of_limit_then_refuse_then_refill() {
        let q = Quota {
            limit: 5,
            period: Duration::from_secs(10),
        };
        let now = 1_000_000_000;
        let mut times = vec![now; 6];
        // one interval (2 s) later exactly one more is allowed
        times.push(now + 2_000_000);
        times.push(now + 2_000_000);
        // after the whole period the full burst is back
        times.extend([now + 12_000_000; 6]);
        let got = run(q, &times);
        assert_eq!(
            got,
            [
                true, true, true, true, true, false, true, false, true, true, true, true, true,
                false
            ]
        );
    }

    #[test]
    fn remaining_and_retry_after_are_reported() {
        let q = Quota {
            limit: 3,
            period: Duration::from_secs(3),
        };
        let (d, tat) = check(None, 10_000_000, q);
        assert_eq!((d.allowed, d.remaining), (true, 2));
        let (d, tat) = check(tat, 10_000_000, q);
        assert_eq!(d.remaining, 1);
        let (d, tat) = check(tat, 10_000_000, q);
        assert_eq!(d.remaining, 0);
        let (d, _) = check(tat, 10_000_000, q);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, Duration::from_secs(1));
    }

    #[test]
    fn zero_limit_refuses_everything() {
        let q = Quota {
            limit: 0,
            period: Duration::from_secs(1),
        };
        assert!(!check(None, 5, q).0.allowed);
    }
}
