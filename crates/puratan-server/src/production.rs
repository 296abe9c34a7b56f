//! Production jobs for orders (issue #6): creating an order's jobs when it
//! enters the production queue, keeping their priority in step with the
//! order's, and the QC verdict the workflow guards read.
//!
//! # When jobs are created
//!
//! [`JobsOnQueue`] decorates the [`OrderRepo`] (like `EvictingUsers` does
//! the user store): after a successful `update_with_outbox` — the write of
//! every workflow transition — that moved the order *into* `queued`
//! (`enqueue`, `reprint`, or `release` from a hold), it creates one job per
//! line for the order's current run (run = how many times `reprint`
//! fired, read from the history). So whichever front door fires the
//! transition (HTTP, `OrderService` from a payment callback or the CLI),
//! the jobs follow; `fire()` in `http/routes/orders.rs` needs no extra
//! call. After a plain `update`, or an `update_with_outbox` that carries
//! `order.updated` (a change without a status change: re-prioritising,
//! `POST /api/v1/staff/orders/{id}/priority`), the order's *waiting*
//! (queued or parked) jobs follow it (below), which gives them the new
//! priority.
//!
//! Jobs are created with the waiting status their order gives them at
//! that moment ([`new_jobs`]): jobs of an order that is on hold or
//! cancelled are never `queued`, not even briefly.
//!
//! The hooks run after the order write has committed, on a task of their
//! own (`tokio::spawn`) that the request awaits: if the request is
//! dropped (the gateway's time limit, a client that disconnects) the hook
//! still runs to the end, and its failures are still logged.
//!
//! # Jobs follow their order
//!
//! Only `queued` jobs are claimable, and `claim_next` stays what it was:
//! one atomic "take the first queued job" on every backend, with no look
//! at the order. Instead the order's state is pushed to its jobs: after a
//! transition into or out of a hold state (`on_hold`) or into a cancelled
//! state ([`CANCELLED_STATES`]), the same hook calls
//! `JobRepo::follow_order`, which turns the order's waiting jobs
//! `parked` (hold), `queued` (release) or `cancelled`
//! ([`waiting_status`]) and gives them the order's priority, both as of
//! the same order version. Claimed and done jobs are left alone: an
//! operator finishes what they hold, or gives it back — and a job given
//! back (`POST /api/v1/staff/jobs/{id}/release`) takes the waiting status
//! its order says, so a job released while its order is on hold is
//! parked, not queued.
//!
//! Hooks of two quick order writes (hold, then release; priority 90, then
//! 10) may finish out of order. `follow_order` is therefore fenced by the
//! order's version: a job remembers the order version it last followed
//! (`Job::order_version`) and ignores a follow for an older one. Status
//! and priority travel together in each follow, so a newer
//! re-prioritisation that lands first also carries the hold an older,
//! later-landing follow would have applied. Jobs
//! that join the waiting set late (created on queue entry, or given back
//! by an operator) may have missed a newer transition's follow, so whoever
//! adds them re-reads the order and follows it if it moved on
//! ([`catch_up`]). What remains is the crash window below (hold committed,
//! jobs not parked yet); the same repair covers it.
//!
//! # The crash window, and the repair
//!
//! The order write and the job creation are two writes, not one
//! transaction: if the process dies (or the job store fails) between
//! them, the order is `queued` without (all of) its jobs. Job ids are
//! derived (`<order>.<line>.<run>`) and `JobRepo::create` skips ids that
//! exist, so creating them again is always safe. The repair is explicit:
//! `POST /api/v1/staff/jobs/sync/{order_id}` (see [`sync`]) creates the
//! missing jobs of the current run, re-applies the order's priority and
//! makes the waiting jobs follow the order's state. A
//! failure after the order write (in a hook, or in the catch-up after an
//! operator gives a job back) is logged at `error` level with the order
//! id and that hint; the transition itself still succeeds (it is
//! committed; reporting it as failed would make the client retry a
//! transition that already happened). Not done (yet): an automatic
//! sweeper that finds queued orders without jobs.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use puratan_core::domain::{Job, JobStatus, Order, OrderId, OrderStatus, OutboxEntry, UserId};
use puratan_core::ports::{
    JobFilter, JobRepo, OrderRepo, OrderSearch, Page, PageRequest, QueueFilter,
};
use puratan_core::workflow::{Engine, QcChecklists, QcOutcome};
use puratan_core::{ErrorKind, Result};

use crate::state::App;

