//! Processing benchmarks: the 8000 × 6000 → 400 px thumbnail, RGB → CMYK of
//! a 3 MP image, and a PDF page render.
//!
//! `cargo bench -p puratan-files --bench processing`

#[path = "support/photo.rs"]
mod photo;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use puratan_files::Format;
use puratan_files::colour::{Intent, RgbToCmyk};
use puratan_files::convert::{PrintSpec, raster_to_pdf};
use puratan_files::preview::{
    Limits, OutputFormat, PageSize, PixelLayout, Raster, ThumbnailSpec, render_page, thumbnail,
};

fn thumbnails(c: &mut Criterion) {
    let path = photo::ensure();
    let bytes = std::fs::read(&path).unwrap_or_default();
    let spec = ThumbnailSpec {
        max_edge: 400,
        output: OutputFormat::Jpeg { quality: 85 },
    };
    let mut g = c.benchmark_group("thumbnail");
    g.sample_size(10);
    g.bench_function("jpeg_8000x6000_to_400", |b| {
        b.iter(|| thumbnail(black_box(&bytes), Format::Jpeg, &spec, &Limits::default()))
    });
    g.finish();
}

/// A 2048 × 1536 (3.1 MP) photo-like RGB raster.
fn rgb_3mp() -> Raster {
    let (w, h) = (2048u32, 1536u32);
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    let mut s = 1u32;
    for y in 0..h {
        for x in 0..w {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let n = (s >> 28) as u8;
            data.extend_from_slice(&[
                (x * 255 / w) as u8 ^ n,
                (y * 255 / h) as u8,
                ((x + y) / 16) as u8 ^ n,
            ]);
        }
    }
    Raster::new(w, h, PixelLayout::Rgb8, data).unwrap_or_else(|| unreachable!())
}

fn colour(c: &mut Criterion) {
    let raster = rgb_3mp();
    let mut g = c.benchmark_group("colour");
    g.sample_size(20);
    for intent in [Intent::Perceptual, Intent::RelativeColorimetric] {
        let t = RgbToCmyk::default_for(intent).unwrap_or_else(|e| panic!("{e}"));
        g.bench_function(format!("rgb_to_cmyk_3mp_{intent:?}"), |b| {
            b.iter(|| t.convert_raster(black_box(raster.clone())))
        });
    }
    // The per-pixel kernel alone, one thread, no allocation or TAC.
    let t = RgbToCmyk::default_for(Intent::Perceptual).unwrap_or_else(|e| panic!("{e}"));
    let mut out = vec![0u8; raster.data.len() / 3 * 4];
    g.bench_function("rgb_to_cmyk_3mp_kernel_1thread", |b| {
        b.iter(|| t.convert(black_box(&raster.data), &mut out))
    });
    g.bench_function("prepare_transform", |b| {
        b.iter(|| {
            RgbToCmyk::new(
                None,
                puratan_files::colour::CmykProfile::default_profile(),
                Intent::Perceptual,
            )
        })
    });
    g.finish();
}

fn pdf(c: &mut Criterion) {
    // A text + image page from the corpus (pdfLaTeX, A4); without the corpus
    // a print PDF made from a JPEG.
    let bytes = photo::corpus()
        .and_then(|d| {
            std::fs::read(d.join("pdf/pypdf-sample-files/003-pdflatex-image/pdflatex-image.pdf"))
                .ok()
        })
        .unwrap_or_else(|| {
            let jpg = std::fs::read(photo::ensure()).unwrap_or_default();
            let spec = PrintSpec {
                trim_width_mm: 210.0,
                trim_height_mm: 297.0,
                bleed_mm: 3.0,
                convert_to_cmyk: None,
            };
            raster_to_pdf(&jpg, Format::Jpeg, &spec, &Limits::default())
                .map(|p| p.bytes)
                .unwrap_or_default()
        });
    let mut g = c.benchmark_group("pdf");
    g.sample_size(10);
    for dpi in [72.0f32, 150.0] {
        g.bench_function(format!("render_a4_page_{dpi}dpi"), |b| {
            b.iter(|| render_page(black_box(&bytes), 0, PageSize::Dpi(dpi), &Limits::default()))
        });
    }
    g.finish();
}

criterion_group!(benches, thumbnails, colour, pdf);
criterion_main!(benches);
