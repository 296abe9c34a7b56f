//! Production jobs: one per order line and production run.
//!
//! When an order enters the production queue its lines become [`Job`]s
//! that operators claim, finish and inspect. A failed quality check sends
//! the order back to the queue (`reprint`), which makes new jobs for the
//! next *run*; the id says which: `<order id>.<line index>.<run>`. Because
//! the id is derived, creating the jobs of a run twice is harmless.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Order, OrderId, Priority, ProductId, UserId};
use crate::Error;
use crate::workflow::QcResult;

/// `<order id>.<line index>.<run>`, e.g.
/// `0190a5b2-…-7c3e.2.0`: line 2 of the order, first run. The order id is
/// the canonical lower-case hyphenated UUID and the numbers have no
/// leading zeros, so a job has exactly one id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobId(String);

impl JobId {
    /// Longest valid id: a 36-character UUID and two `u32`s.
    pub const MAX_LEN: usize = 36 + 2 * 11;

    pub fn new(order_id: OrderId, line: u32, run: u32) -> Self {
        Self(format!("{order_id}.{line}.{run}"))
    }

    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = || Error::invalid("job_id", "expected <order id>.<line>.<run>");
        if s.len() > Self::MAX_LEN {
            return Err(bad());
        }
        let mut parts = s.split('.');
        let (Some(order), Some(line), Some(run), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let order_id = OrderId::parse(order).map_err(|_| bad())?;
        let number = |p: &str| -> Result<u32, Error> {
            let n: u32 = p.parse().map_err(|_| bad())?;
            if n.to_string() == p {
                Ok(n)
            } else {
                Err(bad())
            }
        };
        let id = Self::new(order_id, number(line)?, number(run)?);
        if id.0 == s { Ok(id) } else { Err(bad()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for JobId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}
impl From<JobId> for String {
    fn from(id: JobId) -> String {
        id.0
    }
}
impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a job is: waiting in the queue, taken by an operator, or
/// produced (ready for, or through, its quality check) — or held back
/// with its order.
///
/// Jobs follow their order (`JobRepo::follow_order`): while the order is
/// on hold its waiting jobs are `parked`, when it is cancelled or refunded
/// they are `cancelled`, and only `queued` jobs are ever claimed. Claimed
/// and done jobs are left alone (an operator finishes or gives back what
/// they hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Claimed,
    Done,
    /// Waiting, but its order is on hold: not claimable until released.
    Parked,
    /// Its order was cancelled or refunded before the job was taken.
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [
        Self::Queued,
        Self::Claimed,
        Self::Done,
        Self::Parked,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Claimed => "claimed",
            Self::Done => "done",
            Self::Parked => "parked",
            Self::Cancelled => "cancelled",
        }
    }

    /// Jobs nobody holds that follow their order: `queued` or `parked`.
    pub fn is_waiting(self) -> bool {
        matches!(self, Self::Queued | Self::Parked)
    }

    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                Error::invalid("status", "one of queued, claimed, done, parked, cancelled")
            })
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One order line in one production run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub order_id: OrderId,
    /// Index of the order line.
    pub line: u32,
    pub product_id: ProductId,
    pub quantity: u32,
    pub description: String,
    /// The order's priority (kept in step by `JobRepo::follow_order`).
    pub priority: Priority,
    pub due_at: DateTime<Utc>,
    pub submitted_at: DateTime<Utc>,
    pub status: JobStatus,
    pub claimed_by: Option<UserId>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    /// 0 for the first run; n after the order's n-th reprint.
    pub run: u32,
    /// The quality check of this job, with its inspector and time.
    #[serde(default)]
    pub qc: Option<QcResult>,
    /// The order version whose state (status and priority) this job last
    /// followed (its creation, or `JobRepo::follow_order`): a follow for
    /// an older order version is ignored, so the hooks of two quick order
    /// writes (hold, release; two re-prioritisations) cannot apply out of
    /// order. 0 on older data.
    #[serde(default)]
    pub order_version: u64,
    #[serde(default)]
    pub version: u64,
}

impl Job {
    /// The jobs of `order`'s production run `run`, one per line, created
    /// with `status`: the waiting status the order gives its jobs now
    /// (`queued`, or `parked` / `cancelled` for an order on hold or
    /// cancelled), so they are never claimable while it says otherwise.
    pub fn for_order(order: &Order, run: u32, status: JobStatus) -> Vec<Job> {
        order
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                // Orders have at most `Cart::MAX_LINES` lines.
                let line = u32::try_from(i).unwrap_or(u32::MAX);
                Job {
                    id: JobId::new(order.id, line, run),
                    order_id: order.id,
                    line,
                    product_id: l.product_id.clone(),
                    quantity: l.quantity,
                    description: l.description.clone(),
                    priority: order.priority,
                    due_at: order.due_at,
                    submitted_at: order.submitted_at,
                    status,
                    claimed_by: None,
                    claimed_at: None,
                    done_at: None,
                    run,
                    qc: None,
                    order_version: order.version,
                    version: 0,
                }
            })
            .collect()
    }

    /// Checks that the id is the one `(order_id, line, run)` give, so a
    /// store can trust it as the idempotency key.
    pub fn check_id(&self) -> Result<(), Error> {
        if self.id == JobId::new(self.order_id, self.line, self.run) {
            Ok(())
        } else {
            Err(Error::invalid(
                "job.id",
                "must be <order_id>.<line>.<run> of the job",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_canonical() {
        let o = OrderId::new();
        let id = JobId::new(o, 3, 1);
        assert_eq!(JobId::parse(id.as_str()).ok(), Some(id.clone()));
        let s = o.to_string();
        for bad in [
            String::new(),
            format!("{s}.3"),
            format!("{s}.3.1.0"),
            format!("{s}.03.1"),
            format!("{s}.+3.1"),
            format!("{s}.-1.1"),
            format!("{s}.3.4294967296"),
            format!("{}.3.1", s.to_uppercase()),
            format!("{}.3.1", s.replace('-', "")),
            format!("{s}.3.1 "),
            "x".repeat(10_000),
            "{\"$ne\":null}".to_owned(),
        ] {
            assert!(JobId::parse(&bad).is_err(), "{bad:?} accepted");
        }
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(serde_json::from_str::<JobId>(&json).ok(), Some(id));
        assert!(serde_json::from_str::<JobId>("\"nope\"").is_err());
    }

    #[test]
    fn status_round_trips() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()).ok(), Some(s));
        }
        assert!(JobStatus::parse("Queued").is_err());
    }
}
