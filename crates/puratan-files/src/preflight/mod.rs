//! Print preflight: checks customer artwork against a [`Profile`] and the
//! order's [`Intent`] and explains every problem in plain words.
//!
//! One entry point, [`run`], produces a [`Report`] that serialises to the
//! JSON schema `puratan.preflight/v1` — the same document from the library,
//! the server and the CLI.
//!
//! ```
//! use puratan_files::Format;
//! use puratan_files::preflight::{self, Intent, Limits, Profile};
//!
//! # let pdf = preflight::testing::minimal_pdf();
//! let report = preflight::run(&pdf, Format::Pdf, &Intent::a4(), &Profile::gwg2015_sheetfed(), &Limits::default()).unwrap();
//! assert_eq!(report.schema, "puratan.preflight/v1");
//! assert_eq!(report.page_count, 1);
//! assert!(report.has("bleed_missing")); // an A4 page without bleed
//! ```
//!
//! # What is checked
//!
//! **PDF** (parsed with `lopdf` ≥ 0.42, which fixed the RUSTSEC-2026-0187
//! stack overflow; streams decompressed with its size-limited APIs):
//! page boxes with page-tree inheritance, bleed against the required bleed,
//! the finished size against the ordered size (either orientation, within
//! the profile's tolerance); fonts and whether they are embedded, found the
//! way `pdffonts` finds them; every image drawn — XObject or inline, also
//! inside Form XObjects (with their `/Matrix`), annotation appearances and
//! rotated or skewed CTMs — with its pixel size, colour space and effective
//! resolution on the page; colour spaces in use (Device, ICCBased(N),
//! Indexed(base), Separation/DeviceN with spot colour names, Lab, Cal*);
//! transparency (soft masks, constant alpha < 1, blend modes, transparency
//! groups); encryption; page count; the PDF/X output intent; total area
//! coverage (below).
//!
//! **Raster** (JPEG, PNG, TIFF, WebP via `image`, headers only): pixel size
//! against the ordered print size (+ bleed) → effective ppi, colour mode
//! (CMYK and YCCK JPEGs detected from the frame header and Adobe marker —
//! `image` itself reports them as RGB), alpha, embedded ICC profile and its
//! colour space; CMYK/YCCK JPEGs are also decoded for total area coverage.
//!
//! Check ids (stable): `page_size_mismatch`, `trim_box_missing`,
//! `bleed_missing`, `bleed_insufficient`, `page_count_mismatch`,
//! `font_not_embedded`, `image_ppi_too_low`, `image_ppi_low`,
//! `rgb_colour`, `spot_colour`, `transparency`, `output_intent_missing`,
//! `pdf_encrypted`, `content_damaged`, `total_area_coverage`,
//! `raster_aspect_mismatch`, `raster_alpha`, `raster_no_icc_profile`,
//! `print_size_unknown`.
//!
//! # Total area coverage
//!
//! `total_area_coverage` (GWG2015 sheet-fed: at most 320 % C+M+Y+K,
//! [`Profile::tac_limit_percent`]) is measured per object from the PDF
//! itself, like callas pdfToolbox's "ink coverage of objects exceeds"
//! checks — hayro renders RGB only, and a rendering would mix in colour
//! management. **Images** in DeviceCMYK, ICCBased(N=4), CalCMYK or Indexed
//! over those, 8 bits per component, unfiltered, Flate/LZW/ASCII/RunLength
//! (lopdf, size-limited) or DCT (`jpeg-decoder`, the Adobe inversion and
//! `/Decode` honoured) are decoded once per object and get
//! [`ImageInfo::tac_percent`] (99.9th percentile, what is judged, as
//! [`crate::colour::Tac::exceeds`]) and `tac_max_percent`; others (JPX,
//! JBIG2, CCITT, other bit depths, over [`Limits::max_tac_image_pixels`] or
//! the document's [`Limits::max_tac_total_pixels`]) are skipped, never an
//! error. **Vector colours** set by `k`/`K` or `sc`/`scn` in a CMYK space
//! count only when something is painted with them (fills, strokes, visible
//! text, stencil masks), following `q`/`Q` and Form XObjects; shadings,
//! Separation/DeviceN, overprint build-up and transfer functions are not
//! modelled. One finding per page names its worst object. The oracle test
//! `tests/tac_oracle.rs` compares with Ghostscript's CMYK rendering: equal
//! maxima (within 1 %) on generated pages, and on the corpus every page
//! drawn only in process colours agrees within 2 % except two veraPDF files
//! whose transfer functions remap the inks on output (allow-listed there).
//!
//! # Effective resolution and `pdfimages -list`
//!
//! The report's `ppi_x`/`ppi_y` are the image's pixels divided by the
//! length of its edges on the page (`72 · width / |(a, b)|`,
//! `72 · height / |(c, d)|` of the image CTM), so rotation and skew do not
//! change them. `pdfimages -list` computes `|72 · width / (a + c)|` and
//! `|72 · height / (b + d)|` on the CTM in device space (page `/Rotate`
//! applied), which equals ours for images that are axis-aligned on a page
//! rotated by 0° or 180°, but swaps width and height for 90°-rotated images
//! or pages and explodes for skewed ones (a 45° image gets a near-infinite
//! x-ppi). The oracle test in `tests/preflight_oracles.rs` therefore checks
//! poppler's formula applied to our reported CTM against `pdfimages` for
//! every image (within 1 ppi) — which verifies the CTM tracking — and our
//! own ppi wherever the two definitions coincide. `/UserUnit` scales our
//! values and not poppler's. Images inside tiling patterns and Type3 glyphs
//! are not listed (like `pdfimages -list`), nor those inside soft-mask groups.
//!
//! On the corpus (1,353 PDFs) the comparison has no allow-listed
//! disagreements. One file poppler's tools accept is refused here on
//! purpose: `unreadablemetadata.pdf` has no readable page tree (poppler
//! lists nothing and reports errors); a file without pages cannot be
//! printed, so it gets [`FilesError::PreflightUnreadable`] rather than an
//! empty report.
//!
//! # Hostile input
//!
//! Every loop is bounded by [`Limits`] (input size, decompressed bytes per
//! stream and per document, pages, objects, operators, Form XObject depth;
//! cycles of forms drawing themselves are detected and reported, not
//! followed). Raster files are never decoded, only their headers read —
//! except CMYK JPEGs and the CMYK images inside PDFs, decoded for total
//! area coverage within a pixel and allocation budget.
//! Parsing runs under `catch_unwind` as a last line of defence (a panic in
//! a parser becomes [`FilesError::PreflightInternal`]); a worker process
//! with memory and time limits is still the place to run it. No clock, no
//! environment, no file I/O.

