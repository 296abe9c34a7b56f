//! Preflight throughput over the corpus PDFs (`../shared/corpus/pdf`, or
//! `$PURATAN_CORPUS/pdf`), in pages per second. Files we cannot read are
//! left out (they cost a parse attempt, not a preflight).
//!
//! ```text
//! cargo bench -p puratan-files --bench preflight
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use puratan_files::Format;
use puratan_files::preflight::{self, Intent, Limits, Profile};

fn pdf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            pdf_files(&p, out);
        } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("pdf")) {
            out.push(p);
        }
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let root = match std::env::var_os("PURATAN_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    }
    .join("pdf");
    let mut files = Vec::new();
    pdf_files(&root, &mut files);
    files.sort();
    files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
}

fn bench(c: &mut Criterion) {
    let profile = Profile::gwg2015_sheetfed();
    let limits = Limits::default();
    let intent = Intent::default();
    let mut files = corpus();
    if files.is_empty() {
        eprintln!("no corpus found: benchmarking a generated fixture instead");
        files.push(preflight::testing::minimal_pdf());
    }
    let readable: Vec<(Vec<u8>, u64)> = files
        .into_iter()
        .filter_map(|f| {
            let pages = preflight::run(&f, Format::Pdf, &intent, &profile, &limits)
                .ok()?
                .page_count;
            Some((f, u64::from(pages)))
        })
        .collect();
    let pages: u64 = readable.iter().map(|(_, p)| p).sum();
    let bytes: usize = readable.iter().map(|(f, _)| f.len()).sum();
    eprintln!(
        "corpus: {} readable PDFs, {pages} pages, {:.1} MB",
        readable.len(),
        bytes as f64 / 1e6
    );
    let mut g = c.benchmark_group("preflight");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(pages));
    g.bench_function("corpus_pdfs", |b| {
        b.iter(|| {
            for (f, _) in &readable {
                let r = preflight::run(f, Format::Pdf, &intent, &profile, &limits);
                std::hint::black_box(r.ok());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
