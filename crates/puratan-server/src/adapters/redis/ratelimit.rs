//! [`RateLimitStore`] on Redis: one atomic Lua script per check, so every
//! replica shares one budget per key.
//!
//! The script is `puratan_core::gcra::check` transcribed: same emission
//! interval (computed here by [`gcra::interval_us`] and passed in), same
//! comparisons, same results, on Redis server time (`TIME`), storing the
//! TAT (theoretical arrival time) at `{prefix}:ratelimit:{key}` with a TTL
//! equal to the time until the budget is full again. The unit tests below
//! drive both with the same clock and compare every decision and TAT.
//!
//! Lua 5.1 numbers are doubles: integers are exact below 2^53, and
//! microseconds since the epoch are ~2^50.6. [`MAX_WINDOW_US`] keeps every
//! intermediate (`now + 2 × window`) below 2^53, divisions are corrected to
//! exact integer division, and numbers sent back to Redis are formatted
//! with `%d` (a plain `tostring` would switch to exponent notation).

use std::time::Duration;

use async_trait::async_trait;
use puratan_core::gcra;
use puratan_core::ports::{Quota, RateLimitDecision, RateLimitStore};
use puratan_core::{Error, Result};
use redis::Script;

use super::{Shared, error};

/// Largest `interval × limit` (≈ 71 years) the script handles exactly.
pub(crate) const MAX_WINDOW_US: u64 = 1 << 51;

/// KEYS[1]: the TAT key. ARGV[1]: emission interval in µs (>= 1).
/// ARGV[2]: limit. ARGV[3] (tests only): "now" in µs instead of `TIME`.
/// Returns {allowed (0|1), remaining, retry_after_us, reset_after_us}.
const GCRA_LUA: &str = r"
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local t = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local now
if ARGV[3] then
  now = tonumber(ARGV[3])
else
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end

local n = limit
if n < 1 then n = 1 end
local window = t * n

local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  tat = tonumber(stored) or now
end
if tat < now then tat = now end

local new_tat = tat + t
local used = new_tat - now
if limit == 0 or used > window then
  local retry = used - window
  if retry < 1 then retry = 1 end
  return {0, 0, retry, tat - now}
end

local remaining = idiv(window - used, t)
redis.call('SET', KEYS[1], string.format('%d', new_tat),
  'PX', string.format('%d', idiv(used + 999, 1000)))
return {1, remaining, 0, used}
";

pub(crate) struct RedisRateLimiter {
    shared: Shared,
    script: Script,
}

impl RedisRateLimiter {
    pub(crate) fn new(shared: Shared) -> Self {
        Self {
            shared,
            script: Script::new(GCRA_LUA),
        }
    }

    /// One check; `now_us` replaces Redis server time (tests only).
    pub(crate) async fn check_at(
        &self,
        key: &str,
        quota: Quota,
        now_us: Option<u64>,
    ) -> Result<RateLimitDecision> {
        let interval = gcra::interval_us(quota);
        if interval.saturating_mul(u64::from(quota.limit.max(1))) > MAX_WINDOW_US {
            return Err(Error::invalid(
                "quota",
                "period is too long for the Redis rate limiter (at most ~71 years)",
            ));
        }
        let mut invocation = self.script.key(self.shared.key("ratelimit", key));
        invocation.arg(interval).arg(quota.limit);
        if let Some(now) = now_us {
            invocation.arg(now);
        }
        let (allowed, remaining, retry_us, reset_us): (i64, i64, i64, i64) = invocation
            .invoke_async(&mut self.shared.conn())
            .await
            .map_err(error::map)?;
        let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
        Ok(RateLimitDecision {
            allowed: allowed == 1,
            limit: quota.limit,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            retry_after: micros(retry_us),
            reset_after: micros(reset_us),
        })
    }
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("prefix", &self.shared.prefix)
            .field("script", &self.script.get_hash())
            .finish()
    }
}

#[async_trait]
impl RateLimitStore for RedisRateLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Result<RateLimitDecision> {
        self.check_at(key, quota, None).await
    }
}

#[cfg(test)]
mod tests {
    //! The script against `core::gcra` on the same simulated clock. Needs a
    //! Redis (`PURATAN_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`);
    //! skipped loudly without one, a failure with `CI=true`.

