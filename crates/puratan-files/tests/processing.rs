//! Processing: thumbnails, page previews, RGB → CMYK, raster → print PDF.
//!
//! Uses the shared corpus (`PURATAN_CORPUS`, else `../shared/corpus` from the
//! project root) and fixtures generated here. External oracles (`qpdf`,
//! `pdfinfo`, `pdftoppm`; ImageMagick optionally) are required under
//! `CI=true` and skipped loudly otherwise.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use puratan_files::colour::{DEFAULT_CMYK_TAC_LIMIT, Intent, RgbToCmyk, tac_of_cmyk};
use puratan_files::convert::{PrintSpec, pdf_page_to_image, raster_to_pdf};
use puratan_files::preview::{
    Limits, OutputFormat, PageRenderSpec, PageSize, PixelLayout, Raster, ThumbnailSpec,
    render_page, render_pdf_page, thumbnail,
};
use puratan_files::{Format, detect};

// ---- helpers ---------------------------------------------------------------

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PURATAN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(!in_ci(), "corpus missing at {} (CI=true)", dir.display());
    eprintln!("SKIP: corpus missing at {}", dir.display());
    None
}

/// An external tool, required under CI.
fn tool(name: &str) -> Option<PathBuf> {
    let path = Path::new("/usr/bin").join(name);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !in_ci(),
        "{name} is required under CI=true (apt-get install qpdf poppler-utils)"
    );
    eprintln!("SKIP: {name} not installed");
    None
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn format_from_extension(p: &Path) -> Option<Format> {
    let ext = p.extension()?.to_str()?.to_ascii_lowercase();
    Format::ALL
        .into_iter()
        .find(|f| f.extensions().contains(&ext.as_str()))
}

fn rgb_jpeg(w: u16, h: u16, px: &[u8], exif_orientation: Option<u16>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 92);
    if let Some(o) = exif_orientation {
        let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
        exif.extend_from_slice(&o.to_le_bytes());
        exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        enc.add_app_segment(1, exif).unwrap();
    }
    enc.encode(px, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// Four solid quadrants: red (top left), green (top right), blue (bottom
/// left), white (bottom right).
fn quadrants(w: u32, h: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let c = match (x < w / 2, y < h / 2) {
                (true, true) => [255, 0, 0],
                (false, true) => [0, 255, 0],
                (true, false) => [0, 0, 255],
                (false, false) => [255, 255, 255],
            };
            px.extend_from_slice(&c);
        }
    }
    px
}

fn decode_rgb(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory(bytes).unwrap().to_rgb8()
}

fn mean_rgb(img: &image::RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> [f64; 3] {
    let mut s = [0f64; 3];
    let mut n = 0f64;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = img.get_pixel(x, y).0;
            for k in 0..3 {
                s[k] += f64::from(p[k]);
            }
            n += 1.0;
        }
    }
    s.map(|v| v / n.max(1.0))
}

fn close(a: [f64; 3], b: [f64; 3], tol: f64) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

// ---- thumbnails ------------------------------------------------------------

