//! Firing transitions: pure functions from (order, transition, actor,
//! context, time) to an outcome the caller persists.

use chrono::{DateTime, Utc};

use super::definition::{Guard, ReasonPolicy, Target, Transition, Workflow};
use super::error::WorkflowError;
use super::qc::QcOutcome;
use crate::domain::{Order, OrderStatus, Role, StatusChange, UserId};

/// Maximum length of a recorded reason, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

/// Who fires a transition. `user_id: None` is the system (payment
/// callbacks, schedulers); it is never the owner of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub roles: Vec<Role>,
}

impl Actor {
    pub fn user(user_id: UserId, roles: impl Into<Vec<Role>>) -> Self {
        Self {
            user_id: Some(user_id),
            roles: roles.into(),
        }
    }
    pub fn system(roles: impl Into<Vec<Role>>) -> Self {
        Self {
            user_id: None,
            roles: roles.into(),
        }
    }
}

/// Facts the guards are evaluated against. The caller fills it from its
/// stores (file checks, proofs, payments, QC results); the engine does not
/// look anything up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardContext {
    pub files_passed_preflight: bool,
    pub proof_approved: bool,
    pub payment_captured: bool,
    /// The order's QC verdict, if it was inspected
    /// (see [`QcOutcome::combine`](super::QcOutcome::combine)).
    pub qc: Option<QcOutcome>,
    /// The caller's reason/note for this firing (recorded in the history).
    pub reason: Option<String>,
}

impl GuardContext {
    pub fn holds(&self, guard: Guard) -> bool {
        match guard {
            Guard::FilesPassedPreflight => self.files_passed_preflight,
            Guard::ProofApproved => self.proof_approved,
            Guard::PaymentCaptured => self.payment_captured,
            Guard::QcChecklistComplete => matches!(self.qc, Some(QcOutcome::Passed)),
            Guard::QcFailed => matches!(self.qc, Some(QcOutcome::Failed { .. })),
        }
    }
}

/// The result of a successful [`Engine::fire`]: nothing is persisted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransitionOutcome {
    pub transition: String,
    pub from: OrderStatus,
    pub new_status: OrderStatus,
    /// The entry to append to `Order::history`.
    pub history_entry: StatusChange,
    /// Event names to emit (the workflow's `always_emit` first, then the
    /// transition's own), without duplicates.
    pub events: Vec<String>,
}

impl TransitionOutcome {
    /// Apply to an in-memory copy of the order (status + history). The
    /// caller then writes it through `OrderRepo::update`, whose version
    /// check turns a concurrent change into `Conflict { StaleVersion }` —
    /// re-read, re-fire, retry.
    pub fn apply_to(&self, order: &mut Order) {
        order.status = self.new_status.clone();
        order.history.push(self.history_entry.clone());
    }
}

/// A workflow ready to fire transitions.
#[derive(Debug, Clone)]
pub struct Engine {
    workflow: Workflow,
}

impl Engine {
    pub fn new(workflow: Workflow) -> Self {
        Self { workflow }
    }

    /// The engine over the built-in default workflow.
    pub fn builtin() -> Result<Self, WorkflowError> {
        Workflow::builtin().map(Self::new)
    }

    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    fn current(&self, order: &Order) -> Result<OrderStatus, WorkflowError> {
        match self.workflow.state(order.status.as_str()) {
            Some(s) => Ok(s.name.clone()),
            None => Err(WorkflowError::UnknownStatus {
                workflow: self.workflow.name().to_owned(),
                status: order.status.to_string(),
            }),
        }
    }