/// The workflow state whose entry creates jobs.
pub const QUEUE_STATE: &str = "queued";

/// Workflow states whose orders' waiting jobs are `cancelled`: the order
/// will not be produced (a cancelled order can only be refunded).
pub const CANCELLED_STATES: [&str; 2] = ["cancelled", "refunded"];

/// The status an order in `status` gives its waiting (queued or parked)
/// jobs: `parked` in a hold state of the workflow (`hold = true`, e.g.
/// `on_hold`), `cancelled` in [`CANCELLED_STATES`], `queued` otherwise.
pub fn waiting_status(engine: &Engine, status: &OrderStatus) -> JobStatus {
    if CANCELLED_STATES.contains(&status.as_str()) {
        JobStatus::Cancelled
    } else if engine
        .workflow()
        .state(status.as_str())
        .is_some_and(|s| s.hold)
    {
        JobStatus::Parked
    } else {
        JobStatus::Queued
    }
}

/// Whether the order's last transition changed what its waiting jobs
/// should be (into or out of a hold, into a cancelled state).
fn changes_waiting_status(engine: &Engine, order: &Order) -> bool {
    order.history.last().is_some_and(|h| {
        h.from
            .as_ref()
            .is_none_or(|f| waiting_status(engine, f) != waiting_status(engine, &h.to))
    })
}

/// Makes the order's waiting jobs follow `order` as read or written: its
/// waiting status and its priority (version-fenced: see
/// `JobRepo::follow_order`).
pub async fn follow(jobs: &dyn JobRepo, engine: &Engine, order: &Order) -> Result<usize> {
    jobs.follow_order(
        order.id,
        order.version,
        waiting_status(engine, &order.status),
        order.priority,
    )
    .await
}

/// The jobs of `order`'s run `run`, created in the waiting status the
/// order gives them now ([`waiting_status`]).
pub fn new_jobs(engine: &Engine, order: &Order, run: u32) -> Vec<Job> {
    Job::for_order(order, run, waiting_status(engine, &order.status))
}

/// The repair hint logged with every failure after an order write.
const REPAIR_HINT: &str = "repair with POST /api/v1/staff/jobs/sync/{order_id}";

/// Runs `work` — job bookkeeping after an order write has committed — on
/// a task of its own and waits for it: if the caller is dropped meanwhile
/// (a time limit, a disconnect), the task still runs to the end. `None`
/// when it failed or panicked, logged as `what` with the repair hint.
pub async fn to_completion<T: Send + 'static>(
    order_id: OrderId,
    what: &'static str,
    work: impl Future<Output = Result<T>> + Send + 'static,
) -> Option<T> {
    let error = match tokio::spawn(work).await {
        Ok(Ok(done)) => return Some(done),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    tracing::error!(%order_id, %error, "{what}; {REPAIR_HINT}");
    None
}

/// After putting jobs into the waiting set (creating them, or an operator
/// giving a claimed one back) with the state of `seen`: if the order has
/// moved on since, a transition hook may have run before those jobs were
/// there to follow it, so follow the order as it is now. `true` when it
/// had moved on.
pub async fn catch_up(
    orders: &dyn OrderRepo,
    jobs: &dyn JobRepo,
    engine: &Engine,
    seen: &Order,
) -> Result<bool> {
    let now = orders.get(seen.id).await?;
    if now.version == seen.version {
        return Ok(false);
    }
    follow(jobs, engine, &now).await?;
    Ok(true)
}

/// The production run the order is in: how many times it was reprinted.
pub fn current_run(engine: &Engine, order: &Order) -> u32 {
    u32::try_from(engine.reprint_count(order)).unwrap_or(u32::MAX)
}

/// Whether the order's last transition moved it into the queue.
fn entered_queue(order: &Order) -> bool {
    order.status.as_str() == QUEUE_STATE
        && order.history.last().is_some_and(|h| {
            h.to.as_str() == QUEUE_STATE
                && h.from.as_ref().is_none_or(|f| f.as_str() != QUEUE_STATE)
        })
}

/// Whether the order has entered the queue at least once in its current
/// run (so its jobs of that run should exist).
fn queued_in_current_run(engine: &Engine, order: &Order) -> bool {
    // Jobs of run n exist from the transition into `queued` that started
    // run n: the first one for run 0, the n-th reprint (which leads into
    // `queued` itself) otherwise.
    current_run(engine, order) > 0 || order.history.iter().any(|h| h.to.as_str() == QUEUE_STATE)
}

/// Every job of `order_id` (optionally of one run), in queue order.
pub async fn jobs_of(jobs: &dyn JobRepo, order_id: OrderId, run: Option<u32>) -> Result<Vec<Job>> {
    let filter = JobFilter {
        order_id: Some(order_id),
        status: None,
    };
    let mut out = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let p = jobs.list(&filter, &page).await?;
        out.extend(
            p.items
                .into_iter()
                .filter(|j| run.is_none_or(|r| j.run == r)),
        );
        match p.next {
            Some(c) => page = PageRequest::first(PageRequest::MAX_LIMIT).after(Some(c)),
            None => return Ok(out),
        }
    }
}

