//! Format detection from magic bytes *and* structure.
//!
//! # Decisions
//!
//! * **Content decides, never the name.** The declared file name and media
//!   type are compared with the detected format afterwards and only produce
//!   [`FindingKind::ExtensionMismatch`] / [`FindingKind::MimeMismatch`]
//!   findings; the product's [`AllowList`](crate::AllowList) decides whether
//!   that is fatal.
//! * **A magic number is not enough.** Each format's first structure is
//!   checked (JPEG marker segments up to the first scan, the PNG IHDR chunk
//!   and the chunk chain up to IEND, the TIFF first IFD, the RIFF/WebP chunk
//!   header, the ZIP end-of-central-directory record and central directory,
//!   the PDF `%%EOF` in the last 1024 bytes, the DOS-EPS PostScript section).
//!   A file that stops inside that structure is [`FilesError::Truncated`].
//! * **Polyglots are rejected**, because every tool downstream (browser
//!   previews, PDF readers, unzip, the RIP) may pick a different
//!   interpretation:
//!   - a PDF header (`%PDF-`) in the first 1024 bytes of a file that starts
//!     with another format's magic — PDF readers accept a header anywhere in
//!     the first 1024 bytes, so such a file opens as a PDF;
//!   - a ZIP end-of-central-directory record (with a central directory where
//!     it points) at the end of a non-ZIP file — this is how unzip and the
//!     JVM find archives (GIFAR, JPEG+ZIP, PDF+ZIP);
//!   - `%PDF-` anywhere in a raster image (an appended or embedded PDF);
//!   - HTML or script markup (`<script`, `<html`, `<!doctype html`,
//!     `<iframe`, `<body`, `<?php`, `<svg` in raster images) in the first
//!     1024 bytes (what browsers content-sniff) or in data trailing a
//!     raster image.
//!
//!   ZIP files are exempt from the `%PDF-` and markup checks: a ZIP with a
//!   stored (uncompressed) PDF legitimately contains `%PDF-` near its start.
//!   The entries of a multi-file job are detected one by one after
//!   extraction instead.
//! * **SVG is treated as active content.** The root element must be `svg`
//!   (after an optional BOM, XML declaration, comments, processing
//!   instructions and a DOCTYPE without internal subset). A document with
//!   `<script>`, `foreignObject`/`iframe`/`embed`/`object`/`handler`
//!   elements, `on…=` event-handler attributes, `javascript:` / `vbscript:`
//!   / `data:text/html` in any attribute value, character references in a
//!   link, entity declarations (billion laughs / XXE) or an
//!   `xml-stylesheet` instruction is rejected with [`FilesError::UnsafeSvg`].
//! * **Bounded work.** Detection never allocates in proportion to the input
//!   (only findings are allocated); every scan is a single linear pass at
//!   most, and the SVG prologue search stops after 64 KiB.
//! * GIF and BMP are recognised so customers get a clear "not accepted"
//!   message; they are on no default allow list.

use crate::error::FilesError;
use crate::format::{Detection, Finding, FindingKind, Format, Severity};

/// PDF readers look for the header within this many bytes; also what
/// browsers content-sniff.
const HEAD: usize = 1024;
/// `%%EOF` must be within this many bytes of the end.
const PDF_TAIL: usize = 1024;
/// Bytes of PostScript header comments searched for the Illustrator creator.
const PS_HEADER_LIMIT: usize = 16 * 1024;

/// Detects the real format of `bytes`; `declared_name` (the uploaded file
/// name) is only compared with the result.
pub fn detect(bytes: &[u8], declared_name: Option<&str>) -> Result<Detection, FilesError> {
    detect_declared(bytes, declared_name, None)
}

/// Like [`detect`], also comparing a declared media type (e.g. the
/// `filetype` tus metadata or a `Content-Type`).
pub fn detect_declared(
    bytes: &[u8],
    declared_name: Option<&str>,
    declared_mime: Option<&str>,
) -> Result<Detection, FilesError> {
    if bytes.is_empty() {
        return Err(FilesError::Empty);
    }
    let mut findings = Vec::new();
    let format = sniff(bytes, &mut findings)?;
    polyglot_checks(bytes, format)?;
    declared_checks(format, declared_name, declared_mime, &mut findings);
    Ok(Detection {
        format,
        mime: format.mime(),
        findings,
    })
}