mod limits;
mod pdf;
mod profile;
mod raster;
mod report;
mod rules;
#[doc(hidden)]
pub mod testing;
#[cfg(test)]
mod tests;

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::{Deserialize, Serialize};

pub use self::limits::Limits;
pub use self::profile::{Level, Profile};
pub use self::report::{
    Bleed, ColourSpaceUse, Finding, FontInfo, ImageInfo, OutputIntent, PageInfo, RasterInfo, Rect,
    Report, SCHEMA, Severity, Summary, TransparencyUse, Value, Verdict,
};
use crate::error::FilesError;
use crate::format::Format;

/// A finished (trimmed) size in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Size {
    pub width_mm: f64,
    pub height_mm: f64,
}

/// What was ordered, as far as preflight cares. Everything optional: without
/// a size, page size and raster resolution are not checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Intent {
    /// Ordered finished size; either orientation is accepted.
    pub trim: Option<Size>,
    /// Bleed the product needs on every side, in mm (default: the profile's).
    pub bleed_mm: Option<f64>,
    /// Ordered page count.
    pub pages: Option<u32>,
}

impl Intent {
    /// An order of `width × height` mm.
    pub fn trim_mm(width_mm: f64, height_mm: f64) -> Self {
        Self {
            trim: Some(Size {
                width_mm,
                height_mm,
            }),
            ..Self::default()
        }
    }

