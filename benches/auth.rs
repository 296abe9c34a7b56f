//! Authentication costs: access-token validation (what every authenticated
//! request pays), with and without the denylist lookup, and argon2id at the
//! default (OWASP minimum) parameters — which bounds logins per core.
//!
//! `cargo bench -p puratan-core --bench auth`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use puratan_core::auth::password::{PasswordHasher, PasswordParams};
use puratan_core::auth::tokens::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use puratan_core::domain::Role;
use puratan_core::memory::MemorySessionStore;

const NOW: u64 = 1_800_000_000;

fn tokens(key: JwtKey) -> AccessTokens {
    AccessTokens::new(
        KeySet::new(key).expect("key set"),
        AccessTokenConfig::new("https://shop.example", "puratan-api"),
    )
    .expect("tokens")
}

fn validation(c: &mut Criterion) {
    let mut g = c.benchmark_group("access_token");
    let eddsa = tokens(JwtKey::ed25519_from_seed("k1", &[7; 32]).expect("ed25519"));
    let hs256 = tokens(JwtKey::hs256("k1", &[9; 32]).expect("hs256"));
    for (name, t) in [("eddsa", &eddsa), ("hs256", &hs256)] {
        let (token, _) = t
            .issue_in_session(
                "0192f0c4-7d1e-7000-8000-000000000001",
                &[Role::Customer],
                Some("fam"),
                NOW,
            )
            .expect("issue");
        let token = token.into_string();
        g.bench_function(format!("{name}/issue"), |b| {
            b.iter(|| t.issue_in_session(black_box("u"), &[Role::Customer], Some("fam"), NOW))
        });
        g.bench_function(format!("{name}/validate"), |b| {
            b.iter(|| t.validate(black_box(&token), NOW + 60).expect("valid"))
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let store = MemorySessionStore::new();
        g.bench_function(format!("{name}/validate_not_denied_memory"), |b| {
            b.to_async(&rt).iter(|| async {
                t.validate_not_denied(black_box(&token), NOW + 60, &store)
                    .await
                    .expect("valid")
            })
        });
    }
    g.finish();
}

fn passwords(c: &mut Criterion) {
    let mut g = c.benchmark_group("argon2id_default");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let hasher = PasswordHasher::new(PasswordParams::default()).expect("hasher");
    let phc = hasher.hash("violet-tugboat-harmonica").expect("hash");
    g.bench_function("verify", |b| {
        b.iter(|| hasher.verify(black_box("violet-tugboat-harmonica"), &phc))
    });
    g.finish();
}

criterion_group!(benches, validation, passwords);
criterion_main!(benches);
