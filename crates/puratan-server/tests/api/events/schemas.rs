//! The schema files: each is a valid draft 2020-12 schema, is listed in
//! docs/events.md, and actually rejects bad payloads.

use serde_json::{Value, json};

use super::{load_schema, schema_dir, schema_file, violations, violations_of};
use crate::support::repo_root;

fn schema_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(schema_dir())
        .expect("docs/events")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".schema.json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_schema_file_is_a_2020_12_schema_listed_in_events_md() {
    let files = schema_files();
    // Three order schemas (the transition events share one), four
    // system ones and the file-processing one.
    assert_eq!(files.len(), 8, "{files:?}");
    let doc = std::fs::read_to_string(repo_root().join("docs/events.md")).expect("events.md");
    for file in &files {
        let schema = load_schema(file);
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{file}"
        );
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!("{file} is not a valid schema: {e}");
        }
        assert!(
            schema["description"].as_str().is_some_and(|d| d.len() > 20),
            "{file} needs a description"
        );
        // Every field is documented, and the name in `schema` maps back
        // to this file.
        let props = schema["properties"].as_object().expect("properties");
        for (name, p) in props {
            assert!(
                name == "schema" || p["description"].is_string(),
                "{file}: `{name}` has no description"
            );
        }
        let names: Vec<&str> = match props["schema"].get("const") {
            Some(Value::String(s)) => vec![s.as_str()],
            _ => props["schema"]["enum"]
                .as_array()
                .expect("`schema` is a const or an enum")
                .iter()
                .filter_map(Value::as_str)
                .collect(),
        };
        for name in names {
            assert_eq!(&schema_file(name), file);
            assert!(doc.contains(name), "docs/events.md does not name {name}");
        }
        assert!(
            doc.contains(&format!("events/{file}")),
            "docs/events.md does not link events/{file}"
        );
    }
    // …and every schema file the doc links exists.
    for after in doc.split("events/").skip(1) {
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect();
        if name.ends_with(".schema.json") {
            assert!(
                files.contains(&name),
                "docs/events.md links a missing {name}"
            );
        }
    }
}

fn valid_error() -> Value {
    json!({
        "schema": "puratan.system.error/v1",
        "event_id": "0193a3c2-7a4e-7cc1-9f5e-3b1f0e9d2a11",
        "replica": "0193a3c27a4e7cc19f5e3b1f0e9d2a11",
        "at": "2026-03-01T09:00:00Z",
        "source": "http",
        "code": "internal",
        "where": "/api/v1/orders/{id}",
        "status": 500,
        "request_id": "abc-1"
    })
}

#[test]
fn payloads_missing_a_field_or_with_a_wrong_one_are_rejected() {
    let ok = valid_error();
    assert_eq!(violations(&ok), Vec::<String>::new());
    let required: Vec<String> = load_schema("system.error.v1.schema.json")["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(required.len(), 9);
    for field in &required {
        let mut p = ok.clone();
        p.as_object_mut().expect("object").remove(field);
        assert!(
            !violations_of("system.error.v1.schema.json", &p).is_empty(),
            "accepted without `{field}`"
        );
    }
    for (field, bad) in [
        ("event_id", json!("not-a-uuid")),
        ("at", json!("yesterday")),
        ("source", json!("cron")),
        ("status", json!(404)),
        ("code", json!("Internal Error")),
        ("request_id", json!("a b")),
    ] {
        let mut p = ok.clone();
        p[field] = bad.clone();
        assert!(!violations(&p).is_empty(), "accepted {field} = {bad}");
    }
    // A field the schema does not document is flagged too.
    let mut p = ok.clone();
    p["stack_trace"] = json!("at main.rs:1");
    assert_eq!(violations(&p).len(), 1, "{p}");
    // And the order schemas: a status change without `to`.
    let change = json!({
        "schema": "puratan.order.status_changed/v1",
        "event_id": "0193a3c2-7a4e-7cc1-9f5e-3b1f0e9d2a11",
        "order_id": "0193a3c2-7a4e-7cc1-9f5e-3b1f0e9d2a12",
        "customer_id": "0193a3c2-7a4e-7cc1-9f5e-3b1f0e9d2a13",
        "from": "submitted", "to": "on_hold", "transition": "hold",
        "actor": null, "reason": null, "version": 2, "at": "2026-03-01T09:05:00Z"
    });
    assert_eq!(violations(&change), Vec::<String>::new());
    let mut p = change.clone();
    p.as_object_mut().expect("object").remove("to");
    assert!(!violations(&p).is_empty());
}
