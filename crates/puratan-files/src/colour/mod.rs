//! Colour conversion through ICC profiles (pure Rust, `moxcms`).
//!
//! * [`RgbToCmyk`] — RGB → CMYK for print, from sRGB (or the image's own
//!   RGB profile) to a CMYK output profile, by default the shipped FOGRA39
//!   profile with a 320 % ink limit ([`CmykProfile::default_profile`]);
//!   perceptual or relative colorimetric ([`Intent`]).
//! * [`tac_of_cmyk`] — total area coverage of a CMYK raster (max and 99.9th
//!   percentile), reported after every conversion.
//! * [`cmyk_to_rgb`] — CMYK → sRGB for previews of CMYK artwork, through the
//!   file's embedded CMYK profile or the default one.
//!
//! ```
//! use puratan_files::colour::{Intent, RgbToCmyk};
//!
//! let t = RgbToCmyk::default_for(Intent::Perceptual).unwrap();
//! let mut cmyk = [0u8; 8];
//! t.convert(&[255, 255, 255, 0, 0, 0], &mut cmyk);
//! assert_eq!(cmyk[..4], [0, 0, 0, 0]); // white paper: no ink
//! let tac = puratan_files::colour::tac_of_cmyk(&cmyk[4..]);
//! assert!(tac.max_percent <= 320.5); // black stays within the ink limit
//! ```

mod lut;
mod profile;
mod tac;
mod to_rgb;

use std::sync::{Arc, OnceLock};

use moxcms::{RenderingIntent, TransformOptions};

pub use profile::{CmykProfile, DEFAULT_CMYK_ICC, DEFAULT_CMYK_TAC_LIMIT};
pub use tac::{Tac, TacHistogram, tac_of_cmyk};
pub use to_rgb::cmyk_to_rgb;

use crate::error::FilesError;
use crate::preview::{PixelLayout, Raster};
use lut::Lut3;

/// ICC rendering intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Intent {
    /// Compresses the whole source gamut into the printable one (photos).
    #[default]
    Perceptual,
    /// Keeps in-gamut colours exact and clips the rest (logos, brand colours).
    RelativeColorimetric,
}

impl Intent {
    fn options(self) -> TransformOptions {
        TransformOptions {
            rendering_intent: match self {
                Intent::Perceptual => RenderingIntent::Perceptual,
                Intent::RelativeColorimetric => RenderingIntent::RelativeColorimetric,
            },
            ..TransformOptions::default()
        }
    }
}

/// A prepared RGB → CMYK conversion. Creating one costs a few milliseconds
/// (profile pipeline + 33³ grid); reuse it, or use [`RgbToCmyk::default_for`]
/// which is cached per process.
#[derive(Debug, Clone)]
pub struct RgbToCmyk {
    lut: Arc<Lut3>,
    intent: Intent,
}

/// The result of converting a raster to CMYK.
#[derive(Debug, Clone)]
pub struct CmykConversion {
    /// `PixelLayout::Cmyk8`, ink amounts (0 = none).
    pub raster: Raster,
    /// Coverage after conversion.
    pub tac: Tac,
}

impl RgbToCmyk {
    /// From `source_icc` (an RGB profile; `None`, unparsable or non-RGB
    /// means sRGB) to `destination`.
    pub fn new(
        source_icc: Option<&[u8]>,
        destination: &CmykProfile,
        intent: Intent,
    ) -> Result<Self, FilesError> {
        let src = profile::rgb_source(source_icc);
        let lut = Lut3::build(&src, &destination.profile, intent.options())?;
        Ok(Self {
            lut: Arc::new(lut),
            intent,
        })
    }

