//! A fast path for [`QuoteRequest::from_json`] on plain, well-formed requests.
//!
//! [`parse`] returns `Some` only for text that `serde_json::from_str` accepts with
//! exactly the same result: an object with known, non-repeated keys, every required
//! field present, strings without escapes or control characters, integers without
//! sign, fraction, exponent or leading zeros. Anything else (including every input
//! that is an error) returns `None` and goes through serde_json, so error codes and
//! messages are serde_json's own.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::ser::special;
use crate::types::QuoteRequest;

struct Cursor<'a> {
    /// The text (slices of it at ASCII positions are `&str` without re-validation).
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes or control characters (after the opening quote check).
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = self.b.get(self.i..)?;
        let len = special(rest)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        let s = self.s.get(self.i..self.i + len)?;
        self.i += len + 1;
        Some(s)
    }

    /// The literal `null`.
    fn null(&mut self) -> bool {
        if self.b.get(self.i..self.i + 4) == Some(b"null") {
            self.i += 4;
            true
        } else {
            false
        }
    }

    /// Decimal digits of a plain non-negative integer literal (`0` or no leading
    /// zero), at most `max_digits` long, not followed by a fraction or exponent.
    fn uint_digits(&mut self, max_digits: usize) -> Option<&'a str> {
        let rest = self.b.get(self.i..)?;
        let len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > max_digits || (len > 1 && rest.first() == Some(&b'0')) {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = rest.get(len) {
            return None;
        }
        let s = self.s.get(self.i..self.i + len)?;
        self.i += len;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        self.uint_digits(9)?.parse().ok()
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        if self.null() {
            Some(None)
        } else {
            self.string().map(Some)
        }
    }

    fn strings(&mut self) -> Option<Vec<String>> {
        self.eat(b'[')?;
        self.ws();
        let mut out = Vec::new();
        if self.eat(b']').is_some() {
            return Some(out);
        }
        loop {
            out.push(self.string()?);
            self.ws();
            if self.eat(b']').is_some() {
                return Some(out);
            }
            self.eat(b',')?;
            self.ws();
        }
    }

    fn dim(&mut self) -> Option<Option<Decimal>> {
        if self.null() {
            return Some(None);
        }
        let text = if self.peek() == Some(b'"') {
            self.str()?
        } else {
            // 18 digits always parse as a u64 (never as a float) in serde_json.
            self.uint_digits(18)?
        };
        crate::types::dim_from_text(text).map(Some)
    }
}

