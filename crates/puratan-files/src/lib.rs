//! # puratan-files
//!
//! The artwork pipeline: format detection ([`detect()`]), per-product allow
//! lists ([`check_allowed`]), the server side of the tus 1.0 resumable
//! upload protocol ([`tus`]) and the virus-scanning port with its pipeline
//! rule ([`scan`]: a scanner that is down makes files wait, never pass) and
//! print preflight ([`preflight::run`]: page boxes, bleed, fonts, image
//! resolution, colour spaces, transparency → a `puratan.preflight/v1` report).
//! Previews follow.
//!
//! Everything here is a library over `puratan-core`'s ports: no clock reads
//! (time is a parameter), no sockets, no files, no HTTP framework. The
//! dependency direction is `puratan-files → puratan-core`, never the reverse.
//!
//! ```
//! use puratan_files::{AllowList, Format, FindingKind, check_allowed, detect};
//!
//! let png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\0\0\0\0\
//!             \0\0\0\0IEND\0\0\0\0";
//! let d = detect(png, Some("flyer.pdf")).unwrap();
//! assert_eq!(d.format, Format::Png);
//! assert!(d.has(FindingKind::ExtensionMismatch));
//! // The product accepts PNG, but not a PNG that claims to be a PDF.
//! let err = check_allowed(&d, &AllowList::print_artwork()).unwrap_err();
//! assert_eq!(err.code(), "file_type_mismatch");
//! ```
//!
//! Hostile input is the normal case: no function panics on any input, and
//! detection does no work or allocation beyond a linear pass over the bytes
//! it was given.

pub mod colour;
pub mod convert;
pub mod detect;
pub mod error;
pub mod format;
pub mod preflight;
pub mod preview;
pub mod scan;
mod svg;
pub mod tus;

pub use detect::{detect, detect_declared};
pub use error::FilesError;
pub use format::{AllowList, Detection, Finding, FindingKind, Format, Severity, check_allowed};