    /// sRGB → the shipped FOGRA39 profile, built once per process and intent.
    pub fn default_for(intent: Intent) -> Result<Self, FilesError> {
        static PERCEPTUAL: OnceLock<Result<RgbToCmyk, String>> = OnceLock::new();
        static RELATIVE: OnceLock<Result<RgbToCmyk, String>> = OnceLock::new();
        let cell = match intent {
            Intent::Perceptual => &PERCEPTUAL,
            Intent::RelativeColorimetric => &RELATIVE,
        };
        cell.get_or_init(|| {
            RgbToCmyk::new(None, CmykProfile::default_profile(), intent).map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|reason| FilesError::Colour { reason })
    }

    /// The rendering intent this conversion uses.
    pub fn intent(&self) -> Intent {
        self.intent
    }

    /// Converts interleaved RGB to interleaved CMYK, as many whole pixels as
    /// both slices hold.
    pub fn convert(&self, rgb: &[u8], cmyk: &mut [u8]) {
        self.lut.apply_rgb(rgb, cmyk);
    }

    /// Converts a Gray8/Rgb8/Rgba8 raster (transparency composited over
    /// white paper) and measures the ink coverage. A CMYK raster is returned
    /// as it is, with its coverage.
    pub fn convert_raster(&self, raster: Raster) -> Result<CmykConversion, FilesError> {
        if raster.layout == PixelLayout::Cmyk8 {
            let tac = tac_of_cmyk(&raster.data);
            return Ok(CmykConversion { raster, tac });
        }
        let rgb = raster.to_opaque_rgb();
        let pixels = rgb.width as usize * rgb.height as usize;
        let mut out = vec![0u8; pixels * 4];
        self.convert_parallel(&rgb.data, &mut out);
        let tac = tac_of_cmyk(&out);
        let raster = Raster::new(rgb.width, rgb.height, PixelLayout::Cmyk8, out).ok_or(
            FilesError::InvalidRequest {
                reason: "raster size does not match its buffer",
            },
        )?;
        Ok(CmykConversion { raster, tac })
    }

    /// Splits large rasters over the available cores (scoped threads; the
    /// work is embarrassingly parallel per row).
    fn convert_parallel(&self, rgb: &[u8], out: &mut [u8]) {
        const MIN_PIXELS_PER_THREAD: usize = 256 * 1024;
        let pixels = out.len() / 4;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(pixels / MIN_PIXELS_PER_THREAD)
            .max(1);
        if threads == 1 {
            self.convert(rgb, out);
            return;
        }
        let per = pixels.div_ceil(threads);
        std::thread::scope(|s| {
            for (src, dst) in rgb.chunks(per * 3).zip(out.chunks_mut(per * 4)) {
                s.spawn(move || self.convert(src, dst));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(t: &RgbToCmyk, rgb: [u8; 3]) -> [u8; 4] {
        let mut out = [0u8; 4];
        t.convert(&rgb, &mut out);
        out
    }

    fn pct(v: u8) -> f64 {
        f64::from(v) * 100.0 / 255.0
    }

    #[test]
    fn known_colours() {
        for intent in [Intent::Perceptual, Intent::RelativeColorimetric] {
            let t = RgbToCmyk::default_for(intent).unwrap();
            assert_eq!(one(&t, [255, 255, 255]), [0, 0, 0, 0], "{intent:?} white");
            let black = one(&t, [0, 0, 0]);
            let tac = tac_of_cmyk(&black);
            assert!(pct(black[3]) > 85.0, "{intent:?} black K {black:?}");
            assert!(
                tac.max_percent <= DEFAULT_CMYK_TAC_LIMIT + 1.0,
                "{intent:?} {tac:?}"
            );
            let [c, m, y, k] = one(&t, [255, 0, 0]);
            assert!(
                pct(m) > 80.0 && pct(y) > 80.0,
                "{intent:?} red {c} {m} {y} {k}"
            );
            assert!(
                pct(c) < 10.0 && pct(k) < 10.0,
                "{intent:?} red {c} {m} {y} {k}"
            );
            let [c, m, y, _] = one(&t, [0, 0, 255]);
            assert!(
                pct(c) > 80.0 && pct(m) > 50.0 && pct(y) < 10.0,
                "{intent:?} blue"
            );
            let [c, m, y, k] = one(&t, [128, 128, 128]);
            assert!(
                c > m && m.abs_diff(y) < 20 && k > 0,
                "{intent:?} grey {c} {m} {y} {k}"
            );
        }
    }

    #[test]
    fn raster_conversion_reports_coverage() {
        let t = RgbToCmyk::default_for(Intent::Perceptual).unwrap();
        let mut data = [255u8, 255, 255].repeat(999);
        data.extend([0u8, 0, 0]);
        let r = Raster::new(1000, 1, PixelLayout::Rgb8, data).unwrap();
        let conv = t.convert_raster(r).unwrap();
        assert_eq!(conv.raster.layout, PixelLayout::Cmyk8);
        assert!(
            conv.tac.max_percent > 250.0 && conv.tac.max_percent <= 321.0,
            "{:?}",
            conv.tac
        );
        assert_eq!(conv.tac.p999_percent, 0.0);
        // Large rasters take the threaded path and give the same result.
        let big = Raster::new(
            1024,
            1024,
            PixelLayout::Rgb8,
            [10u8, 120, 240].repeat(1024 * 1024),
        )
        .unwrap();
        let conv = t.convert_raster(big).unwrap();
        let first = one(&t, [10, 120, 240]);
        assert!(conv.raster.data.chunks_exact(4).all(|p| p == first));
    }
}
