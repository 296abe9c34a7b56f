//! Optional content (layers): which groups the default configuration
//! hides, so hidden layers are skipped like a viewer skips them.

use std::collections::HashSet;

use lopdf::{Document, Object, ObjectId};

use super::objects::{as_dict, deref_id, get_array, get_dict, get_name};

/// The document's default optional-content state.
#[derive(Debug, Default)]
pub(crate) struct Visibility {
    /// Groups that are off.
    off: HashSet<ObjectId>,
    /// `/BaseState /OFF`: every group not listed in `/ON` is off.
    base_off: bool,
    on: HashSet<ObjectId>,
}

fn ids(doc: &Document, arr: Option<&[Object]>) -> HashSet<ObjectId> {
    arr.map(|a| {
        a.iter()
            .take(100_000)
            .filter_map(|o| o.as_reference().ok())
            .collect::<Vec<_>>()
    })
    .unwrap_or_default()
    .into_iter()
    .filter(|id| doc.objects.contains_key(id))
    .collect()
}

impl Visibility {
    pub(crate) fn from_catalog(doc: &Document) -> Self {
        let Some(d) = doc
            .catalog()
            .ok()
            .and_then(|c| get_dict(doc, c, b"OCProperties"))
            .and_then(|p| get_dict(doc, p, b"D"))
        else {
            return Self::default();
        };
        Self {
            off: ids(doc, get_array(doc, d, b"OFF")),
            on: ids(doc, get_array(doc, d, b"ON")),
            base_off: get_name(doc, d, b"BaseState") == Some(b"OFF"),
        }
    }

    fn group_on(&self, id: Option<ObjectId>) -> bool {
        match id {
            Some(id) if self.base_off => self.on.contains(&id),
            Some(id) => !self.off.contains(&id),
            None => !self.base_off,
        }
    }

    /// Whether content marked with the optional-content group or membership
    /// dictionary `obj` (object `id`) is shown.
    pub(crate) fn visible(&self, doc: &Document, id: Option<ObjectId>, obj: &Object) -> bool {
        if self.off.is_empty() && !self.base_off {
            return true;
        }
        let Some(dict) = as_dict(doc, obj) else {
            return true;
        };
        match get_name(doc, dict, b"Type") {
            Some(b"OCMD") => {
                let members: Vec<bool> = match dict.get(b"OCGs").ok() {
                    Some(Object::Array(a)) => a
                        .iter()
                        .take(1000)
                        .map(|o| self.group_on(deref_id(doc, o).and_then(|(i, _)| i)))
                        .collect(),
                    Some(o) => vec![self.group_on(deref_id(doc, o).and_then(|(i, _)| i))],
                    None => return true,
                };
                if members.is_empty() {
                    return true;
                }
                match get_name(doc, dict, b"P") {
                    Some(b"AllOn") => members.iter().all(|m| *m),
                    Some(b"AnyOff") => members.iter().any(|m| !*m),
                    Some(b"AllOff") => members.iter().all(|m| !*m),
                    _ => members.iter().any(|m| *m),
                }
            }
            _ => self.group_on(id),
        }
    }
}