    /// Exclusive transitions out of `state` whose guards all hold: when
    /// any exists, only they may fire.
    fn exclusive_active<'a>(
        &'a self,
        state: &'a OrderStatus,
        ctx: &GuardContext,
    ) -> Vec<&'a Transition> {
        self.workflow
            .outgoing(state)
            .filter(|t| t.exclusive && t.guards.iter().all(|g| ctx.holds(*g)))
            .collect()
    }

    /// Whether `actor` may fire `t` from `state` on `order` by role and
    /// ownership alone.
    fn role_check(
        &self,
        t: &Transition,
        state: &OrderStatus,
        order: &Order,
        actor: &Actor,
    ) -> Result<(), WorkflowError> {
        let required = t.roles_from(state);
        let privileged = actor
            .roles
            .iter()
            .any(|r| *r != Role::Customer && required.contains(r));
        if privileged {
            return Ok(());
        }
        if actor.roles.contains(&Role::Customer) && required.contains(&Role::Customer) {
            if actor.user_id == Some(order.customer_id) {
                return Ok(());
            }
            return Err(WorkflowError::NotOwner {
                transition: t.name.clone(),
            });
        }
        Err(WorkflowError::Forbidden {
            from: state.to_string(),
            transition: t.name.clone(),
            required,
        })
    }

    /// The transitions `actor` may fire on `order` now, in workflow file
    /// order, judged by state, role and ownership. Guards are not
    /// evaluated (a UI shows the button and explains a guard failure),
    /// except that an active exclusive transition (a failed QC checklist →
    /// `reprint`) hides the others. Pass `&GuardContext::default()` when the
    /// facts are unknown. An order in a state the workflow does not know
    /// has no allowed transitions.
    pub fn allowed_transitions(
        &self,
        order: &Order,
        actor: &Actor,
        ctx: &GuardContext,
    ) -> Vec<String> {
        let Ok(state) = self.current(order) else {
            return Vec::new();
        };
        let exclusive = self.exclusive_active(&state, ctx);
        self.workflow
            .outgoing(&state)
            .filter(|t| exclusive.is_empty() || exclusive.iter().any(|e| e.name == t.name))
            .filter(|t| self.role_check(t, &state, order, actor).is_ok())
            .map(|t| t.name.clone())
            .collect()
    }

    /// The guards [`fire`](Self::fire) may evaluate when `transition` is
    /// fired from `state`: the transition's own (when it leaves `state`),
    /// those of every exclusive transition out of `state` (they may
    /// pre-empt it, and the refusal lists the allowed transitions), and
    /// `qc_failed` when the transition's reason is built from the QC
    /// failures. A caller needs to look up only these facts for the
    /// [`GuardContext`]; the others may stay at their defaults without
    /// changing the outcome. No duplicates, in first-seen order.
    pub fn consulted_guards(&self, state: &OrderStatus, transition: &str) -> Vec<Guard> {
        let mut out: Vec<Guard> = Vec::new();
        let mut add = |g: Guard| {
            if !out.contains(&g) {
                out.push(g);
            }
        };
        if let Some(t) = self
            .workflow
            .transition(transition)
            .filter(|t| t.leaves(state))
        {
            t.guards.iter().copied().for_each(&mut add);
            if t.reason == ReasonPolicy::QcFailures {
                add(Guard::QcFailed);
            }
        }
        for t in self.workflow.outgoing(state).filter(|t| t.exclusive) {
            t.guards.iter().copied().for_each(&mut add);
        }
        out
    }

    /// Fire `transition` on `order`. Pure: returns the new status, the
    /// history entry and the events; the caller persists them (with
    /// optimistic concurrency) and publishes the events.
    ///
    /// Checks, in order: the order's state is known; the transition leaves
    /// that state (else `NotAllowed` with the actor's allowed transitions);
    /// no exclusive transition pre-empts it (`NotAllowed`); the actor's
    /// role and ownership (`Forbidden`, `NotOwner`); the guards in file
    /// order (`GuardFailed`); the target (`NoPreviousState`); the reason.
    pub fn fire(
        &self,
        order: &Order,
        transition: &str,
        actor: &Actor,
        ctx: &GuardContext,
        now: DateTime<Utc>,
    ) -> Result<TransitionOutcome, WorkflowError> {
        let state = self.current(order)?;
        let not_allowed = || WorkflowError::NotAllowed {
            from: state.to_string(),
            transition: super::definition::truncate(transition),
            allowed: self.allowed_transitions(order, actor, ctx),
        };
        let Some(t) = self.workflow.transition(transition) else {
            return Err(not_allowed());
        };
        if !t.leaves(&state) {
            return Err(not_allowed());
        }
        let exclusive = self.exclusive_active(&state, ctx);
        if !exclusive.is_empty() && !exclusive.iter().any(|e| e.name == t.name) {
            return Err(not_allowed());
        }
        self.role_check(t, &state, order, actor)?;
        if let Some(g) = t.guards.iter().find(|g| !ctx.holds(**g)) {
            return Err(WorkflowError::GuardFailed {
                transition: t.name.clone(),
                guard: g.name().to_owned(),
            });
        }
        let new_status = match &t.to {
            Target::State(s) => s.clone(),
            Target::Previous => previous_state(order, &state)
                .filter(|s| self.workflow.state(s.as_str()).is_some_and(|st| !st.hold))
                .ok_or_else(|| WorkflowError::NoPreviousState {
                    transition: t.name.clone(),
                    state: state.to_string(),
                })?,
        };
        let reason = self.reason(t, ctx)?;
        let mut events: Vec<String> = Vec::new();
        for e in self.workflow.always_emit().iter().chain(&t.events) {
            if !events.contains(e) {
                events.push(e.clone());
            }
        }
        Ok(TransitionOutcome {
            transition: t.name.clone(),
            from: state.clone(),
            new_status: new_status.clone(),
            history_entry: StatusChange {
                from: Some(state),
                to: new_status,
                actor: actor.user_id,
                at: now,
                reason,
            },
            events,
        })
    }

    fn reason(&self, t: &Transition, ctx: &GuardContext) -> Result<Option<String>, WorkflowError> {
        let note = match ctx.reason.as_deref() {
            None => None,
            Some(raw) if raw.trim().is_empty() => None,
            Some(raw) => Some(
                crate::domain::text::clean("reason", raw, MAX_REASON_CHARS, true).map_err(|e| {
                    WorkflowError::InvalidReason {
                        reason: e.to_string(),
                    }
                })?,
            ),
        };
        match t.reason {
            ReasonPolicy::Optional => Ok(note),
            ReasonPolicy::Required => match note {
                Some(n) => Ok(Some(n)),
                None => Err(WorkflowError::ReasonRequired {
                    transition: t.name.clone(),
                }),
            },
            ReasonPolicy::QcFailures => {
                let failed = match &ctx.qc {
                    Some(QcOutcome::Failed { failed }) => failed.join(", "),
                    _ => String::new(),
                };
                let mut r = format!("QC failed: {failed}");
                if let Some(n) = note {
                    r.push_str("; ");
                    r.push_str(&n);
                }
                Ok(Some(r.chars().take(MAX_REASON_CHARS * 2).collect()))
            }
        }
    }

    /// How many times `transition` was fired on `order`, read from the
    /// history (e.g. the reprint count). Validation guarantees each
    /// history edge belongs to exactly one transition. Unknown transition
    /// → 0.
    pub fn times_fired(&self, order: &Order, transition: &str) -> usize {
        let Some(t) = self.workflow.transition(transition) else {
            return 0;
        };
        order
            .history
            .iter()
            .filter(|c| {
                let Some(from) = &c.from else { return false };
                if !t.leaves(from) {
                    return false;
                }
                match &t.to {
                    Target::State(to) => &c.to == to,
                    // Leaving the hold state by a `@previous` transition:
                    // any edge no static transition from there explains.
                    Target::Previous => !self
                        .workflow
                        .outgoing(from)
                        .any(|o| matches!(&o.to, Target::State(to) if to == &c.to)),
                }
            })
            .count()
    }

    /// How many times the order went back to production after a failed
    /// quality check (`reprint` in the default workflow).
    pub fn reprint_count(&self, order: &Order) -> usize {
        self.times_fired(order, "reprint")
    }
}

/// The state the order was in when it last entered `state`.
fn previous_state(order: &Order, state: &OrderStatus) -> Option<OrderStatus> {
    order
        .history
        .iter()
        .rev()
        .find(|c| &c.to == state)
        .and_then(|c| c.from.clone())
}
