//! Preflight compared with poppler's tools on every corpus PDF both can read
//! (`../shared/corpus/pdf`, or `$PURATAN_CORPUS/pdf`):
//!
//! * fonts embedded yes/no must agree with `pdffonts` (matched by object id;
//!   every font `pdffonts` lists must be found by us);
//! * every image `pdfimages -list` lists (types `image` and `stencil`; its
//!   `smask`/`mask` rows belong to the image before them) must be found in
//!   the same order on the same page, with the same pixel size, and
//!   poppler's resolution formula applied to our reported CTM must agree
//!   with its x-ppi and y-ppi within 1 ppi. Where the image is axis-aligned
//!   on an unrotated page our own (geometric) ppi must agree as well — see
//!   the `preflight` module docs for why the two differ otherwise;
//! * MediaBox, CropBox, BleedBox, TrimBox, ArtBox and rotation of every page
//!   must agree with `pdfinfo -box -f 1 -l N`.
//!
//! With `CI=true` a missing oracle tool fails the test; locally it skips
//! with a message. Deliberate disagreements are listed in [`ALLOWED`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use puratan_files::Format;
use puratan_files::preflight::{self, Intent, Limits, Profile, Report};

/// Files where we disagree with the oracle on purpose: (path suffix, reason).
const ALLOWED: &[(&str, &str)] = &[];

fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("PURATAN_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    dir.join("pdf").is_dir().then_some(dir)
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn tool_available(tool: &str) -> bool {
    Command::new(tool)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs a tool with a time limit; `None` if it failed or timed out.
fn run_tool(tool: &str, args: &[&str], file: &Path) -> Option<String> {
    let mut child = Command::new(tool)
        .args(args)
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut s).ok();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let out = reader.join().ok()?;
    if !status?.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `pdffonts`: (object "num gen") → embedded.
fn oracle_fonts(text: &str) -> Option<Vec<(String, String, bool)>> {
    let mut lines = text.lines();
    let _header = lines.next()?;
    let dashes = lines.next()?;
    // Column spans from the dash line.
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in dashes
        .char_indices()
        .chain(std::iter::once((dashes.len(), ' ')))
    {
        match (c, start) {
            ('-', None) => start = Some(i),
            (' ', Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if spans.len() < 7 {
        return None;
    }
    let col = |line: &str, i: usize| -> String {
        let (s, e) = spans[i];
        let e = if i + 1 == spans.len() { line.len() } else { e };
        line.get(s.min(line.len())..e.min(line.len()))
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    Some(
        lines
            .map(|l| {
                (
                    col(l, 0),
                    col(l, 6).split_whitespace().collect::<Vec<_>>().join(" "),
                    col(l, 3) == "yes",
                )
            })
            .collect(),
    )
}

#[derive(Debug)]
struct OracleImage {
    page: u32,
    width: u32,
    height: u32,
    x_ppi: f64,
    y_ppi: f64,
}

fn oracle_images(text: &str) -> Vec<OracleImage> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            if t.len() < 13 || !matches!(t[2], "image" | "stencil") {
                return None;
            }
            let ppi_at = if t[10].starts_with('[') { 11 } else { 12 };
            Some(OracleImage {
                page: t[0].parse().ok()?,
                width: t[3].parse().ok()?,
                height: t[4].parse().ok()?,
                x_ppi: t.get(ppi_at)?.parse().ok()?,
                y_ppi: t.get(ppi_at + 1)?.parse().ok()?,
            })
        })
        .collect()
}

/// Per page: box name → rect, and the rotation.
type PageBoxes = HashMap<u32, (HashMap<String, [f64; 4]>, Option<u32>)>;

/// `pdfinfo -box`.
fn oracle_boxes(text: &str) -> PageBoxes {
    let mut pages = PageBoxes::new();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() < 3 || t[0] != "Page" {
            continue;
        }
        let Ok(page) = t[1].parse::<u32>() else {
            continue;
        };
        let entry = pages.entry(page).or_default();
        if t[2] == "rot:" {
            entry.1 = t.get(3).and_then(|r| r.parse().ok());
        } else if t[2].ends_with("Box:") && t.len() >= 7 {
            let nums: Vec<f64> = t[3..7].iter().filter_map(|n| n.parse().ok()).collect();
            if nums.len() == 4 {
                entry.0.insert(
                    t[2].trim_end_matches(':').to_owned(),
                    [nums[0], nums[1], nums[2], nums[3]],
                );
            }
        }
    }
    pages
}

/// poppler's `pdfimages -list` resolution: the CTM in device space of a
/// 72 dpi rendering (page rotation applied), `|72 w / (a + c)|`.
fn poppler_ppi(ctm: &[f64; 6], rotate: u32, w: u32, h: u32) -> (f64, f64) {
    let base: [f64; 4] = match rotate {
        90 => [0.0, 1.0, 1.0, 0.0],
        180 => [-1.0, 0.0, 0.0, 1.0],
        270 => [0.0, -1.0, -1.0, 0.0],
        _ => [1.0, 0.0, 0.0, -1.0],
    };
    let (a, b, c, d) = (ctm[0], ctm[1], ctm[2], ctm[3]);
    let a2 = a * base[0] + b * base[2];
    let b2 = a * base[1] + b * base[3];
    let c2 = c * base[0] + d * base[2];
    let d2 = c * base[1] + d * base[3];
    (
        (f64::from(w) * 72.0 / (a2 + c2)).abs(),
        (f64::from(h) * 72.0 / (b2 + d2)).abs(),
    )
}

#[derive(Debug, Default)]
struct Tally {
    files: usize,
    both_read: usize,
    we_failed: Vec<String>,
    oracle_failed: usize,
    fonts: usize,
    images: usize,
    geometric: usize,
    pages: usize,
    disagreements: Vec<String>,
    allowed: Vec<String>,
}

fn compare(path: &Path, rel: &str, tally: &Mutex<Tally>) {
    let bytes = std::fs::read(path).expect("read corpus file");
    let ours = preflight::run(
        &bytes,
        Format::Pdf,
        &Intent::default(),
        &Profile::gwg2015_sheetfed(),
        &Limits::default(),
    );
    let fonts = run_tool("pdffonts", &[], path);
    let images = run_tool("pdfimages", &["-list"], path);
    let mut t = tally.lock().unwrap();
    t.files += 1;
    let (Some(fonts), Some(images)) = (fonts, images) else {
        t.oracle_failed += 1;
        return;
    };
    let report: Report = match ours {
        Ok(r) => r,
        Err(e) => {
            t.we_failed.push(format!("{rel}: {}", e.code()));
            return;
        }
    };
    drop(t);
    let n = report.page_count.to_string();
    let boxes = run_tool("pdfinfo", &["-box", "-f", "1", "-l", &n], path);
    let mut problems = Vec::new();
    let mut counts = (0, 0, 0, 0);

    // ---- fonts
    match oracle_fonts(&fonts) {
        None => problems.push("pdffonts output not understood".to_owned()),
        Some(list) => {
            for (name, object, emb) in list {
                counts.0 += 1;
                match report
                    .fonts
                    .iter()
                    .find(|f| f.object.as_deref() == Some(object.as_str()))
                {
                    Some(f) if f.embedded == emb => {}
                    Some(f) => problems.push(format!(
                        "font {name} ({object}): pdffonts emb={emb}, ours {}",
                        f.embedded
                    )),
                    None => problems.push(format!(
                        "font {name} ({object}) listed by pdffonts, not found by us"
                    )),
                }
            }
        }
    }

    // ---- images
    let oracle = oracle_images(&images);
    let mut by_page: HashMap<u32, Vec<&preflight::ImageInfo>> = HashMap::new();
    for img in &report.images {
        by_page.entry(img.page).or_default().push(img);
    }
    let mut oracle_by_page: HashMap<u32, Vec<&OracleImage>> = HashMap::new();
    for img in &oracle {
        oracle_by_page.entry(img.page).or_default().push(img);
    }
    for (page, theirs) in &oracle_by_page {
        let mine = by_page.get(page).cloned().unwrap_or_default();
        if mine.len() != theirs.len() {
            problems.push(format!(
                "page {page}: pdfimages lists {} images, we found {}",
                theirs.len(),
                mine.len()
            ));
            continue;
        }
        let rotate = report.pages.get(*page as usize - 1).map_or(0, |p| p.rotate);
        for (m, o) in mine.iter().zip(theirs) {
            counts.1 += 1;
            if (m.width, m.height) != (o.width, o.height) {
                problems.push(format!(
                    "page {page}: image {}: size {}x{} vs pdfimages {}x{}",
                    m.object, m.width, m.height, o.width, o.height
                ));
                continue;
            }
            let (px, py) = poppler_ppi(&m.ctm, rotate, m.width, m.height);
            let close = |a: f64, b: f64| (a - b).abs() <= 1.0 || (a > 1e6 && b > 1e6);
            if !close(px, o.x_ppi) || !close(py, o.y_ppi) {
                problems.push(format!(
                    "page {page}: image {}: ppi {px:.1}x{py:.1} (poppler formula on our CTM {:?}) vs pdfimages {}x{}",
                    m.object, m.ctm, o.x_ppi, o.y_ppi
                ));
                continue;
            }
            let axis_aligned =
                m.ctm[1].abs() < 1e-6 && m.ctm[2].abs() < 1e-6 && rotate.is_multiple_of(180);
            let unit = report
                .pages
                .get(*page as usize - 1)
                .map_or(1.0, |p| p.user_unit);
            if axis_aligned && unit == 1.0 {
                counts.2 += 1;
                if !close(m.ppi_x, o.x_ppi) || !close(m.ppi_y, o.y_ppi) {
                    problems.push(format!(
                        "page {page}: image {}: our ppi {}x{} vs pdfimages {}x{}",
                        m.object, m.ppi_x, m.ppi_y, o.x_ppi, o.y_ppi
                    ));
                }
            }
        }
    }
    for (page, mine) in &by_page {
        if !oracle_by_page.contains_key(page) {
            problems.push(format!(
                "page {page}: we found {} images, pdfimages none",
                mine.len()
            ));
        }
    }

    // ---- boxes
    match boxes {
        None => problems.push("pdfinfo -box failed".to_owned()),
        Some(text) => {
            let theirs = oracle_boxes(&text);
            for p in &report.pages {
                counts.3 += 1;
                let Some((boxes, rot)) = theirs.get(&p.number) else {
                    problems.push(format!("page {}: missing from pdfinfo", p.number));
                    continue;
                };
                for (name, ours) in [
                    ("MediaBox", p.media_box),
                    ("CropBox", p.crop_box),
                    ("BleedBox", p.bleed_box),
                    ("TrimBox", p.trim_box),
                    ("ArtBox", p.art_box),
                ] {
                    match boxes.get(name) {
                        Some(b) if b.iter().zip(&ours).all(|(x, y)| (x - y).abs() <= 0.015) => {}
                        other => problems.push(format!(
                            "page {}: {name} ours {ours:?}, pdfinfo {other:?}",
                            p.number
                        )),
                    }
                }
                if *rot != Some(p.rotate) {
                    problems.push(format!(
                        "page {}: rotate ours {}, pdfinfo {rot:?}",
                        p.number, p.rotate
                    ));
                }
            }
        }
    }

    let mut t = tally.lock().unwrap();
    t.both_read += 1;
    t.fonts += counts.0;
    t.images += counts.1;
    t.geometric += counts.2;
    t.pages += counts.3;
    if !problems.is_empty() {
        let allowed = ALLOWED.iter().find(|(suffix, _)| rel.ends_with(suffix));
        let text = format!("{rel}:\n    {}", problems.join("\n    "));
        match allowed {
            Some((_, reason)) => t.allowed.push(format!("{text}\n    (allowed: {reason})")),
            None => t.disagreements.push(text),
        }
    }
}

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

#[test]
fn preflight_agrees_with_poppler_on_the_corpus() {
    let Some(corpus) = corpus() else {
        assert!(
            !in_ci(),
            "the corpus (../shared/corpus or $PURATAN_CORPUS) is missing in CI"
        );
        eprintln!("SKIPPED: no corpus at ../shared/corpus (set PURATAN_CORPUS)");
        return;
    };
    let missing: Vec<&str> = ["pdffonts", "pdfimages", "pdfinfo"]
        .into_iter()
        .filter(|t| !tool_available(t))
        .collect();
    if !missing.is_empty() {
        assert!(
            !in_ci(),
            "oracle tools missing in CI: {missing:?} (scripts/test.sh installs poppler-utils)"
        );
        eprintln!("SKIPPED: oracle tools missing: {missing:?} (apt-get install poppler-utils)");
        return;
    }
    let root = corpus.join("pdf");
    let mut files = Vec::new();
    pdf_files(&root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no PDFs in {}", root.display());
    let tally = Mutex::new(Tally::default());
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let rel = path
                        .strip_prefix(&root)
                        .unwrap_or(path)
                        .display()
                        .to_string();
                    compare(path, &rel, &tally);
                }
            });
        }
    });
    let t = tally.into_inner().unwrap();
    eprintln!(
        "preflight vs poppler: {} PDFs, {} read by both ({} unreadable for poppler, {} only for us); compared {} fonts, {} images ({} also by geometric ppi), {} pages; {} files disagree, {} allowed",
        t.files,
        t.both_read,
        t.oracle_failed,
        t.we_failed.len(),
        t.fonts,
        t.images,
        t.geometric,
        t.pages,
        t.disagreements.len(),
        t.allowed.len()
    );
    for f in &t.we_failed {
        eprintln!("  unreadable for us only: {f}");
    }
    for a in &t.allowed {
        eprintln!("  allowed: {a}");
    }
    for (suffix, _) in ALLOWED {
        if !t.allowed.iter().any(|a| a.contains(suffix)) {
            eprintln!("  note: allow-list entry {suffix} no longer disagrees; remove it");
        }
    }
    // Reading must not silently regress: poppler reads these files, so must we.
    assert!(
        t.we_failed.len() * 50 <= t.both_read + t.we_failed.len(),
        "we cannot read {} files poppler reads (more than 2 %)",
        t.we_failed.len()
    );
    assert!(
        t.disagreements.is_empty(),
        "{} files disagree with poppler:\n{}",
        t.disagreements.len(),
        t.disagreements.join("\n")
    );
}