#[test]
fn corpus_images_never_panic_and_fit_the_box() {
    let Some(corpus) = corpus() else { return };
    let spec = ThumbnailSpec {
        max_edge: 96,
        output: OutputFormat::Png,
    };
    let limits = Limits::default();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut ok = 0usize;
    let mut tried = 0usize;
    for path in files_under(&corpus.join("images")) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let detected = detect(&bytes, None).ok().map(|d| d.format);
        let mut formats: Vec<Format> = detected.into_iter().collect();
        formats.extend(format_from_extension(&path).filter(|f| Some(*f) != detected));
        for format in formats {
            if !matches!(
                format,
                Format::Jpeg
                    | Format::Png
                    | Format::Tiff
                    | Format::WebP
                    | Format::Gif
                    | Format::Bmp
            ) {
                continue;
            }
            tried += 1;
            let start = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| {
                thumbnail(&bytes, format, &spec, &limits)
            }));
            let elapsed = start.elapsed();
            let result = result.unwrap_or_else(|_| panic!("panic escaped on {}", path.display()));
            assert!(
                elapsed < Duration::from_secs(20),
                "{} took {elapsed:?}",
                path.display()
            );
            match result {
                Ok(p) => {
                    ok += 1;
                    assert!(p.width <= 96 && p.height <= 96, "{}: {p:?}", path.display());
                    let img = decode_rgb(&p.bytes);
                    assert_eq!((img.width(), img.height()), (p.width, p.height));
                    // The longest edge is 96 unless the image is smaller.
                    let dims = image::ImageReader::new(std::io::Cursor::new(&bytes))
                        .with_guessed_format()
                        .ok()
                        .and_then(|r| r.into_dimensions().ok());
                    if let Some((fw, fh)) = dims {
                        let want = fw.max(fh).min(96);
                        assert_eq!(
                            p.width.max(p.height),
                            want,
                            "{}: {p:?} from {fw}×{fh}",
                            path.display()
                        );
                        if fw.max(fh) >= 96 && fw.min(fh) >= 8 {
                            let a = f64::from(fw.max(fh)) / f64::from(fw.min(fh));
                            let b =
                                f64::from(p.width.max(p.height)) / f64::from(p.width.min(p.height));
                            assert!(
                                (a - b).abs() / a < 0.1,
                                "{}: aspect {a} vs {b}",
                                path.display()
                            );
                        }
                    }
                    *outcomes.entry("ok".into()).or_default() += 1;
                }
                Err(e) => {
                    assert!(!e.code().is_empty());
                    *outcomes.entry(e.code().to_string()).or_default() += 1;
                }
            }
        }
    }
    eprintln!("corpus thumbnails: {tried} tried, {outcomes:?}");
    assert!(tried > 500, "only {tried} images tried");
    assert!(
        ok * 10 > tried * 7,
        "too few thumbnails succeeded: {outcomes:?}"
    );
}

