//! Thumbnails and page previews for the storefront and the proofing screen.
//!
//! * [`thumbnail`] — any JPEG/PNG/TIFF/WebP (or the first page of a PDF)
//!   to a JPEG/PNG/WebP whose longest edge is at most `max_edge`.
//!   JPEGs shrink on load (DCT scaling, see `jpeg.rs`), so an 8000 × 6000
//!   photo never exists in memory at full size; the rest is resampled with
//!   Lanczos3 (`fast_image_resize`); EXIF orientation is applied; CMYK and
//!   YCCK JPEGs (Adobe-inverted) are converted through their embedded CMYK
//!   profile or the shipped FOGRA39 one, so they look like the print.
//! * [`render_pdf_page`] — page N of a PDF at a DPI or edge length (`hayro`).
//!
//! Every step checks [`Limits`] against the *declared* sizes before
//! allocating pixels (decompression bombs fail in microseconds), and
//! decoders run under `catch_unwind` ([`FilesError::DecoderCrashed`]).
//! That does not stop a stack overflow or an endless render: the worker
//! runs jobs in a child process with memory and time limits.

mod decode;
mod encode;
mod guard;
mod jpeg;
mod limits;
mod orient;
mod pdf;
mod raster;
mod resize;

pub use encode::OutputFormat;
pub use limits::Limits;
pub use pdf::{PageSize, RenderedPage, render_page};
pub use raster::{PixelLayout, Raster};
pub use resize::fit_within;

pub(crate) use jpeg::read_header as read_jpeg_header;

use crate::colour::cmyk_to_rgb;
use crate::error::FilesError;
use crate::format::Format;

/// What thumbnail to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThumbnailSpec {
    /// Longest edge of the result in pixels (smaller images are not enlarged).
    pub max_edge: u32,
    pub output: OutputFormat,
}

impl Default for ThumbnailSpec {
    fn default() -> Self {
        Self {
            max_edge: 400,
            output: OutputFormat::Jpeg { quality: 85 },
        }
    }
}

/// What page preview to make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRenderSpec {
    /// 0-based page index.
    pub page_index: u32,
    pub size: PageSize,
    pub output: OutputFormat,
}

/// An encoded preview.
#[derive(Clone, PartialEq, Eq)]
pub struct Preview {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub mime: &'static str,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preview")
            .field("bytes", &self.bytes.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("mime", &self.mime)
            .finish()
    }
}

fn finish(raster: Raster, output: OutputFormat) -> Result<Preview, FilesError> {
    let (width, height) = (raster.width, raster.height);
    let bytes = encode::encode(raster, output)?;
    Ok(Preview {
        bytes,
        width,
        height,
        mime: output.mime(),
    })
}

/// Makes a thumbnail of an image, or of the first page of a PDF. `format`
/// is the detected format ([`crate::detect()`]), never the file name's.
pub fn thumbnail(
    bytes: &[u8],
    format: Format,
    spec: &ThumbnailSpec,
    limits: &Limits,
) -> Result<Preview, FilesError> {
    if spec.max_edge == 0 {
        return Err(FilesError::InvalidRequest {
            reason: "max_edge must be at least 1 pixel",
        });
    }
    if format == Format::Pdf || (format == Format::Illustrator && bytes.starts_with(b"%PDF")) {
        let page = render_page(bytes, 0, PageSize::MaxEdge(spec.max_edge), limits)?;
        return finish(page.raster, spec.output);
    }
    let raster = load_upright(bytes, format, Some(spec.max_edge), limits)?;
    finish(raster, spec.output)
}

/// Renders page `spec.page_index` of a PDF and encodes it.
pub fn render_pdf_page(
    pdf: &[u8],
    spec: &PageRenderSpec,
    limits: &Limits,
) -> Result<Preview, FilesError> {
    let page = render_page(pdf, spec.page_index, spec.size, limits)?;
    finish(page.raster, spec.output)
}

/// Decodes an image upright (EXIF orientation applied), as Gray8/Rgb8/Rgba8
/// (CMYK converted to sRGB for display). With `max_edge`, the result is
/// resized to fit it (JPEGs shrink on load).
pub fn load_upright(
    bytes: &[u8],
    format: Format,
    max_edge: Option<u32>,
    limits: &Limits,
) -> Result<Raster, FilesError> {
    let d = decode::decode(bytes, format, max_edge, limits)?;
    let mut raster = d.raster;
    if let Some(edge) = max_edge {
        // The target follows the declared size: DCT-scaled sizes are rounded up.
        let (w, h) = fit_within(d.full_width, d.full_height, edge);
        if (w, h) != (raster.width, raster.height) {
            raster = resize::resize(&raster, w, h)?;
        }
    }
    // Colour conversion after resizing: on the small image it is cheap.
    let raster = cmyk_to_rgb(raster, d.icc.as_deref())?;
    Ok(orient::apply(raster, d.orientation))
}

/// Decodes an image at full size without orientation or colour changes:
/// CMYK stays CMYK (ink amounts). Returns the raster, the EXIF orientation
/// and the embedded ICC profile.
pub fn load_raw(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<(Raster, image::metadata::Orientation, Option<Vec<u8>>), FilesError> {
    let d = decode::decode(bytes, format, None, limits)?;
    Ok((d.raster, d.orientation, d.icc))
}

/// Applies an EXIF orientation to a Gray8/Rgb8/Rgba8 raster.
pub fn apply_orientation(raster: Raster, orientation: image::metadata::Orientation) -> Raster {
    orient::apply(raster, orientation)
}