// ---------------------------------------------------------------------------
// byte helpers

fn head(b: &[u8], n: usize) -> &[u8] {
    &b[..b.len().min(n)]
}

fn tail(b: &[u8], n: usize) -> &[u8] {
    &b[b.len().saturating_sub(n)..]
}

/// First occurrence of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let off = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&c| c == first)?;
        let at = i + off;
        if &hay[at + 1..at + needle.len()] == rest {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Last occurrence of `needle` in `hay`.
fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| &hay[i..i + needle.len()] == needle)
}

/// Case-insensitive search; `needle` must be lower case ASCII.
pub(crate) fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| {
        hay[i..i + needle.len()]
            .iter()
            .zip(needle)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

pub(crate) fn starts_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .iter()
            .zip(needle)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
}

fn u16_be(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn u64_le(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}
fn u64_be(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

fn as_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

// ---------------------------------------------------------------------------
// sniffing

/// The format named by the first bytes alone (binary magic numbers and the
/// PostScript header), before any structure check. PDF is handled apart
/// because its header may start anywhere in the first 1024 bytes.
fn magic(b: &[u8]) -> Option<Format> {
    const PNG_SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if b.starts_with(b"\xFF\xD8\xFF") {
        Some(Format::Jpeg)
    } else if b.starts_with(PNG_SIG) {
        Some(Format::Png)
    } else if b.starts_with(b"II*\0")
        || b.starts_with(b"MM\0*")
        || b.starts_with(b"II+\0")
        || b.starts_with(b"MM\0+")
    {
        Some(Format::Tiff)
    } else if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        Some(Format::WebP)
    } else if b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06") {
        Some(Format::Zip)
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if b.starts_with(b"\xC5\xD0\xD3\xC6") || ps_start(b).is_some() {
        Some(Format::PostScript)
    } else if b.starts_with(b"BM") && b.len() >= 18 && is_bmp_header(b) {
        Some(Format::Bmp)
    } else {
        None
    }
}

/// Offset of `%!PS` when the file is PostScript (optionally after a ^D).
fn ps_start(b: &[u8]) -> Option<usize> {
    if b.starts_with(b"%!PS") {
        Some(0)
    } else if b.starts_with(b"\x04%!PS") {
        Some(1)
    } else {
        None
    }
}

fn is_bmp_header(b: &[u8]) -> bool {
    matches!(u32_le(b, 14), Some(12 | 16 | 40 | 52 | 56 | 64 | 108 | 124))
}

fn sniff(b: &[u8], findings: &mut Vec<Finding>) -> Result<Format, FilesError> {
    let pdf_at = find(head(b, HEAD), b"%PDF-");
    let magic = magic(b);
    if magic == Some(Format::Zip) {
        // Stored (uncompressed) PDFs put `%PDF-` near a ZIP's start.
        return zip(b, findings);
    }
    if let (Some(primary), Some(_)) = (magic, pdf_at) {
        return Err(FilesError::Polyglot {
            primary,
            other: "PDF",
            reason: "a PDF header within the first 1024 bytes",
        });
    }
    if let Some(at) = pdf_at {
        return pdf(b, at, findings);
    }
    match magic {
        Some(Format::Jpeg) => jpeg(b, findings),
        Some(Format::Png) => png(b, findings),
        Some(Format::Tiff) => tiff(b, findings),
        Some(Format::WebP) => webp(b, findings),
        Some(Format::Zip) => zip(b, findings),
        Some(Format::Gif) => gif(b),
        Some(Format::Bmp) => Ok(Format::Bmp),
        Some(_) => postscript(b, findings),
        None => match crate::svg::sniff(b)? {
            true => Ok(Format::Svg),
            false => Err(FilesError::UnknownFormat),
        },
    }
}

fn pdf(b: &[u8], at: usize, findings: &mut Vec<Finding>) -> Result<Format, FilesError> {
    // "%PDF-x.y": a version digit must follow.
    if !b.get(at + 5).is_some_and(u8::is_ascii_digit) {
        return Err(if b.len() < at + 8 {
            FilesError::Truncated {
                format: Format::Pdf,
            }
        } else {
            FilesError::Malformed {
                format: Format::Pdf,
                reason: "the header has no version number",
            }
        });
    }
    if at > 0 {
        findings.push(Finding::new(
            FindingKind::LeadingData,
            Severity::Warning,
            format!("{at} bytes precede the PDF header"),
        ));
    }
    if find(tail(&b[at..], PDF_TAIL), b"%%EOF").is_none() {
        return Err(FilesError::Truncated {
            format: Format::Pdf,
        });
    }
    if find(b, b"/Illustrator").is_some() || find(b, b"AIPrivateData").is_some() {
        findings.push(Finding::new(
            FindingKind::PdfCompatibleIllustrator,
            Severity::Info,
            "Adobe Illustrator file saved with PDF compatibility",
        ));
        return Ok(Format::Illustrator);
    }
    Ok(Format::Pdf)
}

fn jpeg(b: &[u8], findings: &mut Vec<Finding>) -> Result<Format, FilesError> {
    const F: Format = Format::Jpeg;
    let truncated = FilesError::Truncated { format: F };
    let mut pos = 2;
    loop {
        // Like libjpeg's `next_marker`: skip garbage bytes before a marker
        // (some writers emit them; decoders warn and continue), then fill
        // bytes (0xFF), and ignore stuffed `FF 00` pairs.
        let Some(skip) = b.get(pos..).and_then(|r| r.iter().position(|&c| c == 0xFF)) else {
            return Err(truncated);
        };
        pos += skip;
        while b.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = b.get(pos + 1) else {
            return Err(truncated);
        };
        if marker == 0x00 {
            pos += 2;
            continue;
        }
        match marker {
            0xD8 => {
                return Err(FilesError::Malformed {
                    format: F,
                    reason: "a second start-of-image marker in the header",
                });
            }
            0x01 | 0xD0..=0xD7 => {
                pos += 2;
                continue;
            }
            0xD9 => {
                return Err(FilesError::Malformed {
                    format: F,
                    reason: "the image ends before any image data",
                });
            }
            _ => {}
        }
        let len = u16_be(b, pos + 2).ok_or(FilesError::Truncated { format: F })? as usize;
        if len < 2 {
            return Err(FilesError::Malformed {
                format: F,
                reason: "a marker segment has an invalid length",
            });
        }
        let end = pos + 2 + len;
        if end > b.len() {
            return Err(truncated);
        }
        pos = end;
        if marker == 0xDA {
            break;
        }
    }
    // End of image: the last EOI marker (multi-picture files append more
    // JPEGs after the first EOI, so the last one is the logical end).
    match rfind(&b[pos..], b"\xFF\xD9") {
        Some(eoi) => trailing(b, pos + eoi + 2, F, findings)?,
        None => findings.push(Finding::new(
            FindingKind::MissingEndMarker,
            Severity::Warning,
            "the JPEG has no end-of-image marker (it may be incomplete)",
        )),
    }
    Ok(F)
}

fn png(b: &[u8], findings: &mut Vec<Finding>) -> Result<Format, FilesError> {
    const F: Format = Format::Png;
    if b.len() < 8 + 8 + 13 + 4 {
        return Err(FilesError::Truncated { format: F });
    }
    if u32_be(b, 8) != Some(13) || &b[12..16] != b"IHDR" {
        return Err(FilesError::Malformed {
            format: F,
            reason: "the first chunk is not a valid IHDR",
        });
    }
    if u32_be(b, 16) == Some(0) || u32_be(b, 20) == Some(0) {
        return Err(FilesError::Malformed {
            format: F,
            reason: "the image has zero width or height",
        });
    }
    let mut pos = 8usize;
    loop {
        let Some(len) = u32_be(b, pos) else {
            return Err(FilesError::Truncated { format: F });
        };
        if len > 0x7FFF_FFFF {
            return Err(FilesError::Malformed {
                format: F,
                reason: "a chunk length is out of range",
            });
        }
        let Some(kind) = b.get(pos + 4..pos + 8) else {
            return Err(FilesError::Truncated { format: F });
        };
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(FilesError::Malformed {
                format: F,
                reason: "a chunk type is not valid",
            });
        }
        let end = pos
            .checked_add(12)
            .and_then(|p| p.checked_add(len as usize))
            .ok_or(FilesError::Truncated { format: F })?;
        if end > b.len() {
            return Err(FilesError::Truncated { format: F });
        }
        if kind == b"IEND" {
            trailing(b, end, F, findings)?;
            return Ok(F);
        }
        pos = end;
    }
}