/// What [`sync`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    pub run: u32,
    pub created: usize,
    pub reprioritised: usize,
}

/// Creates the missing jobs of the order's current run (if it has entered
/// the queue in that run), gives its waiting jobs the order's priority
/// and makes them follow the order's state ([`follow`]). Idempotent.
/// `Ok(None)`: the order has not reached production.
pub async fn sync(
    jobs: &dyn JobRepo,
    engine: &Engine,
    order: &Order,
) -> Result<Option<SyncOutcome>> {
    if !queued_in_current_run(engine, order) {
        return Ok(None);
    }
    let run = current_run(engine, order);
    let created = jobs.create(new_jobs(engine, order, run)).await?;
    let reprioritised = jobs_of(jobs, order.id, None)
        .await?
        .iter()
        .filter(|j| j.status.is_waiting() && j.priority != order.priority)
        .count();
    follow(jobs, engine, order).await?;
    Ok(Some(SyncOutcome {
        run,
        created,
        reprioritised,
    }))
}

/// The built-in QC checklists, parsed once. `None` only if the shipped
/// data were invalid (core's tests check it): QC then fails closed (no
/// result can be recorded, `pass_qc` never holds).
pub fn checklists() -> Option<&'static QcChecklists> {
    static LISTS: OnceLock<Option<QcChecklists>> = OnceLock::new();
    LISTS
        .get_or_init(|| {
            QcChecklists::builtin()
                .map_err(|e| tracing::error!(error = %e, "built-in QC checklists are invalid"))
                .ok()
        })
        .as_ref()
}

/// The verdict of one job: its recorded result judged against its
/// checklist, or "not inspected".
pub fn job_verdict(job: &Job) -> QcOutcome {
    let Some(result) = &job.qc else {
        return QcOutcome::Incomplete {
            missing: vec!["not inspected".to_owned()],
        };
    };
    match checklists()
        .and_then(|c| c.for_kind(&result.product_kind))
        .map(|c| c.evaluate(result))
    {
        Some(Ok(o)) => o,
        // Results are validated when recorded; one that no longer fits
        // its checklist blocks `pass_qc` (fail closed) without forcing a
        // reprint.
        _ => QcOutcome::Incomplete {
            missing: vec!["result does not match the checklist".to_owned()],
        },
    }
}

/// The order's QC verdict (`GuardContext.qc`, and the verdict shown after
/// a QC entry): [`QcOutcome::combine`] of the verdicts of its jobs in the
/// current run; `None` when the run has no jobs. Callers that fire a
/// transition ask only when its guards consult QC (`Engine::consulted_guards`).
pub async fn qc_outcome(app: &App, order: &Order) -> Result<Option<QcOutcome>> {
    let engine = app.order_service.engine();
    let jobs = jobs_of(
        app.jobs.as_ref(),
        order.id,
        Some(current_run(engine, order)),
    )
    .await?;
    if jobs.is_empty() {
        return Ok(None);
    }
    Ok(Some(QcOutcome::combine(
        jobs.iter().map(|j| (j.line, job_verdict(j))),
    )))
}

/// The QC product kind of a product: its category (a shop names a
/// category `booklet` or `large-format` to get those checklists; anything
/// else gets `default`). A deleted product is `default`.
pub async fn product_kind(app: &App, job: &Job) -> Result<String> {
    match app.products.get(&job.product_id).await {
        Ok(p) => Ok(p.category.as_str().to_owned()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            Ok(puratan_core::workflow::FALLBACK_KIND.to_owned())
        }
        Err(e) => Err(e),
    }
}

/// The [`OrderRepo`] decorator described in the module docs.
pub struct JobsOnQueue {
    hooks: Arc<Hooks>,
}

/// What the hooks need, shared with their tasks.
struct Hooks {
    inner: Arc<dyn OrderRepo>,
    jobs: Arc<dyn JobRepo>,
    engine: Engine,
}