    /// A4 (210 × 297 mm).
    pub fn a4() -> Self {
        Self::trim_mm(210.0, 297.0)
    }
}

/// Preflights `bytes` of the given (detected) format.
///
/// Errors: [`FilesError::PreflightUnreadable`], [`FilesError::PreflightEncrypted`]
/// (a password is needed to open it), [`FilesError::PreflightLimit`],
/// [`FilesError::PreflightUnsupported`] (SVG, PostScript, …) and
/// [`FilesError::PreflightInternal`] (a parser panicked).
pub fn run(
    bytes: &[u8],
    format: Format,
    intent: &Intent,
    profile: &Profile,
    limits: &Limits,
) -> Result<Report, FilesError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(FilesError::PreflightLimit {
            limit: "max_input_bytes",
            value: limits.max_input_bytes as u64,
        });
    }
    if bytes.is_empty() {
        return Err(FilesError::Empty);
    }
    catch_unwind(AssertUnwindSafe(|| {
        run_inner(bytes, format, intent, profile, limits)
    }))
    .unwrap_or(Err(FilesError::PreflightInternal))
}

fn run_inner(
    bytes: &[u8],
    format: Format,
    intent: &Intent,
    profile: &Profile,
    limits: &Limits,
) -> Result<Report, FilesError> {
    let mut report = Report {
        schema: SCHEMA.into(),
        format: format.id().into(),
        profile: profile.id.clone(),
        verdict: Verdict::Pass,
        summary: Summary::default(),
        page_count: 1,
        pdf_version: None,
        pdfx_version: None,
        encrypted: false,
        output_intent: None,
        pages: Vec::new(),
        fonts: Vec::new(),
        images: Vec::new(),
        colour_spaces: Vec::new(),
        spot_colours: Vec::new(),
        transparency: Vec::new(),
        raster: None,
        findings: Vec::new(),
        unlisted_images: 0,
    };
    let mut findings = match format {
        Format::Pdf | Format::Illustrator => {
            let facts = pdf::measure(
                bytes,
                limits,
                profile.image_ignore_max_px,
                profile.total_area_coverage != Level::Off,
            )?;
            let findings = rules::pdf(&facts, intent, profile);
            report.page_count = facts.pages.len() as u32;
            report.pdf_version = Some(facts.version);
            report.pdfx_version = facts.pdfx_version;
            report.encrypted = facts.encrypted;
            report.output_intent = facts.output_intent;
            report.pages = facts.pages;
            report.fonts = facts.fonts;
            let c = facts.collected;
            report.images = c.images;
            report.unlisted_images = c.unlisted_images;
            report.colour_spaces = c.colour.into_iter().collect();
            report.spot_colours = c.spots.into_iter().collect();
            report.transparency = c.transparency.into_iter().collect();
            findings
        }
        Format::Jpeg | Format::Png | Format::Tiff | Format::WebP => {
            let mut info = raster::measure(
                bytes,
                format,
                limits,
                profile.total_area_coverage != Level::Off,
            )?;
            let findings = rules::raster(&mut info, intent, profile);
            report.raster = Some(info);
            findings
        }
        other => return Err(FilesError::PreflightUnsupported { format: other }),
    };
    findings.cap(limits.max_findings_per_check.max(1));
    report.findings = findings.0;
    for f in &report.findings {
        match f.severity {
            Severity::Error => report.summary.errors += 1,
            Severity::Warning => report.summary.warnings += 1,
            Severity::Info => report.summary.infos += 1,
        }
    }
    report.verdict = if report.summary.errors > 0 {
        Verdict::Fail
    } else if report.summary.warnings > 0 {
        Verdict::Warnings
    } else {
        Verdict::Pass
    };
    Ok(report)
}
