//! Workflow engine tests. The workflow table is checked against an
//! expectation written by hand below, not derived from the engine.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::domain::{
    Currency, Money, Order, OrderId, OrderStatus, Priority, Role, StatusChange, UserId,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn st(s: &str) -> OrderStatus {
    OrderStatus::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn order(customer: UserId, status: &str) -> Order {
    Order {
        id: OrderId::new(),
        customer_id: customer,
        status: st(status),
        priority: Priority::NORMAL,
        due_at: t0() + Duration::days(3),
        submitted_at: t0(),
        lines: Vec::new(),
        total: Money::new(
            Decimal::ZERO,
            Currency::parse("EUR").unwrap_or_else(|e| panic!("{e}")),
        ),
        history: Vec::new(),
        version: 0,
        shipping_address: None,
        idempotency: None,
        payment: None,
        proofs: Vec::new(),
        shipment: None,
    }
}

fn engine() -> Engine {
    Engine::builtin().unwrap_or_else(|e| panic!("default workflow must load: {e}"))
}

fn favourable() -> GuardContext {
    GuardContext {
        files_passed_preflight: true,
        proof_approved: true,
        payment_captured: true,
        qc: Some(QcOutcome::Passed),
        reason: Some("table test".into()),
    }
}

// ---------------------------------------------------------------------
// THE WORKFLOW TABLE
// ---------------------------------------------------------------------

const C: u8 = 1;
const S: u8 = 2;
const A: u8 = 4;
const SA: u8 = S | A;
const ALL: u8 = C | S | A;

/// What happens when the role may fire it, with every fact favourable
/// (payment captured, files passed, proof approved, QC passed, a reason).
#[derive(Debug, Clone, Copy)]
enum Exp {
    To(&'static str),
    Guard(&'static str),
}

/// Written by hand from the product specification (issue 6), not from
/// `default.toml`: (transition, from, outcome, roles that may fire it).
const EXPECTED: &[(&str, &str, Exp, u8)] = &[
    ("submit", "draft", Exp::To("submitted"), ALL),
    ("accept", "submitted", Exp::To("awaiting_files"), ALL),
    (
        "start_preflight",
        "awaiting_files",
        Exp::To("preflight"),
        ALL,
    ),
    ("pass_preflight", "preflight", Exp::To("proof_pending"), SA),
    ("fail_preflight", "preflight", Exp::To("awaiting_files"), SA),
    ("approve_proof", "proof_pending", Exp::To("approved"), ALL),
    (
        "reject_proof",
        "proof_pending",
        Exp::To("awaiting_files"),
        ALL,
    ),
    ("enqueue", "approved", Exp::To("queued"), SA),
    ("start_printing", "queued", Exp::To("printing"), SA),
    ("start_finishing", "printing", Exp::To("finishing"), SA),
    ("start_qc", "finishing", Exp::To("quality_check"), SA),
    ("pass_qc", "quality_check", Exp::To("packed"), SA),
    // QC passed in the favourable context, so reprint's guard fails.
    ("reprint", "quality_check", Exp::Guard("qc_failed"), SA),
    ("ship", "packed", Exp::To("shipped"), SA),
    ("deliver", "shipped", Exp::To("delivered"), SA),
    ("hold", "submitted", Exp::To("on_hold"), SA),
    ("hold", "awaiting_files", Exp::To("on_hold"), SA),
    ("hold", "preflight", Exp::To("on_hold"), SA),
    ("hold", "proof_pending", Exp::To("on_hold"), SA),
    ("hold", "approved", Exp::To("on_hold"), SA),
    ("hold", "queued", Exp::To("on_hold"), SA),
    ("hold", "printing", Exp::To("on_hold"), SA),
    ("hold", "finishing", Exp::To("on_hold"), SA),
    ("hold", "quality_check", Exp::To("on_hold"), SA),
    ("hold", "packed", Exp::To("on_hold"), SA),
    // The table's on_hold order was held from `printing`.
    ("release", "on_hold", Exp::To("printing"), SA),
    // Customers only before printing; staff/admin until packed, never after shipping.
    ("cancel", "draft", Exp::To("cancelled"), ALL),
    ("cancel", "submitted", Exp::To("cancelled"), ALL),
    ("cancel", "awaiting_files", Exp::To("cancelled"), ALL),
    ("cancel", "preflight", Exp::To("cancelled"), ALL),
    ("cancel", "proof_pending", Exp::To("cancelled"), ALL),
    ("cancel", "approved", Exp::To("cancelled"), ALL),
    ("cancel", "queued", Exp::To("cancelled"), ALL),
    ("cancel", "printing", Exp::To("cancelled"), SA),
    ("cancel", "finishing", Exp::To("cancelled"), SA),
    ("cancel", "quality_check", Exp::To("cancelled"), SA),
    ("cancel", "packed", Exp::To("cancelled"), SA),
    ("cancel", "on_hold", Exp::To("cancelled"), SA),
    ("refund", "cancelled", Exp::To("refunded"), A),
    ("refund", "delivered", Exp::To("refunded"), A),
];

const EXPECTED_STATES: &[&str] = &[
    "draft",
    "submitted",
    "awaiting_files",
    "preflight",
    "proof_pending",
    "approved",
    "queued",
    "printing",
    "finishing",
    "quality_check",
    "packed",
    "shipped",
    "delivered",
    "on_hold",
    "cancelled",
    "refunded",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Owner,
    OtherCustomer,
    Staff,
    Admin,
}

fn mask(who: Who) -> u8 {
    match who {
        Who::Owner | Who::OtherCustomer => C,
        Who::Staff => S,
        Who::Admin => A,
    }
}

fn roles_of(m: u8) -> Vec<Role> {
    let mut out = Vec::new();
    if m & C != 0 {
        out.push(Role::Customer);
    }
    if m & S != 0 {
        out.push(Role::Staff);
    }
    if m & A != 0 {
        out.push(Role::Admin);
    }
    out
}

fn expected_allowed(state: &str, who: Who) -> Vec<String> {
    if who == Who::OtherCustomer {
        return Vec::new();
    }
    let mut v: Vec<String> = EXPECTED
        .iter()
        .filter(|(_, from, _, m)| *from == state && m & mask(who) != 0)
        .map(|(t, ..)| (*t).to_owned())
        .collect();
    v.sort();
    v
}

fn expected(state: &str, transition: &str, who: Who) -> Result<&'static str, WorkflowError> {
    let row = EXPECTED
        .iter()
        .find(|(t, from, ..)| *t == transition && *from == state);
    let Some(&(_, _, exp, m)) = row else {
        return Err(WorkflowError::NotAllowed {
            from: state.into(),
            transition: transition.into(),
            allowed: expected_allowed(state, who),
        });
    };
    if m & mask(who) == 0 {
        return Err(WorkflowError::Forbidden {
            from: state.into(),
            transition: transition.into(),
            required: roles_of(m),
        });
    }
    if who == Who::OtherCustomer {
        return Err(WorkflowError::NotOwner {
            transition: transition.into(),
        });
    }
    match exp {
        Exp::To(to) => Ok(to),
        Exp::Guard(g) => Err(WorkflowError::GuardFailed {
            transition: transition.into(),
            guard: g.into(),
        }),
    }
}

fn sorted_allowed(e: WorkflowError) -> WorkflowError {
    match e {
        WorkflowError::NotAllowed {
            from,
            transition,
            mut allowed,
        } => {
            allowed.sort();
            WorkflowError::NotAllowed {
                from,
                transition,
                allowed,
            }
        }
        other => other,
    }
}

#[test]
fn the_workflow_table() {
    let eng = engine();
    let wf = eng.workflow();
    let owner = UserId::new();
    let actors = [
        (Who::Owner, Actor::user(owner, [Role::Customer])),
        (
            Who::OtherCustomer,
            Actor::user(UserId::new(), [Role::Customer]),
        ),
        (Who::Staff, Actor::user(UserId::new(), [Role::Staff])),
        (Who::Admin, Actor::user(UserId::new(), [Role::Admin])),
    ];

    // The definition has exactly the states and (transition, from) pairs
    // the expectation names — drift either way fails here.
    let states: Vec<&str> = wf.states().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(states, EXPECTED_STATES);
    let mut defined: Vec<(String, String)> = wf
        .transitions()
        .iter()
        .flat_map(|t| t.from.iter().map(|f| (t.name.clone(), f.to_string())))
        .collect();
    let mut written: Vec<(String, String)> = EXPECTED
        .iter()
        .map(|(t, f, ..)| ((*t).to_owned(), (*f).to_owned()))
        .collect();
    defined.sort();
    written.sort();
    assert_eq!(defined, written);

    // Every (state, transition, role), plus a transition that does not exist.
    let mut names: Vec<String> = wf.transitions().iter().map(|t| t.name.clone()).collect();
    names.push("teleport".into());
    let ctx = favourable();
    let mut cases = 0;
    let mut allowed_cases = 0;
    for state in wf.states() {
        let mut o = order(owner, state.name.as_str());
        if state.name.as_str() == "on_hold" {
            o.history.push(StatusChange {
                from: Some(st("printing")),
                to: st("on_hold"),
                actor: None,
                at: t0(),
                reason: None,
            });
        }
        for (who, actor) in &actors {
            let mut allowed = eng.allowed_transitions(&o, actor, &ctx);
            allowed.sort();
            assert_eq!(
                allowed,
                expected_allowed(state.name.as_str(), *who),
                "allowed_transitions({}, {who:?})",
                state.name
            );
            for name in &names {
                cases += 1;
                let got = eng
                    .fire(&o, name, actor, &ctx, t0())
                    .map(|out| out.new_status.to_string())
                    .map_err(sorted_allowed);
                let want = expected(state.name.as_str(), name, *who).map(str::to_owned);
                assert_eq!(got, want, "({}, {name}, {who:?})", state.name);
                if want.is_ok() {
                    allowed_cases += 1;
                }
            }
        }
    }
    // 16 states x (19 transitions + 1 unknown) x 4 actors.
    assert_eq!(cases, 16 * 20 * 4);
    let want_allowed: usize = EXPECTED
        .iter()
        .filter(|(_, _, e, _)| matches!(e, Exp::To(_)))
        .map(|(.., m)| m.count_ones() as usize)
        .sum();
    assert_eq!(allowed_cases, want_allowed);
}

#[test]
fn outcome_carries_history_entry_and_events() {
    let eng = engine();
    let staff = UserId::new();
    let o = order(UserId::new(), "shipped");
    let out = eng
        .fire(
            &o,
            "deliver",
            &Actor::user(staff, [Role::Staff]),
            &GuardContext::default(),
            t0(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.transition, "deliver");
    assert_eq!(out.from, st("shipped"));
    assert_eq!(out.new_status, st("delivered"));
    assert_eq!(
        out.history_entry,
        StatusChange {
            from: Some(st("shipped")),
            to: st("delivered"),
            actor: Some(staff),
            at: t0(),
            reason: None,
        }
    );
    assert_eq!(out.events, ["order.status_changed", "order.completed"]);

    let q = eng
        .fire(
            &order(UserId::new(), "approved"),
            "enqueue",
            &Actor::system([Role::Staff]),
            &GuardContext::default(),
            t0(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(q.events, ["order.status_changed", "order.processed"]);
    assert_eq!(q.history_entry.actor, None);

    let mut o2 = o.clone();
    out.apply_to(&mut o2);
    assert_eq!(o2.status, st("delivered"));
    assert_eq!(o2.history.len(), 1);
    assert_eq!(
        o2.version, o.version,
        "the engine never touches the version"
    );
}

#[test]
fn each_guard_failure_names_the_guard() {
    let eng = engine();
    let staff = Actor::user(UserId::new(), [Role::Staff]);
    let admin = Actor::user(UserId::new(), [Role::Admin]);
    let none = GuardContext {
        reason: Some("r".into()),
        ..GuardContext::default()
    };
    let incomplete = GuardContext {
        qc: Some(QcOutcome::Incomplete {
            missing: vec!["count".into()],
        }),
        ..GuardContext::default()
    };
    for (state, transition, actor, ctx, guard) in [
        ("submitted", "accept", &staff, &none, "payment_captured"),
        (
            "preflight",
            "pass_preflight",
            &staff,
            &none,
            "files_passed_preflight",
        ),
        (
            "proof_pending",
            "approve_proof",
            &staff,
            &none,
            "proof_approved",
        ),
        (
            "quality_check",
            "pass_qc",
            &staff,
            &none,
            "qc_checklist_complete",
        ),
        (
            "quality_check",
            "pass_qc",
            &staff,
            &incomplete,
            "qc_checklist_complete",
        ),
        ("quality_check", "reprint", &staff, &none, "qc_failed"),
        ("cancelled", "refund", &admin, &none, "payment_captured"),
    ] {
        let err = eng.fire(&order(UserId::new(), state), transition, actor, ctx, t0());
        assert_eq!(
            err,
            Err(WorkflowError::GuardFailed {
                transition: transition.into(),
                guard: guard.into()
            })
        );
        if let Err(e) = err {
            assert_eq!(e.code(), "transition_guard_failed");
        }
    }
}

#[test]
fn role_is_checked_before_guards() {
    // A customer learns nothing about guards of a transition they may not fire.
    let eng = engine();
    let owner = UserId::new();
    let err = eng.fire(
        &order(owner, "preflight"),
        "pass_preflight",
        &Actor::user(owner, [Role::Customer]),
        &GuardContext::default(),
        t0(),
    );
    assert_eq!(
        err,
        Err(WorkflowError::Forbidden {
            from: "preflight".into(),
            transition: "pass_preflight".into(),
            required: vec![Role::Staff, Role::Admin],
        })
    );
    // Several roles: the privileged one wins; no roles at all is forbidden.
    let both = Actor::user(UserId::new(), [Role::Customer, Role::Staff]);
    assert!(
        eng.fire(
            &order(owner, "queued"),
            "start_printing",
            &both,
            &favourable(),
            t0()
        )
        .is_ok()
    );
    let nobody = Actor::user(UserId::new(), []);
    assert!(matches!(
        eng.fire(
            &order(owner, "draft"),
            "submit",
            &nobody,
            &favourable(),
            t0()
        ),
        Err(WorkflowError::Forbidden { .. })
    ));
    assert!(
        eng.allowed_transitions(&order(owner, "draft"), &nobody, &favourable())
            .is_empty()
    );
    // The system (no user id) is never the owner.
    assert_eq!(
        eng.fire(
            &order(owner, "draft"),
            "submit",
            &Actor::system([Role::Customer]),
            &favourable(),
            t0()
        ),
        Err(WorkflowError::NotOwner {
            transition: "submit".into()
        })
    );
}

#[test]
fn failed_qc_makes_reprint_the_only_transition_and_the_reason() {
    let eng = engine();
    let staff = Actor::user(UserId::new(), [Role::Staff]);
    let owner = UserId::new();
    let o = order(owner, "quality_check");
    let failed = GuardContext {
        qc: Some(QcOutcome::Failed {
            failed: vec![
                "line 0: colour_match".into(),
                "line 1: count (2 short)".into(),
            ],
        }),
        reason: Some("operator note".into()),
        ..GuardContext::default()
    };
    assert_eq!(eng.allowed_transitions(&o, &staff, &failed), ["reprint"]);
    assert_eq!(
        eng.allowed_transitions(&o, &Actor::user(owner, [Role::Customer]), &failed),
        Vec::<String>::new()
    );
    for t in ["pass_qc", "hold", "cancel"] {
        assert_eq!(
            eng.fire(&o, t, &staff, &failed, t0()),
            Err(WorkflowError::NotAllowed {
                from: "quality_check".into(),
                transition: t.into(),
                allowed: vec!["reprint".into()],
            })
        );
    }
    let out = eng
        .fire(&o, "reprint", &staff, &failed, t0())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.new_status, st("queued"));
    assert_eq!(
        out.history_entry.reason.as_deref(),
        Some("QC failed: line 0: colour_match, line 1: count (2 short); operator note")
    );
    assert_eq!(out.events, ["order.status_changed", "order.reprint"]);
}

fn run(eng: &Engine, o: &mut Order, t: &str, actor: &Actor, ctx: &GuardContext, at: DateTime<Utc>) {
    let out = eng
        .fire(o, t, actor, ctx, at)
        .unwrap_or_else(|e| panic!("{t} from {}: {e}", o.status));
    out.apply_to(o);
}

#[test]
fn reprints_are_counted_through_a_full_order_life() {
    let eng = engine();
    let owner = UserId::new();
    let me = Actor::user(owner, [Role::Customer]);
    let staff = Actor::user(UserId::new(), [Role::Staff]);
    let ok = favourable();
    let qc_failed = GuardContext {
        qc: Some(QcOutcome::Failed {
            failed: vec!["cut_accuracy".into()],
        }),
        ..GuardContext::default()
    };
    let mut o = order(owner, "draft");
    let mut at = t0();
    let mut step = |o: &mut Order, t: &str, a: &Actor, c: &GuardContext| {
        at += Duration::minutes(1);
        run(&eng, o, t, a, c, at);
    };
    for t in ["submit", "accept", "start_preflight"] {
        step(&mut o, t, &me, &ok);
    }
    step(&mut o, "pass_preflight", &staff, &ok);
    step(&mut o, "approve_proof", &me, &ok);
    for t in ["enqueue", "start_printing", "start_finishing", "start_qc"] {
        step(&mut o, t, &staff, &ok);
    }
    assert_eq!(eng.reprint_count(&o), 0);
    for round in 1..=2 {
        step(&mut o, "reprint", &staff, &qc_failed);
        assert_eq!(eng.reprint_count(&o), round);
        for t in ["start_printing", "start_finishing", "start_qc"] {
            step(&mut o, t, &staff, &ok);
        }
    }
    for t in ["pass_qc", "ship", "deliver"] {
        step(&mut o, t, &staff, &ok);
    }
    assert_eq!(o.status, st("delivered"));
    assert_eq!(eng.reprint_count(&o), 2);
    assert_eq!(eng.times_fired(&o, "start_printing"), 3);
    assert_eq!(eng.times_fired(&o, "submit"), 1);
    assert_eq!(eng.times_fired(&o, "no_such"), 0);
    let reasons: Vec<_> = o
        .history
        .iter()
        .filter(|c| c.to == st("queued") && c.from == Some(st("quality_check")))
        .map(|c| c.reason.clone())
        .collect();
    assert_eq!(reasons, vec![Some("QC failed: cut_accuracy".to_owned()); 2]);
    assert_eq!(o.history.len(), 9 + 2 * 4 + 3);
    assert!(
        o.history
            .windows(2)
            .all(|w| w[0].at < w[1].at && Some(&w[0].to) == w[1].from.as_ref())
    );
}

#[test]
fn hold_and_release_return_to_the_state_held_from() {
    let eng = engine();
    let staff = Actor::user(UserId::new(), [Role::Staff]);
    let ctx = GuardContext::default();
    for from in [
        "submitted",
        "awaiting_files",
        "preflight",
        "proof_pending",
        "approved",
        "queued",
        "printing",
        "finishing",
        "quality_check",
        "packed",
    ] {
        let mut o = order(UserId::new(), from);
        run(&eng, &mut o, "hold", &staff, &ctx, t0());
        assert_eq!(o.status, st("on_hold"));
        assert_eq!(
            eng.allowed_transitions(&o, &staff, &ctx),
            ["release", "cancel"]
        );
        run(&eng, &mut o, "release", &staff, &ctx, t0());
        assert_eq!(o.status, st(from), "released back to {from}");
    }
    // Held twice from different states: the latest hold counts.
    let mut o = order(UserId::new(), "queued");
    run(&eng, &mut o, "hold", &staff, &ctx, t0());
    run(&eng, &mut o, "release", &staff, &ctx, t0());
    run(&eng, &mut o, "start_printing", &staff, &ctx, t0());
    run(&eng, &mut o, "hold", &staff, &ctx, t0());
    run(&eng, &mut o, "release", &staff, &ctx, t0());
    assert_eq!(o.status, st("printing"));
    assert_eq!(eng.times_fired(&o, "release"), 2);
    assert_eq!(eng.times_fired(&o, "hold"), 2);

    // No history telling where it came from.
    let bare = order(UserId::new(), "on_hold");
    assert_eq!(
        eng.fire(&bare, "release", &staff, &ctx, t0()),
        Err(WorkflowError::NoPreviousState {
            transition: "release".into(),
            state: "on_hold".into()
        })
    );
    // History pointing at a state this workflow does not know.
    let mut odd = bare.clone();
    odd.history.push(StatusChange {
        from: Some(st("limbo")),
        to: st("on_hold"),
        actor: None,
        at: t0(),
        reason: None,
    });
    assert!(matches!(
        eng.fire(&odd, "release", &staff, &ctx, t0()),
        Err(WorkflowError::NoPreviousState { .. })
    ));
}

#[test]
fn reasons_are_required_cleaned_and_bounded() {
    let eng = engine();
    let staff = Actor::user(UserId::new(), [Role::Staff]);
    let o = order(UserId::new(), "preflight");
    for reason in [None, Some(""), Some("  \n ")] {
        let ctx = GuardContext {
            reason: reason.map(str::to_owned),
            ..GuardContext::default()
        };
        assert_eq!(
            eng.fire(&o, "fail_preflight", &staff, &ctx, t0()),
            Err(WorkflowError::ReasonRequired {
                transition: "fail_preflight".into()
            })
        );
    }
    let ctx = GuardContext {
        reason: Some("  bleed\u{202e} missing\u{7}  ".into()),
        ..GuardContext::default()
    };
    let out = eng
        .fire(&o, "fail_preflight", &staff, &ctx, t0())
        .unwrap_or_else(|e| panic!("{e}"));
    let r = out.history_entry.reason.unwrap_or_default();
    assert!(!r.contains('\u{202e}') && !r.contains('\u{7}'), "{r:?}");
    let long = GuardContext {
        reason: Some("x".repeat(MAX_REASON_CHARS + 1)),
        ..GuardContext::default()
    };
    assert!(matches!(
        eng.fire(&o, "fail_preflight", &staff, &long, t0()),
        Err(WorkflowError::InvalidReason { .. })
    ));
}

#[test]
fn unknown_status_and_transition() {
    let eng = engine();
    let staff = Actor::user(UserId::new(), [Role::Staff]);
    let o = order(UserId::new(), "limbo");
    assert_eq!(
        eng.fire(&o, "submit", &staff, &favourable(), t0()),
        Err(WorkflowError::UnknownStatus {
            workflow: "default".into(),
            status: "limbo".into()
        })
    );
    assert!(
        eng.allowed_transitions(&o, &staff, &favourable())
            .is_empty()
    );
    let long = "ü".repeat(10_000);
    match eng.fire(
        &order(UserId::new(), "draft"),
        &long,
        &staff,
        &favourable(),
        t0(),
    ) {
        Err(WorkflowError::NotAllowed {
            transition,
            allowed,
            ..
        }) => {
            assert!(transition.chars().count() <= 64);
            assert_eq!(allowed, ["submit", "cancel"]);
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------
// Loading and validation
// ---------------------------------------------------------------------

fn base() -> Value {
    json!({
        "name": "tiny",
        "initial": "new",
        "states": [
            {"name": "new"},
            {"name": "paused", "hold": true},
            {"name": "done", "terminal": true}
        ],
        "transitions": [
            {"name": "finish", "from": ["new"], "to": "done", "allow": [{"roles": ["staff"]}]},
            {"name": "pause", "from": ["new"], "to": "paused", "allow": [{"roles": ["staff"]}]},
            {"name": "resume", "from": ["paused"], "to": "@previous", "allow": [{"roles": ["staff"]}]}
        ]
    })
}

fn load(v: &Value) -> Result<Workflow, WorkflowError> {
    Workflow::from_json(&v.to_string())
}

fn push(v: &mut Value, key: &str, item: Value) {
    if let Some(a) = v[key].as_array_mut() {
        a.push(item);
    }
}

fn with(f: impl FnOnce(&mut Value)) -> Result<Workflow, WorkflowError> {
    let mut v = base();
    f(&mut v);
    load(&v)
}

#[test]
fn base_fixture_loads() {
    let wf = load(&base()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wf.name(), "tiny");
    assert_eq!(
        wf.transition("resume").map(|t| &t.to),
        Some(&Target::Previous)
    );
}

#[test]
fn each_validation_error_names_the_offending_item() {
    let cases: Vec<(Result<Workflow, WorkflowError>, WorkflowError)> = vec![
        (
            with(|v| v["transitions"][0]["to"] = json!("nowhere")),
            WorkflowError::UnknownState {
                path: "transitions[0].to".into(),
                name: "nowhere".into(),
            },
        ),
        (
            with(|v| v["transitions"][1]["from"] = json!(["new", "ghost"])),
            WorkflowError::UnknownState {
                path: "transitions[1].from[1]".into(),
                name: "ghost".into(),
            },
        ),
        (
            with(|v| v["initial"] = json!("start")),
            WorkflowError::UnknownState {
                path: "initial".into(),
                name: "start".into(),
            },
        ),
        (
            with(|v| {
                push(v, "states", json!({"name": "island"}));
            }),
            WorkflowError::UnreachableState {
                path: "states[3]".into(),
                name: "island".into(),
            },
        ),
        (
            with(|v| {
                push(
                    v,
                    "transitions",
                    json!({"name": "finish", "from": ["paused"], "to": "done", "allow": [{"roles": ["admin"]}]}),
                );
            }),
            WorkflowError::DuplicateTransition {
                path: "transitions[3].name".into(),
                name: "finish".into(),
            },
        ),
        (
            with(|v| {
                push(v, "states", json!({"name": "new"}));
            }),
            WorkflowError::DuplicateState {
                path: "states[3].name".into(),
                name: "new".into(),
            },
        ),
        (
            with(|v| {
                push(
                    v,
                    "transitions",
                    json!({"name": "reopen", "from": ["done"], "to": "new", "allow": [{"roles": ["admin"]}]}),
                );
            }),
            WorkflowError::TerminalHasOutgoing {
                path: "transitions[3].from[0]".into(),
                state: "done".into(),
                transition: "reopen".into(),
            },
        ),
        (
            with(|v| v["transitions"][0]["guards"] = json!(["payment_captured", "moon_is_full"])),
            WorkflowError::UnknownGuard {
                path: "transitions[0].guards[1]".into(),
                name: "moon_is_full".into(),
            },
        ),
        (
            with(|v| {
                v["transitions"][0]["allow"] = json!([{"roles": ["staff"]}, {"roles": ["root"]}])
            }),
            WorkflowError::UnknownRole {
                path: "transitions[0].allow[1].roles[0]".into(),
                name: "root".into(),
            },
        ),
        (
            with(|v| {
                push(
                    v,
                    "transitions",
                    json!({"name": "close", "from": ["new"], "to": "done", "allow": [{"roles": ["admin"]}]}),
                );
            }),
            WorkflowError::AmbiguousEdge {
                path: "transitions[3]".into(),
                from: "new".into(),
                to: "done".into(),
                other: "finish".into(),
            },
        ),
        (
            // `resume` (@previous) may lead back to `new`; a static paused → new is ambiguous.
            with(|v| {
                push(
                    v,
                    "transitions",
                    json!({"name": "reset", "from": ["paused"], "to": "new", "allow": [{"roles": ["admin"]}]}),
                );
            }),
            WorkflowError::AmbiguousEdge {
                path: "transitions[2]".into(),
                from: "paused".into(),
                to: "new".into(),
                other: "reset".into(),
            },
        ),
        (
            with(|v| v["states"][0]["name"] = json!("New")),
            WorkflowError::InvalidName {
                path: "states[0].name".into(),
                value: "New".into(),
                reason: "use 1-32 characters from a-z and '_'",
            },
        ),
        (
            with(|v| v["transitions"][0]["events"] = json!(["order..done"])),
            WorkflowError::InvalidName {
                path: "transitions[0].events[0]".into(),
                value: "order..done".into(),
                reason: "use 1-64 characters from a-z, 0-9, '_' and '.', no empty segments",
            },
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, Err(want.clone()));
        assert!(want.path().is_some());
    }
}

#[test]
fn inconsistent_definitions_are_rejected_with_a_path() {
    let cases: Vec<(Result<Workflow, WorkflowError>, &str)> = vec![
        (
            with(|v| v["transitions"][0]["to"] = json!("@previous")),
            "transitions[0].from[0]",
        ),
        (
            with(|v| v["transitions"][0]["exclusive"] = json!(true)),
            "transitions[0].exclusive",
        ),
        (
            with(|v| v["transitions"][0]["allow"] = json!([])),
            "transitions[0].allow",
        ),
        (
            with(|v| v["transitions"][0]["allow"] = json!([{"roles": []}])),
            "transitions[0].allow[0].roles",
        ),
        (
            with(|v| {
                v["transitions"][0]["allow"] = json!([{"roles": ["staff"], "from": ["paused"]}])
            }),
            "transitions[0].allow[0].from[0]",
        ),
        (
            with(|v| v["transitions"][0]["reason"] = json!("sometimes")),
            "transitions[0].reason",
        ),
        (
            with(|v| v["transitions"][0]["from"] = json!([])),
            "transitions[0].from",
        ),
        (
            with(|v| v["transitions"][0]["from"] = json!(["new", "new"])),
            "transitions[0].from[1]",
        ),
        (with(|v| v["states"][2]["hold"] = json!(true)), "states[2]"),
        (with(|v| v["initial"] = json!("paused")), "initial"),
        (with(|v| v["states"] = json!([])), "states"),
        (
            with(|v| v["states"][2]["terminal"] = json!(false)),
            "states[2]",
        ),
    ];
    for (i, (got, path)) in cases.into_iter().enumerate() {
        match got {
            Err(e) => {
                assert_eq!(e.path(), Some(path), "case {i}: {e}");
                assert!(
                    matches!(
                        e,
                        WorkflowError::Inconsistent { .. } | WorkflowError::UnknownState { .. }
                    ),
                    "case {i}: {e:?}"
                );
            }
            Ok(_) => panic!("case {i} loaded"),
        }
    }
}

#[test]
fn parse_errors_and_size_bounds() {
    for (src, format) in [
        ("name = ", "TOML"),
        (
            "name = \"x\"\ninitial = \"a\"\nstates = []\ntransitions = []\nsurprise = 1",
            "TOML",
        ),
    ] {
        match Workflow::from_toml(src) {
            Err(WorkflowError::Parse { format: f, .. }) => assert_eq!(f, format),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        Workflow::from_json("{"),
        Err(WorkflowError::Parse { format: "JSON", .. })
    ));
    assert!(matches!(
        Workflow::from_json("[]"),
        Err(WorkflowError::Parse { .. })
    ));
    assert_eq!(
        Workflow::from_json("{").err().map(|e| e.code()),
        Some("workflow_parse")
    );

    let big = " ".repeat(MAX_FILE_BYTES + 1);
    assert_eq!(
        Workflow::from_toml(&big),
        Err(WorkflowError::TooLarge {
            path: "(file)".into(),
            limit: MAX_FILE_BYTES
        })
    );
    let many_states = with(|v| {
        v["states"] = Value::Array(
            (0..=MAX_STATES)
                .map(|i| json!({"name": format!("s{}", "a".repeat(i % 30))}))
                .collect(),
        );
    });
    assert_eq!(
        many_states,
        Err(WorkflowError::TooLarge {
            path: "states".into(),
            limit: MAX_STATES
        })
    );
    let many_transitions = with(|v| {
        let t = v["transitions"][0].clone();
        v["transitions"] = Value::Array(vec![t; MAX_TRANSITIONS + 1]);
    });
    assert_eq!(
        many_transitions,
        Err(WorkflowError::TooLarge {
            path: "transitions".into(),
            limit: MAX_TRANSITIONS
        })
    );
}

#[test]
fn hostile_inputs_do_not_panic() {
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Workflow::from_json(&deep_json).is_err());
    let deep_toml = format!("x = {}{}", "[".repeat(50_000), "]".repeat(50_000));
    assert!(Workflow::from_toml(&deep_toml).is_err());
    let deep_table = format!("x = {}{}", "{a=".repeat(20_000), "}".repeat(20_000));
    assert!(Workflow::from_toml(&deep_table).is_err());
    for junk in [
        "\u{0}",
        "\u{feff}name=1",
        "[[states]]\nname=1",
        "initial = \"\u{202e}\"",
        "🙂",
    ] {
        assert!(Workflow::from_toml(junk).is_err());
        assert!(Workflow::from_json(junk).is_err());
    }
    // A maximal but valid chain: 200 states, 199 transitions.
    let n = MAX_STATES;
    let name = |i: usize| {
        let mut s = String::from("s");
        let mut k = i;
        loop {
            s.push((b'a' + (k % 26) as u8) as char);
            k /= 26;
            if k == 0 {
                break;
            }
        }
        s
    };
    let v = json!({
        "name": "long",
        "initial": name(0),
        "states": (0..n).map(|i| json!({"name": name(i), "terminal": i == n - 1})).collect::<Vec<_>>(),
        "transitions": (0..n - 1).map(|i| json!({
            "name": format!("t{}", name(i)), "from": [name(i)], "to": name(i + 1),
            "allow": [{"roles": ["staff"]}]
        })).collect::<Vec<_>>(),
    });
    let wf = load(&v).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wf.states().len(), n);
}

#[test]
fn default_workflow_loads_identically_from_json() {
    let toml_value: toml::Value =
        toml::from_str(DEFAULT_WORKFLOW_TOML).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_string(&toml_value).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Workflow::from_json(&json), Workflow::builtin());
}

const SHOP_TOML: &str = r#"
name = "sign-shop"
initial = "quote"
always_emit = ["order.status_changed", "sign.audit"]

[[states]]
name = "quote"
[[states]]
name = "paid"
[[states]]
name = "cutting"
[[states]]
name = "paused"
hold = true
[[states]]
name = "fitted"
terminal = true
[[states]]
name = "rejected"
terminal = true

[[transitions]]
name = "pay"
from = ["quote"]
to = "paid"
guards = ["payment_captured"]
allow = [{ roles = ["customer"] }, { roles = ["admin"] }]

[[transitions]]
name = "cut"
from = ["paid"]
to = "cutting"
allow = [{ roles = ["staff"] }]

[[transitions]]
name = "fit"
from = ["cutting"]
to = "fitted"
events = ["order.completed", "sign.audit"]
allow = [{ roles = ["staff"] }]

[[transitions]]
name = "pause"
from = ["paid", "cutting"]
to = "paused"
reason = "required"
allow = [{ roles = ["admin"] }]

[[transitions]]
name = "resume"
from = ["paused"]
to = "@previous"
allow = [{ roles = ["admin"] }]

[[transitions]]
name = "reject"
from = ["quote", "paid"]
to = "rejected"
allow = [{ roles = ["customer"], from = ["quote"] }, { roles = ["staff", "admin"] }]
"#;

#[test]
fn a_custom_shop_workflow_from_toml_works() {
    let eng = Engine::new(Workflow::from_toml(SHOP_TOML).unwrap_or_else(|e| panic!("{e}")));
    let owner = UserId::new();
    let me = Actor::user(owner, [Role::Customer]);
    let staff = Actor::user(UserId::new(), [Role::Staff]);
    let admin = Actor::user(UserId::new(), [Role::Admin]);
    let mut o = order(owner, "quote");
    assert_eq!(
        eng.allowed_transitions(&o, &me, &GuardContext::default()),
        ["pay", "reject"]
    );
    assert_eq!(
        eng.fire(&o, "pay", &me, &GuardContext::default(), t0()),
        Err(WorkflowError::GuardFailed {
            transition: "pay".into(),
            guard: "payment_captured".into()
        })
    );
    run(&eng, &mut o, "pay", &me, &favourable(), t0());
    // Customers may reject only quotes.
    assert_eq!(
        eng.fire(&o, "reject", &me, &favourable(), t0()),
        Err(WorkflowError::Forbidden {
            from: "paid".into(),
            transition: "reject".into(),
            required: vec![Role::Staff, Role::Admin]
        })
    );
    run(&eng, &mut o, "cut", &staff, &favourable(), t0());
    assert_eq!(
        eng.fire(&o, "pause", &admin, &GuardContext::default(), t0()),
        Err(WorkflowError::ReasonRequired {
            transition: "pause".into()
        })
    );
    run(&eng, &mut o, "pause", &admin, &favourable(), t0());
    run(&eng, &mut o, "resume", &admin, &favourable(), t0());
    assert_eq!(o.status, st("cutting"));
    let out = eng
        .fire(&o, "fit", &staff, &favourable(), t0())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.events,
        ["order.status_changed", "sign.audit", "order.completed"]
    );
    out.apply_to(&mut o);
    assert!(
        eng.allowed_transitions(&o, &admin, &favourable())
            .is_empty()
    );
    assert_eq!(
        eng.fire(&o, "cut", &staff, &favourable(), t0()),
        Err(WorkflowError::NotAllowed {
            from: "fitted".into(),
            transition: "cut".into(),
            allowed: vec![]
        })
    );
}

#[test]
fn error_codes_are_unique() {
    let samples = [
        WorkflowError::Parse {
            format: "TOML",
            message: String::new(),
        },
        WorkflowError::TooLarge {
            path: String::new(),
            limit: 0,
        },
        WorkflowError::InvalidName {
            path: String::new(),
            value: String::new(),
            reason: "",
        },
        WorkflowError::DuplicateState {
            path: String::new(),
            name: String::new(),
        },
        WorkflowError::DuplicateTransition {
            path: String::new(),
            name: String::new(),
        },
        WorkflowError::UnknownState {
            path: String::new(),
            name: String::new(),
        },
        WorkflowError::UnreachableState {
            path: String::new(),
            name: String::new(),
        },
        WorkflowError::TerminalHasOutgoing {
            path: String::new(),
            state: String::new(),
            transition: String::new(),
        },
        WorkflowError::UnknownGuard {
            path: String::new(),
            name: String::new(),
        },
        WorkflowError::UnknownRole {
            path: String::new(),
            name: String::new(),
        },
        WorkflowError::AmbiguousEdge {
            path: String::new(),
            from: String::new(),
            to: String::new(),
            other: String::new(),
        },
        WorkflowError::Inconsistent {
            path: String::new(),
            reason: String::new(),
        },
        WorkflowError::UnknownStatus {
            workflow: String::new(),
            status: String::new(),
        },
        WorkflowError::NotAllowed {
            from: String::new(),
            transition: String::new(),
            allowed: vec![],
        },
        WorkflowError::Forbidden {
            from: String::new(),
            transition: String::new(),
            required: vec![],
        },
        WorkflowError::NotOwner {
            transition: String::new(),
        },
        WorkflowError::GuardFailed {
            transition: String::new(),
            guard: String::new(),
        },
        WorkflowError::ReasonRequired {
            transition: String::new(),
        },
        WorkflowError::InvalidReason {
            reason: String::new(),
        },
        WorkflowError::NoPreviousState {
            transition: String::new(),
            state: String::new(),
        },
        WorkflowError::QcResultInvalid {
            path: String::new(),
            reason: String::new(),
        },
    ];
    let mut codes: Vec<&str> = samples.iter().map(WorkflowError::code).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), samples.len());
    let e = WorkflowError::NotAllowed {
        from: "draft".into(),
        transition: "ship".into(),
        allowed: vec!["submit".into(), "cancel".into()],
    };
    assert_eq!(
        e.to_string(),
        "transition \"ship\" is not allowed from \"draft\"; allowed: [submit, cancel]"
    );
    let f = WorkflowError::Forbidden {
        from: "preflight".into(),
        transition: "pass_preflight".into(),
        required: vec![Role::Staff, Role::Admin],
    };
    assert_eq!(
        f.to_string(),
        "transition \"pass_preflight\" from \"preflight\" requires one of the roles [staff, admin]"
    );
}

// ---------------------------------------------------------------------
// Priority and queue order
// ---------------------------------------------------------------------

#[test]
fn priority_classes() {
    let p = |n: u8| Priority::new(n).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(PriorityClass::Rush.priority().get(), 80);
    assert_eq!(PriorityClass::High.priority().get(), 60);
    assert_eq!(PriorityClass::Normal.priority().get(), 50);
    assert_eq!(PriorityClass::Low.priority().get(), 30);
    for (n, c) in [
        (100, "rush"),
        (80, "rush"),
        (79, "high"),
        (60, "high"),
        (59, "normal"),
        (50, "normal"),
        (49, "low"),
        (30, "low"),
        (0, "low"),
    ] {
        assert_eq!(PriorityClass::of(p(n)).name(), c, "{n}");
    }
    for c in PriorityClass::ALL {
        assert_eq!(PriorityClass::parse(c.name()), Some(c));
        assert_eq!(PriorityClass::of(c.priority()), c);
    }
    assert_eq!(PriorityClass::parse("urgent"), None);
    // The ranges are exactly the priorities `of` puts in each class.
    for n in 0..=100 {
        let c = PriorityClass::of(p(n));
        let (lo, hi) = c.range();
        assert!(lo <= p(n) && p(n) <= hi, "{n} in {}", c.name());
        for other in PriorityClass::ALL.into_iter().filter(|o| *o != c) {
            let (lo, hi) = other.range();
            assert!(!(lo <= p(n) && p(n) <= hi), "{n} also in {}", other.name());
        }
    }
    assert_eq!(PriorityClass::High.range(), (p(60), p(79)));
}

#[test]
fn queue_order_matches_the_repository_key() {
    let customer = UserId::new();
    let mut orders = Vec::new();
    for (i, prio) in [30u8, 80, 50, 60, 80, 50, 30, 100, 0, 60, 80, 50]
        .into_iter()
        .enumerate()
    {
        let mut o = order(customer, "queued");
        o.priority = Priority::new(prio).unwrap_or_else(|e| panic!("{e}"));
        // Some due dates equal, some equal only to the millisecond.
        o.due_at =
            t0() + Duration::hours((i % 3) as i64) + Duration::microseconds((i % 2) as i64 * 300);
        orders.push(o);
    }
    let mut by_cmp = orders.clone();
    by_cmp.sort_by(queue_cmp);
    let mut by_key = orders.clone();
    by_key.sort_by(|a, b| {
        let (pa, da, ia) = crate::ports::queue_key(a);
        let (pb, db, ib) = crate::ports::queue_key(b);
        pb.cmp(&pa).then(da.cmp(&db)).then(ia.cmp(&ib))
    });
    let ids = |v: &[Order]| v.iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(&by_cmp), ids(&by_key));
    assert_eq!(by_cmp[0].priority.get(), 100);
    assert!(by_cmp.windows(2).all(|w| w[0].priority >= w[1].priority));
}

