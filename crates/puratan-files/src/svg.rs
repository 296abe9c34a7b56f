//! SVG recognition and the active-content check (see the `detect` module
//! docs for the policy). This is a deliberately small tag scanner, not an
//! XML parser: it only needs to find element names, attribute names and
//! attribute values, skipping comments, CDATA and processing instructions,
//! in one linear pass without allocating.

use crate::detect::{find, find_ci, starts_ci};
use crate::error::FilesError;

const PROLOGUE_LIMIT: usize = 64 * 1024;

fn unsafe_svg(reason: &'static str) -> FilesError {
    FilesError::UnsafeSvg { reason }
}

/// XML whitespace plus form feed (whitespace to HTML parsers, which see
/// the markup if the SVG is ever inlined into a page).
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c')
}

fn is_name_end(c: u8) -> bool {
    is_ws(c) || matches!(c, b'>' | b'/' | b'=')
}

/// The part after a namespace prefix (`svg:svg` → `svg`).
fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&c| c == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn eq_ci(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `Ok(true)` when `b` is an SVG document without active content,
/// `Ok(false)` when it is not SVG, `Err(UnsafeSvg)` when it is an SVG with
/// active content.
pub(crate) fn sniff(b: &[u8]) -> Result<bool, FilesError> {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let limit = b.len().min(PROLOGUE_LIMIT);
    let mut i = 0;
    // Prologue: whitespace, XML declaration, comments, PIs, DOCTYPE.
    let root = loop {
        while i < limit && is_ws(b[i]) {
            i += 1;
        }
        if i >= limit {
            return Ok(false);
        }
        let rest = &b[i..limit];
        if rest.starts_with(b"<!--") {
            let Some(end) = find(&rest[4..], b"-->") else {
                return Ok(false);
            };
            i += 4 + end + 3;
        } else if rest.starts_with(b"<?") {
            if starts_ci(rest, b"<?xml-stylesheet") {
                return Err(unsafe_svg("an xml-stylesheet instruction"));
            }
            let Some(end) = find(rest, b"?>") else {
                return Ok(false);
            };
            i += end + 2;
        } else if starts_ci(rest, b"<!doctype") {
            let gt = rest.iter().position(|&c| c == b'>');
            let bracket = rest.iter().position(|&c| c == b'[');
            match (gt, bracket) {
                (Some(g), Some(br)) if br < g => {
                    // Only an SVG may have an internal subset rejected as
                    // unsafe; other XML is simply not SVG.
                    return if find(&rest[..g], b"svg").is_some() {
                        Err(unsafe_svg("a DTD internal subset (entity declarations)"))
                    } else {
                        Ok(false)
                    };
                }
                (Some(g), _) => i += g + 1,
                (None, _) => return Ok(false),
            }
        } else if rest.first() == Some(&b'<') {
            break i;
        } else {
            return Ok(false);
        }
    };
    let name_start = root + 1;
    let name_end = b[name_start..]
        .iter()
        .position(|&c| is_name_end(c))
        .map_or(b.len(), |p| name_start + p);
    if name_end >= b.len() || !eq_ci(local(&b[name_start..name_end]), b"svg") {
        return Ok(false);
    }
    // Defence in depth against parser differentials (HTML vs XML rules,
    // names with odd bytes, markup inside values): `<script` anywhere is
    // rejected, whatever the tokenizer below makes of it.
    if find_ci(b, b"<script").is_some() {
        return Err(unsafe_svg("a <script> element"));
    }
    scan(b, root)?;
    Ok(true)
}

/// Scans every tag from `i` on for active content.
fn scan(b: &[u8], mut i: usize) -> Result<(), FilesError> {
    while let Some(lt) = b[i..].iter().position(|&c| c == b'<') {
        i += lt;
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            match find(&rest[4..], b"-->") {
                Some(end) => i += 4 + end + 3,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"<![CDATA[") {
            match find(rest, b"]]>") {
                Some(end) => {
                    if find_ci(&rest[..end], b"javascript:").is_some() {
                        return Err(unsafe_svg("a javascript: URL in a CDATA section"));
                    }
                    i += end + 3
                }
                None => return Ok(()),
            }
        } else if rest.starts_with(b"<?") {
            if starts_ci(rest, b"<?xml-stylesheet") {
                return Err(unsafe_svg("an xml-stylesheet instruction"));
            }
            match find(rest, b"?>") {
                Some(end) => i += end + 2,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"<!") {
            if starts_ci(rest, b"<!entity") {
                return Err(unsafe_svg("an entity declaration"));
            }
            i += 2;
        } else if rest.starts_with(b"</") {
            i += 2;
        } else {
            i = tag(b, i + 1)?;
        }
    }
    Ok(())
}

/// Checks one start tag whose name begins at `i`; returns where scanning
/// continues.
fn tag(b: &[u8], mut i: usize) -> Result<usize, FilesError> {
    let start = i;
    while i < b.len() && !is_name_end(b[i]) {
        i += 1;
    }
    let name = local(&b[start..i]);
    const BAD_ELEMENTS: [&[u8]; 7] = [
        b"script",
        b"foreignobject",
        b"iframe",
        b"embed",
        b"object",
        b"handler",
        b"listener",
    ];
    if BAD_ELEMENTS.iter().any(|bad| eq_ci(name, bad)) {
        return Err(unsafe_svg(if eq_ci(name, b"script") {
            "a <script> element"
        } else {
            "an element that embeds other documents or scripts"
        }));
    }
    loop {
        while i < b.len() && (is_ws(b[i]) || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return Ok(i);
        }
        if b[i] == b'>' || b[i] == b'<' {
            return Ok(i);
        }
        let an_start = i;
        while i < b.len() && !is_name_end(b[i]) && b[i] != b'<' {
            i += 1;
        }
        let attr = local(&b[an_start..i]);
        if attr.len() > 2 && eq_ci(&attr[..2], b"on") {
            return Err(unsafe_svg("an on… event-handler attribute"));
        }
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            if i == an_start {
                i += 1; // stray character: skip it
            }
            continue;
        }
        i += 1;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        let (value, next) = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => match b[i + 1..].iter().position(|&c| c == q) {
                Some(end) => (&b[i + 1..i + 1 + end], i + 1 + end + 1),
                None => (&b[i + 1..], b.len()),
            },
            _ => {
                let end = b[i..]
                    .iter()
                    .position(|&c| is_ws(c) || c == b'>')
                    .map_or(b.len(), |p| i + p);
                (&b[i..end], end)
            }
        };
        i = next;
        check_value(attr, value)?;
        if eq_ci(attr, b"attributename") && starts_ci(value, b"on") {
            return Err(unsafe_svg("an animation that sets an event handler"));
        }
    }
}

/// Rejects `javascript:`-like URLs in any attribute value, ignoring
/// whitespace, control characters and case (as browsers do), and character
/// references in links (obfuscation).
fn check_value(attr: &[u8], value: &[u8]) -> Result<(), FilesError> {
    const BAD: [&[u8]; 3] = [b"javascript:", b"vbscript:", b"data:text/html"];
    for bad in BAD {
        // Match `bad` as a subsequence of the value's non-space characters.
        let mut k = 0;
        for &c in value {
            if c <= b' ' {
                continue;
            }
            if c.to_ascii_lowercase() == bad[k] {
                k += 1;
                if k == bad.len() {
                    return Err(unsafe_svg("a javascript: (or similar) URL"));
                }
            } else {
                k = usize::from(c.to_ascii_lowercase() == bad[0]);
            }
        }
    }
    const LINKS: [&[u8]; 7] = [b"href", b"src", b"values", b"to", b"from", b"by", b"style"];
    if LINKS.iter().any(|l| eq_ci(attr, l)) && find(value, b"&#").is_some() {
        return Err(unsafe_svg("a link obfuscated with character references"));
    }
    Ok(())
}
