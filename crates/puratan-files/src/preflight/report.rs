//! The preflight report: one JSON document (schema [`SCHEMA`]) produced by
//! the library, the server and the CLI alike.
//!
//! Field names are stable; new optional fields may be added within `v1`,
//! nothing is renamed or removed. Lengths are in PDF points (1/72 in) where
//! the field says `pt` and millimetres where it says `mm`.

use serde::{Deserialize, Serialize};

/// The schema id every report carries in its `schema` field.
pub const SCHEMA: &str = "puratan.preflight/v1";

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing, no action needed.
    Info,
    /// Prints, but probably not as the customer expects.
    Warning,
    /// Must be fixed before the job goes to press.
    Error,
}

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No warnings and no errors.
    Pass,
    /// Warnings, no errors: printable, the customer should look.
    Warnings,
    /// At least one error.
    Fail,
}

/// A measured or required value: a number or a short text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Text(String),
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Number(round2(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

/// One problem or observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable snake_case check id (`image_ppi_too_low`, `font_not_embedded`, …).
    pub check: String,
    pub severity: Severity,
    /// 1-based page number, when the finding is about one page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// The object concerned: `image 12 0`, `font Helvetica (7 0)`, `inline image`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Value>,
    /// Unit of `measured` and `threshold` (`ppi`, `mm`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Plain-language explanation for the customer.
    pub message: String,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// A rectangle `[x0, y0, x1, y1]` in PDF points, normalised (x0 ≤ x1, y0 ≤ y1).
pub type Rect = [f64; 4];

/// Bleed available around the trim box on each side, in mm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bleed {
    pub left: f64,
    pub bottom: f64,
    pub right: f64,
    pub top: f64,
}

impl Bleed {
    /// The smallest of the four sides.
    pub fn min(&self) -> f64 {
        self.left.min(self.bottom).min(self.right).min(self.top)
    }
}

/// Geometry of one PDF page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageInfo {
    /// 1-based.
    pub number: u32,
    /// Boxes as a PDF reader resolves them: inherited from the page tree
    /// where the format allows it, defaulted (crop ← media, bleed/trim/art ←
    /// crop) and clipped to the media box.
    pub media_box: Rect,
    pub crop_box: Rect,
    pub bleed_box: Rect,
    pub trim_box: Rect,
    pub art_box: Rect,
    /// Whether the page declares its own TrimBox / BleedBox.
    pub has_trim_box: bool,
    pub has_bleed_box: bool,
    /// `/Rotate`, normalised to 0, 90, 180 or 270.
    pub rotate: u32,
    /// `/UserUnit` (1 unless the page scales its units).
    pub user_unit: f64,
    /// Finished (trimmed) size in mm as the page is displayed (rotation applied).
    pub trim_width_mm: f64,
    pub trim_height_mm: f64,
    /// Bleed beyond the trim box (the bleed box, clipped to the media box).
    pub bleed_mm: Bleed,
}

/// One font as a PDF reader lists it (like `pdffonts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FontInfo {
    /// `BaseFont` (subset prefix included), or `[none]`.
    pub name: String,
    /// `Type1`, `TrueType`, `Type0`, `Type3`, `MMType1`, …
    pub subtype: String,
    /// Embedded: a FontFile/FontFile2/FontFile3 stream in the font
    /// descriptor (for Type0 fonts: the descendant font's). Type3 fonts are
    /// their own glyph programs and count as embedded.
    pub embedded: bool,
    /// `ABCDEF+` subset prefix present.
    pub subset: bool,
    /// Indirect object `num gen`, if the font dictionary is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// First page the font is found on.
    pub first_page: u32,
}

/// One drawing of an image on a page (an image drawn twice is listed twice,
/// like `pdfimages -list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageInfo {
    pub page: u32,
    /// `num gen` of the image XObject; `inline` for inline images.
    pub object: String,
    pub width: u32,
    pub height: u32,
    pub bits_per_component: u32,
    /// Colour space as described in [`ColourSpaceUse::space`]; `stencil`
    /// for image masks.
    pub colour_space: String,
    pub components: u32,
    /// Stencil mask (`/ImageMask true`): painted in the fill colour.
    pub stencil: bool,
    /// Has a soft mask (`/SMask` or `/SMaskInData`).
    pub soft_mask: bool,
    /// Drawn from inside a Form XObject (or an annotation appearance).
    pub in_form: bool,
    /// Transformation matrix `[a b c d e f]` mapping the unit square to the
    /// page in default user space (points) at the moment of drawing.
    pub ctm: [f64; 6],
    /// Effective resolution along the image's own x and y axes on the page,
    /// in pixels per inch (rotation and skew taken into account).
    pub ppi_x: f64,
    pub ppi_y: f64,
    /// Whether the profile ignores the image (tiny images).
    pub ignored: bool,
    /// Total area coverage (C + M + Y + K) of a CMYK image's pixels in
    /// percent: the 99.9th percentile (what the check judges) and the
    /// maximum. Absent for other colour spaces and for images whose data
    /// is not decoded (JPX, JBIG2, CCITT, not 8 bits per component, over
    /// the pixel budget, damaged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tac_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tac_max_percent: Option<f64>,
}