// ---------------------------------------------------------------------
// Quality checks
// ---------------------------------------------------------------------

fn qc_result(kind: &str, items: &[(&str, bool)]) -> QcResult {
    QcResult {
        order_id: OrderId::new(),
        line: 0,
        product_kind: kind.into(),
        inspector: UserId::new(),
        at: t0(),
        items: items
            .iter()
            .map(|(k, p)| QcItemResult {
                key: (*k).into(),
                passed: *p,
                note: None,
            })
            .collect(),
    }
}

#[test]
fn qc_checklists_per_kind_and_verdicts() {
    let lists = QcChecklists::builtin().unwrap_or_else(|e| panic!("{e}"));
    let default = lists
        .for_kind("business-card")
        .unwrap_or_else(|| panic!("fallback"));
    let keys: Vec<&str> = default.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["colour_match", "cut_accuracy", "count", "finish"]);
    let booklet = lists
        .for_kind("booklet")
        .unwrap_or_else(|| panic!("booklet"));
    assert!(booklet.items.iter().any(|i| i.key == "binding"));

    let all = [
        ("colour_match", true),
        ("cut_accuracy", true),
        ("count", true),
        ("finish", true),
    ];
    assert_eq!(
        default.evaluate(&qc_result("x", &all)),
        Ok(QcOutcome::Passed)
    );
    assert_eq!(
        default.evaluate(&qc_result("x", &[("count", true), ("finish", true)])),
        Ok(QcOutcome::Incomplete {
            missing: vec!["colour_match".into(), "cut_accuracy".into()]
        })
    );
    let mut failing = qc_result(
        "x",
        &[("finish", false), ("count", true), ("colour_match", false)],
    );
    failing.items[0].note = Some(" scuffed ".into());
    assert_eq!(
        default.evaluate(&failing),
        Ok(QcOutcome::Failed {
            failed: vec!["colour_match".into(), "finish (scuffed)".into()]
        })
    );
    assert_eq!(
        default.evaluate(&qc_result("x", &[("binding", true)])),
        Err(WorkflowError::QcResultInvalid {
            path: "items[0].key".into(),
            reason: "\"binding\" is not on the default checklist".into()
        })
    );
    assert!(matches!(
        default.evaluate(&qc_result("x", &[("count", true), ("count", false)])),
        Err(WorkflowError::QcResultInvalid { .. })
    ));

    assert_eq!(
        QcOutcome::combine([]),
        QcOutcome::Incomplete { missing: vec![] }
    );
    assert_eq!(
        QcOutcome::combine([(0, QcOutcome::Passed), (1, QcOutcome::Passed)]),
        QcOutcome::Passed
    );
    assert_eq!(
        QcOutcome::combine([
            (
                0,
                QcOutcome::Incomplete {
                    missing: vec!["count".into()]
                }
            ),
            (
                1,
                QcOutcome::Failed {
                    failed: vec!["finish".into()]
                }
            ),
        ]),
        QcOutcome::Failed {
            failed: vec!["line 1: finish".into()]
        }
    );
}

