//! Encoding previews: JPEG (`jpeg-encoder`), PNG and lossless WebP (`image`).

use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::codecs::webp::WebPEncoder;

use super::raster::{PixelLayout, Raster};
use crate::error::FilesError;

/// Output encoding of a preview or rendered page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Baseline JPEG; transparency is composited over white. `quality` 1–100.
    Jpeg { quality: u8 },
    /// PNG (keeps transparency).
    Png,
    /// WebP, lossless: the pure-Rust encoder has no lossy mode. For photos
    /// JPEG is smaller; WebP suits flat artwork and transparency.
    WebP,
}

impl OutputFormat {
    /// The media type of the encoded bytes.
    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Jpeg { .. } => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::WebP => "image/webp",
        }
    }
}

fn fail(what: &'static str, e: impl std::fmt::Display) -> FilesError {
    FilesError::Encode {
        what,
        reason: e.to_string(),
    }
}

/// Encodes a Gray8/Rgb8/Rgba8 raster.
pub(crate) fn encode(r: Raster, format: OutputFormat) -> Result<Vec<u8>, FilesError> {
    if r.layout == PixelLayout::Cmyk8 {
        return Err(FilesError::InvalidRequest {
            reason: "CMYK rasters must be converted to RGB before encoding a preview",
        });
    }
    match format {
        OutputFormat::Jpeg { quality } => {
            let r = if r.layout == PixelLayout::Rgba8 {
                r.to_opaque_rgb()
            } else {
                r
            };
            let (w, h) = (
                u16::try_from(r.width).map_err(|e| fail("JPEG", e))?,
                u16::try_from(r.height).map_err(|e| fail("JPEG", e))?,
            );
            let color = if r.layout == PixelLayout::Gray8 {
                jpeg_encoder::ColorType::Luma
            } else {
                jpeg_encoder::ColorType::Rgb
            };
            let mut out = Vec::new();
            jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100))
                .encode(&r.data, w, h, color)
                .map_err(|e| fail("JPEG", e))?;
            Ok(out)
        }
        OutputFormat::Png => {
            let mut out = Vec::new();
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::Adaptive)
                .write_image(&r.data, r.width, r.height, color_type(r.layout))
                .map_err(|e| fail("PNG", e))?;
            Ok(out)
        }
        OutputFormat::WebP => {
            let mut out = Vec::new();
            WebPEncoder::new_lossless(&mut out)
                .write_image(&r.data, r.width, r.height, color_type(r.layout))
                .map_err(|e| fail("WebP", e))?;
            Ok(out)
        }
    }
}

fn color_type(layout: PixelLayout) -> image::ExtendedColorType {
    match layout {
        PixelLayout::Gray8 => image::ExtendedColorType::L8,
        PixelLayout::Rgba8 => image::ExtendedColorType::Rgba8,
        PixelLayout::Rgb8 | PixelLayout::Cmyk8 => image::ExtendedColorType::Rgb8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips_its_size() {
        let r = Raster::new(7, 5, PixelLayout::Rgba8, [10u8, 200, 30, 128].repeat(35)).unwrap();
        for f in [
            OutputFormat::Jpeg { quality: 80 },
            OutputFormat::Png,
            OutputFormat::WebP,
        ] {
            let bytes = encode(r.clone(), f).unwrap();
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), (7, 5), "{f:?}");
        }
    }
}
