use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Money, OrderId, ProductId, UserId, text};
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
    pub const MIN: Self = Self(0);
    pub const MAX: Self = Self(100);

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
    /// The configuration as quoted (paper, colour, finishing…), for the
    /// shop floor and for re-ordering. `null` on orders stored before
    /// checkout existed.
    #[serde(default)]
    pub options: serde_json::Value,
    /// Id of the signed quote this line was priced with.
    #[serde(default)]
    pub quote_id: Option<String>,
    /// The signed quote token itself (`pq1.<kid>.…`): the stored quote
    /// inputs a line can be re-priced from.
    #[serde(default)]
    pub quote_token: Option<String>,
    /// Artwork files attached to the line (`FileRecord` ids).
    #[serde(default)]
    pub file_ids: Vec<String>,
}

/// Where an order is shipped. Free text is normalised ([`text::clean`])
/// and bounded; `country` is an ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingAddress {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

impl ShippingAddress {
    pub const MAX_FIELD: usize = 200;

    /// Normalises every field and checks its limits.
    pub fn sanitize(self) -> Result<Self, Error> {
        let country = self.country.trim().to_owned();
        if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(Error::invalid(
                "shipping_address.country",
                "expected an ISO 3166-1 alpha-2 code such as DE",
            ));
        }
        let m = Self::MAX_FIELD;
        Ok(Self {
            name: text::clean("shipping_address.name", &self.name, m, false)?,
            line1: text::clean("shipping_address.line1", &self.line1, m, false)?,
            line2: text::clean_optional("shipping_address.line2", &self.line2, m, false)?,
            postal_code: text::clean("shipping_address.postal_code", &self.postal_code, 20, false)?,
            city: text::clean("shipping_address.city", &self.city, m, false)?,
            country,
        })
    }
}

/// How an order was submitted: the client's `Idempotency-Key` and a
/// fingerprint (SHA-256 hex) of the submission, so a retry with the same
/// key returns this order and the same key with another body is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
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
    #[serde(default)]
    pub shipping_address: Option<ShippingAddress>,
    /// Set for orders placed through checkout (`None` on older data).
    #[serde(default)]
    pub idempotency: Option<Idempotency>,
    /// The captured payment, once there is one (the `payment_captured`
    /// guard).
    #[serde(default)]
    pub payment: Option<Payment>,
    /// Proofs sent to the customer, oldest first; the last one's decision
    /// is the `proof_approved` guard.
    #[serde(default)]
    pub proofs: Vec<Proof>,
    /// Carrier and tracking once shipped.
    #[serde(default)]
    pub shipment: Option<Shipment>,
}

impl Order {
    /// Facts for the workflow guards.
    pub fn payment_captured(&self) -> bool {
        self.payment.is_some()
    }

    /// The newest proof was approved by the customer.
    pub fn proof_approved(&self) -> bool {
        self.proofs
            .last()
            .and_then(|p| p.decision.as_ref())
            .is_some_and(|d| d.approved)
    }

    /// The data-protection context a payment reference is sealed under
    /// (binds the ciphertext to this order).
    pub fn payment_context(&self) -> String {
        format!("order:{}:payment_reference", self.id)
    }
}

/// A captured payment. The provider's reference (charge id, bank
/// transfer reference) is sealed with the data-protection keyring under
/// [`Order::payment_context`], so a database dump does not reveal it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// `card`, `invoice`, `bank_transfer`, … (1–32 of a-z and `_`).
    pub method: String,
    pub reference: crate::protect::Sealed,
    pub amount: Money,
    pub captured_at: DateTime<Utc>,
    /// Staff who recorded it; `None` for a provider callback.
    pub captured_by: Option<UserId>,
}

impl Payment {
    /// Checks the method name; the reference is sealed by the caller.
    pub fn validate_method(method: &str) -> Result<(), Error> {
        let ok = !method.is_empty()
            && method.len() <= 32
            && method.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "method",
                "use 1-32 characters from a-z and '_', e.g. card",
            ))
        }
    }
}

/// A proof sent to the customer for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// Unique per order (UUIDv7).
    pub id: String,
    /// The proof artwork (`FileRecord` id).
    pub file_id: String,
    pub sent_at: DateTime<Utc>,
    pub sent_by: UserId,
    #[serde(default)]
    pub note: Option<String>,
    pub decision: Option<ProofDecision>,
}

/// How an order travels: carrier, tracking number and the carrier's
/// tracking events (newest last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// e.g. `dhl`, `ups` (1–32 of a-z, 0-9, `_`, `-`).
    pub carrier: String,
    pub tracking_number: String,
    pub shipped_at: DateTime<Utc>,
    #[serde(default)]
    pub events: Vec<TrackingEvent>,
}

impl Shipment {
    pub const MAX_EVENTS: usize = 200;

    /// Checks the carrier id and the tracking number (1–64 of A-Z, a-z,
    /// 0-9, `-`, `_`, ` `).
    pub fn validate(carrier: &str, tracking_number: &str) -> Result<(), Error> {
        let carrier_ok = !carrier.is_empty()
            && carrier.len() <= 32
            && carrier
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !carrier_ok {
            return Err(Error::invalid(
                "carrier",
                "use 1-32 characters from a-z, 0-9, '_' and '-', e.g. dhl",
            ));
        }
        let number_ok = !tracking_number.trim().is_empty()
            && tracking_number.len() <= 64
            && tracking_number
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b' '));
        if !number_ok {
            return Err(Error::invalid(
                "tracking_number",
                "1-64 letters, digits, spaces, '-' or '_'",
            ));
        }
        Ok(())
    }
}

/// One scan or status from the carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub at: DateTime<Utc>,
    /// `in_transit`, `out_for_delivery`, `delivered`, `exception`.
    pub status: String,
    pub description: String,
    #[serde(default)]
    pub location: Option<String>,
}

/// The customer's answer to a proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofDecision {
    pub approved: bool,
    pub by: UserId,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// An event waiting in the transactional outbox: written in the same
/// transaction as the order change that caused it, published later by a
/// relay (at least once; consumers dedupe by `id`, which is the message
/// id on the bus).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Unique message id (UUIDv7, so ids sort by creation).
    pub id: String,
    pub order_id: OrderId,
    /// Event type, e.g. `order.status_changed`.
    pub kind: String,
    /// Routing key on the topic exchange, e.g. `order.status_changed.submitted`.
    pub routing_key: String,
    /// The versioned JSON payload (docs/events.md).
    pub payload: String,
    pub created_at: DateTime<Utc>,
}
