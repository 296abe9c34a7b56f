//! Raster uploads (JPEG, PNG, TIFF, WebP): pixel size, colour mode, alpha
//! and embedded ICC profile, read from the headers only — no pixel data is
//! decoded, so a decompression bomb costs nothing here. The one exception:
//! CMYK and YCCK JPEGs are decoded (within [`Limits::max_tac_image_pixels`]
//! and `max_image_alloc`, skipped beyond) to measure their total area
//! coverage.
//!
//! The `image` crate reports CMYK JPEGs as RGB (its decoder converts), so
//! the JPEG colour mode comes from the frame header's component count and
//! the Adobe APP14 colour transform, read here directly.

use std::io::Cursor;

use image::{ExtendedColorType, ImageDecoder, ImageFormat, ImageReader};

use super::limits::Limits;
use super::report::{RasterInfo, round2};
use crate::colour::{Tac, tac_of_cmyk};
use crate::error::FilesError;
use crate::format::Format;

fn unreadable(format: Format, reason: impl Into<String>) -> FilesError {
    FilesError::PreflightUnreadable {
        format,
        reason: reason.into(),
    }
}

/// Header facts of a raster image.
pub(crate) fn measure(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    measure_tac: bool,
) -> Result<RasterInfo, FilesError> {
    let image_format = match format {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
        Format::Tiff => ImageFormat::Tiff,
        Format::WebP => ImageFormat::WebP,
        other => return Err(FilesError::PreflightUnsupported { format: other }),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_image_dimension);
    image_limits.max_image_height = Some(limits.max_image_dimension);
    image_limits.max_alloc = Some(limits.max_image_alloc);
    reader.limits(image_limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(format, e, limits))?;
    let (width, height) = decoder.dimensions();
    if width > limits.max_image_dimension || height > limits.max_image_dimension {
        return Err(FilesError::PreflightLimit {
            limit: "max_image_dimension",
            value: u64::from(limits.max_image_dimension),
        });
    }
    let original = decoder.original_color_type();
    let icc = decoder.icc_profile().ok().flatten();
    let (mut colour_mode, bits, alpha) = describe(original);
    let mut bits_per_component = bits;
    if format == Format::Jpeg
        && let Some(frame) = jpeg_frame(bytes)
    {
        colour_mode = match (frame.components, frame.adobe_transform) {
            (1, _) => "gray",
            (3, _) => "rgb",
            (4, Some(2)) => "ycck",
            (4, _) => "cmyk",
            _ => "unknown",
        };
        bits_per_component = u32::from(frame.precision);
    }
    let tac = match jpeg_frame(bytes) {
        Some(frame) if measure_tac && format == Format::Jpeg && frame.components == 4 => {
            cmyk_jpeg_tac(bytes, frame.adobe_transform.is_some(), limits)
        }
        _ => None,
    };
    Ok(RasterInfo {
        tac_percent: tac.map(|t| round2(t.p999_percent)),
        tac_max_percent: tac.map(|t| round2(t.max_percent)),
        width,
        height,
        colour_mode: colour_mode.into(),
        bits_per_component,
        alpha,
        icc_colour_space: icc.as_deref().and_then(icc_colour_space),
        icc_profile: icc.is_some(),
        ppi_x: None,
        ppi_y: None,
    })
}

/// TAC of a CMYK/YCCK JPEG file. With an Adobe marker the file stores ink
/// inverted (Photoshop's convention); without one the values are ink as
/// stored (Pillow's rule). jpeg-decoder returns 255 − stored either way.
fn cmyk_jpeg_tac(bytes: &[u8], adobe: bool, limits: &Limits) -> Option<Tac> {
    let mut px = crate::preflight::pdf::decode_cmyk_jpeg(
        bytes,
        limits.max_tac_image_pixels,
        limits.max_image_alloc,
    )?;
    if !adobe {
        for v in &mut px {
            *v = 255 - *v;
        }
    }
    Some(tac_of_cmyk(&px))
}

fn map_image_error(format: Format, e: image::ImageError, limits: &Limits) -> FilesError {
    match e {
        image::ImageError::Limits(_) => FilesError::PreflightLimit {
            limit: "max_image_alloc",
            value: limits.max_image_alloc,
        },
        other => {
            let mut reason = other.to_string();
            reason.truncate(200);
            unreadable(format, reason)
        }
    }
}