fn tiff(b: &[u8], findings: &mut Vec<Finding>) -> Result<Format, FilesError> {
    const F: Format = Format::Tiff;
    let le = b.starts_with(b"II");
    let big = b.get(2) == Some(&if le { 0x2B } else { 0 })
        && b.get(3) == Some(&if le { 0 } else { 0x2B });
    let trunc = FilesError::Truncated { format: F };
    let (ifd, count_size, entry_size, header) = if big {
        let bytesize = if le { u16_le(b, 4) } else { u16_be(b, 4) }
            .ok_or(FilesError::Truncated { format: F })?;
        if bytesize != 8 {
            return Err(FilesError::Malformed {
                format: F,
                reason: "invalid BigTIFF header",
            });
        }
        findings.push(Finding::new(
            FindingKind::BigTiff,
            Severity::Info,
            "BigTIFF file",
        ));
        let off = if le { u64_le(b, 8) } else { u64_be(b, 8) }
            .ok_or(FilesError::Truncated { format: F })?;
        (as_usize(off), 8usize, 20usize, 16usize)
    } else {
        let off = if le { u32_le(b, 4) } else { u32_be(b, 4) }
            .ok_or(FilesError::Truncated { format: F })?;
        (off as usize, 2usize, 12usize, 8usize)
    };
    if ifd < header {
        return Err(FilesError::Malformed {
            format: F,
            reason: "the first image directory offset is invalid",
        });
    }
    let count = if big {
        if le { u64_le(b, ifd) } else { u64_be(b, ifd) }.map(as_usize)
    } else {
        if le { u16_le(b, ifd) } else { u16_be(b, ifd) }.map(usize::from)
    }
    .ok_or(trunc)?;
    if count == 0 {
        return Err(FilesError::Malformed {
            format: F,
            reason: "the first image directory is empty",
        });
    }
    let end = count
        .checked_mul(entry_size)
        .and_then(|n| n.checked_add(ifd.checked_add(count_size)?))
        .ok_or(FilesError::Truncated { format: F })?;
    if end > b.len() {
        return Err(FilesError::Truncated { format: F });
    }
    Ok(F)
}

