//! CMYK → sRGB for previews.

use std::sync::{Arc, OnceLock};

use moxcms::{
    ColorProfile, DataColorSpace, Layout, RenderingIntent, Transform8BitExecutor, TransformOptions,
};

use super::profile::{CmykProfile, colour_error};
use crate::error::FilesError;
use crate::preview::{PixelLayout, Raster};

fn transform(source: &ColorProfile) -> Result<Arc<Transform8BitExecutor>, FilesError> {
    source
        .create_transform_8bit(
            Layout::Rgba,
            &ColorProfile::new_srgb(),
            Layout::Rgb,
            TransformOptions {
                rendering_intent: RenderingIntent::RelativeColorimetric,
                ..TransformOptions::default()
            },
        )
        .map_err(colour_error)
}

fn default_transform() -> Result<Arc<Transform8BitExecutor>, FilesError> {
    static T: OnceLock<Result<Arc<Transform8BitExecutor>, String>> = OnceLock::new();
    T.get_or_init(|| transform(&CmykProfile::default_profile().profile).map_err(|e| e.to_string()))
        .clone()
        .map_err(|reason| FilesError::Colour { reason })
}

/// Converts a CMYK raster (ink amounts) to sRGB through `source_icc` when it
/// is a usable CMYK profile (e.g. embedded in the JPEG), else through the
/// default FOGRA39 profile. Other layouts are returned unchanged.
pub fn cmyk_to_rgb(raster: Raster, source_icc: Option<&[u8]>) -> Result<Raster, FilesError> {
    if raster.layout != PixelLayout::Cmyk8 {
        return Ok(raster);
    }
    let embedded = source_icc
        .and_then(|b| ColorProfile::new_from_slice(b).ok())
        .filter(|p| p.color_space == DataColorSpace::Cmyk)
        .and_then(|p| transform(&p).ok());
    let t = match embedded {
        Some(t) => t,
        None => default_transform()?,
    };
    let pixels = raster.width as usize * raster.height as usize;
    let mut out = vec![0u8; pixels * 3];
    // Row by row keeps the executor's scratch small.
    let row_in = (raster.width as usize * 4).max(4);
    let row_out = (raster.width as usize * 3).max(3);
    for (src, dst) in raster.data.chunks(row_in).zip(out.chunks_mut(row_out)) {
        t.transform(src, dst).map_err(colour_error)?;
    }
    Raster::new(raster.width, raster.height, PixelLayout::Rgb8, out).ok_or(
        FilesError::InvalidRequest {
            reason: "raster size does not match its buffer",
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb_of(ink: [u8; 4]) -> [u8; 3] {
        let r = Raster::new(1, 1, PixelLayout::Cmyk8, ink.to_vec()).unwrap();
        let out = cmyk_to_rgb(r, None).unwrap();
        [out.data[0], out.data[1], out.data[2]]
    }

    #[test]
    fn inks_look_like_inks() {
        let [r, g, b] = rgb_of([0, 0, 0, 0]);
        assert!(r > 240 && g > 240 && b > 230, "paper {r} {g} {b}");
        let [r, g, b] = rgb_of([255, 0, 0, 0]);
        assert!(r < 60 && g > 120 && b > 180, "cyan {r} {g} {b}");
        let [r, g, b] = rgb_of([0, 255, 0, 0]);
        assert!(r > 180 && g < 60 && b > 80, "magenta {r} {g} {b}");
        let [r, g, b] = rgb_of([0, 0, 255, 0]);
        assert!(r > 220 && g > 200 && b < 60, "yellow {r} {g} {b}");
        let [r, g, b] = rgb_of([0, 0, 0, 255]);
        assert!(r < 70 && g < 70 && b < 70, "black {r} {g} {b}");
        // An embedded non-CMYK profile is ignored, not an error.
        let srgb = ColorProfile::new_srgb().encode().unwrap();
        let r = Raster::new(1, 1, PixelLayout::Cmyk8, vec![0, 0, 0, 0]).unwrap();
        assert!(cmyk_to_rgb(r, Some(&srgb)).unwrap().data[0] > 240);
    }
}
