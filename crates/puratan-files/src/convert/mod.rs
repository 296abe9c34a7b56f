//! Format conversion for print.
//!
//! * [`raster_to_pdf`] — an image to a one-page print-ready PDF at the
//!   ordered trim size with bleed: MediaBox = BleedBox = trim + bleed on
//!   every side, TrimBox inset by the bleed; the image is scaled to *cover*
//!   the bleed box (centred, overhang clipped) with its EXIF orientation
//!   applied through the placement matrix. 8-bit JPEGs are embedded as they
//!   are (`DCTDecode` passthrough: no generation loss, no decode at all;
//!   Adobe-inverted CMYK gets `/Decode [1 0 …]`, an embedded ICC profile
//!   becomes `ICCBased`); other images are decoded and `FlateDecode`d.
//!   Optionally the image is converted to CMYK ([`crate::colour`]) and the
//!   total area coverage is reported.
//! * [`pdf_page_to_image`] — a PDF page to PNG/JPEG/WebP (the renderer of
//!   [`crate::preview`]).

mod pdf_writer;
mod placement;

use std::io::Write;

use image::metadata::Orientation;

use crate::colour::{Intent, RgbToCmyk, Tac};
use crate::error::FilesError;
use crate::format::Format;
use crate::preview::{
    Limits, PageRenderSpec, PixelLayout, Preview, Raster, load_raw, read_jpeg_header,
    render_pdf_page,
};
use pdf_writer::{ImageXObject, PageGeometry};

/// The ordered print product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrintSpec {
    /// Trim (final) size in millimetres.
    pub trim_width_mm: f64,
    pub trim_height_mm: f64,
    /// Bleed on every side in millimetres (typically 3).
    pub bleed_mm: f64,
    /// Convert RGB images to CMYK with the default profile (re-encodes
    /// JPEGs as CMYK JPEG, quality 95). `None` keeps the image's colours.
    pub convert_to_cmyk: Option<Intent>,
}

impl PrintSpec {
    fn validate(&self) -> Result<(), FilesError> {
        let ok = |v: f64| v.is_finite() && v > 0.0 && v <= 5_080.0; // PDF max 200 in
        if !ok(self.trim_width_mm) || !ok(self.trim_height_mm) {
            return Err(FilesError::InvalidRequest {
                reason: "trim size must be positive and at most 5080 mm",
            });
        }
        if !(self.bleed_mm.is_finite() && (0.0..=50.0).contains(&self.bleed_mm)) {
            return Err(FilesError::InvalidRequest {
                reason: "bleed must be between 0 and 50 mm",
            });
        }
        Ok(())
    }
}

/// A print-ready PDF and what was done to make it.
#[derive(Clone)]
pub struct PrintPdf {
    pub bytes: Vec<u8>,
    /// Resolution of the image on the page (pixels per inch, lower axis).
    pub effective_ppi: f64,
    /// Source image size in pixels (as displayed, orientation applied).
    pub image_width: u32,
    pub image_height: u32,
    /// The JPEG was embedded byte for byte.
    pub jpeg_passthrough: bool,
    /// Ink coverage when converted to CMYK.
    pub tac: Option<Tac>,
}

impl std::fmt::Debug for PrintPdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrintPdf")
            .field("bytes", &self.bytes.len())
            .field("effective_ppi", &self.effective_ppi)
            .field("image_width", &self.image_width)
            .field("image_height", &self.image_height)
            .field("jpeg_passthrough", &self.jpeg_passthrough)
            .field("tac", &self.tac)
            .finish()
    }
}

/// Converts an image (JPEG, PNG, TIFF, WebP) to a print-ready PDF.
pub fn raster_to_pdf(
    bytes: &[u8],
    format: Format,
    spec: &PrintSpec,
    limits: &Limits,
) -> Result<PrintPdf, FilesError> {
    spec.validate()?;
    let bleed = spec.bleed_mm * placement::PT_PER_MM;
    let media_w = spec.trim_width_mm * placement::PT_PER_MM + 2.0 * bleed;
    let media_h = spec.trim_height_mm * placement::PT_PER_MM + 2.0 * bleed;
    let geometry = PageGeometry {
        media_w,
        media_h,
        bleed,
    };

    let (xobject, orientation, tac) = match passthrough_jpeg(bytes, format, spec, limits)? {
        Some((x, o)) => (x, o, None),
        None => decoded_image(bytes, format, spec, limits)?,
    };
    let jpeg_passthrough = xobject.filter == "DCTDecode" && tac.is_none();
    let place = placement::cover(xobject.width, xobject.height, orientation, media_w, media_h);
    let (image_width, image_height) =
        placement::displayed_size(xobject.width, xobject.height, orientation);
    let bytes = pdf_writer::write(xobject, geometry, place.matrix)?;
    Ok(PrintPdf {
        bytes,
        effective_ppi: place.effective_ppi,
        image_width,
        image_height,
        jpeg_passthrough,
        tac,
    })
}