impl std::fmt::Debug for JobsOnQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobsOnQueue").finish_non_exhaustive()
    }
}

impl JobsOnQueue {
    pub fn wrap(
        inner: Arc<dyn OrderRepo>,
        jobs: Arc<dyn JobRepo>,
        engine: Engine,
    ) -> Arc<dyn OrderRepo> {
        Arc::new(Self {
            hooks: Arc::new(Hooks {
                inner,
                jobs,
                engine,
            }),
        })
    }

    /// Runs the hook for the committed write `order` to completion (see
    /// [`to_completion`]); the hooks log their own failures. A transition
    /// that neither enters the queue nor changes what waiting jobs should
    /// be (e.g. every checkout's `draft → submitted`) has nothing to do,
    /// so no task is spawned for it.
    async fn after_write(&self, order: &Order, transition: bool) {
        if transition && !entered_queue(order) && !changes_waiting_status(&self.hooks.engine, order)
        {
            return;
        }
        let hooks = self.hooks.clone();
        let order = order.clone();
        to_completion(
            order.id,
            "the job hook of an order write failed",
            async move {
                if transition {
                    hooks.after_transition(&order).await;
                } else {
                    hooks.after_update(&order).await;
                }
                Ok(())
            },
        )
        .await;
    }
}

impl Hooks {
    async fn after_transition(&self, order: &Order) {
        let queued = entered_queue(order);
        let run = current_run(&self.engine, order);
        let outcome = async {
            let created = if queued {
                self.jobs.create(new_jobs(&self.engine, order, run)).await?
            } else {
                0
            };
            if changes_waiting_status(&self.engine, order) {
                follow(self.jobs.as_ref(), &self.engine, order).await?;
            }
            if created > 0 {
                catch_up(self.inner.as_ref(), self.jobs.as_ref(), &self.engine, order).await?;
            }
            Ok::<_, puratan_core::Error>(())
        };
        if let Err(e) = outcome.await {
            tracing::error!(
                order_id = %order.id, status = %order.status, run, error = %e,
                "order changed state but its jobs were not created or did not follow it; \
                 {REPAIR_HINT}"
            );
        }
    }

    async fn after_update(&self, order: &Order) {
        if let Err(e) = follow(self.jobs.as_ref(), &self.engine, order).await {
            tracing::error!(
                order_id = %order.id, error = %e,
                "order re-prioritised but its waiting jobs were not; {REPAIR_HINT}"
            );
        }
    }
}

