//! File formats, detection results and per-product allow lists.
//!
//! [`Format`] is a closed list of what the detector recognises. GIF and BMP
//! are recognised (so a customer gets "BMP files are not accepted" rather
//! than "unknown type") but are on no default allow list.
//!
//! The declared file name never decides the format. It only produces a
//! [`FindingKind::ExtensionMismatch`] finding; whether a mismatch is fatal is
//! the product's policy ([`AllowList::reject_mismatch`]).

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::FilesError;

/// A detected file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Format {
    Pdf,
    Jpeg,
    Png,
    Tiff,
    WebP,
    Svg,
    /// PostScript that is not encapsulated.
    PostScript,
    /// Encapsulated PostScript (text `EPSF` header or DOS binary header).
    Eps,
    /// Adobe Illustrator: PDF-compatible (a PDF with Illustrator private
    /// data) or legacy (PostScript written by Illustrator).
    Illustrator,
    /// A ZIP archive (multi-file jobs).
    Zip,
    Gif,
    Bmp,
}

impl Format {
    /// Every format, in a stable order.
    pub const ALL: [Format; 12] = [
        Format::Pdf,
        Format::Jpeg,
        Format::Png,
        Format::Tiff,
        Format::WebP,
        Format::Svg,
        Format::PostScript,
        Format::Eps,
        Format::Illustrator,
        Format::Zip,
        Format::Gif,
        Format::Bmp,
    ];

    /// The canonical media type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Tiff => "image/tiff",
            Format::WebP => "image/webp",
            Format::Svg => "image/svg+xml",
            Format::PostScript => "application/postscript",
            Format::Eps => "application/postscript",
            Format::Illustrator => "application/illustrator",
            Format::Zip => "application/zip",
            Format::Gif => "image/gif",
            Format::Bmp => "image/bmp",
        }
    }

    /// A short stable identifier (`pdf`, `jpeg`, …) for configuration files.
    pub fn id(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Tiff => "tiff",
            Format::WebP => "webp",
            Format::Svg => "svg",
            Format::PostScript => "postscript",
            Format::Eps => "eps",
            Format::Illustrator => "illustrator",
            Format::Zip => "zip",
            Format::Gif => "gif",
            Format::Bmp => "bmp",
        }
    }

    /// Parses [`Format::id`].
    pub fn from_id(id: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.id() == id)
    }

    /// File name extensions (lower case, without dot) that are an honest
    /// name for this content. Illustrator files are PDFs or PostScript, so
    /// `.pdf` / `.eps` / `.ps` names are not a mismatch for them.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Pdf => &["pdf"],
            Format::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            Format::Png => &["png"],
            Format::Tiff => &["tif", "tiff"],
            Format::WebP => &["webp"],
            Format::Svg => &["svg"],
            Format::PostScript => &["ps"],
            Format::Eps => &["eps", "epsf", "epsi", "ps"],
            Format::Illustrator => &["ai", "pdf", "eps", "ps"],
            Format::Zip => &["zip"],
            Format::Gif => &["gif"],
            Format::Bmp => &["bmp", "dib"],
        }
    }

    /// Media types that are an honest declaration of this content.
    pub fn mimes(self) -> &'static [&'static str] {
        match self {
            Format::Pdf => &["application/pdf"],
            Format::Jpeg => &["image/jpeg", "image/jpg", "image/pjpeg"],
            Format::Png => &["image/png"],
            Format::Tiff => &["image/tiff"],
            Format::WebP => &["image/webp"],
            Format::Svg => &["image/svg+xml"],
            Format::PostScript | Format::Eps => &[
                "application/postscript",
                "application/eps",
                "image/eps",
                "image/x-eps",
            ],
            Format::Illustrator => &[
                "application/illustrator",
                "application/pdf",
                "application/postscript",
            ],
            Format::Zip => &["application/zip", "application/x-zip-compressed"],
            Format::Gif => &["image/gif"],
            Format::Bmp => &["image/bmp", "image/x-ms-bmp"],
        }
    }
}

