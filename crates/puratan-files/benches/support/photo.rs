//! The benchmark photo: an 8000 × 6000 JPEG at quality 90, made once.
//!
//! A real photograph (the classic "Mandrill", 512 × 512, from the corpus's
//! image-rs TIFF test suite) scaled up to cover 8000 × 6000, plus
//! deterministic sensor-like grain so the entropy-coded data is as dense as
//! a real 48 MP camera file (~10 MB) rather than a smooth upscale. Without
//! the corpus, a gradient + noise image stands in. Shared by the criterion
//! bench and `examples/thumbnail.rs` (included with `#[path]`).

use std::path::{Path, PathBuf};

use puratan_files::Format;
use puratan_files::preview::{Limits, PixelLayout, Raster, load_upright};

pub const WIDTH: u32 = 8000;
pub const HEIGHT: u32 = 6000;

/// The shared corpus, if present.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PURATAN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    dir.is_dir().then_some(dir)
}

fn source_photo() -> Option<Raster> {
    let path = corpus()?.join("images/image-rs/tests/images/tiff/testsuite/mandrill.tiff");
    let bytes = std::fs::read(path).ok()?;
    load_upright(&bytes, Format::Tiff, None, &Limits::default()).ok()
}

/// Cover-scales `src` to WIDTH × HEIGHT (centre crop) with a plain bilinear
/// sampler: only the input of the benchmark, not what is measured.
fn cover(src: &Raster) -> Vec<u8> {
    let (sw, sh) = (src.width as f64, src.height as f64);
    let scale = (f64::from(WIDTH) / sw).max(f64::from(HEIGHT) / sh);
    let (ox, oy) = (
        (sw * scale - f64::from(WIDTH)) / 2.0,
        (sh * scale - f64::from(HEIGHT)) / 2.0,
    );
    let ch = src.layout.channels();
    let mut out = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
    for y in 0..HEIGHT {
        let fy = ((f64::from(y) + oy) / scale).clamp(0.0, sh - 1.001);
        let (y0, ty) = (fy as usize, fy.fract());
        for x in 0..WIDTH {
            let fx = ((f64::from(x) + ox) / scale).clamp(0.0, sw - 1.001);
            let (x0, tx) = (fx as usize, fx.fract());
            for k in 0..3 {
                let at = |xx: usize, yy: usize| {
                    f64::from(src.data[(yy * src.width as usize + xx) * ch + k.min(ch - 1)])
                };
                let top = at(x0, y0) * (1.0 - tx) + at(x0 + 1, y0) * tx;
                let bottom = at(x0, y0 + 1) * (1.0 - tx) + at(x0 + 1, y0 + 1) * tx;
                out.push((top * (1.0 - ty) + bottom * ty) as u8);
            }
        }
    }
    out
}

fn synthetic() -> Vec<u8> {
    let mut out = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let r = (x * 255 / WIDTH) as u8;
            let g = (y * 255 / HEIGHT) as u8;
            let b = ((x + y) % 512 / 2) as u8;
            out.extend_from_slice(&[r, g, b]);
        }
    }
    out
}

/// Writes the benchmark JPEG to `path` (returns whether the real photo was used).
pub fn make(path: &Path) -> std::io::Result<bool> {
    let photo = source_photo().filter(|r| r.layout == PixelLayout::Rgb8);
    let real = photo.is_some();
    let mut px = match &photo {
        Some(r) => cover(r),
        None => synthetic(),
    };
    // Grain: ±8 levels, luminance-correlated like sensor noise (xorshift).
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    for p in px.chunks_exact_mut(3) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let n = (s % 17) as i16 - 8;
        for c in p {
            *c = (i16::from(*c) + n).clamp(0, 255) as u8;
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(
            &px,
            WIDTH as u16,
            HEIGHT as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, out)?;
    Ok(real)
}

/// The benchmark JPEG, generated on first use (the bench uses it, the example
/// writes to a path it is given).
#[allow(dead_code)]
pub fn ensure() -> PathBuf {
    let path = std::env::temp_dir().join("puratan-bench/photo-8000x6000-q90.jpg");
    if !path.is_file()
        && let Err(e) = make(&path)
    {
        panic!("cannot write {}: {e}", path.display());
    }
    path
}
