//! Conformance suite for [`JobRepo`].
//!
//! `claim_next` looks at the whole queue, so every test needs a store of
//! its own (the factories give one: a fresh map, SQLite file or MongoDB
//! database per test).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};
use puratan_core::domain::{
    Job, JobId, JobStatus, OrderId, OrderLine, Priority, ProductId, UserId,
};
use puratan_core::ports::{JobFilter, JobRepo, PageRequest};
use puratan_core::{ConflictReason, Error, ErrorKind};

use crate::fixtures::{day, order};

type Repo = Arc<dyn JobRepo>;

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("fixture is invalid: {e:?}"))
}

/// Now, at millisecond precision (what every backend keeps exactly).
fn now() -> DateTime<Utc> {
    ok(Utc::now().duration_trunc(Duration::milliseconds(1)))
}

/// The jobs of a new order with `lines` lines, run `run`.
fn jobs_of(lines: usize, priority: u8, due: DateTime<Utc>, run: u32) -> Vec<Job> {
    let mut o = order(UserId::new(), "queued", priority, due);
    o.lines = (0..lines)
        .map(|i| OrderLine {
            product_id: ok(ProductId::parse("business-card")),
            quantity: 100 * (i as u32 + 1),
            description: format!("Line {i}"),
            amount: o.total,
            options: serde_json::json!({"paper": "silk-350"}),
            quote_id: None,
            quote_token: None,
            file_ids: vec![],
        })
        .collect();
    Job::for_order(&o, run, JobStatus::Queued)
}

fn one_job(priority: u8, due: DateTime<Utc>, submitted: DateTime<Utc>) -> Job {
    let mut j = jobs_of(1, priority, due, 0).remove(0);
    j.submitted_at = submitted;
    j
}

fn is_stale(e: &Error) -> bool {
    matches!(
        e,
        Error::Conflict {
            reason: ConflictReason::StaleVersion,
            ..
        }
    )
}

async fn all(repo: &Repo, filter: &JobFilter, page_size: u32) -> Vec<Job> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(page_size);
    loop {
        let p = repo.list(filter, &page).await.expect("list");
        assert!(p.items.len() <= page_size as usize);
        out.extend(p.items);
        match p.next {
            Some(c) => page = PageRequest::first(page_size).after(Some(c)),
            None => return out,
        }
    }
}

pub async fn job_create_is_idempotent(repo: Repo) {
    let jobs = jobs_of(3, 50, day(3), 0);
    assert_eq!(repo.create(jobs.clone()).await.expect("create"), 3);
    for j in &jobs {
        let stored = repo.get(&j.id).await.expect("get");
        assert_eq!(stored.version, 1);
        assert_eq!(
            Job {
                version: 0,
                ..stored
            },
            *j,
            "stored as given"
        );
    }
    // Again, with a changed copy: nothing is overwritten.
    let mut changed = jobs.clone();
    changed[0].description = "changed".into();
    changed[0].status = JobStatus::Done;
    assert_eq!(repo.create(changed).await.expect("create again"), 0);
    let first = repo.get(&jobs[0].id).await.expect("get");
    assert_eq!(
        (first.description.as_str(), first.status, first.version),
        ("Line 0", JobStatus::Queued, 1)
    );
    // A claimed job stays claimed when its creation is re-run.
    let claimed = repo
        .claim_next(UserId::new(), now())
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(repo.create(jobs.clone()).await.expect("re-run"), 0);
    assert_eq!(
        repo.get(&claimed.id).await.expect("get").status,
        JobStatus::Claimed
    );
    // The next run of the same order is new jobs; a mixed batch stores
    // only the new ones.
    let o = jobs[0].order_id;
    let mut next_run = jobs.clone();
    for j in &mut next_run {
        j.run = 1;
        j.id = JobId::new(o, j.line, 1);
    }
    let mut mixed = vec![jobs[1].clone()];
    mixed.extend(next_run.clone());
    assert_eq!(repo.create(mixed).await.expect("mixed"), 3);
    let of_order = all(
        &repo,
        &JobFilter {
            order_id: Some(o),
            ..Default::default()
        },
        10,
    )
    .await;
    assert_eq!(of_order.len(), 6);
    assert_eq!(repo.create(vec![]).await.expect("empty"), 0);
    // Missing ids, and ids that do not match the job.
    assert_eq!(
        repo.get(&JobId::new(OrderId::new(), 0, 0))
            .await
            .expect_err("missing")
            .kind(),
        ErrorKind::NotFound
    );
    let mut forged = jobs_of(1, 50, day(3), 0).remove(0);
    forged.id = JobId::new(forged.order_id, 7, 0);
    assert_eq!(
        repo.create(vec![forged.clone()])
            .await
            .expect_err("id not the job's")
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        repo.get(&forged.id).await.expect_err("not stored").kind(),
        ErrorKind::NotFound
    );
}

