//! Page boxes as a PDF reader resolves them: MediaBox, CropBox and Rotate
//! (and Resources) are inherited through the page tree; BleedBox, TrimBox
//! and ArtBox default to the CropBox; everything is clipped to the MediaBox.

use lopdf::{Dictionary, Document, Object};

use super::objects::{as_dict, get, num_deref};
use crate::preflight::report::Rect;

/// Resolved geometry of one page (before conversion to the report's units).
#[derive(Debug, Clone)]
pub(crate) struct Boxes {
    pub media: Rect,
    pub crop: Rect,
    pub bleed: Rect,
    pub trim: Rect,
    pub art: Rect,
    pub has_trim: bool,
    pub has_bleed: bool,
    pub rotate: u32,
    pub user_unit: f64,
}

/// Most `/Parent` links followed when looking for inherited attributes.
const MAX_PARENT_DEPTH: usize = 64;

/// An inheritable attribute: the page's own value or the nearest ancestor's.
pub(crate) fn inherited<'a>(
    doc: &'a Document,
    page: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..MAX_PARENT_DEPTH {
        if let Ok(v) = node.get(key) {
            return Some(v);
        }
        node = as_dict(doc, node.get(b"Parent").ok()?)?;
    }
    None
}

/// A box: four numbers, not all zero, normalised.
fn read_box(doc: &Document, obj: Option<&Object>) -> Option<Rect> {
    let arr = match super::objects::deref(doc, obj?)? {
        Object::Array(a) if a.len() == 4 => a,
        _ => return None,
    };
    let mut r = [0.0; 4];
    for (slot, o) in r.iter_mut().zip(arr) {
        *slot = num_deref(doc, o)?;
    }
    if r == [0.0; 4] {
        return None;
    }
    if r[0] > r[2] {
        r.swap(0, 2);
    }
    if r[1] > r[3] {
        r.swap(1, 3);
    }
    Some(r)
}

fn clip(r: Rect, to: &Rect) -> Rect {
    [
        r[0].clamp(to[0], to[2]),
        r[1].clamp(to[1], to[3]),
        r[2].clamp(to[0], to[2]),
        r[3].clamp(to[1], to[3]),
    ]
}

pub(crate) fn page_boxes(doc: &Document, page: &Dictionary) -> Boxes {
    // US Letter when no MediaBox can be found, as PDF readers do.
    let media =
        read_box(doc, inherited(doc, page, b"MediaBox")).unwrap_or([0.0, 0.0, 612.0, 792.0]);
    let mut crop = read_box(doc, inherited(doc, page, b"CropBox")).unwrap_or(media);
    if crop[2] - crop[0] > media[2] - media[0] {
        crop[0] = media[0];
        crop[2] = media[2];
    }
    if crop[3] - crop[1] > media[3] - media[1] {
        crop[1] = media[1];
        crop[3] = media[3];
    }
    let own = |key: &[u8]| read_box(doc, page.get(key).ok());
    let bleed_own = own(b"BleedBox");
    let trim_own = own(b"TrimBox");
    let art = own(b"ArtBox").unwrap_or(crop);
    let rotate = match inherited(doc, page, b"Rotate").and_then(|o| super::objects::deref(doc, o)) {
        Some(Object::Integer(r)) => r.rem_euclid(360) as u32,
        _ => 0,
    };
    let user_unit = get(doc, page, b"UserUnit")
        .and_then(super::objects::num)
        .filter(|u| *u > 0.0 && *u <= 75_000.0)
        .unwrap_or(1.0);
    Boxes {
        media,
        crop: clip(crop, &media),
        bleed: clip(bleed_own.unwrap_or(crop), &media),
        trim: clip(trim_own.unwrap_or(crop), &media),
        art: clip(art, &media),
        has_trim: trim_own.is_some(),
        has_bleed: bleed_own.is_some(),
        rotate,
        user_unit,
    }
}
