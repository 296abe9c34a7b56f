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
//! call. After a plain `update` (re-prioritising, `POST
//! /api/v1/staff/orders/{id}/priority`) the order's *queued* jobs get the
//! new priority.
//!
//! # The crash window, and the repair
//!
//! The order write and the job creation are two writes, not one
//! transaction: if the process dies (or the job store fails) between
//! them, the order is `queued` without (all of) its jobs. Job ids are
//! derived (`<order>.<line>.<run>`) and `JobRepo::create` skips ids that
//! exist, so creating them again is always safe. The repair is explicit:
//! `POST /api/v1/staff/jobs/sync/{order_id}` (see [`sync`]) creates the
//! missing jobs of the current run and re-applies the order's priority. A
//! failure after the order write is logged at `error` level with the
//! order id and that hint; the transition itself still succeeds (it is
//! committed; reporting it as failed would make the client retry a
//! transition that already happened). Not done (yet): an automatic
//! sweeper that finds queued orders without jobs.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use puratan_core::domain::{Job, Order, OrderId, OrderStatus, OutboxEntry, UserId};
use puratan_core::ports::{JobFilter, JobRepo, OrderRepo, Page, PageRequest};
use puratan_core::workflow::{Engine, Guard, QcChecklists, QcOutcome};
use puratan_core::{ErrorKind, Result};

use crate::state::App;

/// The workflow state whose entry creates jobs.
pub const QUEUE_STATE: &str = "queued";

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
/// the queue in that run) and gives its queued jobs the order's priority.
/// Idempotent. `Ok(None)`: the order has not reached production.
pub async fn sync(
    jobs: &dyn JobRepo,
    engine: &Engine,
    order: &Order,
) -> Result<Option<SyncOutcome>> {
    if !queued_in_current_run(engine, order) {
        return Ok(None);
    }
    let run = current_run(engine, order);
    let created = jobs.create(Job::for_order(order, run)).await?;
    let reprioritised = jobs.set_priority(order.id, order.priority).await?;
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

/// The order's QC verdict for the workflow guards (`GuardContext.qc`):
/// [`QcOutcome::combine`] of the verdicts of its jobs in the current run.
/// `None` when no transition out of the order's state has a QC guard (no
/// lookup needed) or the run has no jobs.
pub async fn qc_outcome(app: &App, order: &Order) -> Result<Option<QcOutcome>> {
    let engine = app.order_service.engine();
    let guarded = engine.workflow().outgoing(&order.status).any(|t| {
        t.guards
            .iter()
            .any(|g| matches!(g, Guard::QcChecklistComplete | Guard::QcFailed))
    });
    if !guarded {
        return Ok(None);
    }
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
            inner,
            jobs,
            engine,
        })
    }

    async fn after_transition(&self, order: &Order) {
        if !entered_queue(order) {
            return;
        }
        let run = current_run(&self.engine, order);
        if let Err(e) = self.jobs.create(Job::for_order(order, run)).await {
            tracing::error!(
                order_id = %order.id, run, error = %e,
                "order entered the queue but its jobs were not created; \
                 repair with POST /api/v1/staff/jobs/sync/{{order_id}}"
            );
        }
    }

    async fn after_update(&self, order: &Order) {
        if let Err(e) = self.jobs.set_priority(order.id, order.priority).await {
            tracing::error!(
                order_id = %order.id, error = %e,
                "order re-prioritised but its queued jobs were not; \
                 repair with POST /api/v1/staff/jobs/sync/{{order_id}}"
            );
        }
    }
}

#[async_trait]
impl OrderRepo for JobsOnQueue {
    async fn insert(&self, order: Order) -> Result<Order> {
        self.inner.insert(order).await
    }
    async fn get(&self, id: OrderId) -> Result<Order> {
        self.inner.get(id).await
    }
    async fn update(&self, order: Order) -> Result<Order> {
        let o = self.inner.update(order).await?;
        self.after_update(&o).await;
        Ok(o)
    }
    async fn insert_with_outbox(&self, order: Order, events: Vec<OutboxEntry>) -> Result<Order> {
        let o = self.inner.insert_with_outbox(order, events).await?;
        self.after_transition(&o).await;
        Ok(o)
    }
    async fn update_with_outbox(&self, order: Order, events: Vec<OutboxEntry>) -> Result<Order> {
        let o = self.inner.update_with_outbox(order, events).await?;
        self.after_transition(&o).await;
        Ok(o)
    }
    async fn get_by_idempotency_key(&self, customer: UserId, key: &str) -> Result<Order> {
        self.inner.get_by_idempotency_key(customer, key).await
    }
    async fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        self.inner.outbox_pending(limit).await
    }
    async fn outbox_mark_sent(&self, ids: &[String]) -> Result<()> {
        self.inner.outbox_mark_sent(ids).await
    }
    async fn list_by_customer(&self, customer: UserId, page: &PageRequest) -> Result<Page<Order>> {
        self.inner.list_by_customer(customer, page).await
    }
    async fn list_by_status(
        &self,
        status: &OrderStatus,
        page: &PageRequest,
    ) -> Result<Page<Order>> {
        self.inner.list_by_status(status, page).await
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
        let uninspected = Job::for_order(&reprinted, 1).remove(0);
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
