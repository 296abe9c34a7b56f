//! Conformance suite for [`AuditLog`].

use std::sync::Arc;

use chrono::{Duration, Utc};
use puratan_core::ports::{AuditEvent, AuditLog};

use crate::service::unique;

pub async fn audit_newest_first_and_filtered(log: Arc<dyn AuditLog>) {
    let actor = unique("actor");
    let other = unique("actor");
    let t0 = Utc::now();
    for (i, who) in [&actor, &other, &actor, &actor].iter().enumerate() {
        log.append(AuditEvent {
            at: t0 + Duration::milliseconds(i64::try_from(i).unwrap_or(0)),
            actor: (*who).clone(),
            action: format!("test.step{i}"),
            target: Some("catalog".into()),
            ip: Some("192.0.2.1".into()),
            details: serde_json::json!({"i": i}),
        })
        .await
        .expect("append");
    }
    let mine = log.recent(Some(&actor), 2).await.expect("recent");
    let actions: Vec<_> = mine.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["test.step3", "test.step2"]);
    assert_eq!(mine[0].details, serde_json::json!({"i": 3}));
    let theirs = log.recent(Some(&other), 10).await.expect("recent");
    assert_eq!(theirs.len(), 1);
}
