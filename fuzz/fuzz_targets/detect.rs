//! `puratan_files::detect` on arbitrary bytes, without and with a declared
//! name and media type.
//!
//! Invariants: no panic; the result is `Ok` or a typed `FilesError` with a
//! code; the declared name and type never change the detected format or the
//! error (content decides, never the name).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

/// Declared names, picked by the input's length so the corpus files stay
/// plain files (no framing the seeds would lack).
const NAMES: [(&str, &str); 10] = [
    ("artwork.pdf", "application/pdf"),
    ("photo.JPG", "image/jpeg"),
    ("scan.tif", "image/tiff"),
    ("logo.png", "image/png"),
    ("", ""),
    (".", "application/octet-stream"),
    ("flyer.pdf.exe", "text/html"),
    ("noextension", "image/svg+xml"),
    ("ünïcødé.wEbP", "image/webp; charset=binary"),
    ("job.zip", "application/zip"),
];

fuzz_target!(|data: &[u8]| {
    let plain = puratan_files::detect(data, None);
    let (name, mime) = NAMES[data.len() % NAMES.len()];
    let declared = puratan_files::detect_declared(data, Some(name), Some(mime));
    match (&plain, &declared) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.format, b.format, "the declared name changed the format");
            assert_eq!(a.mime, b.mime);
            assert!(!a.mime.is_empty());
        }
        (Err(a), Err(b)) => {
            common::check_error(a);
            assert_eq!(a.code(), b.code(), "the declared name changed the error");
        }
        _ => panic!("the declared name changed the outcome: {plain:?} vs {declared:?}"),
    }
});