/// Converts a PDF page to PNG/JPEG/WebP.
pub fn pdf_page_to_image(
    pdf: &[u8],
    spec: &PageRenderSpec,
    limits: &Limits,
) -> Result<Preview, FilesError> {
    render_pdf_page(pdf, spec, limits)
}

/// An 8-bit JPEG whose bytes can go into the PDF unchanged.
fn passthrough_jpeg(
    bytes: &[u8],
    format: Format,
    spec: &PrintSpec,
    limits: &Limits,
) -> Result<Option<(ImageXObject, Orientation)>, FilesError> {
    if format != Format::Jpeg {
        return Ok(None);
    }
    let header = read_jpeg_header(bytes, limits)?;
    let wants_cmyk = spec.convert_to_cmyk.is_some() && header.components != 4;
    if header.bits != 8 || wants_cmyk {
        return Ok(None);
    }
    let icc = jpeg_icc(bytes, header.components);
    Ok(Some((
        ImageXObject {
            width: header.width,
            height: header.height,
            components: header.components,
            filter: "DCTDecode",
            data: bytes.to_vec(),
            inverted_cmyk: header.components == 4 && header.adobe,
            icc,
        },
        header.orientation,
    )))
}

/// The JPEG's embedded ICC profile when it fits the component count.
fn jpeg_icc(bytes: &[u8], components: u8) -> Option<Vec<u8>> {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.read_info().ok()?;
    let icc = d.icc_profile()?;
    let p = moxcms::ColorProfile::new_from_slice(&icc).ok()?;
    let fits = matches!(
        (components, p.color_space),
        (1, moxcms::DataColorSpace::Gray)
            | (3, moxcms::DataColorSpace::Rgb)
            | (4, moxcms::DataColorSpace::Cmyk)
    );
    fits.then_some(icc)
}

type Converted = (ImageXObject, Orientation, Option<Tac>);

fn decoded_image(
    bytes: &[u8],
    format: Format,
    spec: &PrintSpec,
    limits: &Limits,
) -> Result<Converted, FilesError> {
    let (raster, orientation, icc) = load_raw(bytes, format, limits)?;
    let raster = match raster.layout {
        PixelLayout::Rgba8 => raster.to_opaque_rgb(),
        _ => raster,
    };
    if let Some(intent) = spec.convert_to_cmyk {
        let conversion = if raster.layout == PixelLayout::Cmyk8 {
            RgbToCmyk::default_for(intent)?.convert_raster(raster)?
        } else {
            RgbToCmyk::new(
                icc.as_deref(),
                crate::colour::CmykProfile::default_profile(),
                intent,
            )?
            .convert_raster(raster)?
        };
        let xobject = cmyk_jpeg(&conversion.raster)?;
        return Ok((xobject, orientation, Some(conversion.tac)));
    }
    let components = raster.layout.channels() as u8;
    let icc = icc.filter(|p| {
        moxcms::ColorProfile::new_from_slice(p).is_ok_and(|p| {
            matches!(
                (components, p.color_space),
                (1, moxcms::DataColorSpace::Gray) | (3, moxcms::DataColorSpace::Rgb)
            )
        })
    });
    let data = zlib(&raster.data)?;
    Ok((
        ImageXObject {
            width: raster.width,
            height: raster.height,
            components,
            filter: "FlateDecode",
            data,
            inverted_cmyk: false,
            icc,
        },
        orientation,
        None,
    ))
}

fn cmyk_jpeg(raster: &Raster) -> Result<ImageXObject, FilesError> {
    let fail = |e: &dyn std::fmt::Display| FilesError::Encode {
        what: "CMYK JPEG",
        reason: e.to_string(),
    };
    let w = u16::try_from(raster.width).map_err(|e| fail(&e))?;
    let h = u16::try_from(raster.height).map_err(|e| fail(&e))?;
    let mut data = Vec::new();
    // jpeg-encoder writes Adobe-inverted CMYK with an APP14 marker.
    jpeg_encoder::Encoder::new(&mut data, 95)
        .encode(&raster.data, w, h, jpeg_encoder::ColorType::Cmyk)
        .map_err(|e| fail(&e))?;
    Ok(ImageXObject {
        width: raster.width,
        height: raster.height,
        components: 4,
        filter: "DCTDecode",
        data,
        inverted_cmyk: true,
        icc: None,
    })
}

fn zlib(data: &[u8]) -> Result<Vec<u8>, FilesError> {
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2),
        flate2::Compression::new(6),
    );
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .map_err(|e| FilesError::Encode {
            what: "PDF image",
            reason: e.to_string(),
        })
}
