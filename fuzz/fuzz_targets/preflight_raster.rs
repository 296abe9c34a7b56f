//! `preflight::run` on arbitrary bytes as JPEG, PNG, TIFF or WebP (chosen
//! from the first byte), default profile and limits, ordered at 100 × 150 mm.
//!
//! Invariants as for `preflight_pdf`.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use puratan_files::preflight::{self, Intent, Limits, Profile};

fuzz_target!(init: common::contain_third_party_panics(), |data: &[u8]| {
    let format = common::raster_format(data);
    let result = preflight::run(
        data,
        format,
        &Intent::trim_mm(100.0, 150.0),
        &Profile::gwg2015_sheetfed(),
        &Limits::default(),
    );
    common::check_contained(&result);
    match result {
        Ok(report) => {
            assert_eq!(report.format, format.id());
            assert!(report.raster.is_some(), "raster report without raster info");
            common::check_report(&report);
        }
        Err(err) => common::check_error(&err),
    }
});
