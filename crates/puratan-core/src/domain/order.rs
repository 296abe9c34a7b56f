use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Money, OrderId, ProductId, UserId};
use crate::Error;

/// A workflow state name (`submitted`, `printing`). Workflows are data, so
/// the set of states is not a Rust enum; the workflow engine validates
/// transitions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderStatus(String);

impl OrderStatus {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid(
                "status",
                "use 1-32 characters from a-z and '_'",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for OrderStatus {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}
impl From<OrderStatus> for String {
    fn from(s: OrderStatus) -> String {
        s.0
    }
}
impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Production priority, 0–100; higher runs first. Classes: rush 80,
/// high 60, normal 50, low 30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Priority(u8);

impl Priority {
    pub const RUSH: Self = Self(80);
    pub const HIGH: Self = Self(60);
    pub const NORMAL: Self = Self(50);
    pub const LOW: Self = Self(30);

    pub fn new(p: u8) -> Result<Self, Error> {
        if p <= 100 {
            Ok(Self(p))
        } else {
            Err(Error::invalid("priority", "must be between 0 and 100"))
        }
    }
    pub fn get(self) -> u8 {
        self.0
    }
}
impl TryFrom<u8> for Priority {
    type Error = Error;
    fn try_from(p: u8) -> Result<Self, Error> {
        Self::new(p)
    }
}
impl From<Priority> for u8 {
    fn from(p: Priority) -> u8 {
        p.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub quantity: u32,
    pub description: String,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub actor: Option<UserId>,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub customer_id: UserId,
    pub status: OrderStatus,
    pub priority: Priority,
    pub due_at: DateTime<Utc>,
    pub submitted_at: DateTime<Utc>,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    #[serde(default)]
    pub history: Vec<StatusChange>,
    #[serde(default)]
    pub version: u64,
}