/// A colour space in use on a page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColourSpaceUse {
    pub page: u32,
    /// `DeviceRGB`, `DeviceCMYK`, `DeviceGray`, `ICCBased(N=4)`,
    /// `Indexed(DeviceRGB)`, `Separation(PANTONE 185 C)`,
    /// `DeviceN(Cyan,Spot 1)`, `Lab`, `CalRGB`, `Pattern`, …
    pub space: String,
    /// Colour model: `rgb`, `cmyk`, `gray`, `lab`, `spot`, `pattern`, `unknown`.
    pub model: String,
    /// What uses it: `image`, `fill`, `stroke`, `shading`.
    pub usage: String,
}

/// Something that makes a page use transparency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TransparencyUse {
    pub page: u32,
    /// `soft_mask`, `constant_alpha`, `blend_mode`, `image_soft_mask`,
    /// `transparency_group`, `page_group`.
    pub kind: String,
    /// e.g. `ca=0.5`, `BM=Multiply`, `image 12 0`.
    pub detail: String,
}

/// The PDF/X output intent (first `GTS_PDFX` entry, else the first entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputIntent {
    /// `/S`: `GTS_PDFX`, `GTS_PDFA1`, …
    pub subtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_condition_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// `/DestOutputProfile` (an ICC profile) is embedded.
    pub has_profile: bool,
}

/// Raster upload properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RasterInfo {
    pub width: u32,
    pub height: u32,
    /// `rgb`, `cmyk`, `ycck`, `gray`, `indexed`, …
    pub colour_mode: String,
    pub bits_per_component: u32,
    pub alpha: bool,
    /// An ICC profile is embedded.
    pub icc_profile: bool,
    /// Colour space of the ICC profile (`RGB`, `CMYK`, `GRAY`, `Lab`, …)
    /// read from its header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icc_colour_space: Option<String>,
    /// Effective resolution when printed at the ordered size (trim + bleed),
    /// along the image's width and height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppi_x: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppi_y: Option<f64>,
    /// CMYK and YCCK JPEGs: total area coverage (C + M + Y + K) in percent,
    /// the 99.9th percentile (judged) and the maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tac_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tac_max_percent: Option<f64>,
}

/// Counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub errors: u32,
    pub warnings: u32,
    pub infos: u32,
}

/// The complete result of [`crate::preflight::run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// `pdf`, `jpeg`, `png`, `tiff`, `webp`.
    pub format: String,
    /// Id of the profile the file was checked against.
    pub profile: String,
    pub verdict: Verdict,
    pub summary: Summary,
    pub page_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_version: Option<String>,
    /// `/GTS_PDFXVersion` from the document information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdfx_version: Option<String>,
    pub encrypted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_intent: Option<OutputIntent>,
    pub pages: Vec<PageInfo>,
    pub fonts: Vec<FontInfo>,
    pub images: Vec<ImageInfo>,
    pub colour_spaces: Vec<ColourSpaceUse>,
    /// Spot colour names (Separation / DeviceN colorants other than the
    /// process colours, `All` and `None`), sorted.
    pub spot_colours: Vec<String>,
    pub transparency: Vec<TransparencyUse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raster: Option<RasterInfo>,
    pub findings: Vec<Finding>,
    /// Items not listed because of [`Limits::max_report_items`](super::Limits)
    /// (they were still checked).
    #[serde(default)]
    pub unlisted_images: u64,
}

impl Report {
    /// Findings of one check.
    pub fn findings_of<'a>(&'a self, check: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.check == check)
    }

    /// Whether any finding has this check id.
    pub fn has(&self, check: &str) -> bool {
        self.findings_of(check).next().is_some()
    }
}

/// Rounds to two decimals (reports should not carry float noise).
pub(crate) fn round2(v: f64) -> f64 {
    if v.is_finite() {
        (v * 100.0).round() / 100.0
    } else {
        v
    }
}