#[async_trait]
impl OrderRepo for JobsOnQueue {
    async fn insert(&self, order: Order) -> Result<Order> {
        self.hooks.inner.insert(order).await
    }
    async fn get(&self, id: OrderId) -> Result<Order> {
        self.hooks.inner.get(id).await
    }
    async fn update(&self, order: Order) -> Result<Order> {
        let o = self.hooks.inner.update(order).await?;
        self.after_write(&o, false).await;
        Ok(o)
    }
    async fn insert_with_outbox(&self, order: Order, events: Vec<OutboxEntry>) -> Result<Order> {
        let o = self.hooks.inner.insert_with_outbox(order, events).await?;
        self.after_write(&o, true).await;
        Ok(o)
    }
    async fn insert_checkout(
        &self,
        order: Order,
        events: Vec<OutboxEntry>,
        reservations: puratan_core::ports::Reservations,
    ) -> Result<Order> {
        let o = self
            .hooks
            .inner
            .insert_checkout(order, events, reservations)
            .await?;
        self.after_write(&o, true).await;
        Ok(o)
    }
    async fn coupon_redemptions(&self, code: &str) -> Result<u64> {
        self.hooks.inner.coupon_redemptions(code).await
    }
    async fn update_with_outbox(&self, order: Order, events: Vec<OutboxEntry>) -> Result<Order> {
        // A write carrying `order.updated` changed no status (a
        // re-prioritisation, a recorded fact): it gets the plain-update
        // hook, not the transition one.
        let plain = events
            .iter()
            .any(|e| e.kind == puratan_core::orders::events::ORDER_UPDATED);
        let o = self.hooks.inner.update_with_outbox(order, events).await?;
        self.after_write(&o, !plain).await;
        Ok(o)
    }
    async fn get_by_idempotency_key(&self, customer: UserId, key: &str) -> Result<Order> {
        self.hooks.inner.get_by_idempotency_key(customer, key).await
    }
    async fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        self.hooks.inner.outbox_pending(limit).await
    }
    async fn outbox_mark_sent(&self, ids: &[String]) -> Result<()> {
        self.hooks.inner.outbox_mark_sent(ids).await
    }
    async fn list_by_customer(&self, customer: UserId, page: &PageRequest) -> Result<Page<Order>> {
        self.hooks.inner.list_by_customer(customer, page).await
    }
    async fn list_queue(&self, filter: &QueueFilter, page: &PageRequest) -> Result<Page<Order>> {
        self.hooks.inner.list_queue(filter, page).await
    }
    async fn search(&self, search: &OrderSearch, page: &PageRequest) -> Result<Page<Order>> {
        self.hooks.inner.search(search, page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use puratan_core::domain::{OrderLine, Priority, ProductId, StatusChange};
    use puratan_core::memory::{MemoryJobRepo, MemoryOrderRepo};

    fn st(s: &str) -> OrderStatus {
        OrderStatus::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn order(status: &str, history: &[(&str, &str)]) -> Order {
        let mut o = puratan_testkit::fixtures::order(UserId::new(), status, 50, Utc::now());
        let line = OrderLine {
            product_id: ProductId::parse("business-card").unwrap_or_else(|e| panic!("{e}")),
            quantity: 500,
            description: "cards".into(),
            amount: o.total,
            options: serde_json::Value::Null,
            quote_id: None,
            quote_token: None,
            file_ids: vec![],
        };
        o.lines = vec![line.clone(), line];
        o.history = history
            .iter()
            .map(|(f, t)| StatusChange {
                from: Some(st(f)),
                to: st(t),
                actor: None,
                at: Utc::now(),
                reason: None,
            })
            .collect();
        o
    }

    #[tokio::test]
    async fn entering_the_queue_creates_the_runs_jobs_once() {
        let jobs = Arc::new(MemoryJobRepo::new());
        let engine = Engine::builtin().unwrap_or_else(|e| panic!("{e}"));
        let orders = JobsOnQueue::wrap(Arc::new(MemoryOrderRepo::new()), jobs.clone(), engine);
        let mut o = orders
            .insert(order("approved", &[("submitted", "approved")]))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let none = jobs_of(jobs.as_ref(), o.id, None).await.unwrap_or_default();
        assert!(none.is_empty(), "not queued yet");
        o.status = st("queued");
        o.history
            .push(order("queued", &[("approved", "queued")]).history.remove(0));
        let o = orders
            .update_with_outbox(o, vec![])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let run0 = jobs_of(jobs.as_ref(), o.id, None).await.unwrap_or_default();
        assert_eq!(run0.iter().map(|j| j.run).collect::<Vec<_>>(), [0, 0]);
        // Through QC and a reprint: run 1.
        let mut o2 = o.clone();
        for (f, t) in [
            ("queued", "printing"),
            ("printing", "finishing"),
            ("finishing", "quality_check"),
            ("quality_check", "queued"),
        ] {
            o2.status = st(t);
            o2.history.push(order(t, &[(f, t)]).history.remove(0));
            o2 = orders
                .update_with_outbox(o2, vec![])
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let all = jobs_of(jobs.as_ref(), o.id, None).await.unwrap_or_default();
        assert_eq!(all.len(), 4);
        assert_eq!(
            jobs_of(jobs.as_ref(), o.id, Some(1))
                .await
                .unwrap_or_default()
                .len(),
            2
        );
        // Re-prioritising the order moves its queued jobs.
        o2.priority = Priority::RUSH;
        orders.update(o2).await.unwrap_or_else(|e| panic!("{e}"));
        for j in jobs_of(jobs.as_ref(), o.id, None).await.unwrap_or_default() {
            assert_eq!(j.priority, Priority::RUSH);
        }
    }

    /// The hold hook ran before the queue-entry hook created the jobs
    /// (two quick transitions): the creator looks at the order again and
    /// parks them.
    #[tokio::test]
    async fn jobs_created_after_a_newer_hold_are_parked() {
        let jobs = Arc::new(MemoryJobRepo::new());
        let inner: Arc<dyn OrderRepo> = Arc::new(MemoryOrderRepo::new());
        let engine = Engine::builtin().unwrap_or_else(|e| panic!("{e}"));
        let hooks = Hooks {
            inner: inner.clone(),
            jobs: jobs.clone(),
            engine,
        };
        let ok = |r: Result<Order>| r.unwrap_or_else(|e| panic!("{e}"));
        let o = ok(inner
            .insert(order("approved", &[("submitted", "approved")]))
            .await);
        let mut queued = o.clone();
        queued.status = st("queued");
        queued.history = order("queued", &[("approved", "queued")]).history;
        let queued = ok(inner.update(queued).await);
        let mut held = queued.clone();
        held.status = st("on_hold");
        held.history
            .push(order("on_hold", &[("queued", "on_hold")]).history.remove(0));
        let held = ok(inner.update(held).await);
        // The hold's hook first: nothing to park yet.
        hooks.after_transition(&held).await;
        // Then the late queue-entry hook.
        hooks.after_transition(&queued).await;
        let all = jobs_of(jobs.as_ref(), o.id, None).await.unwrap_or_default();
        assert_eq!(all.len(), 2);
        for j in all {
            assert_eq!(
                (j.status, j.order_version),
                (JobStatus::Parked, held.version)
            );
        }
        // A late duplicate of the queue-entry hook changes nothing.
        hooks.after_transition(&queued).await;
        assert!(
            jobs_of(jobs.as_ref(), o.id, None)
                .await
                .unwrap_or_default()
                .iter()
                .all(|j| j.status == JobStatus::Parked)
        );
    }

    /// Jobs are born in the status their order gives them: a held or
    /// cancelled order's jobs are never queued, not even between their
    /// creation and the follow (here: the repair on a cancelled order).
    #[tokio::test]
    async fn new_jobs_take_their_orders_waiting_status() {
        let engine = Engine::builtin().unwrap_or_else(|e| panic!("{e}"));
        for (state, want) in [
            ("queued", JobStatus::Queued),
            ("on_hold", JobStatus::Parked),
            ("cancelled", JobStatus::Cancelled),
        ] {
            let o = order(state, &[("approved", "queued"), ("queued", state)]);
            let made = new_jobs(&engine, &o, 0);
            assert_eq!(made.len(), 2);
            assert!(made.iter().all(|j| j.status == want), "{state}");
        }
        let jobs = MemoryJobRepo::new();
        let cancelled = order(
            "cancelled",
            &[("approved", "queued"), ("queued", "cancelled")],
        );
        let outcome = sync(&jobs, &engine, &cancelled)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outcome.map(|o| o.created), Some(2));
        let all = jobs_of(&jobs, cancelled.id, None).await.unwrap_or_default();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|j| j.status == JobStatus::Cancelled));
    }

    #[test]
    fn waiting_jobs_follow_holds_and_cancellations() {
        let engine = Engine::builtin().unwrap_or_else(|e| panic!("{e}"));
        for (state, want) in [
            ("queued", JobStatus::Queued),
            ("printing", JobStatus::Queued),
            ("on_hold", JobStatus::Parked),
            ("cancelled", JobStatus::Cancelled),
            ("refunded", JobStatus::Cancelled),
        ] {
            assert_eq!(waiting_status(&engine, &st(state)), want, "{state}");
        }
        let follows =
            |from: &str, to: &str| changes_waiting_status(&engine, &order(to, &[(from, to)]));
        assert!(follows("queued", "on_hold"));
        assert!(follows("on_hold", "printing"), "release");
        assert!(follows("on_hold", "cancelled"));
        assert!(follows("queued", "cancelled"));
        assert!(!follows("queued", "printing"));
        assert!(!follows("cancelled", "refunded"));
        assert!(
            !follows("approved", "queued"),
            "queue entry creates instead"
        );
    }

    #[test]
    fn queue_entry_and_runs_from_history() {
        let engine = Engine::builtin().unwrap_or_else(|e| panic!("{e}"));
        assert!(entered_queue(&order("queued", &[("approved", "queued")])));
        assert!(!entered_queue(&order(
            "printing",
            &[("queued", "printing")]
        )));
        assert!(!entered_queue(&order("approved", &[])));
        let reprinted = order(
            "queued",
            &[("approved", "queued"), ("quality_check", "queued")],
        );
        assert_eq!(current_run(&engine, &reprinted), 1);
        assert!(queued_in_current_run(&engine, &reprinted));
        assert!(!queued_in_current_run(
            &engine,
            &order("approved", &[("submitted", "approved")])
        ));
        let uninspected = new_jobs(&engine, &reprinted, 1).remove(0);
        assert!(matches!(
            job_verdict(&uninspected),
            QcOutcome::Incomplete { .. }
        ));
        assert!(
            checklists().and_then(|c| c.for_kind("anything")).is_some(),
            "default checklist"
        );
    }
}
