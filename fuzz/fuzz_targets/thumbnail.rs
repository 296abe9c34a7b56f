//! `preview::thumbnail` on arbitrary bytes as JPEG, PNG, TIFF or WebP (chosen
//! from the first byte) to a small JPEG/PNG/WebP, with small preview limits
//! so a declared-huge image fails on its header instead of exhausting the
//! fuzzer's memory limit.
//!
//! Invariants: no panic; a preview fits the requested edge, is not empty
//! and has the requested media type; otherwise a typed error with a code.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use puratan_files::preview::{self, Limits, OutputFormat, ThumbnailSpec};

const LIMITS: Limits = Limits {
    max_pixels: 4_000_000,
    max_dimension: 8_192,
    max_alloc_bytes: 256 << 20,
    max_output_pixels: 1_000_000,
    max_pages: 1,
};

fuzz_target!(init: common::contain_third_party_panics(), |data: &[u8]| {
    let format = common::raster_format(data);
    let output = match data.len() % 3 {
        0 => OutputFormat::Jpeg { quality: 80 },
        1 => OutputFormat::Png,
        _ => OutputFormat::WebP,
    };
    let spec = ThumbnailSpec {
        max_edge: 48,
        output,
    };
    let result = preview::thumbnail(data, format, &spec, &LIMITS);
    common::check_contained(&result);
    match result {
        Ok(p) => {
            assert!((1..=spec.max_edge).contains(&p.width), "{p:?}");
            assert!((1..=spec.max_edge).contains(&p.height), "{p:?}");
            assert!(!p.bytes.is_empty());
            assert_eq!(p.mime, output.mime());
        }
        Err(err) => common::check_error(&err),
    }
});
