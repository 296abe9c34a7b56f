//! Annotation appearances: which appearance stream a reader draws and
//! where (the form's BBox, transformed by its Matrix, is mapped onto the
//! annotation's Rect — ISO 32000-1 §12.5.5).

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::objects::{as_dict, deref_id, get, get_array, get_dict, get_name, matrix, num_deref};

/// Annotation flags (ISO 32000-1 table 165).
const HIDDEN: i64 = 1 << 1;
const NO_VIEW: i64 = 1 << 5;

/// The normal appearance stream: `/AP /N`, or the entry `/AS` selects.
pub(crate) fn appearance<'a>(doc: &'a Document, annot: &'a Dictionary) -> Option<&'a Stream> {
    appearance_with_id(doc, annot).map(|(_, s)| s)
}

pub(crate) fn appearance_with_id<'a>(
    doc: &'a Document,
    annot: &'a Dictionary,
) -> Option<(Option<ObjectId>, &'a Stream)> {
    let ap = get_dict(doc, annot, b"AP")?;
    let n = ap.get(b"N").ok()?;
    match deref_id(doc, n)? {
        (id, Object::Stream(s)) => Some((id, s)),
        (_, Object::Dictionary(states)) => {
            let state = get_name(doc, annot, b"AS")?;
            match deref_id(doc, states.get(state).ok()?)? {
                (id, Object::Stream(s)) => Some((id, s)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a viewer shows the annotation (not Hidden, not NoView).
pub(crate) fn visible(doc: &Document, annot: &Dictionary) -> bool {
    let flags = match get(doc, annot, b"F") {
        Some(Object::Integer(f)) => *f,
        _ => 0,
    };
    flags & (HIDDEN | NO_VIEW) == 0
}

/// The matrix that maps the form's BBox (transformed by its Matrix, which
/// the caller applies when drawing the form) onto the annotation's Rect.
pub(crate) fn placement(doc: &Document, annot: &Dictionary, form: &Dictionary) -> Option<[f64; 6]> {
    let rect = rect(doc, get_array(doc, annot, b"Rect")?)?;
    let bbox = get_array(doc, form, b"BBox")?;
    let mut b = [0.0; 4];
    for (slot, o) in b.iter_mut().zip(bbox.iter()) {
        *slot = num_deref(doc, o).unwrap_or(0.0);
    }
    let m = matrix(doc, form.get(b"Matrix").ok()).unwrap_or(super::objects::IDENTITY);
    let corners = [(b[0], b[1]), (b[0], b[3]), (b[2], b[1]), (b[2], b[3])];
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in corners {
        let tx = x * m[0] + y * m[2] + m[4];
        let ty = x * m[1] + y * m[3] + m[5];
        x0 = x0.min(tx);
        x1 = x1.max(tx);
        y0 = y0.min(ty);
        y1 = y1.max(ty);
    }
    let sx = if x1 == x0 {
        1.0
    } else {
        (rect[2] - rect[0]) / (x1 - x0)
    };
    let sy = if y1 == y0 {
        1.0
    } else {
        (rect[3] - rect[1]) / (y1 - y0)
    };
    let tx = -x0 * sx + rect[0];
    let ty = -y0 * sy + rect[1];
    Some([sx, 0.0, 0.0, sy, tx, ty])
}

fn rect(doc: &Document, arr: &[Object]) -> Option<[f64; 4]> {
    if arr.len() < 4 {
        return None;
    }
    let mut r = [0.0; 4];
    for (slot, o) in r.iter_mut().zip(arr) {
        *slot = num_deref(doc, o)?;
    }
    if r[0] > r[2] {
        r.swap(0, 2);
    }
    if r[1] > r[3] {
        r.swap(1, 3);
    }
    Some(r)
}

/// Annotation dictionaries of a page.
pub(crate) fn annotations<'a>(doc: &'a Document, page: &'a Dictionary) -> Vec<&'a Dictionary> {
    get_array(doc, page, b"Annots")
        .map(|a| {
            a.iter()
                .take(10_000)
                .filter_map(|o| as_dict(doc, o))
                .collect()
        })
        .unwrap_or_default()
}