#[test]
fn bombs_are_rejected_quickly() {
    let limits = Limits::default();
    let spec = ThumbnailSpec::default();
    let mut bombs: Vec<(String, Vec<u8>, Format)> = Vec::new();
    if let Some(corpus) = corpus() {
        for name in ["Bad_height.bmp", "Bad_width.bmp"] {
            let p = corpus.join("images/image-rs/tests/bad/bmp").join(name);
            bombs.push((name.into(), std::fs::read(&p).unwrap(), Format::Bmp));
        }
    }
    // A JPEG declaring 65000 × 65000 (a few hundred bytes on disk).
    let mut jpg = rgb_jpeg(16, 16, &[0u8; 16 * 16 * 3], None);
    let sof = jpg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpg[sof + 5..sof + 9].copy_from_slice(&[0xFD, 0xE8, 0xFD, 0xE8]);
    bombs.push(("jpeg 65000²".into(), jpg, Format::Jpeg));
    for (name, bytes, format) in &bombs {
        let start = Instant::now();
        let err = thumbnail(bytes, *format, &spec, &limits).unwrap_err();
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "{name}: {:?}",
            start.elapsed()
        );
        assert!(
            matches!(err.code(), "image_too_large" | "file_undecodable"),
            "{name}: {err}"
        );
    }
    // A real image over a lowered limit, like Pillow's MAX_IMAGE_PIXELS.
    let big = rgb_jpeg(2000, 1500, &vec![90u8; 2000 * 1500 * 3], None);
    let tight = Limits {
        max_pixels: 1_000_000,
        ..Limits::default()
    };
    let start = Instant::now();
    let err = thumbnail(&big, Format::Jpeg, &spec, &tight).unwrap_err();
    assert_eq!(err.code(), "image_too_large");
    assert!(
        start.elapsed() < Duration::from_millis(50),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn aspect_ratio_max_edge_and_no_enlargement() {
    let spec = |max_edge| ThumbnailSpec {
        max_edge,
        output: OutputFormat::Jpeg { quality: 85 },
    };
    let jpg = rgb_jpeg(1200, 500, &quadrants(1200, 500), None);
    let p = thumbnail(&jpg, Format::Jpeg, &spec(400), &Limits::default()).unwrap();
    assert_eq!((p.width, p.height, p.mime), (400, 167, "image/jpeg"));
    let img = decode_rgb(&p.bytes);
    assert_eq!(img.dimensions(), (400, 167));
    // Colours survive shrink-on-load + resampling.
    assert!(close(
        mean_rgb(&img, 10, 10, 190, 70),
        [255.0, 0.0, 0.0],
        12.0
    ));
    assert!(close(
        mean_rgb(&img, 210, 95, 390, 160),
        [255.0, 255.0, 255.0],
        12.0
    ));

    let png = {
        let mut out = Vec::new();
        image::RgbImage::from_raw(300, 900, quadrants(300, 900))
            .unwrap()
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    for (output, mime) in [
        (OutputFormat::Png, "image/png"),
        (OutputFormat::WebP, "image/webp"),
    ] {
        let s = ThumbnailSpec {
            max_edge: 400,
            output,
        };
        let p = thumbnail(&png, Format::Png, &s, &Limits::default()).unwrap();
        assert_eq!((p.width, p.height, p.mime), (133, 400, mime));
        assert_eq!(decode_rgb(&p.bytes).dimensions(), (133, 400));
    }
    // Smaller than the box: not enlarged.
    let p = thumbnail(&png, Format::Png, &spec(1000), &Limits::default()).unwrap();
    assert_eq!((p.width, p.height), (300, 900));
    assert_eq!(
        thumbnail(&png, Format::Png, &spec(0), &Limits::default())
            .unwrap_err()
            .code(),
        "processing_invalid_request"
    );
}

#[test]
fn exif_orientation_is_applied() {
    // Stored 400 × 200, EXIF 6: displayed rotated 90° clockwise (200 × 400),
    // so the stored bottom-left (blue) quadrant is displayed top-left.
    let jpg = rgb_jpeg(400, 200, &quadrants(400, 200), Some(6));
    let spec = ThumbnailSpec {
        max_edge: 100,
        output: OutputFormat::Png,
    };
    let p = thumbnail(&jpg, Format::Jpeg, &spec, &Limits::default()).unwrap();
    assert_eq!((p.width, p.height), (50, 100));
    let img = decode_rgb(&p.bytes);
    assert!(
        close(mean_rgb(&img, 3, 3, 22, 45), [0.0, 0.0, 255.0], 20.0),
        "top left"
    );
    assert!(
        close(mean_rgb(&img, 28, 3, 47, 45), [255.0, 0.0, 0.0], 20.0),
        "top right"
    );
    assert!(
        close(mean_rgb(&img, 28, 55, 47, 97), [0.0, 255.0, 0.0], 20.0),
        "bottom right"
    );

    // Pillow's hopper_orientation_N.jpg all display like hopper.jpg.
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("images/pillow/Tests/images");
    let thumb = |name: &str, format| {
        let b = std::fs::read(dir.join(name)).unwrap();
        decode_rgb(
            &thumbnail(&b, format, &spec, &Limits::default())
                .unwrap()
                .bytes,
        )
    };
    let reference = thumb("hopper.jpg", Format::Jpeg);
    for (n, format) in [
        (2, Format::Jpeg),
        (3, Format::WebP),
        (5, Format::WebP),
        (6, Format::Jpeg),
        (7, Format::Jpeg),
        (8, Format::Jpeg),
    ] {
        let ext = if format == Format::Jpeg {
            "jpg"
        } else {
            "webp"
        };
        let t = thumb(&format!("hopper_orientation_{n}.{ext}"), format);
        assert_eq!(t.dimensions(), reference.dimensions());
        let diff: f64 = t
            .as_raw()
            .iter()
            .zip(reference.as_raw())
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / t.as_raw().len() as f64;
        assert!(diff < 12.0, "orientation {n}: mean difference {diff}");
    }
}

/// Ink patches (C, M, Y, K as 0–255) side by side, 32 px each.
const PATCHES: [[u8; 4]; 6] = [
    [0, 0, 0, 0],
    [255, 0, 0, 0],
    [0, 255, 0, 0],
    [0, 0, 255, 0],
    [0, 0, 0, 255],
    [0, 255, 255, 0],
];

fn cmyk_patches_jpeg(ycck: bool) -> Vec<u8> {
    let (w, h) = (32 * PATCHES.len() as u16, 32u16);
    let mut px = Vec::new();
    for _ in 0..h {
        for x in 0..w {
            px.extend_from_slice(&PATCHES[usize::from(x / 32)]);
        }
    }
    let ct = if ycck {
        jpeg_encoder::ColorType::CmykAsYcck
    } else {
        jpeg_encoder::ColorType::Cmyk
    };
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(&px, w, h, ct)
        .unwrap();
    out
}

/// What each patch must roughly look like in sRGB.
fn plausible(patch: [u8; 4], rgb: [f64; 3]) -> bool {
    let [r, g, b] = rgb;
    match patch {
        [0, 0, 0, 0] => r > 235.0 && g > 235.0 && b > 225.0,
        [255, 0, 0, 0] => r < 80.0 && g > 120.0 && b > 180.0,
        [0, 255, 0, 0] => r > 180.0 && g < 80.0 && b > 80.0,
        [0, 0, 255, 0] => r > 220.0 && g > 200.0 && b < 80.0,
        [0, 0, 0, 255] => r < 70.0 && g < 70.0 && b < 70.0,
        [0, 255, 255, 0] => r > 180.0 && g < 80.0 && b < 80.0,
        _ => false,
    }
}

#[test]
fn cmyk_and_ycck_jpegs_preview_with_plausible_colours() {
    let spec = ThumbnailSpec {
        max_edge: 96,
        output: OutputFormat::Png,
    };
    for ycck in [false, true] {
        let jpg = cmyk_patches_jpeg(ycck);
        let p = thumbnail(&jpg, Format::Jpeg, &spec, &Limits::default()).unwrap();
        assert_eq!((p.width, p.height), (96, 16));
        let img = decode_rgb(&p.bytes);
        for (i, patch) in PATCHES.iter().enumerate() {
            let x0 = i as u32 * 16;
            let m = mean_rgb(&img, x0 + 4, 4, x0 + 12, 12);
            assert!(plausible(*patch, m), "ycck={ycck} patch {patch:?} → {m:?}");
        }
        // ImageMagick as an independent decoder (naive CMYK → RGB, so only
        // loosely comparable: the ICC conversion is less saturated).
        let Some(convert) = imagemagick() else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("cmyk.jpg");
        let dst = dir.path().join("ref.png");
        std::fs::write(&src, &jpg).unwrap();
        let st = Command::new(&convert)
            .args([
                src.as_os_str(),
                "-colorspace".as_ref(),
                "sRGB".as_ref(),
                dst.as_os_str(),
            ])
            .status()
            .unwrap();
        assert!(st.success());
        let reference = image::open(&dst).unwrap().to_rgb8();
        for (i, patch) in PATCHES.iter().enumerate() {
            let x0 = i as u32 * 32;
            let theirs = mean_rgb(&reference, x0 + 8, 8, x0 + 24, 24);
            let ours = mean_rgb(&img, x0 / 2 + 4, 4, x0 / 2 + 12, 12);
            assert!(
                close(ours, theirs, 135.0),
                "ycck={ycck} patch {patch:?}: ours {ours:?}, ImageMagick {theirs:?}"
            );
        }
    }
}

/// The real ImageMagick (`/usr/local/bin/convert` may be a sandbox shim).
fn imagemagick() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/convert");
    let real = Command::new(&p)
        .arg("-version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("ImageMagick"));
    if real {
        Some(p)
    } else {
        eprintln!("SKIP: ImageMagick comparison (no /usr/bin/convert)");
        None
    }
}

// ---- colour ------------------------------------------------------------------

#[test]
fn rgb_to_cmyk_known_colours_and_coverage() {
    for intent in [Intent::Perceptual, Intent::RelativeColorimetric] {
        let t = RgbToCmyk::default_for(intent).unwrap();
        let px = [[255u8, 255, 255], [0, 0, 0], [255, 0, 0]];
        let raster = Raster::new(3, 1, PixelLayout::Rgb8, px.concat()).unwrap();
        let conv = t.convert_raster(raster).unwrap();
        let out: Vec<&[u8]> = conv.raster.data.chunks_exact(4).collect();
        assert_eq!(out[0], [0, 0, 0, 0], "{intent:?}: white is paper");
        let black = tac_of_cmyk(out[1]);
        assert!(out[1][3] > 217, "{intent:?}: black K {:?}", out[1]);
        assert!(
            black.max_percent <= DEFAULT_CMYK_TAC_LIMIT + 1.0,
            "{intent:?}: {black:?}"
        );
        let red = out[2];
        assert!(
            red[1] > 200 && red[2] > 200 && red[0] < 25 && red[3] < 25,
            "{intent:?}: red {red:?}"
        );
        assert!((conv.tac.max_percent - black.max_percent).abs() < 1e-9);
        assert!(conv.tac.max_percent > 250.0);
    }
}

// ---- conversion --------------------------------------------------------------

struct Boxes {
    media: [f64; 4],
    bleed: [f64; 4],
    trim: [f64; 4],
}

fn pdfinfo_boxes(pdfinfo: &Path, pdf: &Path) -> Boxes {
    let out = Command::new(pdfinfo).arg("-box").arg(pdf).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let get = |name: &str| -> [f64; 4] {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"));
        let v: Vec<f64> = line[name.len() + 1..]
            .split_whitespace()
            .map(|s| s.parse().unwrap())
            .collect();
        [v[0], v[1], v[2], v[3]]
    };
    Boxes {
        media: get("MediaBox"),
        bleed: get("BleedBox"),
        trim: get("TrimBox"),
    }
}

fn assert_box(got: [f64; 4], want: [f64; 4], what: &str) {
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 0.011, "{what}: {got:?} vs {want:?}");
    }
}