/// Where the value of a key goes.
enum Slot<'r> {
    Str(&'r mut String),
    OptStr(&'r mut Option<String>),
    Strs(&'r mut Vec<String>),
    U32(&'r mut u32),
    OptU32(&'r mut Option<u32>),
    Dim(&'r mut Option<Decimal>),
    At,
}

/// Keys in declaration order; bit `i` of the seen-mask is `KEYS[i]`.
const KEYS: [&str; 17] = [
    "product",
    "quantity",
    "paper",
    "color",
    "finishing",
    "turnaround",
    "customer_group",
    "coupon",
    "region",
    "currency",
    "at",
    "material",
    "width_mm",
    "height_mm",
    "pages",
    "cover_paper",
    "options",
];

/// `product`, `quantity`, `turnaround`, `region`, `at`.
const REQUIRED: u32 = 1 | 1 << 1 | 1 << 5 | 1 << 8 | 1 << 10;

fn slot(r: &mut QuoteRequest, index: usize) -> Slot<'_> {
    match index {
        0 => Slot::Str(&mut r.product),
        1 => Slot::U32(&mut r.quantity),
        2 => Slot::OptStr(&mut r.paper),
        3 => Slot::OptStr(&mut r.color),
        4 => Slot::Strs(&mut r.finishing),
        5 => Slot::Str(&mut r.turnaround),
        6 => Slot::OptStr(&mut r.customer_group),
        7 => Slot::OptStr(&mut r.coupon),
        8 => Slot::Str(&mut r.region),
        9 => Slot::OptStr(&mut r.currency),
        10 => Slot::At,
        11 => Slot::OptStr(&mut r.material),
        12 => Slot::Dim(&mut r.width_mm),
        13 => Slot::Dim(&mut r.height_mm),
        14 => Slot::OptU32(&mut r.pages),
        15 => Slot::OptStr(&mut r.cover_paper),
        _ => Slot::Strs(&mut r.options),
    }
}

/// See the module docs.
pub(crate) fn parse(text: &str) -> Option<QuoteRequest> {
    let mut c = Cursor {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    let mut r = QuoteRequest {
        product: String::new(),
        quantity: 0,
        paper: None,
        color: None,
        finishing: Vec::new(),
        turnaround: String::new(),
        customer_group: None,
        coupon: None,
        region: String::new(),
        currency: None,
        at: DateTime::<Utc>::UNIX_EPOCH,
        material: None,
        width_mm: None,
        height_mm: None,
        pages: None,
        cover_paper: None,
        options: Vec::new(),
    };
    let mut seen = 0u32;
    c.ws();
    c.eat(b'{')?;
    c.ws();
    loop {
        let key = c.str()?;
        let index = KEYS.iter().position(|k| *k == key)?;
        let bit = 1u32 << index;
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        c.ws();
        c.eat(b':')?;
        c.ws();
        match slot(&mut r, index) {
            Slot::Str(v) => *v = c.string()?,
            Slot::OptStr(v) => *v = c.opt_string()?,
            Slot::Strs(v) => *v = c.strings()?,
            Slot::U32(v) => *v = c.u32()?,
            Slot::OptU32(v) => *v = if c.null() { None } else { Some(c.u32()?) },
            Slot::Dim(v) => *v = c.dim()?,
            Slot::At => r.at = crate::types::parse_rfc3339(c.str()?).ok()?,
        }
        c.ws();
        if c.eat(b'}').is_some() {
            break;
        }
        c.eat(b',')?;
        c.ws();
    }
    c.ws();
    (c.i == c.b.len() && seen & REQUIRED == REQUIRED).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
        }
    }

    /// The fast path may decline, but whatever it returns must be serde_json's result.
    fn check(text: &str) -> bool {
        match parse(text) {
            Some(fast) => {
                let slow = serde_json::from_str::<QuoteRequest>(text);
                assert!(
                    matches!(&slow, Ok(r) if *r == fast),
                    "fast path disagrees on {text:?}: {fast:?} vs {slow:?}"
                );
                true
            }
            None => false,
        }
    }

    fn vector_requests() -> Vec<Value> {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                for case in doc["cases"].as_array().into_iter().flatten() {
                    if let Some(r) = case.get("request") {
                        out.push(r.clone());
                    }
                }
            }
        }
        out
    }

    const PIECES: &[&str] = &[
        "\"",
        "\\",
        ",",
        ":",
        "{",
        "}",
        "[",
        "]",
        " ",
        "\n",
        "\t",
        "\u{1}",
        "0",
        "1",
        "-",
        ".",
        "e",
        "E",
        "+",
        "null",
        "true",
        "00",
        "4294967296",
        "99999999999999999999",
        "\\u0041",
        "\"x\"",
        "\"product\":\"a\",",
        ",\"extra\":1",
        "é",
        "1.5",
        "\"1e2\"",
        "\"85.5\"",
        "\"at\":\"2026-11-28T10:00:00Z\",",
        "\"pages\":null,",
        "\"width_mm\":0,",
    ];

    #[test]
    fn agrees_with_serde_json() {
        let requests = vector_requests();
        assert!(requests.len() >= 1000, "{} requests", requests.len());
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let mut hits = 0;
        for r in &requests {
            let compact = serde_json::to_string(r).unwrap_or_default();
            let pretty = serde_json::to_string_pretty(r).unwrap_or_default();
            if check(&compact) {
                hits += 1;
            }
            check(&pretty);
            check(&format!(" \r\n{pretty}\t "));
            for _ in 0..40 {
                let base = if rng.below(2) == 0 { &compact } else { &pretty };
                let mut t = base.clone();
                for _ in 0..=rng.below(3) {
                    let mut at = rng.below(t.len() + 1);
                    while !t.is_char_boundary(at) {
                        at -= 1;
                    }
                    match rng.below(4) {
                        0 => {
                            let mut end = (at + 1 + rng.below(6)).min(t.len());
                            while !t.is_char_boundary(end) {
                                end -= 1;
                            }
                            t.replace_range(at..end, "");
                        }
                        1 | 2 => t.insert_str(at, PIECES[rng.below(PIECES.len())]),
                        _ => {
                            let mut end = (at + 1 + rng.below(3)).min(t.len());
                            while !t.is_char_boundary(end) {
                                end -= 1;
                            }
                            t.replace_range(at..end, PIECES[rng.below(PIECES.len())]);
                        }
                    }
                }
                check(&t);
            }
        }
        // Most vector requests are plain and take the fast path.
        assert!(hits * 2 > requests.len(), "{hits} of {}", requests.len());
    }

    #[test]
    fn special_matches_naive() {
        use crate::ser::special;
        let mut rng = Rng(99);
        let alphabet = [
            b'a', b'"', b'\\', 0, 0x1f, 0x20, 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']',
        ];
        for _ in 0..100_000 {
            let len = rng.below(40);
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.below(8) == 0 {
                        alphabet[rng.below(alphabet.len())]
                    } else {
                        u8::try_from(rng.below(256)).unwrap_or(0)
                    }
                })
                .collect();
            let naive = bytes
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            assert_eq!(special(&bytes), naive, "{bytes:?}");
        }
    }

    #[test]
    fn numbers_and_nulls() {
        let base = r#"{"product":"p","turnaround":"t","region":"DE","at":"2026-11-28T10:00:00Z","quantity":"#;
        for q in [
            "0",
            "1",
            "500",
            "01",
            "-0",
            "-1",
            "1.0",
            "1e3",
            "1E3",
            "999999999",
            "4294967295",
            "4294967296",
            "null",
            "\"5\"",
            "5 ",
            "5x",
        ] {
            check(&format!("{base}{q}}}"));
            let with = |k: &str, v: &str| format!("{base}1,\"{k}\":{v}}}");
            for v in [
                "null", "0", "12", "012", "1.5", "\"85.5\"", "\"\"", "\"1e2\"", "\"-1\"", "[]",
                "[\"a\"]", "[\"a\",]", "[null]", "\"a\"", "true", q,
            ] {
                for k in [
                    "pages",
                    "width_mm",
                    "height_mm",
                    "paper",
                    "finishing",
                    "options",
                    "at",
                    "coupon",
                    "quantity",
                    "bogus",
                ] {
                    check(&with(k, v));
                }
            }
        }
        assert!(check(&format!("{base}500}}")));
        assert!(check(&format!(
            "{base}5,\"width_mm\":\"85.5\",\"height_mm\":55,\"pages\":null,\"finishing\":[]}}"
        )));
    }
}

#[cfg(test)]
mod error_positions {
    use crate::QuoteRequest;

    /// Messages (with serde_json's positions) as the original serde-only parser gave them.
    #[test]
    fn unchanged() {
        for (text, want) in [
            (
                r#"{"product":"p","quantity":1,"turnaround":"t","region":"DE","at":"2026-13-01T00:00:00Z"}"#,
                "invalid request: input is out of range at line 1 column 87",
            ),
            (
                "{\"at\" : \"x\"  ,\n \"product\":\"p\"}",
                "invalid request: premature end of input at line 1 column 13",
            ),
            (
                r#"{"product":"p","quantity":1,"turnaround":"t","region":"DE","at":5}"#,
                "invalid request: invalid type: integer `5`, expected a string at line 1 column 65",
            ),
        ] {
            let got = QuoteRequest::from_json(text).map_err(|e| e.to_string());
            assert_eq!(got, Err(want.to_owned()), "{text}");
        }
    }
}
