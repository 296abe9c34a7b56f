//! Resampling with `fast_image_resize` (SIMD convolution, Lanczos3).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::raster::{PixelLayout, Raster};
use crate::error::FilesError;

/// The size that fits `width × height` into a `max_edge` square, keeping the
/// aspect ratio; never enlarges; never 0.
pub fn fit_within(width: u32, height: u32, max_edge: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= max_edge || longest == 0 {
        return (width.max(1), height.max(1));
    }
    let scale = f64::from(max_edge) / f64::from(longest);
    let w = ((f64::from(width) * scale).round() as u32).clamp(1, max_edge);
    let h = ((f64::from(height) * scale).round() as u32).clamp(1, max_edge);
    (w, h)
}

/// Resamples to exactly `width × height` (Lanczos3; alpha-aware for RGBA,
/// channel-independent for CMYK).
pub(crate) fn resize(src: &Raster, width: u32, height: u32) -> Result<Raster, FilesError> {
    if (src.width, src.height) == (width, height) {
        return Ok(src.clone());
    }
    let (pixel_type, use_alpha) = match src.layout {
        PixelLayout::Gray8 => (PixelType::U8, false),
        PixelLayout::Rgb8 => (PixelType::U8x3, false),
        PixelLayout::Rgba8 => (PixelType::U8x4, true),
        PixelLayout::Cmyk8 => (PixelType::U8x4, false),
    };
    let fail = |e: &dyn std::fmt::Display| FilesError::Encode {
        what: "resize",
        reason: e.to_string(),
    };
    let src_img =
        ImageRef::new(src.width, src.height, &src.data, pixel_type).map_err(|e| fail(&e))?;
    let mut dst = Image::new(width, height, pixel_type);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(use_alpha);
    Resizer::new()
        .resize(&src_img, &mut dst, &options)
        .map_err(|e| fail(&e))?;
    Ok(Raster {
        width,
        height,
        layout: src.layout,
        data: dst.into_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_enlarges() {
        assert_eq!(fit_within(8000, 6000, 400), (400, 300));
        assert_eq!(fit_within(6000, 8000, 400), (300, 400));
        assert_eq!(fit_within(100, 50, 400), (100, 50));
        assert_eq!(fit_within(100_000, 1, 400), (400, 1));
        assert_eq!(fit_within(0, 0, 400), (1, 1));
    }

    #[test]
    fn resize_keeps_flat_colours() {
        let src = Raster::new(64, 32, PixelLayout::Rgb8, [200u8, 100, 50].repeat(64 * 32)).unwrap();
        let dst = resize(&src, 16, 8).unwrap();
        assert_eq!((dst.width, dst.height, dst.data.len()), (16, 8, 16 * 8 * 3));
        assert!(dst.data.chunks_exact(3).all(|p| p == [200, 100, 50]));
    }
}
