//! Request ids: taken from a well-formed incoming `x-request-id` (so a load
//! balancer's id carries through) or generated, echoed in the response, put
//! in every log line, and in every error body via a task-local.

use axum::http::HeaderValue;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task ("-" outside one).
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// Like [`current`], without allocating (ids are at most 64 bytes).
pub fn current_ref() -> SmallId {
    let mut out = SmallId::default();
    let _ = REQUEST_ID.try_with(|id| out.set(id));
    out
}

/// A request id on the stack.
#[derive(Debug, Clone, Copy)]
pub struct SmallId {
    buf: [u8; 64],
    len: usize,
}

impl Default for SmallId {
    fn default() -> Self {
        let mut s = Self {
            buf: [0; 64],
            len: 1,
        };
        s.buf[0] = b'-';
        s
    }
}

impl SmallId {
    fn set(&mut self, id: &str) {
        let n = id.len().min(64);
        self.buf[..n].copy_from_slice(&id.as_bytes()[..n]);
        self.len = n;
    }
}

impl std::ops::Deref for SmallId {
    type Target = str;
    fn deref(&self) -> &str {
        // Filled from validated ASCII ids only.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("-")
    }
}

fn acceptable(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| s.to_owned())
}

/// A new id: a random per-process prefix plus a counter. Unique across
/// replicas without a random-number syscall per request.
pub fn generate() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
    format!("{prefix}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The caller's id, if it is well-formed (so a load balancer's id carries
/// through; anything else is replaced, never echoed).
pub fn incoming(headers: &axum::http::HeaderMap) -> Option<String> {
    headers.get(HEADER).and_then(acceptable)
}

/// Runs `fut` with `id` as the current request id.
pub async fn scope<F: std::future::Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}
