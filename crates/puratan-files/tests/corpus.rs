//! Every file of the shared test corpus (`../shared/corpus`, or
//! `PURATAN_CORPUS`) is detected as the type its name and origin say.
//!
//! The manifest records each file's origin, not its type; the expected type
//! comes from the file's extension in the upstream test suite, which names
//! files by what they are. Files that upstream keeps *because* they are
//! broken are listed in `KNOWN_BROKEN` with the error we expect, and why.

use std::path::PathBuf;

use puratan_files::{FilesError, Format, detect};

fn corpus_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PURATAN_CORPUS") {
        return Some(PathBuf::from(p));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    root.is_dir().then_some(root)
}

fn manifest_files(dir: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.json")).expect("MANIFEST.json");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("\"file\": \""))
        .map(|l| l.trim_end_matches(',').trim_end_matches('"').to_owned())
        .collect()
}

fn expected(path: &str) -> Option<&'static [Format]> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => &[Format::Pdf, Format::Illustrator],
        "png" => &[Format::Png],
        "jpg" | "jpeg" => &[Format::Jpeg],
        "tif" | "tiff" => &[Format::Tiff],
        "webp" => &[Format::WebP],
        "gif" => &[Format::Gif],
        "bmp" => &[Format::Bmp],
        "eps" => &[Format::Eps, Format::Illustrator],
        _ => return None,
    })
}

/// (path suffix, expected error code, why)
const KNOWN_BROKEN: &[(&str, &str, &str)] = &[
    (
        "pillow/Tests/images/broken_data_stream.png",
        "file_malformed",
        "IDAT chunk length is corrupt, so the next chunk type is image data",
    ),
    (
        "pillow/Tests/images/truncated_end_chunk.png",
        "file_truncated",
        "the file stops inside an IDAT chunk; IEND is missing",
    ),
    (
        "pillow/Tests/images/eps/timeout-d675703545fee17acab56e5fec644c19979175de.eps",
        "file_truncated",
        "fuzzer file: the DOS-EPS header points the PostScript section past the end",
    ),
];

#[test]
fn corpus_types_match() {
    let Some(dir) = corpus_dir() else {
        assert!(std::env::var("CI").is_err(), "corpus missing under CI");
        eprintln!("SKIP: corpus not found");
        return;
    };
    let files = manifest_files(&dir);
    assert!(files.len() > 1000, "manifest parsed: {}", files.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in &files {
        let bytes = std::fs::read(dir.join(file)).expect(file);
        let name = file.rsplit('/').next();
        let got = detect(&bytes, name);
        let broken = KNOWN_BROKEN.iter().find(|(p, _, _)| file.ends_with(p));
        match (expected(file), broken, &got) {
            (_, Some((_, code, _)), Err(e)) if e.code() == *code => {}
            (Some(want), None, Ok(d)) if want.contains(&d.format) => {
                assert!(
                    d.findings
                        .iter()
                        .all(|f| f.kind != puratan_files::FindingKind::ExtensionMismatch),
                    "{file}: {:?}",
                    d.findings
                );
            }
            (None, None, Err(FilesError::UnknownFormat)) => {}
            _ => failures.push(format!(
                "{file}: expected {:?} got {:?}",
                expected(file),
                got.map(|d| (d.format, d.findings.len()))
            )),
        }
        checked += 1;
    }
    let mut kinds = std::collections::BTreeMap::new();
    for file in &files {
        let bytes = std::fs::read(dir.join(file)).expect(file);
        if let Ok(d) = detect(&bytes, None) {
            *kinds.entry(format!("{:?}", d.format)).or_insert(0) += 1;
            for f in d.findings {
                *kinds.entry(f.kind.code().to_owned()).or_insert(0) += 1;
            }
        }
    }
    eprintln!("corpus summary: {kinds:?}");
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