#[test]
fn raster_to_print_pdf_has_boxes_and_passes_qpdf() {
    let (Some(qpdf), Some(pdfinfo)) = (tool("qpdf"), tool("pdfinfo")) else {
        return;
    };
    let pdftoppm = tool("pdftoppm");
    let mm = 72.0 / 25.4;
    let spec = PrintSpec {
        trim_width_mm: 148.0,
        trim_height_mm: 210.0,
        bleed_mm: 3.0,
        convert_to_cmyk: None,
    };
    let png_rgba = {
        let mut img = image::RgbaImage::from_pixel(300, 200, image::Rgba([0, 0, 255, 255]));
        img.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    // (name, file, format, spec, passthrough expected, colour, tolerance)
    type Case = (
        &'static str,
        Vec<u8>,
        Format,
        PrintSpec,
        bool,
        [f64; 3],
        f64,
    );
    let cases: Vec<Case> = vec![
        (
            "jpeg",
            rgb_jpeg(600, 900, &[255u8, 0, 0].repeat(600 * 900), Some(1)),
            Format::Jpeg,
            spec,
            true,
            [255.0, 0.0, 0.0],
            45.0,
        ),
        (
            "cmyk-jpeg",
            // All cyan ink: Adobe-inverted data must stay cyan in the PDF.
            {
                let mut out = Vec::new();
                jpeg_encoder::Encoder::new(&mut out, 95)
                    .encode(
                        &[255u8, 0, 0, 0].repeat(64 * 64),
                        64,
                        64,
                        jpeg_encoder::ColorType::Cmyk,
                    )
                    .unwrap();
                out
            },
            Format::Jpeg,
            spec,
            true,
            [0.0, 160.0, 230.0],
            45.0,
        ),
        (
            "png",
            png_rgba,
            Format::Png,
            spec,
            false,
            [0.0, 0.0, 255.0],
            45.0,
        ),
        (
            "jpeg-to-cmyk",
            rgb_jpeg(64, 64, &[0u8, 160, 60].repeat(64 * 64), None),
            Format::Jpeg,
            PrintSpec {
                convert_to_cmyk: Some(Intent::Perceptual),
                ..spec
            },
            false,
            // Out of the press gamut: the round trip through CMYK shifts it.
            [0.0, 160.0, 60.0],
            70.0,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, format, spec, passthrough, colour, tol) in cases {
        let pdf = raster_to_pdf(&bytes, format, &spec, &Limits::default()).unwrap();
        assert_eq!(pdf.jpeg_passthrough, passthrough, "{name}");
        assert_eq!(pdf.tac.is_some(), spec.convert_to_cmyk.is_some(), "{name}");
        let path = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf.bytes).unwrap();
        let check = Command::new(&qpdf)
            .arg("--check")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{name}: qpdf --check: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let b = pdfinfo_boxes(&pdfinfo, &path);
        let (w, h) = (154.0 * mm, 216.0 * mm);
        assert_box(b.media, [0.0, 0.0, w, h], name);
        assert_box(b.bleed, [0.0, 0.0, w, h], name);
        assert_box(
            b.trim,
            [3.0 * mm, 3.0 * mm, w - 3.0 * mm, h - 3.0 * mm],
            name,
        );
        // The image covers the page: render it (ours and poppler's) and
        // check the centre colour.
        let ours = render_page(&pdf.bytes, 0, PageSize::Dpi(20.0), &Limits::default()).unwrap();
        let img =
            image::RgbImage::from_raw(ours.raster.width, ours.raster.height, ours.raster.data)
                .unwrap();
        let (cw, ch) = img.dimensions();
        let centre = mean_rgb(&img, cw / 4, ch / 4, cw * 3 / 4, ch * 3 / 4);
        assert!(
            close(centre, colour, tol),
            "{name}: hayro centre {centre:?}"
        );
        let corner = mean_rgb(&img, 0, 0, 3, 3);
        assert!(
            close(corner, colour, tol + 15.0),
            "{name}: hayro corner {corner:?} (cover)"
        );
        if let Some(pdftoppm) = &pdftoppm {
            let prefix = dir.path().join(format!("{name}-poppler"));
            let st = Command::new(pdftoppm)
                .args(["-r", "20", "-png", "-singlefile"])
                .arg(&path)
                .arg(&prefix)
                .status()
                .unwrap();
            assert!(st.success());
            let theirs = image::open(prefix.with_extension("png")).unwrap().to_rgb8();
            let (tw, th) = theirs.dimensions();
            let c = mean_rgb(&theirs, tw / 4, th / 4, tw * 3 / 4, th * 3 / 4);
            assert!(close(c, colour, tol), "{name}: poppler centre {c:?}");
        }
    }
    // Effective resolution: 600 px over 154 mm (cover is width-bound here).
    let jpg = rgb_jpeg(600, 900, &[0u8; 600 * 900 * 3], None);
    let pdf = raster_to_pdf(&jpg, Format::Jpeg, &spec, &Limits::default()).unwrap();
    let expect = (600.0f64 / (154.0 / 25.4)).min(900.0 / (216.0 / 25.4));
    assert!((pdf.effective_ppi - expect).abs() < 0.01, "{pdf:?}");
    let bad = PrintSpec {
        bleed_mm: -1.0,
        ..spec
    };
    assert_eq!(
        raster_to_pdf(&jpg, Format::Jpeg, &bad, &Limits::default())
            .unwrap_err()
            .code(),
        "processing_invalid_request"
    );
}

// ---- PDF pages ---------------------------------------------------------------

#[test]
fn corpus_pdf_pages_render_at_the_expected_size() {
    let Some(corpus) = corpus() else { return };
    let pdfinfo = tool("pdfinfo");
    let file = corpus.join("pdf/pypdf-sample-files/003-pdflatex-image/pdflatex-image.pdf");
    let bytes = std::fs::read(&file).unwrap();
    // A4: 595.276 × 841.89 pt at 72 dpi.
    if let Some(pdfinfo) = pdfinfo {
        let out = Command::new(pdfinfo).arg(&file).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("595.276 x 841.89"), "{text}");
    }
    let spec = PageRenderSpec {
        page_index: 0,
        size: PageSize::Dpi(72.0),
        output: OutputFormat::Png,
    };
    let p = render_pdf_page(&bytes, &spec, &Limits::default()).unwrap();
    assert_eq!((p.width, p.height), (595, 841));
    assert_eq!(decode_rgb(&p.bytes).dimensions(), (595, 841));
    let spec = PageRenderSpec {
        size: PageSize::MaxEdge(400),
        output: OutputFormat::Jpeg { quality: 80 },
        ..spec
    };
    let p = pdf_page_to_image(&bytes, &spec, &Limits::default()).unwrap();
    assert_eq!((p.width.max(p.height), p.mime), (400, "image/jpeg"));
    assert!(
        p.width
            .abs_diff((595.276f32 * 400.0 / 841.89).round() as u32)
            <= 1
    );
    // Thumbnails of PDFs are of the first page.
    let t = thumbnail(
        &bytes,
        Format::Pdf,
        &ThumbnailSpec::default(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(t.height, 400);
    // Page out of range, too large a render.
    let spec = PageRenderSpec {
        page_index: 5,
        ..spec
    };
    assert_eq!(
        render_pdf_page(&bytes, &spec, &Limits::default())
            .unwrap_err()
            .code(),
        "page_out_of_range"
    );
    let spec = PageRenderSpec {
        page_index: 0,
        size: PageSize::Dpi(5000.0),
        ..spec
    };
    assert_eq!(
        render_pdf_page(&bytes, &spec, &Limits::default())
            .unwrap_err()
            .code(),
        "image_too_large"
    );
}

#[test]
fn corpus_pdfs_render_or_fail_cleanly() {
    let Some(corpus) = corpus() else { return };
    let spec = PageRenderSpec {
        page_index: 0,
        size: PageSize::MaxEdge(64),
        output: OutputFormat::Png,
    };
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let files: Vec<PathBuf> = files_under(&corpus.join("pdf"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    // Every 8th file keeps the debug-build test short; all pypdf samples.
    let picked: Vec<&PathBuf> = files
        .iter()
        .enumerate()
        .filter(|(i, p)| i % 8 == 0 || p.to_string_lossy().contains("pypdf"))
        .map(|(_, p)| p)
        .collect();
    for path in &picked {
        let bytes = std::fs::read(path).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| {
            render_pdf_page(&bytes, &spec, &Limits::default())
        }))
        .unwrap_or_else(|_| panic!("panic escaped on {}", path.display()));
        let key = match r {
            Ok(p) => {
                assert_eq!(p.width.max(p.height), 64, "{}", path.display());
                "ok".to_string()
            }
            Err(e) => e.code().to_string(),
        };
        *outcomes.entry(key).or_default() += 1;
    }
    eprintln!("corpus PDF renders: {} files, {outcomes:?}", picked.len());
    let ok = outcomes.get("ok").copied().unwrap_or(0);
    assert!(
        picked.len() > 100 && ok * 10 > picked.len() * 8,
        "{outcomes:?}"
    );
}
