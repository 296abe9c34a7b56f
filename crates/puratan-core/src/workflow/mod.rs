//! The order workflow engine.
//!
//! A workflow is **data** ([`Workflow`]): states, named transitions
//! (`from → to`), guards evaluated against a [`GuardContext`] the caller
//! fills, the roles allowed to fire each transition, and the events each
//! transition emits. Definitions load from TOML or JSON and are validated
//! on load (unknown or unreachable states, duplicate names, terminal states
//! with outgoing transitions, unknown guards and roles, ambiguous history
//! edges, size bounds) with errors naming the offending item
//! (`transitions[3].to`).
//!
//! [`Engine::fire`] is pure: it checks state, role, ownership, guards and
//! reason and returns a [`TransitionOutcome`] (new status, history entry,
//! events). The caller applies it to the order and writes it with
//! `OrderRepo::update` (optimistic concurrency on `version`); on a stale
//! version it re-reads and fires again.
//!
//! The default workflow ships as `default.toml` ([`Workflow::builtin`]);
//! QC checklists per product kind as `qc_default.toml`
//! ([`QcChecklists::builtin`]).
//!
//! # File format
//!
//! TOML (or the same structure in JSON):
//!
//! ```toml
//! name = "sign-shop"
//! initial = "new"
//! always_emit = ["order.status_changed"]   # emitted by every transition
//!
//! [[states]]
//! name = "new"
//! [[states]]
//! name = "paused"
//! hold = true            # may be left with `to = "@previous"`
//! [[states]]
//! name = "done"
//! terminal = true        # no transition may leave it
//!
//! [[transitions]]
//! name = "finish"
//! from = ["new"]
//! to = "done"
//! guards = ["payment_captured"]   # files_passed_preflight, proof_approved,
//!                                 # payment_captured, qc_checklist_complete, qc_failed
//! events = ["order.completed"]
//! reason = "optional"    # optional (default) | required | qc_failures
//! exclusive = false      # true: while its guards pass, it is the only
//!                        # transition allowed from its from-states
//! allow = [
//!   { roles = ["customer"], from = ["new"] },   # `from` narrows a rule
//!   { roles = ["staff", "admin"] },
//! ]
//!
//! [[transitions]]
//! name = "pause"
//! from = ["new"]
//! to = "paused"
//! allow = [{ roles = ["staff", "admin"] }]
//!
//! [[transitions]]
//! name = "resume"
//! from = ["paused"]
//! to = "@previous"       # back to the state the order was paused from
//! allow = [{ roles = ["staff", "admin"] }]
//! ```
//!
//! Names of states and transitions use 1–32 characters from a-z and `_`;
//! event names 1–64 from a-z, 0-9, `_` and `.`. At most
//! [`MAX_STATES`] states, [`MAX_TRANSITIONS`] transitions and
//! [`MAX_FILE_BYTES`] bytes. Customers may only ever fire transitions on
//! their own orders (the engine enforces it; files cannot loosen it).
//! Every `from → to` edge belongs to one transition, so the history (which
//! records states) tells which transition ran ([`Engine::times_fired`]).
//!
//! # Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use puratan_core::domain::{Currency, Money, Order, OrderId, OrderStatus, Priority, Role, UserId};
//! use puratan_core::workflow::{Actor, Engine, GuardContext, WorkflowError};
//!
//! let engine = Engine::builtin()?;
//! let customer = UserId::new();
//! let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
//! let mut order = Order {
//!     id: OrderId::new(),
//!     customer_id: customer,
//!     status: engine.workflow().initial().clone(),
//!     priority: Priority::NORMAL,
//!     due_at: now,
//!     submitted_at: now,
//!     lines: vec![],
//!     total: Money::new(Default::default(), Currency::parse("EUR").unwrap()),
//!     history: vec![],
//!     version: 1,
//!     shipping_address: None,
//!     idempotency: None,
//!     payment: None,
//!     proofs: vec![],
//!     shipment: None,
//! };
//! let me = Actor::user(customer, [Role::Customer]);
//! let ctx = GuardContext::default();
//! assert_eq!(engine.allowed_transitions(&order, &me, &ctx), ["submit", "cancel"]);
//!
//! let outcome = engine.fire(&order, "submit", &me, &ctx, now)?;
//! assert_eq!(outcome.events, ["order.status_changed"]);
//! outcome.apply_to(&mut order); // then OrderRepo::update(order) (version-checked)
//!
//! // Not paid yet: the guard says so.
//! let err = engine.fire(&order, "accept", &me, &ctx, now).unwrap_err();
//! assert_eq!(err.code(), "transition_guard_failed");
//! assert_eq!(order.status, OrderStatus::parse("submitted").unwrap());
//! # Ok::<(), WorkflowError>(())
//! ```
//!
//! This module reads no clock (time is passed in), no environment and no
//! files, and does not panic on any input.

mod definition;
mod engine;
mod error;
mod priority;
mod qc;

#[cfg(test)]
mod tests;

pub use definition::{
    AllowRule, DEFAULT_WORKFLOW_TOML, Guard, MAX_FILE_BYTES, MAX_STATES, MAX_TRANSITIONS, PREVIOUS,
    ReasonPolicy, State, Target, Transition, Workflow,
};
pub use engine::{Actor, Engine, GuardContext, MAX_REASON_CHARS, TransitionOutcome};
pub use error::WorkflowError;
pub use priority::{PriorityClass, queue_cmp};
pub use qc::{
    DEFAULT_QC_TOML, FALLBACK_KIND, QcChecklist, QcChecklists, QcItem, QcItemResult, QcOutcome,
    QcResult,
};
