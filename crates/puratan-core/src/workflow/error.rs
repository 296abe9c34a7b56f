//! The one error type of the workflow engine: loading/validating a workflow
//! definition, and firing a transition.

use crate::domain::Role;

/// Everything that can go wrong loading a workflow or firing a transition.
///
/// Load errors carry a `path` into the definition in the style
/// `transitions[3].to` (indices are 0-based positions in the file), so a
/// shop can find the offending line. [`WorkflowError::code`] is stable and
/// meant for API error bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    // ---- loading and validation -------------------------------------
    /// The file is not valid TOML/JSON or does not have the expected shape.
    #[error("workflow definition is not valid {format}: {message}")]
    Parse {
        format: &'static str,
        message: String,
    },

    /// The definition exceeds a size bound (file size, number of states,
    /// transitions, list lengths).
    #[error("{path}: too large (at most {limit})")]
    TooLarge { path: String, limit: usize },

    /// A state, transition, event or checklist item name is malformed.
    #[error("{path}: invalid name {value:?}: {reason}")]
    InvalidName {
        path: String,
        value: String,
        reason: &'static str,
    },

    #[error("{path}: state {name:?} is declared twice")]
    DuplicateState { path: String, name: String },

    #[error("{path}: transition {name:?} is declared twice")]
    DuplicateTransition { path: String, name: String },

    /// A transition (or `initial`) names a state that is not declared.
    #[error("{path}: unknown state {name:?}")]
    UnknownState { path: String, name: String },

    /// A state cannot be reached from the initial state.
    #[error("{path}: state {name:?} is unreachable from the initial state")]
    UnreachableState { path: String, name: String },

    /// A state declared `terminal` has an outgoing transition.
    #[error("{path}: transition {transition:?} leaves terminal state {state:?}")]
    TerminalHasOutgoing {
        path: String,
        state: String,
        transition: String,
    },

    #[error("{path}: unknown guard {name:?}")]
    UnknownGuard { path: String, name: String },

    #[error("{path}: unknown role {name:?} (use customer, staff or admin)")]
    UnknownRole { path: String, name: String },

    /// Two transitions share a `from → to` edge, so the order history (which
    /// records states, not transition names) could not tell them apart.
    #[error("{path}: edge {from:?} -> {to:?} is also produced by transition {other:?}")]
    AmbiguousEdge {
        path: String,
        from: String,
        to: String,
        other: String,
    },

    /// Any other structural rule (empty role list, `@previous` outside a
    /// hold state, an exclusive transition without guards, …).
    #[error("{path}: {reason}")]
    Inconsistent { path: String, reason: String },

    // ---- firing ------------------------------------------------------
    /// The order's status is not a state of this workflow.
    #[error("order status {status:?} is not a state of workflow {workflow:?}")]
    UnknownStatus { workflow: String, status: String },

    /// The transition does not exist or cannot be fired from the current
    /// state. `allowed` lists what this actor may fire instead.
    #[error("transition {transition:?} is not allowed from {from:?}; allowed: [{}]", allowed.join(", "))]
    NotAllowed {
        from: String,
        transition: String,
        allowed: Vec<String>,
    },

    /// The transition exists from this state but none of the actor's roles
    /// may fire it. `required` lists the roles that may (customers only on
    /// their own orders).
    #[error(
        "transition {transition:?} from {from:?} requires one of the roles [{}]",
        roles_list(required)
    )]
    Forbidden {
        from: String,
        transition: String,
        required: Vec<Role>,
    },

    /// Only the customer role would allow it, and the order belongs to
    /// another customer.
    #[error("transition {transition:?} is allowed to customers only on their own orders")]
    NotOwner { transition: String },

    /// A guard of the transition is not satisfied by the context.
    #[error("transition {transition:?} requires {guard}")]
    GuardFailed { transition: String, guard: String },

    /// The transition needs a reason and none was given.
    #[error("transition {transition:?} requires a reason")]
    ReasonRequired { transition: String },

    /// The reason is empty after cleaning or too long.
    #[error("invalid reason: {reason}")]
    InvalidReason { reason: String },

    /// A `@previous` transition (release from hold) found no history entry
    /// telling which state the order was held from.
    #[error(
        "transition {transition:?}: history does not say which state {state:?} was entered from"
    )]
    NoPreviousState { transition: String, state: String },

    // ---- quality checks ---------------------------------------------
    /// A QC result names an item the checklist does not have, or names one
    /// twice.
    #[error("{path}: {reason}")]
    QcResultInvalid { path: String, reason: String },
}

fn roles_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| role_name(*r))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn role_name(r: Role) -> &'static str {
    match r {
        Role::Customer => "customer",
        Role::Staff => "staff",
        Role::Admin => "admin",
    }
}

impl WorkflowError {
    /// A stable machine-readable code (never changes once released).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Parse { .. } => "workflow_parse",
            Self::TooLarge { .. } => "workflow_too_large",
            Self::InvalidName { .. } => "workflow_invalid_name",
            Self::DuplicateState { .. } => "workflow_duplicate_state",
            Self::DuplicateTransition { .. } => "workflow_duplicate_transition",
            Self::UnknownState { .. } => "workflow_unknown_state",
            Self::UnreachableState { .. } => "workflow_unreachable_state",
            Self::TerminalHasOutgoing { .. } => "workflow_terminal_outgoing",
            Self::UnknownGuard { .. } => "workflow_unknown_guard",
            Self::UnknownRole { .. } => "workflow_unknown_role",
            Self::AmbiguousEdge { .. } => "workflow_ambiguous_edge",
            Self::Inconsistent { .. } => "workflow_inconsistent",
            Self::UnknownStatus { .. } => "workflow_unknown_status",
            Self::NotAllowed { .. } => "transition_not_allowed",
            Self::Forbidden { .. } => "transition_forbidden",
            Self::NotOwner { .. } => "transition_not_owner",
            Self::GuardFailed { .. } => "transition_guard_failed",
            Self::ReasonRequired { .. } => "transition_reason_required",
            Self::InvalidReason { .. } => "transition_invalid_reason",
            Self::NoPreviousState { .. } => "transition_no_previous_state",
            Self::QcResultInvalid { .. } => "qc_result_invalid",
        }
    }

    /// The load-time path (`transitions[3].to`) if this is a definition error.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::TooLarge { path, .. }
            | Self::InvalidName { path, .. }
            | Self::DuplicateState { path, .. }
            | Self::DuplicateTransition { path, .. }
            | Self::UnknownState { path, .. }
            | Self::UnreachableState { path, .. }
            | Self::TerminalHasOutgoing { path, .. }
            | Self::UnknownGuard { path, .. }
            | Self::UnknownRole { path, .. }
            | Self::AmbiguousEdge { path, .. }
            | Self::Inconsistent { path, .. }
            | Self::QcResultInvalid { path, .. } => Some(path),
            _ => None,
        }
    }
}