#[test]
fn qc_checklist_files_are_validated() {
    let dup = "[[checklists]]\nproduct_kind = \"a\"\nitems = [{ key = \"x\", label = \"X\" }, { key = \"x\", label = \"Y\" }]";
    assert_eq!(
        QcChecklists::from_toml(dup)
            .err()
            .and_then(|e| e.path().map(str::to_owned)),
        Some("checklists[0].items[1].key".into())
    );
    let empty = "[[checklists]]\nproduct_kind = \"a\"\nitems = []";
    assert!(matches!(
        QcChecklists::from_toml(empty),
        Err(WorkflowError::TooLarge { .. })
    ));
    let bad_kind =
        r#"{"checklists": [{"product_kind": "A B", "items": [{"key": "x", "label": "X"}]}]}"#;
    assert!(matches!(
        QcChecklists::from_json(bad_kind),
        Err(WorkflowError::InvalidName { .. })
    ));
    let twice = r#"{"checklists": [
        {"product_kind": "a", "items": [{"key": "x", "label": "X"}]},
        {"product_kind": "a", "items": [{"key": "x", "label": "X"}]}]}"#;
    assert!(matches!(
        QcChecklists::from_json(twice),
        Err(WorkflowError::Inconsistent { .. })
    ));
    assert!(matches!(
        QcChecklists::from_json("{"),
        Err(WorkflowError::Parse { .. })
    ));
    let only_other =
        r#"{"checklists": [{"product_kind": "a", "items": [{"key": "x", "label": "X"}]}]}"#;
    let l = QcChecklists::from_json(only_other).unwrap_or_else(|e| panic!("{e}"));
    assert!(l.for_kind("b").is_none());
}

