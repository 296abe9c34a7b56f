//! Support code for the `puratan-pricing` fuzz targets: seed catalogs and
//! requests (taken from the shared vectors), a byte-driven structured JSON
//! mutator and the invariants every target checks.
//!
//! A target fails (panics) only when the engine panics or an invariant below
//! is violated; any `Err` from the engine is an acceptable answer.

use std::sync::OnceLock;

use puratan_pricing::{Catalog, PricingError, Quote, QuoteRequest, minor_units};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

/// Reads fuzz input as a stream of choices; yields zeros once exhausted.
#[derive(Debug)]
pub struct Choices<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Choices<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) << 32 | u64::from(self.u32())
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::from(self.byte()) % n
        }
    }

    pub fn exhausted(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Up to `max` bytes as (lossy) UTF-8.
    pub fn text(&mut self, max: usize) -> String {
        let n = self.below(max + 1);
        let bytes: Vec<u8> = (0..n).map(|_| self.byte()).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Seed catalogs and requests.
#[derive(Debug)]
pub struct Seeds {
    /// The `base` catalogs of the sheet and method vector files.
    pub catalogs: Vec<Value>,
    /// Every request of those files, paired with the index of its catalog.
    pub requests: Vec<(usize, Value)>,
    /// Leaf values (ids, amounts, dates, …) to splice into mutations.
    pub leaves: Vec<Value>,
}

const FILES: [&str; 4] = [
    include_str!("../../tests/vectors/sheet_core.json"),
    include_str!("../../tests/vectors/area.json"),
    include_str!("../../tests/vectors/breaks.json"),
    include_str!("../../tests/vectors/booklet.json"),
];

pub fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut catalogs: Vec<Value> = Vec::new();
        let mut requests = Vec::new();
        for text in FILES {
            let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            let base = doc["catalogs"]["base"].clone();
            let ix = match catalogs.iter().position(|c| *c == base) {
                Some(ix) => ix,
                None => {
                    catalogs.push(base);
                    catalogs.len() - 1
                }
            };
            for case in doc["cases"].as_array().into_iter().flatten() {
                if case["catalog"] == "base" {
                    requests.push((ix, case["request"].clone()));
                }
            }
        }
        let mut leaves = Vec::new();
        for c in &catalogs {
            collect_leaves(c, &mut leaves);
        }
        for (_, r) in &requests {
            collect_leaves(r, &mut leaves);
        }
        leaves.sort_by_key(Value::to_string);
        leaves.dedup();
        Seeds {
            catalogs,
            requests,
            leaves,
        }
    })
}

fn collect_leaves(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => m.values().for_each(|x| collect_leaves(x, out)),
        Value::Array(a) => a.iter().for_each(|x| collect_leaves(x, out)),
        x => out.push(x.clone()),
    }
}

const STRINGS: [&str; 24] = [
    "",
    "0",
    "-0",
    "-1",
    "1e5",
    "0.0000000000000000000000000001",
    "79228162514264337593543950335",
    "99999999999999999999999999999999",
    "2.999999999999999999999999999",
    "100.000",
    "4/4",
    "EUR",
    "JPY",
    "KWD",
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "2026-11-28T10:00:00+14:00",
    "interpolate",
    "graduated",
    "all_units",
    "perfect",
    "sheet",
    "booklet",
    "İSTANBUL",
];

/// A replacement value chosen by the input.
pub fn value(c: &mut Choices<'_>, leaves: &[Value]) -> Value {
    match c.below(16) {
        0 => Value::Null,
        1 => json!(c.byte().is_multiple_of(2)),
        2 => json!(c.byte()),
        3 => json!(c.u32()),
        4 => json!(c.u64()),
        5 => json!(-i64::from(c.byte())),
        6 => serde_json::from_str(&format!("{}e{}", c.u32(), i32::from(c.byte()) - 128))
            .unwrap_or(Value::Null),
        7 => {
            let digits = c.u64().to_string();
            let scale = c.below(digits.len() + 1);
            let (int, frac) = digits.split_at(digits.len() - scale);
            json!(if frac.is_empty() {
                int.to_owned()
            } else {
                format!("{}.{frac}", if int.is_empty() { "0" } else { int })
            })
        }
        8 => json!(STRINGS[c.below(STRINGS.len())]),
        9 => json!(c.text(12)),
        10 => json!([]),
        11 => json!({}),
        _ => leaves
            .get(c.below(leaves.len().max(1)) % leaves.len().max(1))
            .cloned()
            .unwrap_or(Value::Null),
    }
}