/// (colour mode, bits per component, alpha)
fn describe(t: ExtendedColorType) -> (&'static str, u32, bool) {
    use ExtendedColorType as E;
    match t {
        E::A8 => ("gray", 8, true),
        E::L1 => ("gray", 1, false),
        E::La1 => ("gray", 1, true),
        E::L2 => ("gray", 2, false),
        E::La2 => ("gray", 2, true),
        E::L4 => ("gray", 4, false),
        E::La4 => ("gray", 4, true),
        E::L8 => ("gray", 8, false),
        E::La8 => ("gray", 8, true),
        E::L16 => ("gray", 16, false),
        E::La16 => ("gray", 16, true),
        E::Rgb1 => ("rgb", 1, false),
        E::Rgba1 => ("rgb", 1, true),
        E::Rgb2 => ("rgb", 2, false),
        E::Rgba2 => ("rgb", 2, true),
        E::Rgb4 => ("rgb", 4, false),
        E::Rgba4 => ("rgb", 4, true),
        E::Rgb5x1 => ("rgb", 5, false),
        E::Rgb8 | E::Bgr8 => ("rgb", 8, false),
        E::Rgba8 | E::Bgra8 => ("rgb", 8, true),
        E::Rgb16 => ("rgb", 16, false),
        E::Rgba16 => ("rgb", 16, true),
        E::Rgb32F => ("rgb", 32, false),
        E::Rgba32F => ("rgb", 32, true),
        E::Cmyk8 => ("cmyk", 8, false),
        E::Cmyk16 => ("cmyk", 16, false),
        E::Unknown(bits) => ("indexed", u32::from(bits), false),
        _ => ("unknown", 0, false),
    }
}

/// The data colour space of an ICC profile (header bytes 16..20).
pub(crate) fn icc_colour_space(profile: &[u8]) -> Option<String> {
    let sig = profile.get(16..20)?;
    Some(
        match sig {
            b"RGB " => "RGB",
            b"CMYK" => "CMYK",
            b"GRAY" => "GRAY",
            b"Lab " => "Lab",
            b"XYZ " => "XYZ",
            _ => "other",
        }
        .to_owned(),
    )
}

/// What the JPEG frame header and Adobe marker say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JpegFrame {
    pub components: u8,
    pub precision: u8,
    /// Adobe APP14 transform: 0 = none (RGB/CMYK), 1 = YCbCr, 2 = YCCK.
    pub adobe_transform: Option<u8>,
}

/// Walks the JPEG markers up to the first frame header (SOFn). Linear in
/// the header size; `None` when there is no readable frame header.
pub(crate) fn jpeg_frame(data: &[u8]) -> Option<JpegFrame> {
    if !data.starts_with(&[0xff, 0xd8]) {
        return None;
    }
    let mut pos = 2;
    let mut adobe = None;
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while *data.get(pos)? == 0xff && *data.get(pos + 1)? == 0xff {
            pos += 1;
        }
        if *data.get(pos)? != 0xff {
            return None;
        }
        let marker = *data.get(pos + 1)?;
        pos += 2;
        if marker == 0xd8 || marker == 0x01 || (0xd0..=0xd7).contains(&marker) {
            continue; // no length
        }
        if marker == 0xd9 || marker == 0xda {
            return None; // end of image / start of scan before any frame
        }
        let len = usize::from(u16::from_be_bytes([*data.get(pos)?, *data.get(pos + 1)?]));
        if len < 2 {
            return None;
        }
        let segment = data.get(pos + 2..pos + len)?;
        match marker {
            0xee if segment.len() >= 12 && segment.starts_with(b"Adobe") => {
                adobe = Some(segment[11])
            }
            0xc0..=0xcf if !matches!(marker, 0xc4 | 0xc8 | 0xcc) => {
                return Some(JpegFrame {
                    precision: *segment.first()?,
                    components: *segment.get(5)?,
                    adobe_transform: adobe,
                });
            }
            _ => {}
        }
        pos += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_frame_reads_adobe_cmyk() {
        // SOI, APP14 Adobe (transform 0), SOF0 with 4 components.
        let mut j = vec![0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e];
        j.extend_from_slice(b"Adobe\x00\x64\x00\x00\x00\x00\x00");
        j.extend_from_slice(&[0xff, 0xc0, 0x00, 0x14, 8, 0, 10, 0, 20, 4]);
        j.extend_from_slice(&[0; 12]);
        let f = jpeg_frame(&j).unwrap();
        assert_eq!(f.components, 4);
        assert_eq!(f.adobe_transform, Some(0));
        assert_eq!(jpeg_frame(&j[..12]), None);
        assert_eq!(jpeg_frame(b"not a jpeg"), None);
    }

    #[test]
    fn icc_header_colour_space() {
        let mut p = vec![0u8; 128];
        p[16..20].copy_from_slice(b"CMYK");
        assert_eq!(icc_colour_space(&p).as_deref(), Some("CMYK"));
        assert_eq!(icc_colour_space(&p[..10]), None);
    }
}
