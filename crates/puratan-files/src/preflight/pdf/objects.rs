//! Small, total helpers over lopdf objects: every lookup follows references
//! (bounded by lopdf's dereference limit) and answers `None` instead of
//! erroring on a wrong type.

use lopdf::{Dictionary, Document, Object, ObjectId};

/// Follows references.
pub(crate) fn deref<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Object> {
    doc.dereference(obj).ok().map(|(_, o)| o)
}

/// Follows references, also returning the last object id of the chain.
pub(crate) fn deref_id<'a>(
    doc: &'a Document,
    obj: &'a Object,
) -> Option<(Option<ObjectId>, &'a Object)> {
    doc.dereference(obj).ok()
}

/// The dictionary of a dictionary or stream object.
pub(crate) fn as_dict<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Dictionary> {
    match deref(doc, obj)? {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

/// `dict[key]`, dereferenced.
pub(crate) fn get<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    deref(doc, dict.get(key).ok()?)
}

pub(crate) fn get_dict<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Dictionary> {
    as_dict(doc, dict.get(key).ok()?)
}

pub(crate) fn get_name<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    key: &[u8],
) -> Option<&'a [u8]> {
    match get(doc, dict, key)? {
        Object::Name(n) => Some(n),
        _ => None,
    }
}

pub(crate) fn get_num(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<f64> {
    num(get(doc, dict, key)?)
}

pub(crate) fn get_bool(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<bool> {
    match get(doc, dict, key)? {
        Object::Boolean(b) => Some(*b),
        _ => None,
    }
}

pub(crate) fn get_array<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    key: &[u8],
) -> Option<&'a [Object]> {
    match get(doc, dict, key)? {
        Object::Array(a) => Some(a),
        _ => None,
    }
}

/// A number (integer or real), not dereferenced.
pub(crate) fn num(obj: &Object) -> Option<f64> {
    match obj {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) if r.is_finite() => Some(f64::from(*r)),
        _ => None,
    }
}

/// A number, following a reference.
pub(crate) fn num_deref(doc: &Document, obj: &Object) -> Option<f64> {
    num(deref(doc, obj)?)
}

/// A `[a b c d e f]` matrix of six numbers.
pub(crate) fn matrix(doc: &Document, obj: Option<&Object>) -> Option<[f64; 6]> {
    let arr = match deref(doc, obj?)? {
        Object::Array(a) if a.len() >= 6 => a,
        _ => return None,
    };
    let mut m = [0.0; 6];
    for (slot, o) in m.iter_mut().zip(arr) {
        *slot = num_deref(doc, o)?;
    }
    Some(m)
}

/// Text of a PDF string (PDFDocEncoding treated as Latin-1, UTF-16BE with BOM decoded).
pub(crate) fn text(obj: &Object) -> Option<String> {
    let bytes = match obj {
        Object::String(b, _) => b,
        Object::Name(b) => b,
        _ => return None,
    };
    Some(decode_text(bytes))
}

pub(crate) fn decode_text(bytes: &[u8]) -> String {
    let s: String = if bytes.starts_with(&[0xfe, 0xff]) {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Ok(s) = std::str::from_utf8(bytes) {
        s.to_owned()
    } else {
        bytes.iter().map(|&b| b as char).collect()
    };
    // Reports are shown to people: no control characters, bounded length.
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Name bytes as text for reports.
pub(crate) fn name_text(bytes: &[u8]) -> String {
    decode_text(bytes)
}

/// `num gen` of an object id.
pub(crate) fn id_text(id: ObjectId) -> String {
    format!("{} {}", id.0, id.1)
}

/// Matrix product `a × b` (apply `a`, then `b`), row-vector convention of PDF.
pub(crate) fn mul(a: &[f64; 6], b: &[f64; 6]) -> [f64; 6] {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

pub(crate) const IDENTITY: [f64; 6] = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
