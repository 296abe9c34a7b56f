//! `preflight::run` on arbitrary bytes as a PDF, with the default GWG2015
//! profile and limits and an A4 order with 3 mm bleed.
//!
//! Invariants: no panic (a panic caught by preflight's `catch_unwind` still
//! aborts here: libfuzzer-sys's panic hook runs first); the result is a
//! report whose summary matches its findings and which round-trips through
//! JSON, or a typed error with a code.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use puratan_files::Format;
use puratan_files::preflight::{self, Intent, Limits, Profile};

fuzz_target!(init: common::contain_third_party_panics(), |data: &[u8]| {
    let intent = Intent {
        bleed_mm: Some(3.0),
        pages: Some(2),
        ..Intent::a4()
    };
    let result = preflight::run(
        data,
        Format::Pdf,
        &intent,
        &Profile::gwg2015_sheetfed(),
        &Limits::default(),
    );
    common::check_contained(&result);
    match result {
        Ok(report) => {
            assert_eq!(report.format, "pdf");
            common::check_report(&report);
        }
        Err(err) => common::check_error(&err),
    }
});