fn webp(b: &[u8], findings: &mut Vec<Finding>) -> Result<Format, FilesError> {
    const F: Format = Format::WebP;
    let chunk = b.get(12..16).ok_or(FilesError::Truncated { format: F })?;
    if !matches!(chunk, b"VP8 " | b"VP8L" | b"VP8X") {
        return Err(FilesError::Malformed {
            format: F,
            reason: "the first chunk is not VP8, VP8L or VP8X",
        });
    }
    let size = u32_le(b, 4).ok_or(FilesError::Truncated { format: F })? as usize;
    let end = size.saturating_add(8);
    if end > b.len() || b.len() < 20 {
        return Err(FilesError::Truncated { format: F });
    }
    trailing(b, end, F, findings)?;
    Ok(F)
}

fn gif(b: &[u8]) -> Result<Format, FilesError> {
    if b.len() < 13 {
        return Err(FilesError::Truncated {
            format: Format::Gif,
        });
    }
    Ok(Format::Gif)
}

/// Where the ZIP end-of-central-directory record is, if `b` ends with one
/// whose comment length reaches exactly the end of the file.
fn zip_eocd(b: &[u8]) -> Option<usize> {
    if b.len() < 22 {
        return None;
    }
    let lowest = b.len().saturating_sub(22 + 0xFFFF);
    (lowest..=b.len() - 22).rev().find(|&p| {
        &b[p..p + 4] == b"PK\x05\x06"
            && u16_le(b, p + 20).map(usize::from) == Some(b.len() - p - 22)
    })
}