// ---------------------------------------------------------------------
// Robustness and integration with the OrderRepo port
// ---------------------------------------------------------------------

#[test]
fn every_truncation_and_line_deletion_of_the_default_file_is_handled() {
    let src = DEFAULT_WORKFLOW_TOML;
    let mut cut = 0;
    for (i, _) in src.char_indices().step_by(3) {
        cut += 1;
        let _ = Workflow::from_toml(&src[..i]);
    }
    assert!(cut > 1000);
    let lines: Vec<&str> = src.lines().collect();
    let mut still_valid = 0;
    for skip in 0..lines.len() {
        let text: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        if Workflow::from_toml(&text.join("\n")).is_ok() {
            still_valid += 1;
        }
    }
    // Comments, blank lines, descriptions and optional keys may go;
    // most other lines may not.
    assert!(still_valid < lines.len());
}

#[test]
fn toml_parse_errors_name_the_line() {
    let src = "name = \"x\"\ninitial = \"a\"\n\n[[states]]\nname = 7\n";
    match Workflow::from_toml(src) {
        Err(WorkflowError::Parse {
            format: "TOML",
            message,
        }) => {
            assert!(message.starts_with("line 5:"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn workflow_names_are_cleaned() {
    let wf =
        with(|v| v["name"] = json!("  Sign\u{202e} shop\u{7} ")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wf.name(), "Sign shop");
    assert!(matches!(
        with(|v| v["name"] = json!(" \u{7} ")),
        Err(WorkflowError::InvalidName { .. })
    ));
}

/// Poll a future that is ready at once (the in-memory repo never waits).
fn now_or_never<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("in-memory repo future was not ready"),
    }
}

#[test]
fn concurrent_fires_apply_through_optimistic_concurrency() {
    use crate::ports::OrderRepo;
    let repo = crate::memory::MemoryOrderRepo::new();
    let eng = engine();
    let a = Actor::user(UserId::new(), [Role::Staff]);
    let b = Actor::user(UserId::new(), [Role::Staff]);
    let ctx = GuardContext::default();
    let stored =
        now_or_never(repo.insert(order(UserId::new(), "queued"))).unwrap_or_else(|e| panic!("{e}"));

    // Two operators read the same version and fire different transitions.
    let mut seen_a = stored.clone();
    let mut seen_b = stored.clone();
    eng.fire(&seen_a, "start_printing", &a, &ctx, t0())
        .unwrap_or_else(|e| panic!("{e}"))
        .apply_to(&mut seen_a);
    eng.fire(&seen_b, "hold", &b, &ctx, t0())
        .unwrap_or_else(|e| panic!("{e}"))
        .apply_to(&mut seen_b);
    let won = now_or_never(repo.update(seen_a)).unwrap_or_else(|e| panic!("{e}"));
    let lost = now_or_never(repo.update(seen_b));
    assert!(
        matches!(
            lost,
            Err(crate::Error::Conflict {
                reason: crate::ConflictReason::StaleVersion,
                ..
            })
        ),
        "{lost:?}"
    );
    // The loser re-reads and fires again against the new state.
    let fresh = now_or_never(repo.get(won.id)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fresh.status, st("printing"));
    let mut retry = fresh.clone();
    eng.fire(&retry, "hold", &b, &ctx, t0())
        .unwrap_or_else(|e| panic!("{e}"))
        .apply_to(&mut retry);
    let done = now_or_never(repo.update(retry)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.status, st("on_hold"));
    assert_eq!(done.history.len(), 2);
    // Release goes back to printing, where the order was when held.
    let mut released = done.clone();
    eng.fire(&released, "release", &b, &ctx, t0())
        .unwrap_or_else(|e| panic!("{e}"))
        .apply_to(&mut released);
    assert_eq!(released.status, st("printing"));
}

#[test]
fn the_documented_example_file_is_valid() {
    let doc: String = include_str!("mod.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let start = doc
        .find("```toml\n")
        .map(|i| i + 8)
        .unwrap_or_else(|| panic!("no toml block"));
    let len = doc[start..]
        .find("```")
        .unwrap_or_else(|| panic!("unterminated"));
    let wf = Workflow::from_toml(&doc[start..start + len]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wf.name(), "sign-shop");
    assert_eq!(wf.transitions().len(), 3);
}

/// A tiny deterministic generator (no rand dependency).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

#[test]
fn random_workflows_never_panic_and_valid_ones_fire_safely() {
    const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
    let guards = [
        "payment_captured",
        "qc_failed",
        "qc_checklist_complete",
        "proof_approved",
    ];
    let roles = ["customer", "staff", "admin"];
    let mut rng = Lcg(42);
    let (mut valid, mut invalid) = (0, 0);
    let mut codes = std::collections::BTreeMap::new();
    for _ in 0..2000 {
        let r = &mut rng;
        // A chain a → b → … guarantees reachability; the rest is random.
        let n = 2 + r.next(5);
        let hold = r.next(3) == 0;
        let mut states: Vec<Value> = (0..n)
            .map(|i| json!({"name": NAMES[i], "terminal": i == n - 1}))
            .collect();
        let mut transitions: Vec<Value> = (0..n - 1)
            .map(|i| {
                json!({"name": format!("go_{}", NAMES[i]), "from": [NAMES[i]], "to": NAMES[i + 1],
                       "allow": [{"roles": [roles[r.next(3)]]}]})
            })
            .collect();
        if hold {
            states.push(json!({"name": "held", "hold": true}));
            let from: Vec<&str> = (0..n - 1)
                .filter(|_| r.next(2) == 0)
                .map(|i| NAMES[i])
                .collect();
            let from = if from.is_empty() {
                vec![NAMES[0]]
            } else {
                from
            };
            transitions.push(json!({"name": "hold", "from": from, "to": "held", "allow": [{"roles": ["staff"]}]}));
            transitions.push(json!({"name": "release", "from": ["held"], "to": "@previous", "allow": [{"roles": ["staff"]}]}));
        }
        for extra in NAMES.iter().take(r.next(4)) {
            let from = NAMES[r.next(n - 1)];
            let to = NAMES[r.next(n)];
            let mut t = json!({"name": format!("extra_{}", extra), "from": [from], "to": to,
                               "allow": [{"roles": [roles[r.next(3)]]}, {"roles": [roles[r.next(3)]], "from": [from]}],
                               "guards": [guards[r.next(4)]], "exclusive": r.next(3) == 0});
            if r.next(2) == 0 {
                t["guards"] = json!([]);
                t["exclusive"] = json!(false);
            }
            transitions.push(t);
        }
        // One random mutation in a third of the cases.
        let mut v =
            json!({"name": "rnd", "initial": "a", "states": states, "transitions": transitions});
        match r.next(18) {
            0 => v["states"][r.next(n)]["name"] = json!("Bad"),
            1 => v["transitions"][0]["to"] = json!("zz"),
            2 => v["transitions"][0]["guards"] = json!(["nope"]),
            3 => v["transitions"][0]["allow"][0]["roles"] = json!(["root"]),
            4 => v["states"][n - 1]["terminal"] = json!(false),
            5 => v["initial"] = json!(NAMES[r.next(6)]),
            _ => {}
        }
        let wf = match load(&v) {
            Ok(wf) => wf,
            Err(e) => {
                invalid += 1;
                *codes.entry(e.code()).or_insert(0usize) += 1;
                continue;
            }
        };
        valid += 1;
        let eng = Engine::new(wf.clone());
        let owner = UserId::new();
        for s in wf.states() {
            let mut o = order(owner, s.name.as_str());
            if r.next(2) == 0 {
                o.history.push(StatusChange {
                    from: Some(wf.initial().clone()),
                    to: s.name.clone(),
                    actor: None,
                    at: t0(),
                    reason: None,
                });
            }
            for t in wf.transitions() {
                for roles in [vec![Role::Customer], vec![Role::Staff], vec![Role::Admin]] {
                    let actor = Actor::user(owner, roles);
                    let ctx = GuardContext {
                        payment_captured: r.next(2) == 0,
                        qc: [
                            None,
                            Some(QcOutcome::Passed),
                            Some(QcOutcome::Failed {
                                failed: vec!["x".into()],
                            }),
                        ][r.next(3)]
                        .clone(),
                        ..GuardContext::default()
                    };
                    let allowed = eng.allowed_transitions(&o, &actor, &ctx);
                    match eng.fire(&o, &t.name, &actor, &ctx, t0()) {
                        Ok(out) => {
                            assert!(allowed.contains(&t.name));
                            assert!(wf.state(out.new_status.as_str()).is_some());
                            let mut o2 = o.clone();
                            out.apply_to(&mut o2);
                            assert_eq!(
                                eng.times_fired(&o, &t.name) + 1,
                                eng.times_fired(&o2, &t.name)
                            );
                        }
                        Err(WorkflowError::NotAllowed { allowed: a, .. }) => assert_eq!(a, allowed),
                        Err(WorkflowError::Forbidden { .. } | WorkflowError::NotOwner { .. }) => {
                            assert!(!allowed.contains(&t.name))
                        }
                        Err(_) => assert!(allowed.contains(&t.name)),
                    }
                }
            }
        }
    }
    assert!(
        valid > 500 && invalid > 200,
        "{valid} valid, {invalid} invalid: {codes:?}"
    );
    assert!(codes.len() >= 5, "{codes:?}");
}

// ---------------------------------------------------------------------
// Which guard facts a caller must look up
// ---------------------------------------------------------------------

/// `ctx` with every fact `consulted` does not name reset to its default.
fn only(ctx: &GuardContext, consulted: &[Guard]) -> GuardContext {
    let has = |g: Guard| consulted.contains(&g);
    GuardContext {
        files_passed_preflight: has(Guard::FilesPassedPreflight) && ctx.files_passed_preflight,
        proof_approved: has(Guard::ProofApproved) && ctx.proof_approved,
        payment_captured: has(Guard::PaymentCaptured) && ctx.payment_captured,
        qc: if has(Guard::QcChecklistComplete) || has(Guard::QcFailed) {
            ctx.qc.clone()
        } else {
            None
        },
        reason: ctx.reason.clone(),
    }
}

#[test]
fn facts_of_guards_not_consulted_never_change_the_outcome() {
    let e = engine();
    let admin = Actor::user(UserId::new(), vec![Role::Staff, Role::Admin]);
    let failed = GuardContext {
        qc: Some(QcOutcome::Failed {
            failed: vec!["line 0: count".into()],
        }),
        ..favourable()
    };
    let contexts = [favourable(), failed, GuardContext::default()];
    let mut names: Vec<String> = e
        .workflow()
        .transitions()
        .iter()
        .map(|t| t.name.clone())
        .collect();
    names.push("nope".into());
    for state in e.workflow().states() {
        let mut o = order(UserId::new(), state.name.as_str());
        // A hold state needs a previous state for `release`.
        o.history.push(StatusChange {
            from: Some(st("queued")),
            to: state.name.clone(),
            actor: None,
            at: t0(),
            reason: None,
        });
        for name in &names {
            let consulted = e.consulted_guards(&o.status, name);
            for ctx in &contexts {
                assert_eq!(
                    e.fire(&o, name, &admin, ctx, t0()),
                    e.fire(&o, name, &admin, &only(ctx, &consulted), t0()),
                    "{name} from {}: consulted {consulted:?}",
                    state.name
                );
            }
        }
    }
    // And they are few: a plain transition consults nothing.
    let s = |x: &str| st(x);
    assert_eq!(
        e.consulted_guards(&s("preflight"), "pass_preflight"),
        [Guard::FilesPassedPreflight]
    );
    assert!(
        e.consulted_guards(&s("preflight"), "fail_preflight")
            .is_empty()
    );
    assert!(e.consulted_guards(&s("queued"), "hold").is_empty());
    assert!(
        e.consulted_guards(&s("queued"), "pass_preflight")
            .is_empty(),
        "a transition that does not leave the state"
    );
    assert_eq!(
        e.consulted_guards(&s("quality_check"), "pass_qc"),
        [Guard::QcChecklistComplete, Guard::QcFailed],
        "the exclusive reprint may pre-empt pass_qc"
    );
    assert_eq!(
        e.consulted_guards(&s("quality_check"), "hold"),
        [Guard::QcFailed]
    );
}
