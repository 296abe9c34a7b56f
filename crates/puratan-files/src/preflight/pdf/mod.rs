//! PDF preflight measurements (no judgement here: [`crate::preflight::rules`]
//! turns these facts into findings).
//!
//! * `boxes` — page boxes with page-tree inheritance;
//! * `fonts` — fonts and embedding, found like `pdffonts` finds them;
//! * `interp` + `lexer` — the content-stream interpreter: images and their
//!   effective ppi, colour spaces, transparency, total area coverage of
//!   CMYK vector colours;
//! * `ink` — total area coverage of CMYK images from their samples;
//! * `colour` — colour-space classification and spot colour names;
//! * `annots` — annotation appearances; `optional` — hidden layers;
//! * this file — loading with limits, encryption, output intent, the page loop.

mod annots;
mod boxes;
mod colour;
mod fonts;
mod ink;
mod interp;
mod lexer;
mod objects;
mod optional;

use std::collections::HashMap;

use lopdf::{Document, LoadOptions, Object};

pub(crate) use self::ink::decode_cmyk_jpeg;
use self::interp::{Budget, Collected, Interp};
use self::objects::{as_dict, get, get_array, get_dict, get_name, text};
use crate::error::FilesError;
use crate::format::Format;
use crate::preflight::limits::Limits;
use crate::preflight::report::{Bleed, FontInfo, OutputIntent, PageInfo, round2};

/// What was measured in a PDF.
#[derive(Debug, Default)]
pub(crate) struct PdfFacts {
    pub version: String,
    pub pdfx_version: Option<String>,
    pub encrypted: bool,
    pub output_intent: Option<OutputIntent>,
    pub pages: Vec<PageInfo>,
    pub fonts: Vec<FontInfo>,
    pub collected: Collected,
}

const PT_TO_MM: f64 = 25.4 / 72.0;

fn unreadable(reason: String) -> FilesError {
    FilesError::PreflightUnreadable {
        format: Format::Pdf,
        reason,
    }
}

/// Loads the document within the limits.
pub(crate) fn load(bytes: &[u8], limits: &Limits) -> Result<Document, FilesError> {
    let options = LoadOptions {
        max_decompressed_size: Some(limits.max_stream_bytes),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            FilesError::PreflightLimit {
                limit: "max_stream_bytes",
                value: limits.max_stream_bytes as u64,
            }
        }
        lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_) => {
            FilesError::PreflightEncrypted
        }
        other => unreadable(other.to_string()),
    })?;
    if doc.trailer.get(b"Encrypt").is_ok() && !doc.was_encrypted() {
        // Encrypted with a user password: nothing can be read without it.
        return Err(FilesError::PreflightEncrypted);
    }
    if doc.objects.len() > limits.max_objects {
        return Err(FilesError::PreflightLimit {
            limit: "max_objects",
            value: limits.max_objects as u64,
        });
    }
    Ok(doc)
}

/// Measures everything the rules need; `measure_tac` decodes CMYK images
/// and follows CMYK colours for total area coverage.
pub(crate) fn measure(
    bytes: &[u8],
    limits: &Limits,
    ignore_max_px: u32,
    measure_tac: bool,
) -> Result<PdfFacts, FilesError> {
    let doc = load(bytes, limits)?;
    let page_ids: Vec<_> = doc
        .page_iter()
        .take(limits.max_pages.saturating_add(1))
        .collect();
    if page_ids.len() > limits.max_pages {
        return Err(FilesError::PreflightLimit {
            limit: "max_pages",
            value: limits.max_pages as u64,
        });
    }
    if page_ids.is_empty() {
        return Err(unreadable("the document has no pages".into()));
    }
    let mut facts = PdfFacts {
        version: doc.version.clone(),
        encrypted: doc.was_encrypted(),
        pdfx_version: get_dict(&doc, &doc.trailer, b"Info")
            .and_then(|i| get(&doc, i, b"GTS_PDFXVersion"))
            .and_then(text),
        output_intent: output_intent(&doc),
        ..PdfFacts::default()
    };
    let visibility = optional::Visibility::from_catalog(&doc);
    let mut fonts = fonts::FontScanner::new(limits.max_report_items);
    let mut budget = Budget::default();
    let mut forms = HashMap::new();
    let mut image_tac = HashMap::new();
    let mut collected = Collected::default();
    for (index, page_id) in page_ids.iter().enumerate() {
        let page_no = index as u32 + 1;
        let Ok(page) = doc.get_dictionary(*page_id) else {
            collected
                .damaged
                .push((page_no, "page object missing".into()));
            continue;
        };
        let b = boxes::page_boxes(&doc, page);
        facts.pages.push(page_info(page_no, &b));
        let resources_obj = boxes::inherited(&doc, page, b"Resources");
        fonts.scan_page(&doc, page_no, resources_obj, page);
        let mut interp = Interp {
            doc: &doc,
            limits,
            visibility: &visibility,
            budget: &mut budget,
            out: &mut collected,
            ignore_max_px,
            forms: &mut forms,
            measure_tac,
            image_tac: &mut image_tac,
            paint: interp::Paint::default(),
            page_no,
            user_unit: b.user_unit,
            seen_ops: Default::default(),
            form_stack: Vec::new(),
        };
        if let Some(group) = get_dict(&doc, page, b"Group")
            && get_name(&doc, group, b"S") == Some(b"Transparency")
        {
            interp
                .out
                .transparency
                .insert(crate::preflight::report::TransparencyUse {
                    page: page_no,
                    kind: "page_group".into(),
                    detail: "page transparency group".into(),
                });
        }
        let mut resources: Vec<&lopdf::Dictionary> = resources_obj
            .and_then(|r| as_dict(&doc, r))
            .into_iter()
            .collect();
        let content = page_content(&mut interp, page)?;
        interp.run(&content, &mut resources, objects::IDENTITY, false)?;
        for annot in annots::annotations(&doc, page) {
            if !annots::visible(&doc, annot) {
                continue;
            }
            let Some((id, stream)) = annots::appearance_with_id(&doc, annot) else {
                continue;
            };
            let Some(m) = annots::placement(&doc, annot, &stream.dict) else {
                continue;
            };
            interp.paint = interp::Paint::default();
            interp.form(id, stream, &mut resources, m)?;
        }
    }
    facts.fonts = fonts.fonts;
    facts.collected = collected;
    Ok(facts)
}

