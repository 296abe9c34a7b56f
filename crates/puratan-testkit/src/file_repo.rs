//! Conformance suite for [`FileRepo`].

use std::sync::Arc;

use chrono::{DateTime, Utc};
use puratan_core::domain::UserId;
use puratan_core::ports::{
    Derivative, FileRecord, FileRepo, FileStatus, PageRequest, PreflightSummary, Processing,
    ProcessingState,
};
use puratan_core::{ConflictReason, Error, ErrorKind};

type Repo = Arc<dyn FileRepo>;

/// A record with a time-ordered id (ids sort like creation).
pub fn record(owner: UserId, seq: u32) -> FileRecord {
    let now = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now");
    FileRecord {
        id: format!(
            "{:020}{seq:06}{}",
            now.timestamp_micros(),
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        ),
        owner,
        sha256: "ab".repeat(32),
        size: 1234,
        format: "pdf".into(),
        filename: "flyer.pdf".into(),
        status: FileStatus::Ready,
        created_at: now,
        version: 0,
        processing: None,
    }
}

pub async fn file_crud(repo: Repo) {
    let f = repo.insert(record(UserId::new(), 0)).await.expect("insert");
    assert_eq!(f.version, 1);
    assert_eq!(repo.get(&f.id).await.expect("get"), f);
    let mut next = f.clone();
    next.status = FileStatus::Rejected {
        code: "file_type_mismatch".into(),
    };
    let next = repo.update(next).await.expect("update");
    assert_eq!(next.version, 2);
    assert_eq!(repo.get(&f.id).await.expect("get"), next);
    let mut q = next.clone();
    q.status = FileStatus::Quarantined {
        signature: "Eicar-Test".into(),
    };
    let q = repo.update(q).await.expect("update");
    assert_eq!(repo.get(&f.id).await.expect("get"), q);
    assert_eq!(
        repo.get("nope").await.expect_err("missing").kind(),
        ErrorKind::NotFound
    );
    let dup = repo.insert(f.clone()).await.expect_err("duplicate id");
    assert_eq!(dup.kind(), ErrorKind::Conflict);
}

/// The processing record (tagged state, nested summary, derivatives)
/// survives every backend's encoding unchanged.
pub async fn file_processing_round_trips(repo: Repo) {
    let f = repo.insert(record(UserId::new(), 0)).await.expect("insert");
    assert_eq!(f.processing, None);
    let at = DateTime::from_timestamp_millis(1_780_000_000_123).expect("time");
    let mut next = f.clone();
    next.processing = Some(Processing {
        state: ProcessingState::Failed {
            code: "processing_limit".into(),
        },
        attempts: 2,
        pages: Some(12),
        preflight: Some(PreflightSummary {
            profile: "gwg2015_sheetfed".into(),
            verdict: "warnings".into(),
            errors: 0,
            warnings: 3,
            report_key: format!("derivatives/{}", "cd".repeat(32)),
            at,
        }),
        derivatives: vec![
            Derivative {
                name: "thumbnail".into(),
                key: format!("derivatives/{}", "ef".repeat(32)),
                mime: "image/jpeg".into(),
                width: 400,
                height: 283,
                size: 20_480,
                ink_coverage_percent: None,
            },
            Derivative {
                name: "print-pdf".into(),
                key: format!("derivatives/{}", "01".repeat(32)),
                mime: "application/pdf".into(),
                width: 2551,
                height: 3579,
                size: 1_234_567,
                ink_coverage_percent: Some(287),
            },
        ],
        updated_at: Some(at),
    });
    let next = repo.update(next).await.expect("update");
    let read = repo.get(&f.id).await.expect("get");
    assert_eq!(read, next);
    assert!(
        read.processing
            .expect("processing")
            .preflight
            .expect("summary")
            .passed()
    );
}

pub async fn file_stale_update(repo: Repo) {
    let f = repo.insert(record(UserId::new(), 0)).await.expect("insert");
    repo.update(f.clone()).await.expect("first update");
    let err = repo.update(f).await.expect_err("stale");
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::StaleVersion,
                ..
            }
        ),
        "{err:?}"
    );
}

pub async fn file_list_by_owner_paged(repo: Repo) {
    let owner = UserId::new();
    let other = repo.insert(record(UserId::new(), 99)).await.expect("other");
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(repo.insert(record(owner, i)).await.expect("insert").id);
    }
    ids.reverse(); // newest first
    let p1 = repo
        .list_by_owner(owner, &PageRequest::first(2))
        .await
        .expect("p1");
    let p2 = repo
        .list_by_owner(owner, &PageRequest::first(2).after(p1.next.clone()))
        .await
        .expect("p2");
    let p3 = repo
        .list_by_owner(owner, &PageRequest::first(2).after(p2.next.clone()))
        .await
        .expect("p3");
    let got: Vec<String> = [p1.items, p2.items, p3.items.clone()]
        .concat()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(got, ids);
    assert!(p3.next.is_none());
    assert!(!got.contains(&other.id));
}

pub async fn file_pending_scan(repo: Repo) {
    let mut f = record(UserId::new(), 0);
    f.status = FileStatus::PendingScan;
    let f = repo.insert(f).await.expect("insert");
    let ready = repo.insert(record(UserId::new(), 1)).await.expect("insert");
    let pending = repo.pending_scan(10_000).await.expect("pending");
    assert!(pending.iter().any(|p| p.id == f.id));
    assert!(!pending.iter().any(|p| p.id == ready.id));
    assert!(pending.iter().all(|p| p.status == FileStatus::PendingScan));
    let mut done = f.clone();
    done.status = FileStatus::Ready;
    repo.update(done).await.expect("update");
    let pending = repo.pending_scan(10_000).await.expect("pending");
    assert!(!pending.iter().any(|p| p.id == f.id));
}