/// Applies one structural mutation chosen by the input: replace a node,
/// delete a key, insert a key, drop or duplicate an array element.
pub fn mutate(v: &mut Value, c: &mut Choices<'_>, leaves: &[Value], depth: usize) {
    let stop = depth > 8 || c.below(4) == 0;
    match v {
        Value::Object(m) if !m.is_empty() && !stop => {
            let k = c.below(m.len());
            match c.below(10) {
                0 => {
                    if let Some(key) = m.keys().nth(k).cloned() {
                        m.remove(&key);
                    }
                }
                1 => {
                    let key = c.text(10);
                    let val = value(c, leaves);
                    m.insert(key, val);
                }
                _ => {
                    if let Some(child) = m.values_mut().nth(k) {
                        mutate(child, c, leaves, depth + 1);
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() && !stop => {
            let k = c.below(a.len());
            match c.below(10) {
                0 => {
                    a.remove(k);
                }
                1 => {
                    let x = a[k].clone();
                    a.push(x);
                }
                _ => mutate(&mut a[k], c, leaves, depth + 1),
            }
        }
        _ => *v = value(c, leaves),
    }
}

fn sum<'a>(xs: impl Iterator<Item = &'a Decimal>) -> Decimal {
    xs.fold(Decimal::ZERO, |a, b| a + b)
}

/// Invariants of a successful quote.
pub fn check_quote(q: &Quote) {
    let dp = minor_units(&q.currency).unwrap_or_else(|| panic!("currency {}", q.currency));
    for d in q
        .lines
        .iter()
        .map(|l| l.amount)
        .chain(q.discounts.iter().map(|d| d.amount))
        .chain([q.subtotal, q.net, q.tax.amount, q.total])
    {
        assert!(d >= Decimal::ZERO, "negative amount {d} in {}", q.to_json());
        assert_eq!(d.scale(), dp, "amount {d} without {dp} decimals");
    }
    assert_eq!(q.unit_price.scale(), 4);
    assert_eq!(
        sum(q.lines.iter().map(|l| &l.amount)),
        q.subtotal,
        "lines != subtotal"
    );
    assert_eq!(
        q.subtotal - sum(q.discounts.iter().map(|d| &d.amount)),
        q.net,
        "subtotal - discounts != net"
    );
    assert_eq!(q.net + q.tax.amount, q.total, "net + tax != total");
    let text = q.to_json();
    assert_eq!(text, q.to_json(), "to_json is not deterministic");
    let back: Quote = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("quote JSON does not parse back: {e}: {text}"));
    assert_eq!(back.to_json(), text, "quote JSON does not round-trip");
}

/// Error invariants: a stable code, serialisable, `field` only where documented.
pub fn check_error(e: &PricingError) {
    let text = serde_json::to_string(e).unwrap_or_default();
    assert!(text.starts_with("{\"code\":"), "{text}");
    if e.field().is_some() {
        assert!(
            matches!(
                e.code(),
                "invalid_catalog" | "option_not_allowed" | "size_out_of_range"
            ),
            "{text}"
        );
    }
}

/// Quotes `req` with `catalog` through every entry point and checks that they agree.
pub fn exercise(catalog: &Catalog, req: &QuoteRequest, quantities: &[u32]) {
    let single = catalog.quote(req);
    match &single {
        Ok(q) => check_quote(q),
        Err(e) => check_error(e),
    }
    match catalog.explain(req) {
        Ok(x) => assert_eq!(Ok(&x.quote), single.as_ref(), "explain differs from quote"),
        Err(e) => assert_eq!(
            Err(&e),
            single.as_ref().map(|_| ()),
            "explain error differs"
        ),
    }
    match catalog.quote_table(req, quantities) {
        Ok(rows) => {
            assert_eq!(rows.len(), quantities.len());
            for (row, &q) in rows.into_iter().zip(quantities) {
                let mut one = req.clone();
                one.quantity = q;
                assert_eq!(
                    row,
                    catalog.quote(&one),
                    "quote_table row differs for q={q}"
                );
            }
        }
        Err(e) => {
            check_error(&e);
            assert!(
                quantities.is_empty() || quantities.len() > 20 || single.is_err(),
                "table failed although the quote succeeded: {e}"
            );
        }
    }
}

/// Quantities for `quote_table`, chosen by the input around `base`.
pub fn quantities(c: &mut Choices<'_>, base: u32) -> Vec<u32> {
    let n = c.below(22);
    (0..n)
        .map(|_| match c.below(5) {
            0 => base,
            1 => base.saturating_add(u32::from(c.byte())),
            2 => u32::from(c.byte()) * 25,
            3 => u32::MAX - u32::from(c.byte() % 4),
            _ => c.u32(),
        })
        .collect()
}

/// A request object with the given product for a catalog that only just loaded.
pub fn products_requests(catalog: &Catalog) -> Vec<Value> {
    catalog
        .products()
        .into_iter()
        .map(|p| {
            let mut r = Map::new();
            r.insert("product".into(), json!(p.id));
            r.insert("quantity".into(), json!(p.quantity.map_or(1, |q| q.min)));
            if let Some(t) = p.turnarounds.first() {
                r.insert("turnaround".into(), json!(t.id));
            }
            if let Some(x) = p.papers.first() {
                r.insert("paper".into(), json!(x.id));
            }
            if let Some(x) = p.materials.first() {
                r.insert("material".into(), json!(x.id));
            }
            if let Some(x) = p.colors.first() {
                r.insert("color".into(), json!(x));
            }
            if let Some([w, _, h, _]) = p.size_limits_mm {
                r.insert("width_mm".into(), json!(w.to_string()));
                r.insert("height_mm".into(), json!(h.to_string()));
            }
            if let Some([min, _]) = p.pages {
                r.insert("pages".into(), json!(min));
            }
            r.insert("region".into(), json!("DE"));
            r.insert("at".into(), json!("2026-11-28T10:00:00Z"));
            Value::Object(r)
        })
        .collect()
}
