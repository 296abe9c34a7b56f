//! Format detection on arbitrary bytes: never panics, and what it accepts
//! is self-consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use puratan_files::{AllowList, Format, check_allowed, detect};

fuzz_target!(|data: &[u8]| {
    // The first byte picks a declared name, so mismatch logic runs too.
    let names = [
        None,
        Some("a.pdf"),
        Some("a.jpg"),
        Some("a.svg"),
        Some("a"),
        Some(".zip"),
    ];
    let (name, bytes) = match data.split_first() {
        Some((b, rest)) => (names[usize::from(*b) % names.len()], rest),
        None => (None, data),
    };
    let first = detect(bytes, name);
    let again = detect(bytes, name);
    match (&first, &again) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "deterministic"),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "deterministic"),
        _ => panic!("non-deterministic result"),
    }
    if let Ok(d) = first {
        assert_eq!(d.mime, d.format.mime());
        assert!(!bytes.is_empty());
        if d.format == Format::Svg {
            let lower = bytes.to_ascii_lowercase();
            assert!(
                !lower.windows(7).any(|w| w == b"<script"),
                "accepted an SVG with <script"
            );
        }
        let _ = check_allowed(&d, &AllowList::print_artwork());
    }
});
