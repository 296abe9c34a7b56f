//! PDF page rendering with `hayro` (pure Rust, CPU only).
//!
//! Limits: the output size is checked against [`Limits::check_output`]
//! before rendering, page count against `max_pages`; encrypted PDFs are
//! refused by hayro; panics are caught. hayro has no time budget of its own:
//! a hostile page can take long, so the worker runs renders with a deadline
//! (process-level), as the crate docs of [`crate::preview`] say.

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings, render};

use super::guard::guarded;
use super::limits::Limits;
use super::raster::{PixelLayout, Raster};
use crate::error::FilesError;
use crate::format::Format;

/// How large to render a page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PageSize {
    /// At this resolution (72 = one pixel per point).
    Dpi(f32),
    /// Scaled so the longest edge is this many pixels.
    MaxEdge(u32),
}

/// A rendered page and facts about the document.
#[derive(Debug)]
pub struct RenderedPage {
    /// RGB, opaque (rendered on white paper).
    pub raster: Raster,
    /// Pages in the document.
    pub page_count: u32,
    /// The page's visible size (crop box, rotation applied) in points.
    pub width_pt: f32,
    pub height_pt: f32,
}

fn undecodable(reason: impl Into<String>) -> FilesError {
    FilesError::Undecodable {
        format: Format::Pdf,
        reason: reason.into(),
    }
}

/// Renders page `page_index` (0-based) of a PDF to an RGB raster.
pub fn render_page(
    pdf: &[u8],
    page_index: u32,
    size: PageSize,
    limits: &Limits,
) -> Result<RenderedPage, FilesError> {
    if pdf.is_empty() {
        return Err(FilesError::Empty);
    }
    guarded(Format::Pdf, || {
        render_unguarded(pdf, page_index, size, limits)
    })
}

fn render_unguarded(
    bytes: &[u8],
    page_index: u32,
    size: PageSize,
    limits: &Limits,
) -> Result<RenderedPage, FilesError> {
    let pdf = Pdf::new(bytes.to_vec()).map_err(|e| match e {
        LoadPdfError::Decryption(_) => FilesError::UnsupportedInput {
            format: Format::Pdf,
            reason: "encrypted PDFs cannot be rendered; upload the file without a password",
        },
        LoadPdfError::Invalid => undecodable("the PDF structure could not be read"),
    })?;
    let pages = pdf.pages();
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if page_count > limits.max_pages {
        return Err(FilesError::UnsupportedInput {
            format: Format::Pdf,
            reason: "the PDF has more pages than the processing limit",
        });
    }
    let page = pages
        .get(page_index as usize)
        .ok_or(FilesError::PageOutOfRange {
            page: page_index.saturating_add(1),
            pages: page_count,
        })?;
    let (w_pt, h_pt) = page.render_dimensions();
    if !(w_pt.is_finite() && h_pt.is_finite() && w_pt >= 1.0 && h_pt >= 1.0) {
        return Err(undecodable("the page has no usable size"));
    }
    let scale = match size {
        PageSize::Dpi(dpi) if dpi.is_finite() && dpi > 0.0 => dpi / 72.0,
        // hayro truncates the scaled size: a quarter pixel of headroom makes
        // the longest edge come out at exactly `edge`.
        PageSize::MaxEdge(edge) if edge > 0 => (edge as f32 + 0.25) / w_pt.max(h_pt),
        _ => {
            return Err(FilesError::InvalidRequest {
                reason: "render size must be a positive DPI or edge length",
            });
        }
    };
    // hayro truncates; compute the same size to check it first.
    let (w, h) = ((w_pt * scale) as u64, (h_pt * scale) as u64);
    limits.check_output(w.max(1), h.max(1))?;
    if w > u64::from(u16::MAX) || h > u64::from(u16::MAX) || w == 0 || h == 0 {
        return Err(FilesError::ImageTooLarge {
            width: w,
            height: h,
            limit: limits.max_output_pixels,
        });
    }
    let cache = RenderCache::new();
    let pixmap = render(
        page,
        &cache,
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &PixmapSettings {
            x_scale: scale,
            y_scale: scale,
            bg_color: WHITE,
        },
    );
    let (pw, ph) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
    // Premultiplied RGBA over an opaque white background: alpha is 255, so
    // the colour channels are the final colours.
    let rgb: Vec<u8> = pixmap
        .data_as_u8_slice()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let raster = Raster::new(pw, ph, PixelLayout::Rgb8, rgb)
        .ok_or_else(|| undecodable("the renderer returned a buffer of the wrong size"))?;
    Ok(RenderedPage {
        raster,
        page_count,
        width_pt: w_pt,
        height_pt: h_pt,
    })
}
