//! Workflow definitions: the serde shape of a workflow file (documented in
//! the [module docs](super)) and its validation into a [`Workflow`].

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::error::WorkflowError;
use crate::domain::{OrderStatus, Role};

/// Upper bound on a workflow file's size in bytes.
pub const MAX_FILE_BYTES: usize = 256 * 1024;
/// Upper bound on the number of states and of transitions.
pub const MAX_STATES: usize = 200;
pub const MAX_TRANSITIONS: usize = 200;
const MAX_LIST: usize = 200;
const MAX_ALLOW_RULES: usize = 8;
const MAX_SMALL_LIST: usize = 16;
const MAX_EVENT_LEN: usize = 64;

/// The target marker for "the state the order was held from".
pub const PREVIOUS: &str = "@previous";

// ---------------------------------------------------------------------
// Raw (file) shape
// ---------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflow {
    name: String,
    #[serde(default)]
    description: Option<String>,
    initial: String,
    #[serde(default)]
    always_emit: Vec<String>,
    states: Vec<RawState>,
    transitions: Vec<RawTransition>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    name: String,
    #[serde(default)]
    terminal: bool,
    #[serde(default)]
    hold: bool,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransition {
    name: String,
    from: Vec<String>,
    to: String,
    allow: Vec<RawAllow>,
    #[serde(default)]
    guards: Vec<String>,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    exclusive: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    roles: Vec<String>,
    #[serde(default)]
    from: Option<Vec<String>>,
}

// ---------------------------------------------------------------------
// Validated shape
// ---------------------------------------------------------------------

/// A named predicate evaluated against a
/// [`GuardContext`](super::GuardContext) the caller fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Guard {
    /// Every artwork file of the order passed preflight.
    FilesPassedPreflight,
    /// The customer approved the proof.
    ProofApproved,
    /// The payment was captured (not just authorised).
    PaymentCaptured,
    /// Every QC checklist item was inspected and passed.
    QcChecklistComplete,
    /// At least one QC checklist item failed.
    QcFailed,
}

impl Guard {
    /// Every guard a workflow may name.
    pub const ALL: [Guard; 5] = [
        Guard::FilesPassedPreflight,
        Guard::ProofApproved,
        Guard::PaymentCaptured,
        Guard::QcChecklistComplete,
        Guard::QcFailed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Guard::FilesPassedPreflight => "files_passed_preflight",
            Guard::ProofApproved => "proof_approved",
            Guard::PaymentCaptured => "payment_captured",
            Guard::QcChecklistComplete => "qc_checklist_complete",
            Guard::QcFailed => "qc_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.name() == s)
    }
}

/// What a transition needs as its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReasonPolicy {
    /// A reason may be given and is recorded.
    #[default]
    Optional,
    /// A reason must be given.
    Required,
    /// The reason is the list of failed QC items (plus the caller's note).
    QcFailures,
}

/// Where a transition leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    State(OrderStatus),
    /// Back to the state the order was in before it entered the current
    /// (hold) state.
    Previous,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct State {
    pub name: OrderStatus,
    pub terminal: bool,
    pub hold: bool,
    pub description: Option<String>,
}

/// One rule of who may fire a transition; `from: None` means all of the
/// transition's from-states.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AllowRule {
    pub roles: Vec<Role>,
    pub from: Option<Vec<OrderStatus>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transition {
    pub name: String,
    pub from: Vec<OrderStatus>,
    pub to: Target,
    pub allow: Vec<AllowRule>,
    pub guards: Vec<Guard>,
    pub events: Vec<String>,
    pub reason: ReasonPolicy,
    pub exclusive: bool,
}

impl Transition {
    pub fn leaves(&self, state: &OrderStatus) -> bool {
        self.from.contains(state)
    }

    /// The roles that may fire this transition from `state`, in the order
    /// customer, staff, admin.
    pub fn roles_from(&self, state: &OrderStatus) -> Vec<Role> {
        let mut out = Vec::new();
        for role in [Role::Customer, Role::Staff, Role::Admin] {
            let ok = self.allow.iter().any(|r| {
                r.roles.contains(&role) && r.from.as_ref().is_none_or(|f| f.contains(state))
            });
            if ok {
                out.push(role);
            }
        }
        out
    }
}