pub async fn job_claim_follows_queue_order(repo: Repo) {
    let t = |h: i64| day(1) + Duration::hours(h);
    // (priority, due, submitted)
    let specs = [
        (50, t(48), t(0)),
        (80, t(72), t(5)),
        (50, t(24), t(3)),
        (30, t(1), t(0)),
        (80, t(72), t(2)),
        (50, t(24), t(1)),
        (80, t(12), t(9)),
    ];
    let mut jobs: Vec<Job> = specs.iter().map(|&(p, d, s)| one_job(p, d, s)).collect();
    // Two jobs equal in everything but id: the id decides.
    let mut twins = jobs_of(2, 50, t(24), 0);
    for j in &mut twins {
        j.submitted_at = t(1);
    }
    jobs.extend(twins);
    repo.create(jobs.clone()).await.expect("create");

    let mut expected = jobs.clone();
    expected.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.due_at.cmp(&b.due_at))
            .then(a.submitted_at.cmp(&b.submitted_at))
            .then(a.id.cmp(&b.id))
    });
    let expected: Vec<JobId> = expected.into_iter().map(|j| j.id).collect();

    // Listing shows the same order the claims take.
    let listed: Vec<JobId> = all(&repo, &JobFilter::default(), 4)
        .await
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(
        listed, expected,
        "priority desc, due asc, submitted asc, id"
    );

    let op = UserId::new();
    let at = now();
    let mut claimed = Vec::new();
    while let Some(j) = repo.claim_next(op, at).await.expect("claim") {
        assert_eq!(j.status, JobStatus::Claimed);
        assert_eq!(
            (j.claimed_by, j.claimed_at, j.version),
            (Some(op), Some(at), 2)
        );
        assert_eq!(repo.get(&j.id).await.expect("get"), j, "returned as stored");
        claimed.push(j.id);
        assert!(claimed.len() <= expected.len(), "claimed a job twice");
    }
    assert_eq!(claimed, expected, "claims take the queue in order");
    assert!(
        repo.claim_next(op, at).await.expect("claim").is_none(),
        "nothing queued is left"
    );
}

pub async fn job_claim_on_empty_queue_is_none(repo: Repo) {
    assert!(
        repo.claim_next(UserId::new(), now())
            .await
            .expect("claim")
            .is_none()
    );
    // Only claimed or done jobs: still nothing to claim.
    let mut jobs = jobs_of(2, 50, day(2), 0);
    jobs[1].status = JobStatus::Done;
    repo.create(jobs).await.expect("create");
    assert!(
        repo.claim_next(UserId::new(), now())
            .await
            .expect("claim")
            .is_some()
    );
    assert!(
        repo.claim_next(UserId::new(), now())
            .await
            .expect("claim")
            .is_none()
    );
}

pub async fn job_update_is_version_checked(repo: Repo) {
    let jobs = jobs_of(1, 50, day(2), 0);
    repo.create(jobs.clone()).await.expect("create");
    let read = repo.get(&jobs[0].id).await.expect("get");
    let mut done = read.clone();
    done.status = JobStatus::Done;
    done.done_at = Some(now());
    let done = repo.update(done).await.expect("update");
    assert_eq!(done.version, 2);
    assert_eq!(repo.get(&done.id).await.expect("get"), done);
    // A write based on the old read loses.
    let mut stale = read.clone();
    stale.description = "late".into();
    let err = repo.update(stale).await.expect_err("stale");
    assert!(is_stale(&err), "{err:?}");
    assert_eq!(repo.get(&done.id).await.expect("get"), done, "unchanged");
    // claim_next bumps the version too, so a read before it is stale.
    let more = jobs_of(1, 50, day(2), 0);
    repo.create(more.clone()).await.expect("create");
    let before = repo.get(&more[0].id).await.expect("get");
    repo.claim_next(UserId::new(), now())
        .await
        .expect("claim")
        .expect("job");
    let err = repo.update(before).await.expect_err("stale after claim");
    assert!(is_stale(&err), "{err:?}");
    // Missing.
    let ghost = jobs_of(1, 50, day(2), 0).remove(0);
    assert_eq!(
        repo.update(Job {
            version: 1,
            ..ghost
        })
        .await
        .expect_err("missing")
        .kind(),
        ErrorKind::NotFound
    );
}