/// Serialised as [`Format::id`].
impl Serialize for Format {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Pdf => "PDF",
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Tiff => "TIFF",
            Format::WebP => "WebP",
            Format::Svg => "SVG",
            Format::PostScript => "PostScript",
            Format::Eps => "EPS",
            Format::Illustrator => "Adobe Illustrator",
            Format::Zip => "ZIP",
            Format::Gif => "GIF",
            Format::Bmp => "BMP",
        })
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
}

/// What a non-fatal observation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FindingKind {
    /// The declared file name's extension does not fit the content.
    ExtensionMismatch,
    /// The declared media type does not fit the content.
    MimeMismatch,
    /// Bytes after the format's logical end (none of them another format).
    TrailingData,
    /// Bytes before the `%PDF-` header (allowed by readers within 1024 bytes).
    LeadingData,
    /// A JPEG without an end-of-image marker (most decoders still read it).
    MissingEndMarker,
    /// Illustrator file in the legacy PostScript-based format.
    LegacyIllustrator,
    /// Illustrator file saved with PDF compatibility.
    PdfCompatibleIllustrator,
    /// A ZIP64 archive (central directory fields not checked in detail).
    Zip64,
    /// BigTIFF variant.
    BigTiff,
}

/// Serialised as [`FindingKind::code`].
impl Serialize for FindingKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl FindingKind {
    /// Stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            FindingKind::ExtensionMismatch => "extension_mismatch",
            FindingKind::MimeMismatch => "mime_mismatch",
            FindingKind::TrailingData => "trailing_data",
            FindingKind::LeadingData => "leading_data",
            FindingKind::MissingEndMarker => "missing_end_marker",
            FindingKind::LegacyIllustrator => "legacy_illustrator",
            FindingKind::PdfCompatibleIllustrator => "pdf_compatible_illustrator",
            FindingKind::Zip64 => "zip64",
            FindingKind::BigTiff => "bigtiff",
        }
    }
}

/// A non-fatal observation made during detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    pub message: String,
    /// For mismatch findings: the declared extension (`.pdf`) or media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<String>,
}

impl Finding {
    pub(crate) fn new(kind: FindingKind, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            kind,
            severity,
            message: message.into(),
            declared: None,
        }
    }
}

/// The result of [`crate::detect()`]; serialises to
/// `{"format":"pdf","mime":"application/pdf","findings":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    pub format: Format,
    pub mime: &'static str,
    pub findings: Vec<Finding>,
}

impl Detection {
    /// Whether a finding of this kind was made.
    pub fn has(&self, kind: FindingKind) -> bool {
        self.findings.iter().any(|f| f.kind == kind)
    }
}

/// The formats a product accepts, and how strict it is about names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    pub formats: Vec<Format>,
    /// Reject files whose declared extension or media type does not fit the
    /// content (default `true`: a `.pdf` that is a JPEG is usually a
    /// mistake the customer should know about before the job is printed).
    pub reject_mismatch: bool,
}

impl AllowList {
    pub fn new(formats: impl IntoIterator<Item = Format>) -> Self {
        Self {
            formats: formats.into_iter().collect(),
            reject_mismatch: true,
        }
    }

    /// Print artwork: PDF, Illustrator, EPS, JPEG, PNG, TIFF, SVG.
    pub fn print_artwork() -> Self {
        Self::new([
            Format::Pdf,
            Format::Illustrator,
            Format::Eps,
            Format::Jpeg,
            Format::Png,
            Format::Tiff,
            Format::Svg,
        ])
    }

    pub fn allows(&self, format: Format) -> bool {
        self.formats.contains(&format)
    }
}

/// Checks a detection against a product's allow list.
pub fn check_allowed(detection: &Detection, allow: &AllowList) -> Result<(), FilesError> {
    if !allow.allows(detection.format) {
        return Err(FilesError::NotAllowed {
            format: detection.format,
        });
    }
    if allow.reject_mismatch
        && let Some(f) = detection.findings.iter().find(|f| {
            matches!(
                f.kind,
                FindingKind::ExtensionMismatch | FindingKind::MimeMismatch
            )
        })
    {
        return Err(FilesError::Mismatch {
            declared: f.declared.clone().unwrap_or_default(),
            detected: detection.format,
        });
    }
    Ok(())
}