/// A validated workflow. Construct it with [`Workflow::from_toml`],
/// [`Workflow::from_json`] or [`Workflow::builtin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    name: String,
    description: Option<String>,
    initial: OrderStatus,
    always_emit: Vec<String>,
    states: Vec<State>,
    transitions: Vec<Transition>,
}

/// The default workflow's source.
pub const DEFAULT_WORKFLOW_TOML: &str = include_str!("default.toml");

impl Workflow {
    /// Parse and validate a TOML workflow definition.
    pub fn from_toml(src: &str) -> Result<Self, WorkflowError> {
        check_size(src)?;
        let raw: RawWorkflow = toml::from_str(src).map_err(|e| toml_error(src, &e))?;
        validate(raw)
    }

    /// Parse and validate a JSON workflow definition.
    pub fn from_json(src: &str) -> Result<Self, WorkflowError> {
        check_size(src)?;
        let raw: RawWorkflow = serde_json::from_str(src).map_err(|e| WorkflowError::Parse {
            format: "JSON",
            message: e.to_string(),
        })?;
        validate(raw)
    }

    /// The default print-shop workflow (`default.toml`, shipped with the
    /// crate). It is validated like any other file; a test guarantees this
    /// returns `Ok`.
    pub fn builtin() -> Result<Self, WorkflowError> {
        Self::from_toml(DEFAULT_WORKFLOW_TOML)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    pub fn initial(&self) -> &OrderStatus {
        &self.initial
    }
    pub fn always_emit(&self) -> &[String] {
        &self.always_emit
    }
    pub fn states(&self) -> &[State] {
        &self.states
    }
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name.as_str() == name)
    }
    pub fn transition(&self, name: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.name == name)
    }
    /// Transitions that leave `state`, in file order.
    pub fn outgoing<'a>(&'a self, state: &'a OrderStatus) -> impl Iterator<Item = &'a Transition> {
        self.transitions.iter().filter(move |t| t.leaves(state))
    }
}

/// A TOML error as `line N: message` (the span's start line, 1-based).
pub(crate) fn toml_error(src: &str, e: &toml::de::Error) -> WorkflowError {
    let message = match e.span() {
        Some(span) => {
            let upto = src.get(..span.start).unwrap_or(src);
            let line = upto.bytes().filter(|b| *b == b'\n').count() + 1;
            format!("line {line}: {}", e.message().trim_end())
        }
        None => e.message().trim_end().to_owned(),
    };
    WorkflowError::Parse {
        format: "TOML",
        message,
    }
}

