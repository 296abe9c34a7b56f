//! Runs the shared, runtime-neutral vectors in `tests/vectors/*.json`.
//!
//! Expected outputs come from the independent Python reference
//! (`tests/vectors/generate.py`), never from this engine.

use std::collections::BTreeMap;
use std::path::PathBuf;

use puratan_pricing::{Catalog, PricingError, QuoteRequest};
use serde_json::{Value, json};

fn error_json(e: &PricingError) -> Value {
    match e.field() {
        Some(f) => json!({"code": e.code(), "field": f}),
        None => json!({"code": e.code()}),
    }
}

fn run_case(
    catalogs: &BTreeMap<String, Result<Catalog, PricingError>>,
    case: &Value,
) -> Result<Value, Value> {
    let catalog = match &case["catalog"] {
        Value::String(name) => catalogs
            .get(name)
            .cloned()
            .ok_or_else(|| json!("missing catalog"))?,
        inline => Catalog::from_value(inline),
    };
    let catalog = catalog.map_err(|e| error_json(&e))?;
    let request = QuoteRequest::from_value(case["request"].clone()).map_err(|e| error_json(&e))?;
    let quote = catalog.quote(&request).map_err(|e| error_json(&e))?;
    // The hand-written `to_json` and the `Serialize` impl agree byte for byte.
    let text = quote.to_json();
    let via_serde = serde_json::to_string(&quote).map_err(|e| json!(e.to_string()))?;
    if text != via_serde {
        return Err(json!({"to_json": text, "serde": via_serde}));
    }
    serde_json::from_str(&text).map_err(|e| json!(e.to_string()))
}

#[test]
fn shared_vectors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    assert!(!files.is_empty(), "no vector files in {}", dir.display());
    let mut total = 0;
    let mut per_file: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let catalogs: BTreeMap<String, Result<Catalog, PricingError>> = doc["catalogs"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), Catalog::from_value(v)))
                    .collect()
            })
            .unwrap_or_default();
        let cases = doc["cases"].as_array().cloned().unwrap_or_default();
        assert!(!cases.is_empty(), "{} has no cases", file.display());
        per_file.insert(
            file.file_stem()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            cases.len(),
        );
        for case in &cases {
            total += 1;
            let got = run_case(&catalogs, case);
            let ok = match (&got, case.get("expected"), case.get("error")) {
                (Ok(v), Some(exp), None) => v == exp,
                (Err(e), None, Some(exp)) => e == exp,
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "{} / {}:\n  expected: {}\n  got:      {}",
                    file.file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    case["name"],
                    case.get("expected")
                        .or(case.get("error"))
                        .unwrap_or(&Value::Null),
                    match &got {
                        Ok(v) | Err(v) => v.to_string(),
                    }
                ));
            }
        }
    }
    assert!(total >= 1000, "only {total} vector cases");
    // Every method is checked against the independent reference.
    for method in ["area", "breaks", "booklet"] {
        let n = per_file.get(method).copied().unwrap_or(0);
        assert!(n >= 30, "only {n} vector cases for method {method}");
    }
    assert!(
        failures.is_empty(),
        "{} of {total} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
