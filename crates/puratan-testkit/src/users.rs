//! Conformance suite for [`UserRepo`].

use std::sync::Arc;

use puratan_core::domain::Email;
use puratan_core::ports::{PageRequest, UserRepo};
use puratan_core::{ConflictReason, Error, ErrorKind};

use crate::fixtures::user;
use crate::service::unique;

type Repo = Arc<dyn UserRepo>;

fn email() -> String {
    format!("{}@example.com", unique("u"))
}

pub async fn user_crud(repo: Repo) {
    let u = repo.insert(user(&email())).await.expect("insert");
    assert_eq!(u.version, 1);
    assert_eq!(repo.get(u.id).await.expect("get"), u);
    assert_eq!(
        repo.get_by_email(&u.email).await.expect("by email").id,
        u.id
    );
    let mut changed = u.clone();
    changed.display_name = "Renamed".into();
    let updated = repo.update(changed).await.expect("update");
    assert_eq!(updated.version, 2);
    assert_eq!(repo.get(u.id).await.expect("get").display_name, "Renamed");
    let missing = Email::parse("nobody-here@example.com").expect("email");
    assert_eq!(
        repo.get_by_email(&missing)
            .await
            .expect_err("missing")
            .kind(),
        ErrorKind::NotFound
    );
}

pub async fn user_email_unique(repo: Repo) {
    let addr = email();
    repo.insert(user(&addr)).await.expect("insert");
    // Case-insensitive: the domain type lower-cases.
    let err = repo
        .insert(user(&addr.to_uppercase()))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(
            err,
            Error::Conflict {
                reason: ConflictReason::Duplicate { field: "email" },
                ..
            }
        ),
        "{err:?}"
    );
}

pub async fn user_concurrent_writers(repo: Repo) {
    let u = repo.insert(user(&email())).await.expect("insert");
    let tasks: Vec<_> = (0..2)
        .map(|i| {
            let repo = repo.clone();
            let mut copy = u.clone();
            copy.display_name = format!("writer {i}");
            tokio::spawn(async move { repo.update(copy).await })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(_) => wins += 1,
            Err(e) => assert!(matches!(
                e,
                Error::Conflict {
                    reason: ConflictReason::StaleVersion,
                    ..
                }
            )),
        }
    }
    assert_eq!(wins, 1);
}

pub async fn user_paging(repo: Repo) {
    let mut created = Vec::new();
    for _ in 0..7 {
        created.push(repo.insert(user(&email())).await.expect("insert").id);
    }
    // Other tests share the backend: walk every page and check our users
    // appear once each, in id order.
    let mut seen = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let got = repo.list(&page).await.expect("list");
        assert!(got.items.len() <= 3);
        seen.extend(got.items.iter().map(|u| u.id));
        match got.next {
            Some(c) => page = PageRequest::first(3).after(Some(c)),
            None => break,
        }
    }
    let mine: Vec<_> = seen
        .iter()
        .filter(|id| created.contains(id))
        .copied()
        .collect();
    assert_eq!(mine, created);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
}

/// External identities (OIDC issuer + subject) find their account, follow
/// updates (link, unlink) and never match across issuers.
pub async fn user_identity_lookup(repo: Repo) {
    use puratan_core::domain::ExternalIdentity;
    let issuer = format!("https://{}.example", unique("idp"));
    let subject = unique("sub");
    let mut u = user(&email());
    u.identities.push(ExternalIdentity {
        issuer: issuer.clone(),
        subject: subject.clone(),
    });
    let u = repo.insert(u).await.expect("insert");
    assert_eq!(
        repo.get_by_identity(&issuer, &subject)
            .await
            .expect("found")
            .id,
        u.id
    );
    for (i, s) in [
        (issuer.as_str(), "other"),
        ("https://other.example", subject.as_str()),
    ] {
        assert_eq!(
            repo.get_by_identity(i, s)
                .await
                .expect_err("no match")
                .kind(),
            ErrorKind::NotFound,
            "{i} {s}"
        );
    }
    // Linking a second identity later, then unlinking the first.
    let second = unique("sub2");
    let mut linked = u.clone();
    linked.identities.push(ExternalIdentity {
        issuer: issuer.clone(),
        subject: second.clone(),
    });
    let linked = repo.update(linked).await.expect("link");
    assert_eq!(
        repo.get_by_identity(&issuer, &second)
            .await
            .expect("linked")
            .id,
        u.id
    );
    let mut unlinked = linked.clone();
    unlinked.identities.remove(0);
    repo.update(unlinked).await.expect("unlink");
    assert_eq!(
        repo.get_by_identity(&issuer, &subject)
            .await
            .expect_err("unlinked")
            .kind(),
        ErrorKind::NotFound
    );
}
