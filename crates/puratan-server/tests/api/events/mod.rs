//! Event payloads against their published JSON Schemas
//! (docs/events/*.schema.json, listed in docs/events.md): the schema
//! files themselves, real order events produced over HTTP, and the
//! system events.

mod files;
mod orders;
mod schemas;
mod system;

use std::path::PathBuf;
use std::time::Duration;

use puratan_core::ports::{Delivery, Subscriber};
use serde_json::Value;

use crate::support::repo_root;

pub fn schema_dir() -> PathBuf {
    repo_root().join("docs/events")
}

/// The schema file that documents payloads naming `schema`
/// (`puratan.<event>/v<n>` → `<event>.v<n>.schema.json`); the events a
/// transition emits share `order.status_changed`'s file.
pub fn schema_file(schema: &str) -> String {
    let (name, version) = schema
        .strip_prefix("puratan.")
        .and_then(|s| s.split_once("/v"))
        .unwrap_or_else(|| panic!("not a schema name: {schema}"));
    let name = match name {
        "order.processed" | "order.completed" | "order.reprint" => "order.status_changed",
        other => other,
    };
    format!("{name}.v{version}.schema.json")
}

pub fn load_schema(file: &str) -> Value {
    let path = schema_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Why `payload` does not match the schema its `schema` field names
/// (empty when it does). Formats (`uuid`, `date-time`) are checked, and
/// so is that every field the payload has is documented in the schema's
/// `properties` — the schemas allow unknown fields for consumers' sake,
/// which must not let an undocumented field through here.
pub fn violations(payload: &Value) -> Vec<String> {
    let name = payload["schema"]
        .as_str()
        .unwrap_or_else(|| panic!("payload without `schema`: {payload}"));
    violations_of(&schema_file(name), payload)
}

pub fn violations_of(file: &str, payload: &Value) -> Vec<String> {
    let schema = load_schema(file);
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{file} does not compile: {e}"));
    let mut out: Vec<String> = validator
        .iter_errors(payload)
        .map(|e| format!("{file}: {} at {}", e, e.instance_path()))
        .collect();
    let documented = schema["properties"].as_object();
    for key in payload.as_object().into_iter().flat_map(|o| o.keys()) {
        if !documented.is_some_and(|p| p.contains_key(key)) {
            out.push(format!("{file}: field `{key}` is not documented"));
        }
    }
    out
}

/// Asserts that `payload` matches its schema.
pub fn assert_valid(payload: &Value) {
    let v = violations(payload);
    assert!(v.is_empty(), "{v:#?}\n{payload:#}");
}

/// The next delivery within 5 s, acked: (kind, message id, payload).
pub async fn next_event(sub: &mut Box<dyn Subscriber>) -> (String, String, Value) {
    next_event_within(sub, 5).await
}

/// The next delivery within `secs`, acked: (kind, message id, payload).
pub async fn next_event_within(
    sub: &mut Box<dyn Subscriber>,
    secs: u64,
) -> (String, String, Value) {
    let d: Delivery = tokio::time::timeout(Duration::from_secs(secs), sub.next())
        .await
        .unwrap_or_else(|_| panic!("an event within {secs} s"))
        .expect("subscriber")
        .expect("open");
    let payload: Value = serde_json::from_slice(&d.message.payload).expect("json payload");
    let out = (d.message.kind.clone(), d.message.id.clone(), payload);
    d.ack().await.expect("ack");
    out
}

/// Asserts that nothing more arrives within 300 ms.
pub async fn assert_quiet(sub: &mut Box<dyn Subscriber>) {
    if let Ok(Ok(Some(d))) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
        panic!(
            "unexpected event {}: {}",
            d.message.kind,
            String::from_utf8_lossy(&d.message.payload)
        );
    }
}
