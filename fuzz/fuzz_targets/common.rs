//! Invariants shared by the targets.

// Each target uses only some of these helpers.
#![allow(dead_code)]

use puratan_files::preflight::{Report, Severity, Verdict};
use puratan_files::{FilesError, Format};

/// The raster format a preflight/thumbnail input is handed over as, chosen
/// from the first byte: the real magic picks its own format (so the seeds
/// from the corpus reach the decoders' deep paths), anything else a format
/// by `byte % 4` (so every decoder also sees every other format's bytes).
pub fn raster_format(data: &[u8]) -> Format {
    const ALL: [Format; 4] = [Format::Jpeg, Format::Png, Format::Tiff, Format::WebP];
    match data.first() {
        Some(0xFF) => Format::Jpeg,
        Some(0x89) => Format::Png,
        Some(b'I' | b'M') => Format::Tiff,
        Some(b'R') => Format::WebP,
        Some(b) => ALL[usize::from(*b % 4)],
        None => Format::Jpeg,
    }
}

/// A typed error always carries a stable, non-empty code and a message.
pub fn check_error(err: &FilesError) {
    assert!(!err.code().is_empty(), "error without a code: {err:?}");
    assert!(
        !err.to_string().is_empty(),
        "error without a message: {err:?}"
    );
}

/// A preflight report is self-consistent and serialises to JSON that parses
/// back (what the server and the CLI emit).
pub fn check_report(report: &Report) {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count() as u32;
    assert_eq!(report.summary.errors, count(Severity::Error), "{report:#?}");
    assert_eq!(
        report.summary.warnings,
        count(Severity::Warning),
        "{report:#?}"
    );
    assert_eq!(report.summary.infos, count(Severity::Info), "{report:#?}");
    let verdict = if report.summary.errors > 0 {
        Verdict::Fail
    } else if report.summary.warnings > 0 {
        Verdict::Warnings
    } else {
        Verdict::Pass
    };
    assert_eq!(report.verdict, verdict, "{report:#?}");
    assert_eq!(report.schema, puratan_files::preflight::SCHEMA);
    let json = serde_json::to_string(report).expect("report serialises to JSON");
    if let Err(e) = serde_json::from_str::<Report>(&json) {
        panic!("report JSON does not parse back: {e}\n{json}");
    }
}

thread_local! {
    static CONTAINED_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs a panic hook (call from `fuzz_target!`'s `init`) that lets panics
/// *inside third-party crates* (a location under a Cargo registry) unwind to
/// puratan-files' own `catch_unwind` guards instead of aborting, printing
/// each location once as `fuzz: contained third-party panic at …` so
/// scripts/fuzz.sh can list them. A panic anywhere else (our code, std
/// called from our code) still goes to libfuzzer-sys's hook and aborts: a
/// crash with a reproducer. Whether the contained panic really was caught
/// and turned into a typed error is checked by [`check_contained`].
pub fn contain_third_party_panics() {
    let fuzzer_hook = std::panic::take_hook();
    let seen = std::sync::Mutex::new(std::collections::HashSet::<String>::new());
    std::panic::set_hook(Box::new(move |info| {
        let third_party = info
            .location()
            .is_some_and(|l| l.file().contains("/registry/src/"));
        if !third_party {
            return fuzzer_hook(info);
        }
        CONTAINED_PANIC.with(|c| c.set(true));
        let loc = info.location().map(ToString::to_string).unwrap_or_default();
        if seen.lock().is_ok_and(|mut s| s.insert(loc.clone())) {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            eprintln!("fuzz: contained third-party panic at {loc}: {msg}");
        }
    }));
}

/// After a call: if a third-party panic happened, the API must have turned
/// it into its typed "crashed" error (never an `Ok`, never another error).
pub fn check_contained<T: std::fmt::Debug>(result: &Result<T, FilesError>) {
    if CONTAINED_PANIC.with(|c| c.replace(false)) {
        match result {
            Err(FilesError::DecoderCrashed { .. } | FilesError::PreflightInternal) => {}
            other => panic!("a third-party panic was not turned into a typed error: {other:?}"),
        }
    }
}
