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

/// Position of the first `"`, `\\` or control character, eight bytes at a time.
pub(crate) fn special(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let quote = v ^ (LO * u64::from(b'"'));
        let backslash = v ^ (LO * u64::from(b'\\'));
        // Per expression, the lowest flagged byte is exact (false positives only above it).
        let found = (quote.wrapping_sub(LO) & !quote)
            | (backslash.wrapping_sub(LO) & !backslash)
            | (v.wrapping_sub(LO * 0x20) & !v);
        let found = found & HI;
        if found != 0 {
            return Some(offset + usize::try_from(found.trailing_zeros() / 8).unwrap_or(0));
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| offset + p)
}

const PRODUCT: u32 = 1;
const QUANTITY: u32 = 1 << 1;
const TURNAROUND: u32 = 1 << 5;
const REGION: u32 = 1 << 8;
const AT: u32 = 1 << 10;
const REQUIRED: u32 = PRODUCT | QUANTITY | TURNAROUND | REGION | AT;

/// See the module docs.
pub(crate) fn parse(text: &str) -> Option<QuoteRequest> {
    let mut c = Cursor {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    let mut seen = 0u32;
    let mut product = String::new();
    let mut quantity = 0;
    let mut paper = None;
    let mut color = None;
    let mut finishing = Vec::new();
    let mut turnaround = String::new();
    let mut customer_group = None;
    let mut coupon = None;
    let mut region = String::new();
    let mut currency = None;
    let mut at: Option<DateTime<Utc>> = None;
    let mut material = None;
    let mut width_mm = None;
    let mut height_mm = None;
    let mut pages = None;
    let mut cover_paper = None;
    let mut options = Vec::new();

    c.ws();
    c.eat(b'{')?;
    c.ws();
    loop {
        let key = c.str()?;
        c.ws();
        c.eat(b':')?;
        c.ws();
        let bit = match key {
            "product" => {
                product = c.string()?;
                PRODUCT
            }
            "quantity" => {
                quantity = c.u32()?;
                QUANTITY
            }
            "paper" => {
                paper = c.opt_string()?;
                1 << 2
            }
            "color" => {
                color = c.opt_string()?;
                1 << 3
            }
            "finishing" => {
                finishing = c.strings()?;
                1 << 4
            }
            "turnaround" => {
                turnaround = c.string()?;
                TURNAROUND
            }
            "customer_group" => {
                customer_group = c.opt_string()?;
                1 << 6
            }
            "coupon" => {
                coupon = c.opt_string()?;
                1 << 7
            }
            "region" => {
                region = c.string()?;
                REGION
            }
            "currency" => {
                currency = c.opt_string()?;
                1 << 9
            }
            "at" => {
                let s = c.str()?;
                at = Some(crate::types::parse_rfc3339(s).ok()?);
                AT
            }
            "material" => {
                material = c.opt_string()?;
                1 << 11
            }
            "width_mm" => {
                width_mm = c.dim()?;
                1 << 12
            }
            "height_mm" => {
                height_mm = c.dim()?;
                1 << 13
            }
            "pages" => {
                pages = if c.null() { None } else { Some(c.u32()?) };
                1 << 14
            }
            "cover_paper" => {
                cover_paper = c.opt_string()?;
                1 << 15
            }
            "options" => {
                options = c.strings()?;
                1 << 16
            }
            _ => return None,
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        c.ws();
        if c.eat(b'}').is_some() {
            break;
        }
        c.eat(b',')?;
        c.ws();
    }
    c.ws();
    if c.i != c.b.len() || seen & REQUIRED != REQUIRED {
        return None;
    }
    Some(QuoteRequest {
        product,
        quantity,
        paper,
        color,
        finishing,
        turnaround,
        customer_group,
        coupon,
        region,
        currency,
        at: at?,
        material,
        width_mm,
        height_mm,
        pages,
        cover_paper,
        options,
    })
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
