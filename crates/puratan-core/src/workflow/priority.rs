//! Priority classes and the production-queue order.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::domain::{Order, Priority};

/// Named priority classes: rush 80, high 60, normal 50, low 30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityClass {
    Rush,
    High,
    Normal,
    Low,
}

impl PriorityClass {
    pub const ALL: [PriorityClass; 4] = [Self::Rush, Self::High, Self::Normal, Self::Low];

    pub fn priority(self) -> Priority {
        match self {
            Self::Rush => Priority::RUSH,
            Self::High => Priority::HIGH,
            Self::Normal => Priority::NORMAL,
            Self::Low => Priority::LOW,
        }
    }

    /// The class a numeric priority falls in: the highest class whose
    /// value it reaches (≥80 rush, ≥60 high, ≥50 normal, else low).
    pub fn of(p: Priority) -> Self {
        Self::ALL
            .into_iter()
            .find(|c| p >= c.priority())
            .unwrap_or(Self::Low)
    }

    /// The priorities [`of`](Self::of) puts in this class, inclusive:
    /// rush 80–100, high 60–79, normal 50–59, low 0–49.
    pub fn range(self) -> (Priority, Priority) {
        let below = |c: Self| Priority::new(c.priority().get() - 1).unwrap_or(c.priority());
        match self {
            Self::Rush => (Priority::RUSH, Priority::MAX),
            Self::High => (Priority::HIGH, below(Self::Rush)),
            Self::Normal => (Priority::NORMAL, below(Self::High)),
            Self::Low => (Priority::MIN, below(Self::Normal)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Rush => "rush",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// Production-queue order: priority descending, due date ascending, then
/// submission order ascending. Due dates compare at millisecond precision
/// and submission order is the order id (UUIDv7,
/// time-ordered), exactly as in [`crate::ports::queue_key`], so sorting
/// with this comparator and paging a repository agree:
/// `queue_cmp(a, b) == Less` ⇔ `a` comes before `b`.
pub fn queue_cmp(a: &Order, b: &Order) -> Ordering {
    b.priority
        .cmp(&a.priority)
        .then_with(|| {
            a.due_at
                .timestamp_millis()
                .cmp(&b.due_at.timestamp_millis())
        })
        .then_with(|| a.id.cmp(&b.id))
}
