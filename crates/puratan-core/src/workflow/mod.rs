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
