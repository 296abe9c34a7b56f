//! The one error type of `puratan-files`.
//!
//! Every variant has a stable, machine-readable [`FilesError::code`] (snake
//! case, never renamed once released) so the server can put it in its error
//! body and clients can branch on it. The `Display` text is written for the
//! person who uploaded the file: it says what is wrong in plain words and
//! never echoes large parts of the hostile input (declared names are
//! truncated by the caller-facing constructors).

use crate::format::Format;

/// Errors of format detection, allow-list checks, the tus upload logic and
/// virus scanning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilesError {
    // ---- format detection -------------------------------------------------
    /// The file has no bytes at all.
    #[error("the file is empty")]
    Empty,

    /// No supported format was recognised.
    #[error(
        "the file type is not recognised (supported: PDF, JPEG, PNG, TIFF, WebP, SVG, PostScript/EPS, Illustrator, ZIP)"
    )]
    UnknownFormat,

    /// The format was recognised but the file stops before its structure is
    /// complete (interrupted upload, cut-off download).
    #[error("the {format} file is incomplete (truncated)")]
    Truncated { format: Format },

    /// The format was recognised but its structure is invalid.
    #[error("the {format} file is damaged: {reason}")]
    Malformed {
        format: Format,
        reason: &'static str,
    },

    /// The file is valid as two different formats at once (a classic way to
    /// smuggle content past type checks, e.g. GIFAR, JPEG+ZIP, PDF+ZIP).
    #[error("the file is both a {primary} and {other}: {reason}")]
    Polyglot {
        primary: Format,
        other: &'static str,
        reason: &'static str,
    },

    /// An SVG with active content (scripts, event handlers, `javascript:`
    /// links, entity declarations, embedded HTML).
    #[error("the SVG file contains active content ({reason}); remove it and upload again")]
    UnsafeSvg { reason: &'static str },

    /// The detected format is not on the product's allow list.
    #[error("{format} files are not accepted for this product")]
    NotAllowed { format: Format },

    /// The declared file name / media type does not match the content and
    /// the allow list asks for a strict match.
    #[error("the file is named/declared as {declared} but its content is {detected}")]
    Mismatch { declared: String, detected: Format },

    // ---- tus ---------------------------------------------------------------
    /// `Tus-Resumable` is missing or not `1.0.0`.
    #[error("unsupported tus protocol version (this server speaks 1.0.0)")]
    UnsupportedVersion,

    /// A required request header is missing.
    #[error("missing header {0}")]
    MissingHeader(&'static str),

    /// A request header is present but malformed.
    #[error("invalid header {header}: {reason}")]
    InvalidHeader {
        header: &'static str,
        reason: &'static str,
    },

    /// A `PATCH` whose `Content-Type` is not `application/offset+octet-stream`.
    #[error("PATCH requests must have Content-Type application/offset+octet-stream")]
    WrongContentType,

    /// `Upload-Offset` differs from the upload's current offset.
    #[error(
        "upload offset mismatch: the upload is at byte {expected}, the request starts at byte {got}"
    )]
    OffsetMismatch { expected: u64, got: u64 },

    /// The upload (or this chunk) exceeds the maximum file size / declared length.
    #[error("the file is too large: {reason}")]
    TooLarge { reason: &'static str },

    /// The user's upload quota would be exceeded.
    #[error("upload quota exceeded: {used} of {quota} bytes in use, {requested} more requested")]
    QuotaExceeded {
        used: u64,
        quota: u64,
        requested: u64,
    },

    /// `Upload-Checksum` names an algorithm other than sha256.
    #[error("unsupported checksum algorithm (supported: sha256)")]
    UnsupportedChecksum,

    /// The chunk does not match its `Upload-Checksum`; nothing was stored.
    #[error("checksum mismatch: the chunk was corrupted in transit, nothing was stored")]
    ChecksumMismatch,

    /// No such upload (or it belongs to someone else).
    #[error("upload not found")]
    UploadNotFound,

    /// The upload expired before it was completed.
    #[error("the upload has expired")]
    UploadExpired,

    /// An upload with this id already exists (id generator collision).
    #[error("an upload with this id already exists")]
    DuplicateUpload,

    /// The HTTP method is not part of the tus protocol.
    #[error("method not allowed")]
    MethodNotAllowed,

    /// Too many PATCH requests for one upload (bounds per-upload state).
    #[error("too many chunks for one upload (at most {max})")]
    TooManyChunks { max: usize },

    /// The storage backend failed.
    #[error("storage failed: {0}")]
    Storage(#[from] puratan_core::Error),

    // ---- virus scanning ----------------------------------------------------
    /// The virus scanner cannot be reached or did not answer in time.
    /// Retryable: the file waits (see [`crate::scan`]).
    #[error("the virus scanner ({scanner}) is unavailable: {reason}")]
    ScannerUnavailable {
        scanner: &'static str,
        reason: String,
    },

    /// The virus scanner answered with an error or with something that is
    /// not a verdict. The file waits, like for an outage.
    #[error("the virus scanner ({scanner}) failed: {reason}")]
    ScannerFailed {
        scanner: &'static str,
        reason: String,
    },

    /// The file is larger than the virus scanner accepts, so it can never be
    /// scanned (and is therefore never processed). `limit` is the scanner's
    /// limit in bytes when known.
    #[error("the file is too large to be scanned for viruses{}", scan_limit_text(*.limit))]
    ScanTooLarge { limit: Option<u64> },

    // ---- preflight ---------------------------------------------------------
    /// The file could not be read for preflight (damaged beyond what readers
    /// repair). `reason` is the parser's explanation, shortened.
    #[error("the {format} file cannot be read for checking: {reason}")]
    PreflightUnreadable { format: Format, reason: String },

    /// The PDF is encrypted with a password needed to open it.
    #[error(
        "the PDF is password-protected; upload it without a password so it can be checked and printed"
    )]
    PreflightEncrypted,

    /// Checking the file would exceed a resource limit (see
    /// [`crate::preflight::Limits`]; `limit` is the field name).
    #[error(
        "the file is too complex to be checked automatically (limit {limit} = {value} exceeded)"
    )]
    PreflightLimit { limit: &'static str, value: u64 },

    /// Preflight does not check this format.
    #[error("{format} files cannot be preflighted (supported: PDF, JPEG, PNG, TIFF, WebP)")]
    PreflightUnsupported { format: Format },

    /// A parser failed unexpectedly (a caught panic); the file is treated as
    /// unreadable and the failure should be reported to the developers.
    #[error("the file could not be checked because of an internal error in a file parser")]
    PreflightInternal,

    // ---- processing (previews, colour, conversion) -------------------------
    /// The image is larger than the processing limits allow (also what a
    /// decompression bomb looks like: a small file declaring a huge image).
    /// Rejected from the header, before any pixel memory is allocated.
    #[error(
        "the image is too large to process: {width} × {height} pixels (at most {limit} pixels)"
    )]
    ImageTooLarge { width: u64, height: u64, limit: u64 },

    /// The image or page could not be decoded.
    #[error("the {format} file could not be read: {reason}")]
    Undecodable { format: Format, reason: String },

    /// A decoder crashed on this file (caught; the file is treated as damaged).
    #[error("the {format} file could not be read (the decoder failed on it)")]
    DecoderCrashed { format: Format },

    /// This kind of file cannot be processed by this step.
    #[error("{format} files cannot be processed here: {reason}")]
    UnsupportedInput {
        format: Format,
        reason: &'static str,
    },

    /// A page number beyond the document's pages.
    #[error("page {page} does not exist (the document has {pages} pages)")]
    PageOutOfRange { page: u32, pages: u32 },

    /// The processing request itself is invalid (zero size, negative bleed…).
    #[error("invalid processing request: {reason}")]
    InvalidRequest { reason: &'static str },

    /// Encoding the output (JPEG/PNG/WebP/PDF) failed.
    #[error("writing the {what} output failed: {reason}")]
    Encode { what: &'static str, reason: String },

    /// An ICC profile is unusable or a colour transform failed.
    #[error("colour conversion failed: {reason}")]
    Colour { reason: String },
}

fn scan_limit_text(limit: Option<u64>) -> String {
    limit.map_or_else(String::new, |l| format!(" (at most {l} bytes)"))
}

impl FilesError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "file_empty",
            Self::UnknownFormat => "file_unknown_format",
            Self::Truncated { .. } => "file_truncated",
            Self::Malformed { .. } => "file_malformed",
            Self::Polyglot { .. } => "file_polyglot",
            Self::UnsafeSvg { .. } => "file_unsafe_svg",
            Self::NotAllowed { .. } => "file_type_not_allowed",
            Self::Mismatch { .. } => "file_type_mismatch",
            Self::UnsupportedVersion => "tus_unsupported_version",
            Self::MissingHeader(_) => "tus_missing_header",
            Self::InvalidHeader { .. } => "tus_invalid_header",
            Self::WrongContentType => "tus_wrong_content_type",
            Self::OffsetMismatch { .. } => "tus_offset_mismatch",
            Self::TooLarge { .. } => "upload_too_large",
            Self::QuotaExceeded { .. } => "upload_quota_exceeded",
            Self::UnsupportedChecksum => "tus_unsupported_checksum",
            Self::ChecksumMismatch => "tus_checksum_mismatch",
            Self::UploadNotFound => "upload_not_found",
            Self::UploadExpired => "upload_expired",
            Self::DuplicateUpload => "upload_duplicate",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::TooManyChunks { .. } => "upload_too_many_chunks",
            Self::Storage(_) => "storage_error",
            Self::ScannerUnavailable { .. } => "scanner_unavailable",
            Self::ScannerFailed { .. } => "scanner_error",
            Self::ScanTooLarge { .. } => "scan_too_large",
            Self::PreflightUnreadable { .. } => "preflight_unreadable",
            Self::PreflightEncrypted => "preflight_encrypted",
            Self::PreflightLimit { .. } => "preflight_limit_exceeded",
            Self::PreflightUnsupported { .. } => "preflight_unsupported_format",
            Self::PreflightInternal => "preflight_internal_error",
            Self::ImageTooLarge { .. } => "image_too_large",
            Self::Undecodable { .. } => "file_undecodable",
            Self::DecoderCrashed { .. } => "file_decoder_crashed",
            Self::UnsupportedInput { .. } => "processing_unsupported_input",
            Self::PageOutOfRange { .. } => "page_out_of_range",
            Self::InvalidRequest { .. } => "processing_invalid_request",
            Self::Encode { .. } => "processing_encode_failed",
            Self::Colour { .. } => "colour_conversion_failed",
        }
    }

    /// The HTTP status the tus endpoint answers with for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::UnsupportedVersion => 412,
            Self::WrongContentType => 415,
            Self::OffsetMismatch { .. } => 409,
            Self::TooLarge { .. }
            | Self::QuotaExceeded { .. }
            | Self::ScanTooLarge { .. }
            | Self::ImageTooLarge { .. } => 413,
            Self::Undecodable { .. }
            | Self::DecoderCrashed { .. }
            | Self::UnsupportedInput { .. } => 422,
            Self::Encode { .. } | Self::Colour { .. } => 500,
            Self::ScannerUnavailable { .. } => 503,
            Self::ScannerFailed { .. } => 502,
            Self::ChecksumMismatch => 460,
            Self::UploadNotFound => 404,
            Self::UploadExpired => 410,
            Self::DuplicateUpload => 409,
            Self::MethodNotAllowed => 405,
            Self::Storage(e) => match e.kind() {
                puratan_core::ErrorKind::Unavailable => 503,
                puratan_core::ErrorKind::NotFound => 404,
                _ => 500,
            },
            Self::NotAllowed { .. } | Self::Mismatch { .. } | Self::PreflightUnsupported { .. } => {
                415
            }
            Self::PreflightUnreadable { .. } | Self::PreflightEncrypted => 422,
            Self::PreflightLimit { .. } => 413,
            Self::PreflightInternal => 500,
            _ => 400,
        }
    }
}