/// Whether `b` ends with a ZIP archive that unzip-like tools would open:
/// an end-of-central-directory record whose central directory is where it
/// says, or right before it (archives with prepended data).
fn zip_tail(b: &[u8]) -> bool {
    let Some(p) = zip_eocd(b) else {
        return false;
    };
    let (Some(size), Some(off)) = (u32_le(b, p + 12), u32_le(b, p + 16)) else {
        return false;
    };
    if size == u32::MAX || off == u32::MAX {
        return true; // ZIP64: the locator is enough of a signal
    }
    let (size, off) = (size as usize, off as usize);
    let at_off = b.get(off..off + 4) == Some(b"PK\x01\x02");
    let before = p >= size && b.get(p - size..p - size + 4) == Some(b"PK\x01\x02");
    at_off || before
}

fn zip(b: &[u8], findings: &mut Vec<Finding>) -> Result<Format, FilesError> {
    const F: Format = Format::Zip;
    let Some(p) = zip_eocd(b) else {
        return Err(FilesError::Truncated { format: F });
    };
    let entries = u16_le(b, p + 10).unwrap_or(0);
    let size = u32_le(b, p + 12).unwrap_or(0);
    let off = u32_le(b, p + 16).unwrap_or(0);
    if size == u32::MAX || off == u32::MAX || entries == u16::MAX {
        findings.push(Finding::new(
            FindingKind::Zip64,
            Severity::Info,
            "ZIP64 archive",
        ));
        return Ok(F);
    }
    if entries == 0 {
        return Ok(F);
    }
    let (size, off) = (size as usize, off as usize);
    if off.checked_add(size).is_none_or(|end| end > p) || b.get(off..off + 4) != Some(b"PK\x01\x02")
    {
        return Err(FilesError::Malformed {
            format: F,
            reason: "the central directory is not where the archive says",
        });
    }
    Ok(F)
}

fn postscript(b: &[u8], findings: &mut Vec<Finding>) -> Result<Format, FilesError> {
    let (section, eps) = if b.starts_with(b"\xC5\xD0\xD3\xC6") {
        // DOS EPS binary header: PostScript section offset and length.
        let (Some(off), Some(len)) = (u32_le(b, 4), u32_le(b, 8)) else {
            return Err(FilesError::Truncated {
                format: Format::Eps,
            });
        };
        let (off, len) = (off as usize, len as usize);
        if off < 30 {
            return Err(FilesError::Malformed {
                format: Format::Eps,
                reason: "invalid PostScript section offset",
            });
        }
        let Some(section) = off.checked_add(len).and_then(|end| b.get(off..end)) else {
            return Err(FilesError::Truncated {
                format: Format::Eps,
            });
        };
        if ps_start(section).is_none() {
            return Err(FilesError::Malformed {
                format: Format::Eps,
                reason: "the PostScript section does not start with %!PS",
            });
        }
        (section, true)
    } else {
        let first_line = head(b, 256);
        let line_end = first_line
            .iter()
            .position(|&c| c == b'\r' || c == b'\n')
            .unwrap_or(first_line.len());
        (b, find(&first_line[..line_end], b"EPSF").is_some())
    };
    let header = head(section, PS_HEADER_LIMIT);
    let header = match find(header, b"%%EndComments") {
        Some(end) => &header[..end],
        None => header,
    };
    if find(header, b"%%Creator: Adobe Illustrator").is_some()
        || find(header, b"%%Creator:Adobe Illustrator").is_some()
        || find(header, b"%%AI8_CreatorVersion").is_some()
        || find(header, b"%AI5_FileFormat").is_some()
    {
        findings.push(Finding::new(
            FindingKind::LegacyIllustrator,
            Severity::Info,
            "legacy (PostScript-based) Adobe Illustrator file",
        ));
        return Ok(Format::Illustrator);
    }
    Ok(if eps { Format::Eps } else { Format::PostScript })
}