    use super::*;
    use crate::adapters::redis::{RedisBackend, RedisConfig};

    async fn limiter() -> Option<(RedisBackend, RedisRateLimiter)> {
        let url = std::env::var("PURATAN_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let cfg = RedisConfig::new(url).with_key_prefix(puratan_testkit::service::unique("gcra"));
        let backend =
            puratan_testkit::service::require("Redis", RedisBackend::connect(&cfg).await)?;
        let limiter = RedisRateLimiter::new(backend.shared.clone());
        Some((backend, limiter))
    }

    async fn stored_tat(backend: &RedisBackend, key: &str) -> Option<u64> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(backend.shared.key("ratelimit", key))
            .query_async(&mut backend.shared.conn())
            .await
            .expect("GET");
        raw.map(|s| {
            s.parse()
                .unwrap_or_else(|e| panic!("TAT {s:?} is not an integer: {e}"))
        })
    }

    /// Quotas with awkward divisions; every interval is >= 1 s so a stored
    /// TAT cannot expire in real time while the simulated clock stands still.
    fn quotas() -> Vec<Quota> {
        let q = |limit, ms| Quota {
            limit,
            period: Duration::from_millis(ms),
        };
        vec![
            q(1, 1_000),
            q(3, 10_000),
            q(5, 10_000),
            q(7, 60_000),
            q(2, 7_001),
            q(1_000, 3_600_000),
            q(0, 5_000),
            q(60, 3_600_000 * 24),
        ]
    }

    /// Offsets (µs) from the start of a run: bursts, exact interval
    /// boundaries ± 1 µs, long gaps.
    fn schedule(interval: u64) -> Vec<u64> {
        let mut at = vec![
            0,
            0,
            0,
            1,
            1,
            interval - 1,
            interval,
            interval,
            interval + 1,
        ];
        at.extend([
            3 * interval,
            3 * interval,
            3 * interval + interval / 2,
            3 * interval + interval / 2,
        ]);
        at.extend((0..12).map(|_| 10 * interval));
        at.extend([
            10 * interval + 7,
            100 * interval,
            100 * interval,
            100 * interval + 1,
        ]);
        at
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lua_script_matches_core_gcra() {
        let Some((backend, rl)) = limiter().await else {
            return;
        };
        let epochs = [1_000_000_000u64, 1_760_000_000_123_457];
        let mut checked = 0;
        for (qi, quota) in quotas().into_iter().enumerate() {
            for (ei, start) in epochs.iter().enumerate() {
                let key = format!("q{qi}-e{ei}");
                let mut tat = None;
                for offset in schedule(gcra::interval_us(quota)) {
                    let now = start + offset;
                    let (want, new_tat) = gcra::check(tat, now, quota);
                    if let Some(t) = new_tat {
                        tat = Some(t);
                    }
                    let got = rl.check_at(&key, quota, Some(now)).await.expect("check");
                    assert_eq!(got, want, "{quota:?} at +{offset} µs");
                    let stored = stored_tat(&backend, &key).await;
                    assert_eq!(stored, tat, "stored TAT of {quota:?} at +{offset} µs");
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "{checked}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tat_expires_when_the_budget_is_full_again() {
        let Some((backend, rl)) = limiter().await else {
            return;
        };
        let q = Quota {
            limit: 2,
            period: Duration::from_millis(400),
        };
        let d = rl.check("k", q).await.expect("check");
        assert!(d.allowed);
        assert_eq!(d.reset_after, Duration::from_millis(200));
        let ttl: i64 = redis::cmd("PTTL")
            .arg(backend.shared.key("ratelimit", "k"))
            .query_async(&mut backend.shared.conn())
            .await
            .expect("PTTL");
        assert!(ttl > 0 && ttl <= 200, "TTL {ttl} ms");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            stored_tat(&backend, "k").await,
            None,
            "nothing is kept for a full budget"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn absurd_periods_are_refused_not_miscounted() {
        let Some((_backend, rl)) = limiter().await else {
            return;
        };
        let q = Quota {
            limit: 1,
            period: Duration::from_secs(100 * 365 * 24 * 3600),
        };
        let e = rl.check("k", q).await.expect_err("too long");
        assert_eq!(e.kind(), puratan_core::ErrorKind::Invalid);
    }
}