/// The page's content streams, decoded and joined.
fn page_content(interp: &mut Interp<'_>, page: &lopdf::Dictionary) -> Result<Vec<u8>, FilesError> {
    let doc = interp.doc;
    let streams: Vec<&lopdf::Stream> = match page
        .get(b"Contents")
        .ok()
        .and_then(|c| objects::deref(doc, c))
    {
        Some(Object::Stream(s)) => vec![s],
        Some(Object::Array(a)) => a
            .iter()
            .take(10_000)
            .filter_map(|o| match objects::deref(doc, o) {
                Some(Object::Stream(s)) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for s in streams {
        if let Some(data) = interp.decode(s, "page content")? {
            out.extend_from_slice(&data);
            out.push(b'\n');
        }
    }
    Ok(out)
}

fn page_info(number: u32, b: &boxes::Boxes) -> PageInfo {
    let mm = |v: f64| round2(v * PT_TO_MM * b.user_unit);
    let (w, h) = (b.trim[2] - b.trim[0], b.trim[3] - b.trim[1]);
    let (w, h) = if b.rotate % 180 == 90 { (h, w) } else { (w, h) };
    PageInfo {
        number,
        media_box: b.media.map(round2),
        crop_box: b.crop.map(round2),
        bleed_box: b.bleed.map(round2),
        trim_box: b.trim.map(round2),
        art_box: b.art.map(round2),
        has_trim_box: b.has_trim,
        has_bleed_box: b.has_bleed,
        rotate: b.rotate,
        user_unit: b.user_unit,
        trim_width_mm: mm(w),
        trim_height_mm: mm(h),
        bleed_mm: Bleed {
            left: mm((b.trim[0] - b.bleed[0]).max(0.0)),
            bottom: mm((b.trim[1] - b.bleed[1]).max(0.0)),
            right: mm((b.bleed[2] - b.trim[2]).max(0.0)),
            top: mm((b.bleed[3] - b.trim[3]).max(0.0)),
        },
    }
}

fn output_intent(doc: &Document) -> Option<OutputIntent> {
    let intents = get_array(doc, doc.catalog().ok()?, b"OutputIntents")?;
    let dicts: Vec<_> = intents
        .iter()
        .take(100)
        .filter_map(|o| as_dict(doc, o))
        .collect();
    let chosen = dicts
        .iter()
        .find(|d| get_name(doc, d, b"S") == Some(b"GTS_PDFX"))
        .or_else(|| dicts.first())?;
    Some(OutputIntent {
        subtype: get_name(doc, chosen, b"S")
            .map(objects::name_text)
            .unwrap_or_default(),
        output_condition_identifier: get(doc, chosen, b"OutputConditionIdentifier").and_then(text),
        info: get(doc, chosen, b"Info").and_then(text),
        has_profile: matches!(
            get(doc, chosen, b"DestOutputProfile"),
            Some(Object::Stream(_))
        ),
    })
}