/// Records data after a format's logical end; rejects it when it is markup
/// or another format.
fn trailing(
    b: &[u8],
    end: usize,
    format: Format,
    findings: &mut Vec<Finding>,
) -> Result<(), FilesError> {
    let rest = b.get(end..).unwrap_or(&[]);
    // A few padding bytes (zeros, whitespace) are common and harmless.
    if rest.iter().all(|&c| c == 0 || c.is_ascii_whitespace()) {
        return Ok(());
    }
    if let Some(what) = markup(rest) {
        return Err(FilesError::Polyglot {
            primary: format,
            other: what,
            reason: "markup appended after the image data",
        });
    }
    findings.push(Finding::new(
        FindingKind::TrailingData,
        Severity::Warning,
        format!("{} bytes follow the end of the {format} data", rest.len()),
    ));
    Ok(())
}

/// HTML / script markers browsers sniff for. One pass over the `<`
/// positions, so hostile trailing data costs linear time.
fn markup(b: &[u8]) -> Option<&'static str> {
    const MARKERS: [&[u8]; 7] = [
        b"<script",
        b"<html",
        b"<!doctype html",
        b"<iframe",
        b"<body",
        b"<?php",
        b"<head",
    ];
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'<') {
        let at = &b[i + p..];
        if MARKERS.iter().any(|m| starts_ci(at, m)) {
            return Some("HTML/script document");
        }
        i += p + 1;
    }
    None
}

fn is_raster(f: Format) -> bool {
    matches!(
        f,
        Format::Jpeg | Format::Png | Format::Tiff | Format::WebP | Format::Gif | Format::Bmp
    )
}

fn polyglot_checks(b: &[u8], format: Format) -> Result<(), FilesError> {
    if format != Format::Zip && zip_tail(b) {
        return Err(FilesError::Polyglot {
            primary: format,
            other: "ZIP archive",
            reason: "a ZIP central directory at the end of the file",
        });
    }
    if matches!(format, Format::Zip | Format::Svg) {
        return Ok(());
    }
    if let Some(what) = markup(head(b, HEAD)) {
        return Err(FilesError::Polyglot {
            primary: format,
            other: what,
            reason: "HTML/script markup in the first 1024 bytes",
        });
    }
    if is_raster(format) {
        if find_ci(head(b, HEAD), b"<svg").is_some() {
            return Err(FilesError::Polyglot {
                primary: format,
                other: "SVG document",
                reason: "SVG markup in the first 1024 bytes",
            });
        }
        if find(b, b"%PDF-").is_some() {
            return Err(FilesError::Polyglot {
                primary: format,
                other: "PDF",
                reason: "a PDF header inside the image",
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// declared name / type

fn extension(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() || ext.len() > 16 {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

fn declared_checks(
    format: Format,
    name: Option<&str>,
    mime: Option<&str>,
    findings: &mut Vec<Finding>,
) {
    if let Some(ext) = name.and_then(extension)
        && !format.extensions().contains(&ext.as_str())
    {
        let mut f = Finding::new(
            FindingKind::ExtensionMismatch,
            Severity::Warning,
            format!("the file is named .{ext} but its content is {format}"),
        );
        f.declared = Some(format!(".{ext}"));
        findings.push(f);
    }
    if let Some(mime) = mime {
        let essence = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let generic = essence.is_empty() || essence == "application/octet-stream";
        if !generic && !format.mimes().contains(&essence.as_str()) {
            let shown: String = essence.chars().take(64).collect();
            let mut f = Finding::new(
                FindingKind::MimeMismatch,
                Severity::Warning,
                format!("the file is declared as {shown} but its content is {format}"),
            );
            f.declared = Some(shown);
            findings.push(f);
        }
    }
}