fn check_size(src: &str) -> Result<(), WorkflowError> {
    if src.len() > MAX_FILE_BYTES {
        return Err(WorkflowError::TooLarge {
            path: "(file)".into(),
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(())
}

fn bound<T>(items: &[T], path: impl FnOnce() -> String, limit: usize) -> Result<(), WorkflowError> {
    if items.len() > limit {
        return Err(WorkflowError::TooLarge {
            path: path(),
            limit,
        });
    }
    Ok(())
}

/// Names of states and transitions: 1–32 characters from a-z and `_`
/// (the [`OrderStatus`] rule).
fn check_ident(path: impl FnOnce() -> String, value: &str) -> Result<(), WorkflowError> {
    if OrderStatus::parse(value).is_err() {
        return Err(WorkflowError::InvalidName {
            path: path(),
            value: truncate(value),
            reason: "use 1-32 characters from a-z and '_'",
        });
    }
    Ok(())
}

/// Event names: 1–64 characters from a-z, 0-9, `_` and `.`, dot-separated
/// non-empty segments (`order.status_changed`).
pub(crate) fn check_event(path: impl FnOnce() -> String, value: &str) -> Result<(), WorkflowError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_EVENT_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        && value.split('.').all(|seg| !seg.is_empty());
    if !ok {
        return Err(WorkflowError::InvalidName {
            path: path(),
            value: truncate(value),
            reason: "use 1-64 characters from a-z, 0-9, '_' and '.', no empty segments",
        });
    }
    Ok(())
}

/// Error values echo at most 64 characters of hostile input.
pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

fn parse_role(s: &str) -> Option<Role> {
    match s {
        "customer" => Some(Role::Customer),
        "staff" => Some(Role::Staff),
        "admin" => Some(Role::Admin),
        _ => None,
    }
}

fn validate(raw: RawWorkflow) -> Result<Workflow, WorkflowError> {
    // ---- bounds first, so no later loop is large ----
    bound(&raw.states, || "states".into(), MAX_STATES)?;
    bound(&raw.transitions, || "transitions".into(), MAX_TRANSITIONS)?;
    bound(&raw.always_emit, || "always_emit".into(), MAX_SMALL_LIST)?;
    for (i, t) in raw.transitions.iter().enumerate() {
        bound(&t.from, || format!("transitions[{i}].from"), MAX_LIST)?;
        bound(
            &t.allow,
            || format!("transitions[{i}].allow"),
            MAX_ALLOW_RULES,
        )?;
        bound(
            &t.guards,
            || format!("transitions[{i}].guards"),
            MAX_SMALL_LIST,
        )?;
        bound(
            &t.events,
            || format!("transitions[{i}].events"),
            MAX_SMALL_LIST,
        )?;
        for (k, a) in t.allow.iter().enumerate() {
            bound(
                &a.roles,
                || format!("transitions[{i}].allow[{k}].roles"),
                MAX_SMALL_LIST,
            )?;
            if let Some(f) = &a.from {
                bound(f, || format!("transitions[{i}].allow[{k}].from"), MAX_LIST)?;
            }
        }
    }
    let name = crate::domain::text::clean("name", &raw.name, 64, false).map_err(|_| {
        WorkflowError::InvalidName {
            path: "name".into(),
            value: truncate(&raw.name),
            reason: "use 1-64 characters",
        }
    })?;
    let description = match raw.description.as_deref() {
        None => None,
        Some(d) => Some(
            crate::domain::text::clean_optional("description", d, 2000, true).map_err(|_| {
                WorkflowError::TooLarge {
                    path: "description".into(),
                    limit: 2000,
                }
            })?,
        ),
    };
    for (i, e) in raw.always_emit.iter().enumerate() {
        check_event(|| format!("always_emit[{i}]"), e)?;
    }

    // ---- states ----
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut states = Vec::with_capacity(raw.states.len());
    for (i, s) in raw.states.iter().enumerate() {
        check_ident(|| format!("states[{i}].name"), &s.name)?;
        if index.insert(s.name.as_str(), i).is_some() {
            return Err(WorkflowError::DuplicateState {
                path: format!("states[{i}].name"),
                name: s.name.clone(),
            });
        }
        if s.terminal && s.hold {
            return Err(WorkflowError::Inconsistent {
                path: format!("states[{i}]"),
                reason: "a state cannot be both terminal and hold".into(),
            });
        }
        let name = OrderStatus::parse(&s.name).map_err(|_| WorkflowError::InvalidName {
            path: format!("states[{i}].name"),
            value: truncate(&s.name),
            reason: "use 1-32 characters from a-z and '_'",
        })?;
        let description = match s.description.as_deref() {
            None => None,
            Some(d) => Some(
                crate::domain::text::clean_optional("description", d, 500, true).map_err(|_| {
                    WorkflowError::TooLarge {
                        path: format!("states[{i}].description"),
                        limit: 500,
                    }
                })?,
            ),
        };
        states.push(State {
            name,
            terminal: s.terminal,
            hold: s.hold,
            description,
        });
    }
    if states.is_empty() {
        return Err(WorkflowError::Inconsistent {
            path: "states".into(),
            reason: "a workflow needs at least one state".into(),
        });
    }
    let Some(&initial_ix) = index.get(raw.initial.as_str()) else {
        return Err(WorkflowError::UnknownState {
            path: "initial".into(),
            name: truncate(&raw.initial),
        });
    };
    if states[initial_ix].hold {
        return Err(WorkflowError::Inconsistent {
            path: "initial".into(),
            reason: "the initial state cannot be a hold state".into(),
        });
    }
    let lookup = |path: &dyn Fn() -> String, name: &str| -> Result<usize, WorkflowError> {
        index
            .get(name)
            .copied()
            .ok_or_else(|| WorkflowError::UnknownState {
                path: path(),
                name: truncate(name),
            })
    };

    // ---- transitions ----
    let mut names: HashSet<&str> = HashSet::new();
    let mut transitions = Vec::with_capacity(raw.transitions.len());
    // For reachability and edge checks: (from, Some(to)) or (from, None) for @previous.
    let mut edges: Vec<(usize, Option<usize>, usize)> = Vec::new(); // (from, to, transition ix)
    for (i, t) in raw.transitions.iter().enumerate() {
        check_ident(|| format!("transitions[{i}].name"), &t.name)?;
        if !names.insert(t.name.as_str()) {
            return Err(WorkflowError::DuplicateTransition {
                path: format!("transitions[{i}].name"),
                name: t.name.clone(),
            });
        }
        if t.from.is_empty() {
            return Err(WorkflowError::Inconsistent {
                path: format!("transitions[{i}].from"),
                reason: "a transition needs at least one from-state".into(),
            });
        }
        let mut from_ix = Vec::with_capacity(t.from.len());
        for (j, f) in t.from.iter().enumerate() {
            let ix = lookup(&|| format!("transitions[{i}].from[{j}]"), f)?;
            if from_ix.contains(&ix) {
                return Err(WorkflowError::Inconsistent {
                    path: format!("transitions[{i}].from[{j}]"),
                    reason: format!("state {:?} is listed twice", truncate(f)),
                });
            }
            if states[ix].terminal {
                return Err(WorkflowError::TerminalHasOutgoing {
                    path: format!("transitions[{i}].from[{j}]"),
                    state: f.clone(),
                    transition: t.name.clone(),
                });
            }
            from_ix.push(ix);
        }
        let to = if t.to == PREVIOUS {
            for (j, &ix) in from_ix.iter().enumerate() {
                if !states[ix].hold {
                    return Err(WorkflowError::Inconsistent {
                        path: format!("transitions[{i}].from[{j}]"),
                        reason: format!(
                            "`to = \"{PREVIOUS}\"` may only leave hold states; {:?} is not one",
                            states[ix].name.as_str()
                        ),
                    });
                }
            }
            None
        } else {
            Some(lookup(&|| format!("transitions[{i}].to"), &t.to)?)
        };
        for &f in &from_ix {
            edges.push((f, to, i));
        }

        if t.allow.is_empty() {
            return Err(WorkflowError::Inconsistent {
                path: format!("transitions[{i}].allow"),
                reason: "at least one allow rule is needed".into(),
            });
        }
        let mut allow = Vec::with_capacity(t.allow.len());
        for (k, a) in t.allow.iter().enumerate() {
            if a.roles.is_empty() {
                return Err(WorkflowError::Inconsistent {
                    path: format!("transitions[{i}].allow[{k}].roles"),
                    reason: "at least one role is needed".into(),
                });
            }
            let mut roles = Vec::new();
            for (m, r) in a.roles.iter().enumerate() {
                let role = parse_role(r).ok_or_else(|| WorkflowError::UnknownRole {
                    path: format!("transitions[{i}].allow[{k}].roles[{m}]"),
                    name: truncate(r),
                })?;
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
            let from = match &a.from {
                None => None,
                Some(list) => {
                    let mut out = Vec::with_capacity(list.len());
                    for (m, f) in list.iter().enumerate() {
                        let path = || format!("transitions[{i}].allow[{k}].from[{m}]");
                        let ix = lookup(&path, f)?;
                        if !from_ix.contains(&ix) {
                            return Err(WorkflowError::Inconsistent {
                                path: path(),
                                reason: format!(
                                    "state {f:?} is not one of the transition's from-states"
                                ),
                            });
                        }
                        out.push(states[ix].name.clone());
                    }
                    Some(out)
                }
            };
            allow.push(AllowRule { roles, from });
        }
        // Every from-state must be fireable by someone.
        for (j, &ix) in from_ix.iter().enumerate() {
            let covered = allow
                .iter()
                .any(|r| r.from.as_ref().is_none_or(|f| f.contains(&states[ix].name)));
            if !covered {
                return Err(WorkflowError::Inconsistent {
                    path: format!("transitions[{i}].from[{j}]"),
                    reason: "no allow rule covers this state".into(),
                });
            }
        }

        let mut guards = Vec::with_capacity(t.guards.len());
        for (g, name) in t.guards.iter().enumerate() {
            let guard = Guard::parse(name).ok_or_else(|| WorkflowError::UnknownGuard {
                path: format!("transitions[{i}].guards[{g}]"),
                name: truncate(name),
            })?;
            if !guards.contains(&guard) {
                guards.push(guard);
            }
        }
        if t.exclusive && guards.is_empty() {
            return Err(WorkflowError::Inconsistent {
                path: format!("transitions[{i}].exclusive"),
                reason: "an exclusive transition needs a guard (otherwise it would always block the others)".into(),
            });
        }
        let mut events = Vec::with_capacity(t.events.len());
        for (e, name) in t.events.iter().enumerate() {
            check_event(|| format!("transitions[{i}].events[{e}]"), name)?;
            events.push(name.clone());
        }
        let reason = match t.reason.as_deref() {
            None | Some("optional") => ReasonPolicy::Optional,
            Some("required") => ReasonPolicy::Required,
            Some("qc_failures") => ReasonPolicy::QcFailures,
            Some(other) => {
                return Err(WorkflowError::Inconsistent {
                    path: format!("transitions[{i}].reason"),
                    reason: format!(
                        "unknown reason policy {:?} (use optional, required or qc_failures)",
                        truncate(other)
                    ),
                });
            }
        };
        transitions.push(Transition {
            name: t.name.clone(),
            from: from_ix.iter().map(|&ix| states[ix].name.clone()).collect(),
            to: match to {
                Some(ix) => Target::State(states[ix].name.clone()),
                None => Target::Previous,
            },
            allow,
            guards,
            events,
            reason,
            exclusive: t.exclusive,
        });
    }

    // ---- ambiguous edges (history must map back to one transition) ----
    // Static edges first.
    let mut seen: HashMap<(usize, usize), usize> = HashMap::new();
    for &(f, to, ti) in &edges {
        if let Some(to) = to
            && let Some(&other) = seen.get(&(f, to))
            && other != ti
        {
            return Err(ambiguous(&raw, ti, f, to, other, &states));
        }
        if let Some(to) = to {
            seen.insert((f, to), ti);
        }
    }
    // `@previous` edges: from a hold state H back to every state that can
    // enter H with a static edge.
    let mut prev_edges: Vec<(usize, usize, usize)> = Vec::new();
    for &(h, to, ti) in &edges {
        if to.is_none() {
            for &(src, dst, _) in &edges {
                if dst == Some(h) {
                    if let Some(&other) = seen.get(&(h, src)) {
                        return Err(ambiguous(&raw, ti, h, src, other, &states));
                    }
                    prev_edges.push((h, src, ti));
                }
            }
        }
    }

    // ---- reachability from the initial state ----
    let n = states.len();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(f, to, _) in &edges {
        if let Some(to) = to {
            adj[f].push(to);
        }
    }
    for &(f, to, _) in &prev_edges {
        adj[f].push(to);
    }
    let mut reached = vec![false; n];
    let mut queue = VecDeque::from([initial_ix]);
    reached[initial_ix] = true;
    while let Some(s) = queue.pop_front() {
        for &t in &adj[s] {
            if !reached[t] {
                reached[t] = true;
                queue.push_back(t);
            }
        }
    }
    if let Some(i) = reached.iter().position(|r| !r) {
        return Err(WorkflowError::UnreachableState {
            path: format!("states[{i}]"),
            name: states[i].name.to_string(),
        });
    }

    // ---- dead ends: an order there could never move again ----
    for (i, s) in states.iter().enumerate() {
        if !s.terminal && !transitions.iter().any(|t| t.from.contains(&s.name)) {
            return Err(WorkflowError::Inconsistent {
                path: format!("states[{i}]"),
                reason: format!(
                    "no transition leaves {:?}; declare it `terminal = true`",
                    s.name.as_str()
                ),
            });
        }
    }

    Ok(Workflow {
        name,
        description,
        initial: states[initial_ix].name.clone(),
        always_emit: raw.always_emit,
        states,
        transitions,
    })
}

fn ambiguous(
    raw: &RawWorkflow,
    ti: usize,
    from: usize,
    to: usize,
    other: usize,
    states: &[State],
) -> WorkflowError {
    WorkflowError::AmbiguousEdge {
        path: format!("transitions[{ti}]"),
        from: states[from].name.to_string(),
        to: states[to].name.to_string(),
        other: raw.transitions[other].name.clone(),
    }
}
