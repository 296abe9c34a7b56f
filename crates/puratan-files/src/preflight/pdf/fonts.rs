//! Fonts and whether they are embedded, found the way `pdffonts` finds
//! them: the page's (inherited) resources, the resources of annotation
//! appearances, and recursively the resources of Form XObjects, patterns
//! (and, beyond `pdffonts`, Type3 fonts' own resources). Each font object
//! is listed once, on the first page it appears.

use std::collections::HashSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::objects::{
    as_dict, deref, deref_id, get, get_array, get_dict, get_name, id_text, name_text,
};
use crate::preflight::report::FontInfo;

/// Most resource dictionaries visited per page (bounds hostile graphs).
const MAX_RESOURCE_VISITS: usize = 10_000;

pub(crate) struct FontScanner {
    seen_fonts: HashSet<ObjectId>,
    pub fonts: Vec<FontInfo>,
    pub unlisted: u64,
    max_items: usize,
}

impl FontScanner {
    pub(crate) fn new(max_items: usize) -> Self {
        Self {
            seen_fonts: HashSet::new(),
            fonts: Vec::new(),
            unlisted: 0,
            max_items,
        }
    }

    /// Scans one page: its resources and its annotations' appearances.
    pub(crate) fn scan_page(
        &mut self,
        doc: &Document,
        page_no: u32,
        resources: Option<&Object>,
        page: &Dictionary,
    ) {
        let mut visited = HashSet::new();
        let mut budget = MAX_RESOURCE_VISITS;
        if let Some(res) = resources.and_then(|r| as_dict(doc, r)) {
            self.scan_resources(doc, page_no, res, &mut visited, &mut budget, 0);
        }
        if let Some(annots) = get_array(doc, page, b"Annots") {
            for annot in annots.iter().take(10_000) {
                let Some(annot) = as_dict(doc, annot) else {
                    continue;
                };
                if let Some(ap) = super::annots::appearance(doc, annot)
                    && let Some(res) = get_dict(doc, &ap.dict, b"Resources")
                {
                    self.scan_resources(doc, page_no, res, &mut visited, &mut budget, 0);
                }
            }
        }
    }

    fn scan_resources(
        &mut self,
        doc: &Document,
        page_no: u32,
        res: &Dictionary,
        visited: &mut HashSet<ObjectId>,
        budget: &mut usize,
        depth: usize,
    ) {
        if *budget == 0 || depth > 64 {
            return;
        }
        *budget -= 1;
        if let Some(fonts) = get_dict(doc, res, b"Font") {
            for (_, font) in fonts.iter() {
                let (id, obj) = match deref_id(doc, font) {
                    Some(x) => x,
                    None => continue,
                };
                let Some(dict) = (match obj {
                    Object::Dictionary(d) => Some(d),
                    _ => None,
                }) else {
                    continue;
                };
                if let Some(id) = id
                    && !self.seen_fonts.insert(id)
                {
                    continue;
                }
                let info = font_info(doc, dict, id, page_no);
                if self.fonts.len() < self.max_items {
                    self.fonts.push(info);
                } else {
                    self.unlisted += 1;
                }
                // Type3 glyph procedures have resources of their own.
                if get_name(doc, dict, b"Subtype") == Some(b"Type3")
                    && let Some(r) = get_dict(doc, dict, b"Resources")
                {
                    self.scan_resources(doc, page_no, r, visited, budget, depth + 1);
                }
            }
        }
        for category in [&b"XObject"[..], b"Pattern"] {
            let Some(entries) = get_dict(doc, res, category) else {
                continue;
            };
            for (_, entry) in entries.iter() {
                let Some((id, obj)) = deref_id(doc, entry) else {
                    continue;
                };
                if let Some(id) = id
                    && !visited.insert(id)
                {
                    continue;
                }
                let Object::Stream(stream) = obj else {
                    continue;
                };
                if let Some(r) = get_dict(doc, &stream.dict, b"Resources")
                    && !std::ptr::eq(r, res)
                {
                    self.scan_resources(doc, page_no, r, visited, budget, depth + 1);
                }
            }
        }
    }
}

/// What a font is and whether its program is embedded.
fn font_info(doc: &Document, dict: &Dictionary, id: Option<ObjectId>, page_no: u32) -> FontInfo {
    let subtype = get_name(doc, dict, b"Subtype")
        .map(name_text)
        .unwrap_or_else(|| "unknown".into());
    let name = get(doc, dict, b"BaseFont")
        .and_then(super::objects::text)
        .unwrap_or_else(|| "[none]".into());
    let embedded = match subtype.as_str() {
        "Type3" => true,
        "Type0" => get_array(doc, dict, b"DescendantFonts")
            .and_then(|d| d.first())
            .and_then(|d| as_dict(doc, d))
            .is_some_and(|d| descriptor_embeds(doc, d)),
        _ => descriptor_embeds(doc, dict),
    };
    let subset = is_subset_name(&name);
    FontInfo {
        name,
        subtype,
        embedded,
        subset,
        object: id.map(id_text),
        first_page: page_no,
    }
}

/// The font descriptor names a font program (FontFile, FontFile2 or FontFile3)
/// that is a stream.
fn descriptor_embeds(doc: &Document, font: &Dictionary) -> bool {
    let Some(desc) = get_dict(doc, font, b"FontDescriptor") else {
        return false;
    };
    [&b"FontFile"[..], b"FontFile2", b"FontFile3"]
        .iter()
        .any(|key| {
            desc.get(key)
                .ok()
                .and_then(|o| deref(doc, o))
                .is_some_and(|o| matches!(o, Object::Stream(_)))
        })
}

/// `ABCDEF+Name`: six upper-case letters and a plus.
fn is_subset_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 7 && b[6] == b'+' && b[..6].iter().all(u8::is_ascii_uppercase)
}
