//! Validated domain values and the records stored through the ports.
//!
//! Every value type validates on construction (`TryFrom`/`parse`) and on
//! deserialisation, so a `Sku` or an `Email` held anywhere is known-good.

mod cart;
mod ids;
mod job;
mod money;
mod order;
mod product;
pub mod text;
mod user;

pub use cart::{Cart, CartLine, validate_lines};
pub use ids::{OrderId, ProductId, UserId};
pub use job::{Job, JobId, JobStatus};
pub use money::{Currency, Money};
pub use order::{
    Idempotency, Order, OrderLine, OrderStatus, OutboxEntry, Payment, Priority, Proof,
    ProofDecision, Shipment, ShippingAddress, StatusChange, TrackingEvent,
};
pub use product::{Category, Product, Sku, Tag, Template};
pub use user::{AccountStatus, Email, ExternalIdentity, Role, Security, TotpEnrolment, User};
