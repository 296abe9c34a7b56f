//! Colour-space classification: what a colour space is, its colour model
//! and the spot colours it names.

use lopdf::{Document, Object};

use super::objects::{as_dict, deref, get_num, name_text};

/// A classified colour space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColourSpace {
    /// `DeviceRGB`, `ICCBased(N=4)`, `Separation(PANTONE 185 C)`, …
    pub desc: String,
    /// `rgb`, `cmyk`, `gray`, `lab`, `spot`, `pattern`, `unknown`.
    pub model: &'static str,
    pub components: u32,
    /// Spot colour names (not process colours, not `All`/`None`).
    pub spots: Vec<String>,
}

impl ColourSpace {
    fn simple(desc: &str, model: &'static str, components: u32) -> Self {
        Self {
            desc: desc.into(),
            model,
            components,
            spots: Vec::new(),
        }
    }

    pub(crate) fn unknown(desc: String) -> Self {
        Self {
            desc,
            model: "unknown",
            components: 0,
            spots: Vec::new(),
        }
    }
}

const MAX_DEPTH: usize = 8;

/// Device and inline-image abbreviation names; `None` for other names
/// (which are resource names the caller resolves).
pub(crate) fn device(name: &[u8]) -> Option<ColourSpace> {
    Some(match name {
        b"DeviceRGB" | b"RGB" => ColourSpace::simple("DeviceRGB", "rgb", 3),
        b"DeviceCMYK" | b"CMYK" => ColourSpace::simple("DeviceCMYK", "cmyk", 4),
        b"DeviceGray" | b"G" => ColourSpace::simple("DeviceGray", "gray", 1),
        b"Pattern" => ColourSpace::simple("Pattern", "pattern", 0),
        _ => return None,
    })
}

fn is_process(name: &[u8]) -> bool {
    matches!(
        name,
        b"Cyan" | b"Magenta" | b"Yellow" | b"Black" | b"None" | b"All"
    )
}

/// Classifies a colour-space object (name or array). Resource names must
/// have been resolved by the caller.
pub(crate) fn classify(doc: &Document, obj: &Object) -> ColourSpace {
    classify_at(doc, obj, 0)
}

fn classify_at(doc: &Document, obj: &Object, depth: usize) -> ColourSpace {
    let Some(obj) = deref(doc, obj) else {
        return ColourSpace::unknown("missing".into());
    };
    if depth > MAX_DEPTH {
        return ColourSpace::unknown("too deeply nested".into());
    }
    let (family, arr): (&[u8], &[Object]) = match obj {
        Object::Name(n) => (n, &[]),
        Object::Array(a) => match a.first().and_then(|f| deref(doc, f)) {
            Some(Object::Name(n)) => (n, &a[1..]),
            _ => return ColourSpace::unknown("invalid".into()),
        },
        _ => return ColourSpace::unknown("invalid".into()),
    };
    if let Some(d) = device(family) {
        return d;
    }
    match family {
        b"CalRGB" => ColourSpace::simple("CalRGB", "rgb", 3),
        b"CalGray" => ColourSpace::simple("CalGray", "gray", 1),
        b"CalCMYK" => ColourSpace::simple("CalCMYK", "cmyk", 4),
        b"Lab" => ColourSpace::simple("Lab", "lab", 3),
        b"ICCBased" => {
            let n = arr
                .first()
                .and_then(|s| as_dict(doc, s))
                .and_then(|d| get_num(doc, d, b"N"))
                .unwrap_or(0.0) as u32;
            let model = match n {
                1 => "gray",
                3 => "rgb",
                4 => "cmyk",
                _ => "unknown",
            };
            ColourSpace::simple(&format!("ICCBased(N={n})"), model, n)
        }
        b"Indexed" | b"I" => {
            let base = arr
                .first()
                .map(|b| classify_at(doc, b, depth + 1))
                .unwrap_or_else(|| ColourSpace::unknown("missing".into()));
            ColourSpace {
                desc: format!("Indexed({})", base.desc),
                model: base.model,
                components: 1,
                spots: base.spots,
            }
        }
        b"Separation" => {
            let name = arr.first().and_then(|n| match deref(doc, n) {
                Some(Object::Name(n)) => Some(n.as_slice()),
                _ => None,
            });
            let text = name.map(name_text).unwrap_or_default();
            match name {
                Some(b"All") | Some(b"None") | None => ColourSpace {
                    desc: format!("Separation({text})"),
                    model: "registration",
                    components: 1,
                    spots: Vec::new(),
                },
                Some(n) if is_process(n) => {
                    ColourSpace::simple(&format!("Separation({text})"), "cmyk", 1)
                }
                Some(_) => ColourSpace {
                    desc: format!("Separation({text})"),
                    model: "spot",
                    components: 1,
                    spots: vec![text],
                },
            }
        }
        b"DeviceN" => {
            let names: Vec<&[u8]> = match arr.first().and_then(|n| deref(doc, n)) {
                Some(Object::Array(a)) => a
                    .iter()
                    .take(64)
                    .filter_map(|n| match deref(doc, n) {
                        Some(Object::Name(n)) => Some(n.as_slice()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let spots: Vec<String> = names
                .iter()
                .filter(|n| !is_process(n))
                .map(|n| name_text(n))
                .collect();
            let all: Vec<String> = names.iter().map(|n| name_text(n)).collect();
            ColourSpace {
                desc: format!("DeviceN({})", all.join(",")),
                model: if spots.is_empty() { "cmyk" } else { "spot" },
                components: names.len() as u32,
                spots,
            }
        }
        b"Pattern" => ColourSpace::simple("Pattern", "pattern", 0),
        other => ColourSpace::unknown(name_text(other)),
    }
}
