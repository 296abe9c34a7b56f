//! Decoding raster files into a [`Raster`], bounded and panic-safe.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use super::guard::guarded;
use super::jpeg;
use super::limits::Limits;
use super::raster::{PixelLayout, Raster};
use crate::error::FilesError;
use crate::format::Format;

/// A decoded source image, possibly already shrunk on load.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// Gray8, Rgb8, Rgba8 or Cmyk8.
    pub raster: Raster,
    pub full_width: u32,
    pub full_height: u32,
    pub orientation: Orientation,
    /// Embedded ICC profile, if any.
    pub icc: Option<Vec<u8>>,
}

/// Raster formats the previews decode.
pub(crate) fn image_format(format: Format) -> Option<ImageFormat> {
    match format {
        Format::Jpeg => Some(ImageFormat::Jpeg),
        Format::Png => Some(ImageFormat::Png),
        Format::Tiff => Some(ImageFormat::Tiff),
        Format::WebP => Some(ImageFormat::WebP),
        Format::Gif => Some(ImageFormat::Gif),
        Format::Bmp => Some(ImageFormat::Bmp),
        _ => None,
    }
}

/// Decodes a raster file. `min_edge_needed` lets JPEGs shrink on load
/// (DCT scaling) as long as the longest edge stays at least that long.
pub(crate) fn decode(
    bytes: &[u8],
    format: Format,
    min_edge_needed: Option<u32>,
    limits: &Limits,
) -> Result<Decoded, FilesError> {
    if bytes.is_empty() {
        return Err(FilesError::Empty);
    }
    guarded(format, || match format {
        Format::Jpeg => match jpeg::decode(bytes, min_edge_needed, limits) {
            Ok(j) => Ok(Decoded {
                raster: j.raster,
                full_width: j.full_width,
                full_height: j.full_height,
                orientation: j.orientation,
                icc: j.icc,
            }),
            // jpeg-decoder gives up on truncated files that libjpeg and
            // browsers show (missing rows grey); zune-jpeg (through `image`)
            // is as lenient, at the cost of a full-size decode.
            Err(FilesError::Undecodable { .. }) => decode_with_image(bytes, format, limits),
            Err(e) => Err(e),
        },
        _ => decode_with_image(bytes, format, limits),
    })
}

fn undecodable(format: Format, e: impl std::fmt::Display) -> FilesError {
    let mut reason = e.to_string();
    reason.truncate(200);
    FilesError::Undecodable { format, reason }
}

fn map_image_error(
    format: Format,
    e: image::ImageError,
    size: (u32, u32),
    limits: &Limits,
) -> FilesError {
    match e {
        image::ImageError::Limits(_) => FilesError::ImageTooLarge {
            width: size.0.into(),
            height: size.1.into(),
            limit: limits.max_pixels,
        },
        image::ImageError::Unsupported(u) => undecodable(format, u),
        other => undecodable(format, other),
    }
}

fn decode_with_image(bytes: &[u8], format: Format, limits: &Limits) -> Result<Decoded, FilesError> {
    let Some(image_format) = image_format(format) else {
        return Err(FilesError::UnsupportedInput {
            format,
            reason: "previews are made of JPEG, PNG, TIFF, WebP, GIF and BMP images and PDF pages",
        });
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(limits.to_image_limits());
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(format, e, (0, 0), limits))?;
    let (w, h) = decoder.dimensions();
    limits.check_source(w.into(), h.into())?;
    let bytes_needed = decoder.total_bytes();
    if bytes_needed > limits.max_alloc_bytes {
        return Err(FilesError::ImageTooLarge {
            width: w.into(),
            height: h.into(),
            limit: limits.max_pixels,
        });
    }
    let mut orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    if orientation == Orientation::NoTransforms {
        // Some writers (Pillow for WebP) keep the "Exif\0\0" header inside
        // the chunk, which `image` does not skip.
        if let Ok(Some(exif)) = decoder.exif_metadata() {
            let raw = exif.strip_prefix(b"Exif\0\0").unwrap_or(&exif);
            orientation = Orientation::from_exif_chunk(raw).unwrap_or(orientation);
        }
    }
    let icc = decoder.icc_profile().ok().flatten();
    let img = DynamicImage::from_decoder(decoder)
        .map_err(|e| map_image_error(format, e, (w, h), limits))?;
    let raster = from_dynamic(img);
    Ok(Decoded {
        raster,
        full_width: w,
        full_height: h,
        orientation,
        icc,
    })
}

/// Converts to the 8-bit layouts the pipeline uses (16-bit and float
/// images are reduced to 8 bits; grey stays grey).
pub(crate) fn from_dynamic(img: DynamicImage) -> Raster {
    let (w, h) = (img.width(), img.height());
    let (layout, data) = match img {
        DynamicImage::ImageLuma8(b) => (PixelLayout::Gray8, b.into_raw()),
        DynamicImage::ImageRgb8(b) => (PixelLayout::Rgb8, b.into_raw()),
        DynamicImage::ImageRgba8(b) => (PixelLayout::Rgba8, b.into_raw()),
        other if other.color().has_alpha() => (PixelLayout::Rgba8, other.into_rgba8().into_raw()),
        other if other.color().has_color() => (PixelLayout::Rgb8, other.into_rgb8().into_raw()),
        other => (PixelLayout::Gray8, other.into_luma8().into_raw()),
    };
    Raster {
        width: w,
        height: h,
        layout,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_header(w: u32, h: u32) -> Vec<u8> {
        // Signature + IHDR (CRC not checked by the header parse in every
        // decoder, so compute it properly) + empty IDAT + IEND.
        fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            let crc = crc32(&out[start..]);
            out.extend_from_slice(&crc.to_be_bytes());
        }
        fn crc32(data: &[u8]) -> u32 {
            let mut c = 0xFFFF_FFFFu32;
            for &b in data {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 == 1 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        }
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(
            &mut out,
            b"IDAT",
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        );
        chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn png_bomb_is_rejected_from_the_header() {
        let bomb = png_header(60_000, 60_000);
        let t = std::time::Instant::now();
        let err = decode(&bomb, Format::Png, Some(400), &Limits::default()).unwrap_err();
        assert_eq!(err.code(), "image_too_large", "{err}");
        assert!(t.elapsed().as_millis() < 500);
    }

    #[test]
    fn empty_and_unsupported_inputs_are_typed_errors() {
        assert_eq!(
            decode(b"", Format::Png, None, &Limits::default())
                .unwrap_err()
                .code(),
            "file_empty"
        );
        assert_eq!(
            decode(b"%!PS", Format::PostScript, None, &Limits::default())
                .unwrap_err()
                .code(),
            "processing_unsupported_input"
        );
        assert_eq!(
            decode(
                b"\x89PNG\r\n\x1a\nxx",
                Format::Png,
                None,
                &Limits::default()
            )
            .unwrap_err()
            .code(),
            "file_undecodable"
        );
    }
}