pub async fn job_list_pages_and_filters(repo: Repo) {
    let a = jobs_of(4, 50, day(5), 0);
    let b = jobs_of(3, 80, day(9), 0);
    let c = jobs_of(2, 30, day(1), 0);
    for batch in [&a, &b, &c] {
        repo.create(batch.clone()).await.expect("create");
    }
    // Claim two (b's first lines, the highest priority), finish one.
    let op = UserId::new();
    let first = repo
        .claim_next(op, now())
        .await
        .expect("claim")
        .expect("job");
    let second = repo
        .claim_next(op, now())
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(
        (first.id.clone(), second.id.clone()),
        (b[0].id.clone(), b[1].id.clone())
    );
    let mut done = first.clone();
    done.status = JobStatus::Done;
    repo.update(done).await.expect("done");

    let everything = all(&repo, &JobFilter::default(), 3).await;
    assert_eq!(everything.len(), 9);
    let ids: HashSet<_> = everything.iter().map(|j| j.id.clone()).collect();
    assert_eq!(ids.len(), 9, "no job twice across pages");

    let status = |s| JobFilter {
        status: Some(s),
        ..Default::default()
    };
    let queued: Vec<JobId> = all(&repo, &status(JobStatus::Queued), 2)
        .await
        .into_iter()
        .map(|j| j.id)
        .collect();
    let mut expected: Vec<JobId> = vec![b[2].id.clone()];
    expected.extend(a.iter().map(|j| j.id.clone()));
    expected.extend(c.iter().map(|j| j.id.clone()));
    assert_eq!(queued, expected, "queued jobs in queue order, across pages");
    let claimed = all(&repo, &status(JobStatus::Claimed), 2).await;
    assert_eq!(
        claimed.iter().map(|j| &j.id).collect::<Vec<_>>(),
        [&second.id]
    );
    let done = all(&repo, &status(JobStatus::Done), 2).await;
    assert_eq!(done.iter().map(|j| &j.id).collect::<Vec<_>>(), [&first.id]);

    let of_a = all(
        &repo,
        &JobFilter {
            order_id: Some(a[0].order_id),
            ..Default::default()
        },
        3,
    )
    .await;
    assert_eq!(
        of_a.iter().map(|j| &j.id).collect::<Vec<_>>(),
        a.iter().map(|j| &j.id).collect::<Vec<_>>()
    );
    let b_queued = all(
        &repo,
        &JobFilter {
            order_id: Some(b[0].order_id),
            status: Some(JobStatus::Queued),
        },
        3,
    )
    .await;
    assert_eq!(
        b_queued.iter().map(|j| &j.id).collect::<Vec<_>>(),
        [&b[2].id]
    );
    let none = repo
        .list(
            &JobFilter {
                order_id: Some(OrderId::new()),
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .expect("list");
    assert!(none.items.is_empty() && none.next.is_none());
    // A hostile cursor is a typed error, not a panic or a scan.
    let bad = PageRequest::first(3).after(Some(puratan_core::ports::Cursor::from_client(
        "eyIkbmUiOm51bGx9",
    )));
    assert_eq!(
        repo.list(&JobFilter::default(), &bad)
            .await
            .expect_err("bad cursor")
            .kind(),
        ErrorKind::Invalid
    );
}

/// `follow_order` gives the order's waiting jobs its priority (claimed
/// jobs keep theirs), fenced by the order version like the status: a
/// re-prioritisation of an older order version that lands after a newer
/// one changes nothing.
pub async fn job_follow_order_sets_priority_fenced(repo: Repo) {
    let low = jobs_of(3, 30, day(1), 0);
    let high = jobs_of(2, 80, day(1), 0);
    repo.create(low.clone()).await.expect("create");
    repo.create(high.clone()).await.expect("create");
    // Three claims take `high`'s two jobs, then `low`'s first.
    let op = UserId::new();
    for _ in 0..3 {
        repo.claim_next(op, now())
            .await
            .expect("claim")
            .expect("job");
    }
    let claimed_low = repo.get(&low[0].id).await.expect("get");
    assert_eq!(claimed_low.status, JobStatus::Claimed);
    let other = jobs_of(2, 60, day(1), 0);
    repo.create(other.clone()).await.expect("create");

    // Staff set priority 10 (order version 5), then 90 (version 6); the
    // hook of version 6 lands first.
    let rush = ok(Priority::new(90));
    let order = low[0].order_id;
    assert_eq!(
        repo.follow_order(order, 6, JobStatus::Queued, rush)
            .await
            .expect("set"),
        2,
        "only waiting jobs change"
    );
    assert_eq!(
        repo.follow_order(order, 5, JobStatus::Queued, ok(Priority::new(10)))
            .await
            .expect("older"),
        0,
        "an older priority write after a newer one changes nothing"
    );
    let after = repo.get(&low[0].id).await.expect("get");
    assert_eq!(after, claimed_low, "the claimed job keeps its priority");
    for j in &low[1..] {
        let stored = repo.get(&j.id).await.expect("get");
        assert_eq!(
            (stored.priority, stored.version, stored.order_version),
            (rush, 2, 6)
        );
    }
    // The re-prioritised jobs now come before `other` (60).
    let next = repo
        .claim_next(op, now())
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(next.id, low[1].id);
    assert_eq!(
        repo.follow_order(OrderId::new(), 7, JobStatus::Queued, rush)
            .await
            .expect("unknown order"),
        0
    );
}

/// The acceptance test: 20 operators claim concurrently from a
/// queue of 10 jobs; each job is claimed exactly once and 10 claimers get
/// nothing.
pub async fn job_concurrent_claims_take_each_job_once(repo: Repo) {
    const JOBS: usize = 10;
    const OPERATORS: usize = 20;
    let mut jobs = Vec::new();
    for i in 0..JOBS / 2 {
        // Equal priorities and dates for most, so claimers race for the
        // same "first" job.
        jobs.extend(jobs_of(2, if i == 0 { 60 } else { 50 }, day(2), 0));
    }
    repo.create(jobs.clone()).await.expect("create");
    let start = Arc::new(tokio::sync::Barrier::new(OPERATORS));
    let tasks: Vec<_> = (0..OPERATORS)
        .map(|_| {
            let repo = repo.clone();
            let start = start.clone();
            let op = UserId::new();
            tokio::spawn(async move {
                start.wait().await;
                (op, repo.claim_next(op, now()).await)
            })
        })
        .collect();
    let mut got = Vec::new();
    let mut nones = 0;
    for t in tasks {
        match t.await.expect("join") {
            (op, Ok(Some(j))) => {
                assert_eq!(j.claimed_by, Some(op));
                got.push((op, j.id));
            }
            (_, Ok(None)) => nones += 1,
            (_, Err(e)) => panic!("claim failed: {e:?}"),
        }
    }
    let distinct: HashSet<_> = got.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(got.len(), JOBS, "every job claimed");
    assert_eq!(distinct.len(), JOBS, "no job claimed twice");
    assert_eq!(nones, OPERATORS - JOBS, "the others got nothing");
    // The store agrees: each job claimed once, by whoever was told so.
    for (op, id) in &got {
        let stored = repo.get(id).await.expect("get");
        assert_eq!(
            (stored.status, stored.claimed_by, stored.version),
            (JobStatus::Claimed, Some(*op), 2),
            "{id}"
        );
    }
    let queued = all(
        &repo,
        &JobFilter {
            status: Some(JobStatus::Queued),
            ..Default::default()
        },
        50,
    )
    .await;
    assert!(queued.is_empty());
}

/// The status and `order_version` of each job, re-read from the store.
async fn states(repo: &Repo, jobs: &[Job]) -> Vec<(JobStatus, u64)> {
    let mut out = Vec::new();
    for j in jobs {
        let s = repo.get(&j.id).await.expect("get");
        out.push((s.status, s.order_version));
    }
    out
}

/// Jobs follow their order: `follow_order` moves only the order's waiting
/// (queued, parked) jobs, parked jobs are never claimed, a follow for an
/// older order version than the one a job last followed is ignored,
/// cancelled jobs stay cancelled, and re-prioritising reaches parked jobs.
pub async fn job_follow_order_parks_requeues_and_fences(repo: Repo) {
    use JobStatus::{Cancelled, Claimed, Parked, Queued};
    let held = jobs_of(3, 80, day(1), 0);
    let other = jobs_of(1, 30, day(1), 0);
    repo.create(held.clone()).await.expect("create");
    repo.create(other.clone()).await.expect("create");
    let order = held[0].order_id;
    let op = UserId::new();
    // An operator holds line 0 when the order goes on hold (version 5).
    let first = repo.claim_next(op, now()).await.expect("claim");
    assert_eq!(first.map(|j| j.id), Some(held[0].id.clone()));
    let (p80, p90) = (ok(Priority::new(80)), ok(Priority::new(90)));
    assert_eq!(
        repo.follow_order(order, 5, Parked, p80)
            .await
            .expect("park"),
        2
    );
    assert_eq!(
        states(&repo, &held).await,
        [(Claimed, 0), (Parked, 5), (Parked, 5)],
        "the claimed job stays with its operator"
    );
    assert_eq!(repo.get(&held[1].id).await.expect("get").version, 2);
    assert_eq!(states(&repo, &other).await, [(Queued, 0)], "other orders");
    // Parked jobs are never claimed, even with the highest priority.
    let next = repo.claim_next(op, now()).await.expect("claim");
    assert_eq!(next.map(|j| j.id), Some(other[0].id.clone()));
    assert!(repo.claim_next(op, now()).await.expect("claim").is_none());
    // Re-prioritising reaches parked jobs, so they return with it.
    assert_eq!(
        repo.follow_order(order, 5, Parked, p90)
            .await
            .expect("prio"),
        2
    );
    // A follow for an older order version (a hook that lost the race) is
    // ignored; the same or a newer one applies.
    assert_eq!(
        repo.follow_order(order, 4, Queued, p80).await.expect("old"),
        0
    );
    assert_eq!(states(&repo, &held[1..]).await, [(Parked, 5), (Parked, 5)]);
    assert_eq!(
        repo.follow_order(order, 7, Queued, p90)
            .await
            .expect("release"),
        2
    );
    assert_eq!(
        repo.follow_order(order, 6, Parked, p80)
            .await
            .expect("late"),
        0
    );
    assert_eq!(states(&repo, &held[1..]).await, [(Queued, 7), (Queued, 7)]);
    let next = repo
        .claim_next(op, now())
        .await
        .expect("claim")
        .expect("released job");
    assert_eq!((next.id, next.priority.get()), (held[1].id.clone(), 90));
    // Cancelled: the last waiting job; cancelled jobs never come back.
    assert_eq!(
        repo.follow_order(order, 8, Cancelled, p90)
            .await
            .expect("cancel"),
        1
    );
    assert_eq!(
        repo.follow_order(order, 9, Queued, p90)
            .await
            .expect("again"),
        0
    );
    assert_eq!(
        states(&repo, &held).await,
        [(Claimed, 0), (Claimed, 7), (Cancelled, 8)]
    );
    assert!(repo.claim_next(op, now()).await.expect("claim").is_none());
    let cancelled = all(
        &repo,
        &JobFilter {
            status: Some(Cancelled),
            order_id: Some(order),
        },
        10,
    )
    .await;
    assert_eq!(cancelled.len(), 1);
    // Only waiting statuses are targets; unknown orders change nothing.
    for bad in [Claimed, JobStatus::Done] {
        assert_eq!(
            repo.follow_order(order, 10, bad, p90)
                .await
                .expect_err("not a follow target")
                .kind(),
            ErrorKind::Invalid
        );
    }
    assert_eq!(
        repo.follow_order(OrderId::new(), 1, Parked, p90)
            .await
            .expect("unknown order"),
        0
    );
}
