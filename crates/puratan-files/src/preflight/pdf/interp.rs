//! The content-stream interpreter: follows the current transformation
//! matrix through `q`/`Q`/`cm`, Form XObjects (their `/Matrix`, nested,
//! cycle-safe) and annotation appearances, and records every image drawn
//! (XObject or inline) with its effective resolution, every colour space
//! used, and every use of transparency. Hidden optional content is skipped
//! like a viewer skips it.
//!
//! Total area coverage: CMYK images are measured from their samples (see
//! `ink`), vector colours from the graphics state — the current fill and
//! stroke colour in `DeviceCMYK`, `ICCBased(N=4)` or `CalCMYK` (set by
//! `k`/`K`, `cs`/`CS` to its initial colour, `sc`/`scn`/`SC`/`SCN`), saved
//! and restored with `q`/`Q` and inherited by Form XObjects. A colour counts
//! only when something is painted with it: fills (`f`, `F`, `f*`, `B`,
//! `B*`, `b`, `b*`), strokes (`S`, `s` and the `B`/`b` family), text shown
//! (`Tj`, `TJ`, `'`, `"`) in a rendering mode that fills or strokes, and
//! stencil masks (painted in the fill colour). Not counted: shadings and
//! patterns, Separation/DeviceN colours, overprint build-up, Type3 glyphs —
//! a colour set and never used costs nothing on press.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::colour::{self, ColourSpace};
use super::ink::{self, CmykSamples};
use super::lexer::{Lexer, Operand, Token};
use super::objects::{
    as_dict, deref, deref_id, get, get_bool, get_dict, get_name, get_num, id_text, matrix, mul,
    name_text,
};
use super::optional::Visibility;
use crate::colour::Tac;
use crate::error::FilesError;
use crate::preflight::limits::Limits;
use crate::preflight::report::{ColourSpaceUse, ImageInfo, TransparencyUse};

/// Everything collected over a document's pages.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub images: Vec<ImageInfo>,
    /// Images beyond the report's item limit are not listed …
    pub unlisted_images: u64,
    /// … but the least resolved of them is kept, so the rules still see it.
    pub worst_unlisted: Option<ImageInfo>,
    pub colour: BTreeSet<ColourSpaceUse>,
    pub spots: BTreeSet<String>,
    pub transparency: BTreeSet<TransparencyUse>,
    /// `(page, what)` for content that could not be read completely.
    pub damaged: Vec<(u32, String)>,
    /// Per page, the object with the highest total area coverage (only
    /// measured when asked for).
    pub tac: BTreeMap<u32, TacWorst>,
}

/// The object with the highest total area coverage on a page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TacWorst {
    /// Images: the 99.9th percentile of their pixels; vector colours: the
    /// sum of the four components, in percent.
    pub percent: f64,
    /// `image 12 0`, `inline image`, `fill colour C 90 M 90 Y 90 K 90`, …
    pub object: String,
}

/// The colour state of the graphics state that TAC needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Paint {
    /// Current fill / stroke colour as CMYK (0–1) while the colour space is
    /// a four-component process CMYK space.
    pub fill: Option<[f64; 4]>,
    pub stroke: Option<[f64; 4]>,
    /// Whether the fill / stroke colour space is such a space (`sc` then
    /// sets CMYK components).
    pub fill_cmyk_space: bool,
    pub stroke_cmyk_space: bool,
    /// Text rendering mode (`Tr`).
    pub text_mode: u8,
}

impl Default for Paint {
    /// The initial graphics state: DeviceGray black.
    fn default() -> Self {
        Self {
            fill: None,
            stroke: None,
            fill_cmyk_space: false,
            stroke_cmyk_space: false,
            text_mode: 0,
        }
    }
}

/// Work counters shared by all pages of one document.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    pub operators: u64,
    pub content_bytes: usize,
    /// Image pixels decoded for total area coverage.
    pub tac_pixels: u64,
}

pub(crate) struct Interp<'a> {
    pub doc: &'a Document,
    pub limits: &'a Limits,
    pub visibility: &'a Visibility,
    pub budget: &'a mut Budget,
    pub out: &'a mut Collected,
    pub ignore_max_px: u32,
    /// Decoded Form XObject contents (a form drawn many times is decoded once).
    pub forms: &'a mut HashMap<ObjectId, Rc<Vec<u8>>>,
    /// Whether to measure total area coverage (images are decoded for it).
    pub measure_tac: bool,
    /// TAC of image XObjects already measured (`None`: not CMYK or not
    /// decodable), so an image drawn many times is decoded once.
    pub image_tac: &'a mut HashMap<ObjectId, Option<Tac>>,
    /// Current colour state (saved with the matrix by `q`).
    pub paint: Paint,
    // ---- per page
    pub page_no: u32,
    pub user_unit: f64,
    /// Device colour operators already recorded on this page.
    pub seen_ops: HashSet<(&'static str, &'static str)>,
    pub form_stack: Vec<ObjectId>,
}

fn limit(limit: &'static str, value: u64) -> FilesError {
    FilesError::PreflightLimit { limit, value }
}

impl<'a> Interp<'a> {
    /// Decodes a stream against the per-stream and per-document limits.
    pub(crate) fn decode(
        &mut self,
        stream: &Stream,
        what: &str,
    ) -> Result<Option<Vec<u8>>, FilesError> {
        let remaining = self
            .limits
            .max_total_content_bytes
            .saturating_sub(self.budget.content_bytes);
        let cap = self.limits.max_stream_bytes.min(remaining);
        match stream.decompressed_content_with_limit(cap) {
            Ok(data) => {
                self.budget.content_bytes += data.len();
                Ok(Some(data))
            }
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded {
                ..
            })) => {
                if cap < self.limits.max_stream_bytes {
                    Err(limit(
                        "max_total_content_bytes",
                        self.limits.max_total_content_bytes as u64,
                    ))
                } else {
                    Err(limit(
                        "max_stream_bytes",
                        self.limits.max_stream_bytes as u64,
                    ))
                }
            }
            Err(e) => {
                // Lenient like readers: a damaged stream yields what could be
                // decoded. lopdf gives nothing, so note the damage.
                self.out
                    .damaged
                    .push((self.page_no, format!("{what}: {e}")));
                Ok(None)
            }
        }
    }

    /// Interprets one content stream with `resources` (innermost last) and
    /// the initial matrix `ctm`.
    pub(crate) fn run(
        &mut self,
        data: &[u8],
        resources: &mut Vec<&'a Dictionary>,
        ctm: [f64; 6],
        in_form: bool,
    ) -> Result<(), FilesError> {
        let mut lexer = Lexer::new(data);
        let mut ctm = ctm;
        let mut saved: Vec<([f64; 6], Paint)> = Vec::new();
        let mut overflow_saves = 0usize;
        let mut operands: Vec<Operand> = Vec::new();
        // Marked-content visibility stack (false = inside hidden optional content).
        let mut marked: Vec<bool> = Vec::new();
        let mut hidden_depth = 0usize;
        while let Some(token) = lexer.next_token() {
            let op = match token {
                Token::Operand(o) => {
                    if operands.len() >= 64 {
                        operands.drain(..32);
                    }
                    operands.push(o);
                    continue;
                }
                Token::Operator(op) => op,
            };
            self.budget.operators += 1;
            if self.budget.operators > self.limits.max_operators {
                return Err(limit("max_operators", self.limits.max_operators));
            }
            let visible = hidden_depth == 0;
            match op.as_slice() {
                b"q" => {
                    if saved.len() < self.limits.max_graphics_state_depth {
                        saved.push((ctm, self.paint));
                    } else {
                        overflow_saves += 1;
                    }
                }
                b"Q" => {
                    if overflow_saves > 0 {
                        overflow_saves -= 1;
                    } else if let Some((c, p)) = saved.pop() {
                        ctm = c;
                        self.paint = p;
                    }
                }
                b"cm" => {
                    if let Some(m) = last_numbers::<6>(&operands) {
                        ctm = mul(&m, &ctm);
                    }
                }
                b"Do" if visible => {
                    if let Some(name) = operands.last().and_then(Operand::name) {
                        let name = name.to_vec();
                        self.do_xobject(&name, resources, ctm)?;
                    }
                }
                b"BI" => {
                    let dict = lexer.inline_image_dict();
                    let known = self.inline_len(&dict, resources);
                    let data = lexer.skip_inline_data(known);
                    if visible {
                        self.inline_image(&dict, data, resources, ctm, in_form);
                    }
                }
                b"gs" if visible => {
                    if let Some(name) = operands.last().and_then(Operand::name)
                        && let Some(gs) = lookup(self.doc, resources, b"ExtGState", name)
                            .and_then(|(_, o)| as_dict(self.doc, o))
                    {
                        self.ext_gstate(gs);
                    }
                }
                b"cs" | b"CS" => {
                    let fill = op == b"cs";
                    if let Some(name) = operands.last().and_then(Operand::name) {
                        let cs = self.named_colour_space(name, resources);
                        // The initial colour: black for DeviceCMYK (and
                        // CalCMYK, its PDF 1.1 form), all zero for ICCBased.
                        let cmyk = is_cmyk4(&cs);
                        let initial = (cmyk && cs.desc != "ICCBased(N=4)")
                            .then_some([0.0, 0.0, 0.0, 1.0])
                            .or(cmyk.then_some([0.0; 4]));
                        if fill {
                            self.paint.fill_cmyk_space = cmyk;
                            self.paint.fill = initial;
                        } else {
                            self.paint.stroke_cmyk_space = cmyk;
                            self.paint.stroke = initial;
                        }
                        if visible {
                            self.use_colour(&cs, if fill { "fill" } else { "stroke" });
                        }
                    }
                }
                b"sc" | b"scn" | b"SC" | b"SCN" => {
                    let fill = op == b"sc" || op == b"scn";
                    let space = if fill {
                        self.paint.fill_cmyk_space
                    } else {
                        self.paint.stroke_cmyk_space
                    };
                    if space && let Some(c) = last_numbers::<4>(&operands) {
                        self.set_cmyk(fill, Some(c));
                    }
                }
                b"rg" | b"RG" | b"k" | b"K" | b"g" | b"G" => {
                    let fill = matches!(op.as_slice(), b"rg" | b"k" | b"g");
                    let cmyk = if op == b"k" || op == b"K" {
                        last_numbers::<4>(&operands)
                    } else {
                        None
                    };
                    if fill {
                        self.paint.fill_cmyk_space = op == b"k";
                    } else {
                        self.paint.stroke_cmyk_space = op == b"K";
                    }
                    self.set_cmyk(fill, cmyk);
                    let (space, usage) = match op.as_slice() {
                        b"rg" => ("DeviceRGB", "fill"),
                        b"RG" => ("DeviceRGB", "stroke"),
                        b"k" => ("DeviceCMYK", "fill"),
                        b"K" => ("DeviceCMYK", "stroke"),
                        b"g" => ("DeviceGray", "fill"),
                        _ => ("DeviceGray", "stroke"),
                    };
                    if visible
                        && self.seen_ops.insert((space, usage))
                        && let Some(cs) = colour::device(space.as_bytes())
                    {
                        self.use_colour(&cs, usage);
                    }
                }
                b"f" | b"F" | b"f*" if visible => self.painted(true, false),
                b"S" | b"s" if visible => self.painted(false, true),
                b"B" | b"B*" | b"b" | b"b*" if visible => self.painted(true, true),
                b"Tr" => {
                    if let Some([m]) = last_numbers::<1>(&operands) {
                        self.paint.text_mode = m.clamp(0.0, 7.0) as u8;
                    }
                }
                b"Tj" | b"TJ" | b"'" | b"\"" if visible => {
                    let (fill, stroke) = match self.paint.text_mode % 4 {
                        0 => (true, false),
                        1 => (false, true),
                        2 => (true, true),
                        _ => (false, false),
                    };
                    self.painted(fill, stroke);
                }
                b"sh" if visible => {
                    if let Some(name) = operands.last().and_then(Operand::name)
                        && let Some(sh) = lookup(self.doc, resources, b"Shading", name)
                            .and_then(|(_, o)| as_dict(self.doc, o))
                        && let Some(cs) = sh.get(b"ColorSpace").ok()
                    {
                        let cs = colour::classify(self.doc, cs);
                        self.use_colour(&cs, "shading");
                    }
                }
                b"BDC" => {
                    let shown = match (
                        operands.len().checked_sub(2).map(|i| &operands[i]),
                        operands.last(),
                    ) {
                        (Some(Operand::Name(tag)), Some(Operand::Name(prop))) if tag == b"OC" => {
                            lookup(self.doc, resources, b"Properties", prop)
                                .map(|(id, o)| self.visibility.visible(self.doc, id, o))
                                .unwrap_or(true)
                        }
                        _ => true,
                    };
                    marked.push(shown);
                    if !shown {
                        hidden_depth += 1;
                    }
                }
                b"BMC" => marked.push(true),
                b"EMC" => {
                    if let Some(false) = marked.pop() {
                        hidden_depth = hidden_depth.saturating_sub(1);
                    }
                }
                _ => {}
            }
            operands.clear();
        }
        Ok(())
    }

    /// Sets the current fill or stroke colour (`None`: not process CMYK).
    fn set_cmyk(&mut self, fill: bool, c: Option<[f64; 4]>) {
        let c = c.map(|c| {
            c.map(|v| {
                if v.is_finite() {
                    v.clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
        });
        if fill {
            self.paint.fill = c;
        } else {
            self.paint.stroke = c;
        }
    }

    /// Something is painted with the current fill and/or stroke colour.
    fn painted(&mut self, fill: bool, stroke: bool) {
        if !self.measure_tac {
            return;
        }
        for (used, colour, what) in [
            (fill, self.paint.fill, "fill"),
            (stroke, self.paint.stroke, "stroke"),
        ] {
            if let (true, Some(c)) = (used, colour) {
                let percent = c.iter().sum::<f64>() * 100.0;
                if self.tac_exceeds_worst(percent) {
                    let pc = |v: f64| crate::preflight::report::round2(v * 100.0);
                    let object = format!(
                        "{what} colour C {} M {} Y {} K {}",
                        pc(c[0]),
                        pc(c[1]),
                        pc(c[2]),
                        pc(c[3])
                    );
                    self.worst_tac(percent, object);
                }
            }
        }
    }

    fn tac_exceeds_worst(&self, percent: f64) -> bool {
        percent > 0.0
            && self
                .out
                .tac
                .get(&self.page_no)
                .is_none_or(|w| percent > w.percent)
    }

    /// Records an object's TAC if it is the page's worst so far.
    fn worst_tac(&mut self, percent: f64, object: String) {
        if self.tac_exceeds_worst(percent) {
            self.out
                .tac
                .insert(self.page_no, TacWorst { percent, object });
        }
    }

    fn use_colour(&mut self, cs: &ColourSpace, usage: &str) {
        for spot in &cs.spots {
            self.out.spots.insert(spot.clone());
        }
        if self.out.colour.len() < self.limits.max_report_items {
            self.out.colour.insert(ColourSpaceUse {
                page: self.page_no,
                space: cs.desc.clone(),
                model: cs.model.into(),
                usage: usage.into(),
            });
        }
    }

    fn transparency(&mut self, kind: &str, detail: String) {
        if self.out.transparency.len() < self.limits.max_report_items {
            self.out.transparency.insert(TransparencyUse {
                page: self.page_no,
                kind: kind.into(),
                detail,
            });
        }
    }

    fn ext_gstate(&mut self, gs: &Dictionary) {
        let doc = self.doc;
        if let Some(sm) = get(doc, gs, b"SMask")
            && !matches!(sm, Object::Name(n) if n == b"None")
        {
            self.transparency("soft_mask", "ExtGState SMask".into());
        }
        for key in [&b"CA"[..], b"ca"] {
            if let Some(a) = get_num(doc, gs, key)
                && a < 1.0
            {
                self.transparency(
                    "constant_alpha",
                    format!("{}={}", name_text(key), crate::preflight::report::round2(a)),
                );
            }
        }
        let bm = match get(doc, gs, b"BM") {
            Some(Object::Name(n)) => Some(n.as_slice()),
            Some(Object::Array(a)) => a.first().and_then(|o| match deref(doc, o) {
                Some(Object::Name(n)) => Some(n.as_slice()),
                _ => None,
            }),
            _ => None,
        };
        if let Some(bm) = bm
            && bm != b"Normal"
            && bm != b"Compatible"
        {
            self.transparency("blend_mode", format!("BM={}", name_text(bm)));
        }
    }

    fn named_colour_space(&self, name: &[u8], resources: &[&'a Dictionary]) -> ColourSpace {
        if let Some(d) = colour::device(name) {
            return d;
        }
        match lookup(self.doc, resources, b"ColorSpace", name) {
            Some((_, o)) => colour::classify(self.doc, o),
            None => ColourSpace::unknown(name_text(name)),
        }
    }

    fn do_xobject(
        &mut self,
        name: &[u8],
        resources: &mut Vec<&'a Dictionary>,
        ctm: [f64; 6],
    ) -> Result<(), FilesError> {
        let doc = self.doc;
        let Some((id, Object::Stream(stream))) = lookup(doc, resources, b"XObject", name) else {
            return Ok(());
        };
        let dict = &stream.dict;
        if let Some(oc) = dict.get(b"OC").ok().and_then(|o| deref_id(doc, o))
            && !self.visibility.visible(doc, oc.0, oc.1)
        {
            return Ok(());
        }
        match get_name(doc, dict, b"Subtype") {
            Some(b"Image") => {
                let in_form = !self.form_stack.is_empty();
                let object = id.map(id_text).unwrap_or_else(|| "direct".into());
                let tac = self.xobject_tac(id, stream, resources);
                self.image(dict, object, resources, ctm, in_form, tac);
                if get_bool(doc, dict, b"ImageMask").unwrap_or(false) {
                    self.painted(true, false);
                }
                Ok(())
            }
            Some(b"Form") => self.form(id, stream, resources, ctm),
            _ => Ok(()),
        }
    }

    /// Draws a Form XObject (or an annotation appearance) with `ctm` being
    /// the matrix in force where it is drawn.
    pub(crate) fn form(
        &mut self,
        id: Option<ObjectId>,
        stream: &'a Stream,
        resources: &mut Vec<&'a Dictionary>,
        ctm: [f64; 6],
    ) -> Result<(), FilesError> {
        let doc = self.doc;
        let dict = &stream.dict;
        if let Some(id) = id
            && self.form_stack.contains(&id)
        {
            self.out.damaged.push((
                self.page_no,
                format!("Form XObject {} draws itself (cycle)", id_text(id)),
            ));
            return Ok(());
        }
        if self.form_stack.len() >= self.limits.max_form_depth {
            return Err(limit("max_form_depth", self.limits.max_form_depth as u64));
        }
        if let Some(group) = get_dict(doc, dict, b"Group")
            && get_name(doc, group, b"S") == Some(b"Transparency")
        {
            self.transparency(
                "transparency_group",
                id.map(|i| format!("form {}", id_text(i)))
                    .unwrap_or_else(|| "form".into()),
            );
        }
        let data = match id.and_then(|i| self.forms.get(&i).cloned()) {
            Some(d) => d,
            None => {
                let Some(d) = self.decode(stream, "Form XObject")? else {
                    return Ok(());
                };
                let d = Rc::new(d);
                if let Some(i) = id {
                    self.forms.insert(i, d.clone());
                }
                d
            }
        };
        let m = matrix(doc, dict.get(b"Matrix").ok()).unwrap_or(super::objects::IDENTITY);
        let form_ctm = mul(&m, &ctm);
        let pushed = match get_dict(doc, dict, b"Resources") {
            Some(r) => {
                resources.push(r);
                true
            }
            None => false,
        };
        // A placeholder id keeps direct (non-indirect) forms on the stack too.
        self.form_stack.push(id.unwrap_or((0, u16::MAX)));
        // A form is drawn inside an implicit q … Q.
        let paint = self.paint;
        let result = self.run(&data, resources, form_ctm, true);
        self.paint = paint;
        self.form_stack.pop();
        if pushed {
            resources.pop();
        }
        result
    }

    fn image(
        &mut self,
        dict: &Dictionary,
        object: String,
        resources: &[&'a Dictionary],
        ctm: [f64; 6],
        in_form: bool,
        tac: Option<Tac>,
    ) {
        let doc = self.doc;
        let width = get_num(doc, dict, b"Width").unwrap_or(0.0);
        let height = get_num(doc, dict, b"Height").unwrap_or(0.0);
        let stencil = get_bool(doc, dict, b"ImageMask").unwrap_or(false);
        let is_jpx = filters(doc, dict).iter().any(|f| f == b"JPXDecode");
        let cs = if stencil {
            None
        } else {
            match dict.get(b"ColorSpace").ok() {
                Some(Object::Name(n)) => Some(self.named_colour_space(n, resources)),
                Some(o) => Some(colour::classify(doc, o)),
                None if is_jpx => Some(ColourSpace::unknown("JPX embedded".into())),
                None => None,
            }
        };
        let bpc = if stencil {
            1.0
        } else {
            get_num(doc, dict, b"BitsPerComponent").unwrap_or(if is_jpx { 0.0 } else { 8.0 })
        };
        let soft_mask = dict
            .get(b"SMask")
            .ok()
            .and_then(|o| deref(doc, o))
            .is_some_and(|o| matches!(o, Object::Stream(_)))
            || get_num(doc, dict, b"SMaskInData").is_some_and(|v| v > 0.0);
        if soft_mask {
            self.transparency("image_soft_mask", format!("image {object}"));
        }
        self.record(
            width, height, bpc, cs, stencil, soft_mask, object, ctm, in_form, tac,
        );
    }

    /// The CMYK sample layout of an image colour space entry.
    fn image_samples(&self, cs: &'a Object, resources: &[&'a Dictionary]) -> Option<CmykSamples> {
        let doc = self.doc;
        match cs {
            Object::Name(n) if colour::device(n).is_none() => {
                let (_, o) = lookup(doc, resources, b"ColorSpace", n)?;
                ink::cmyk_samples(doc, o)
            }
            o => ink::cmyk_samples(doc, o),
        }
    }

    /// Charges `pixels` to the document's TAC budget; `false` (nothing
    /// charged) when the image is too large or the budget is spent.
    fn tac_budget(&mut self, pixels: u64, components: usize) -> bool {
        let l = self.limits;
        let fits = pixels <= l.max_tac_image_pixels
            && pixels.saturating_mul(components as u64) <= l.max_image_alloc
            && self.budget.tac_pixels.saturating_add(pixels) <= l.max_tac_total_pixels;
        if fits {
            self.budget.tac_pixels += pixels;
        }
        fits
    }

    /// TAC of an image XObject's pixels (cached per object).
    fn xobject_tac(
        &mut self,
        id: Option<ObjectId>,
        stream: &'a Stream,
        resources: &[&'a Dictionary],
    ) -> Option<Tac> {
        if !self.measure_tac {
            return None;
        }
        if let Some(id) = id
            && let Some(t) = self.image_tac.get(&id)
        {
            return *t;
        }
        let tac = self.measure_xobject(stream, resources);
        if let Some(id) = id {
            self.image_tac.insert(id, tac);
        }
        tac
    }

    fn measure_xobject(&mut self, stream: &'a Stream, resources: &[&'a Dictionary]) -> Option<Tac> {
        let doc = self.doc;
        let dict = &stream.dict;
        if get_bool(doc, dict, b"ImageMask").unwrap_or(false)
            || get_num(doc, dict, b"BitsPerComponent") != Some(8.0)
        {
            return None;
        }
        let samples = self.image_samples(dict.get(b"ColorSpace").ok()?, resources)?;
        let (w, h) = (
            get_num(doc, dict, b"Width")?,
            get_num(doc, dict, b"Height")?,
        );
        if !(w >= 1.0 && h >= 1.0 && w <= 1e6 && h <= 1e6) {
            return None;
        }
        let pixels = (w as u64).saturating_mul(h as u64);
        let decode = numbers(doc, get(doc, dict, b"Decode"));
        let filters = filters(doc, dict);
        if filters.iter().any(|f| {
            matches!(
                f.as_slice(),
                b"JPXDecode" | b"JBIG2Decode" | b"CCITTFaxDecode" | b"Crypt"
            )
        }) {
            return None;
        }
        let n = samples.components();
        if !self.tac_budget(pixels, n.max(4)) {
            return None;
        }
        if filters.iter().any(|f| f == b"DCTDecode") {
            if filters.len() != 1 || samples != CmykSamples::Direct {
                return None;
            }
            return ink::measure_dct(
                &stream.content,
                &samples,
                decode.as_deref(),
                self.limits.max_tac_image_pixels,
                self.limits.max_image_alloc,
            );
        }
        // Room for the samples plus slack for row padding or trailing junk;
        // a bomb stops at the cap, so the work stays within the budget.
        let expected = usize::try_from(pixels.saturating_mul(n as u64)).unwrap_or(usize::MAX);
        let cap = self
            .limits
            .max_stream_bytes
            .min(expected.saturating_add(expected / 8).saturating_add(4096));
        let data = stream.decompressed_content_with_limit(cap).ok()?;
        Some(ink::measure(
            &samples,
            decode.as_deref(),
            &data,
            pixels,
            false,
        ))
    }

    /// TAC of an inline image's pixels: unfiltered, Flate without
    /// predictors or DCT; the colour space a device name or a named
    /// resource (inline palettes are not kept by the lexer).
    fn inline_tac(
        &mut self,
        dict: &[(Vec<u8>, Operand)],
        mut data: &[u8],
        resources: &[&'a Dictionary],
    ) -> Option<Tac> {
        let get = |k1: &[u8], k2: &[u8]| {
            dict.iter()
                .find(|(k, _)| k == k1 || k == k2)
                .map(|(_, v)| v)
        };
        if matches!(get(b"IM", b"ImageMask"), Some(Operand::Bool(true)))
            || get(b"BPC", b"BitsPerComponent").and_then(Operand::num) != Some(8.0)
            || get(b"DP", b"DecodeParms").is_some()
        {
            return None;
        }
        let samples = match get(b"CS", b"ColorSpace")? {
            Operand::Name(n) => match colour::device(n) {
                Some(d) if d.desc == "DeviceCMYK" => CmykSamples::Direct,
                Some(_) => return None,
                None => {
                    let (_, o) = lookup(self.doc, resources, b"ColorSpace", n)?;
                    ink::cmyk_samples(self.doc, o)?
                }
            },
            _ => return None,
        };
        let w = get(b"W", b"Width")?.num()?;
        let h = get(b"H", b"Height")?.num()?;
        if !(w >= 1.0 && h >= 1.0 && w <= 1e6 && h <= 1e6) {
            return None;
        }
        let pixels = (w as u64).saturating_mul(h as u64);
        let decode: Option<Vec<f64>> = match get(b"D", b"Decode") {
            Some(Operand::Array(a)) => a.iter().map(Operand::num).collect(),
            _ => None,
        };
        let filter = match get(b"F", b"Filter") {
            None => None,
            Some(Operand::Name(n)) => Some(n.as_slice()),
            Some(Operand::Array(a)) if a.len() == 1 => a[0].name(),
            Some(Operand::Array(a)) if a.is_empty() => None,
            _ => return None,
        };
        let n = samples.components();
        if !self.tac_budget(pixels, n.max(4)) {
            return None;
        }
        // Writers put "ID\r\n" where one white-space byte is due; neither a
        // zlib nor a JPEG stream starts with white space, so trim it.
        if filter.is_some() {
            let skip = data
                .iter()
                .take(4)
                .take_while(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | b'\x0c' | 0))
                .count();
            data = &data[skip..];
        }
        match filter {
            None => Some(ink::measure(
                &samples,
                decode.as_deref(),
                data,
                pixels,
                false,
            )),
            Some(b"Fl" | b"FlateDecode") => {
                let mut d = Dictionary::new();
                d.set("Filter", Object::Name(b"FlateDecode".to_vec()));
                let s = Stream::new(d, data.to_vec());
                let expected =
                    usize::try_from(pixels.saturating_mul(n as u64)).unwrap_or(usize::MAX);
                let cap = self
                    .limits
                    .max_stream_bytes
                    .min(expected.saturating_add(expected / 8).saturating_add(4096));
                let data = s.decompressed_content_with_limit(cap).ok()?;
                Some(ink::measure(
                    &samples,
                    decode.as_deref(),
                    &data,
                    pixels,
                    false,
                ))
            }
            Some(b"DCT" | b"DCTDecode") if samples == CmykSamples::Direct => ink::measure_dct(
                data,
                &samples,
                decode.as_deref(),
                self.limits.max_tac_image_pixels,
                self.limits.max_image_alloc,
            ),
            _ => None,
        }
    }

    /// Data length of an unfiltered inline image (so `EI` inside the data
    /// is not taken for the end); `None` when filtered or unknown.
    fn inline_len(
        &self,
        dict: &[(Vec<u8>, Operand)],
        resources: &[&'a Dictionary],
    ) -> Option<usize> {
        let get = |k1: &[u8], k2: &[u8]| {
            dict.iter()
                .find(|(k, _)| k == k1 || k == k2)
                .map(|(_, v)| v)
        };
        if get(b"F", b"Filter").is_some() {
            return None;
        }
        let w = get(b"W", b"Width")?.num()? as usize;
        let h = get(b"H", b"Height")?.num()? as usize;
        let mask = matches!(get(b"IM", b"ImageMask"), Some(Operand::Bool(true)));
        let (bpc, n) = if mask {
            (1, 1)
        } else {
            let bpc = get(b"BPC", b"BitsPerComponent")?.num()? as usize;
            let n = match get(b"CS", b"ColorSpace")? {
                Operand::Name(name) => self.named_colour_space(name, resources).components as usize,
                Operand::Array(a) => match a.first() {
                    Some(Operand::Name(f)) if f == b"I" || f == b"Indexed" => 1,
                    _ => return None,
                },
                _ => return None,
            };
            (bpc, n)
        };
        if n == 0 {
            return None;
        }
        w.checked_mul(n)?
            .checked_mul(bpc)?
            .checked_add(7)
            .map(|bits| bits / 8)?
            .checked_mul(h)
    }

    fn inline_image(
        &mut self,
        dict: &[(Vec<u8>, Operand)],
        data: &[u8],
        resources: &[&'a Dictionary],
        ctm: [f64; 6],
        in_form: bool,
    ) {
        let get = |k1: &[u8], k2: &[u8]| {
            dict.iter()
                .find(|(k, _)| k == k1 || k == k2)
                .map(|(_, v)| v)
        };
        let width = get(b"W", b"Width").and_then(Operand::num).unwrap_or(0.0);
        let height = get(b"H", b"Height").and_then(Operand::num).unwrap_or(0.0);
        let stencil = matches!(get(b"IM", b"ImageMask"), Some(Operand::Bool(true)));
        if stencil {
            self.painted(true, false);
        }
        let tac = if self.measure_tac {
            self.inline_tac(dict, data, resources)
        } else {
            None
        };
        let bpc = if stencil {
            1.0
        } else {
            get(b"BPC", b"BitsPerComponent")
                .and_then(Operand::num)
                .unwrap_or(8.0)
        };
        let cs = if stencil {
            None
        } else {
            match get(b"CS", b"ColorSpace") {
                Some(Operand::Name(n)) => Some(self.named_colour_space(n, resources)),
                Some(Operand::Array(a)) => Some(inline_array_space(self.doc, a, resources)),
                _ => None,
            }
        };
        self.record(
            width,
            height,
            bpc,
            cs,
            stencil,
            false,
            "inline".into(),
            ctm,
            in_form,
            tac,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        width: f64,
        height: f64,
        bpc: f64,
        cs: Option<ColourSpace>,
        stencil: bool,
        soft_mask: bool,
        object: String,
        ctm: [f64; 6],
        in_form: bool,
        tac: Option<Tac>,
    ) {
        if !(width >= 1.0 && height >= 1.0) {
            return; // readers skip images without a size
        }
        if let Some(t) = &tac {
            let what = if object == "inline" {
                "inline image".to_owned()
            } else {
                format!("image {object}")
            };
            self.worst_tac(t.p999_percent, what);
        }
        let (w, h) = (
            width.min(u32::MAX as f64) as u32,
            height.min(u32::MAX as f64) as u32,
        );
        let len_x = (ctm[0] * ctm[0] + ctm[1] * ctm[1]).sqrt() * self.user_unit;
        let len_y = (ctm[2] * ctm[2] + ctm[3] * ctm[3]).sqrt() * self.user_unit;
        let ppi = |px: u32, len: f64| {
            let v = f64::from(px) * 72.0 / len;
            if v.is_finite() {
                crate::preflight::report::round2(v)
            } else {
                0.0
            }
        };
        let (ppi_x, ppi_y) = (ppi(w, len_x), ppi(h, len_y));
        let degenerate = ppi_x == 0.0 || ppi_y == 0.0;
        if let Some(cs) = &cs {
            self.use_colour(cs, "image");
        }
        let (colour_space, components) = match &cs {
            Some(cs) => (cs.desc.clone(), cs.components),
            None if stencil => ("stencil".to_owned(), 1),
            None => ("unknown".to_owned(), 0),
        };
        let info = ImageInfo {
            page: self.page_no,
            object,
            width: w,
            height: h,
            bits_per_component: bpc.clamp(0.0, 32.0) as u32,
            colour_space,
            components,
            stencil,
            soft_mask,
            in_form,
            ctm: ctm.map(|v| {
                if v.is_finite() {
                    (v * 1e6).round() / 1e6
                } else {
                    0.0
                }
            }),
            ppi_x,
            ppi_y,
            ignored: degenerate || w <= self.ignore_max_px || h <= self.ignore_max_px,
            tac_percent: tac.map(|t| crate::preflight::report::round2(t.p999_percent)),
            tac_max_percent: tac.map(|t| crate::preflight::report::round2(t.max_percent)),
        };
        if self.out.images.len() < self.limits.max_report_items {
            self.out.images.push(info);
        } else {
            self.out.unlisted_images += 1;
            let worse = match &self.out.worst_unlisted {
                None => !info.ignored,
                Some(w) => !info.ignored && info.ppi_x.min(info.ppi_y) < w.ppi_x.min(w.ppi_y),
            };
            if worse {
                self.out.worst_unlisted = Some(info);
            }
        }
    }
}

fn inline_array_space(doc: &Document, a: &[Operand], resources: &[&Dictionary]) -> ColourSpace {
    // Inline images may use [/I base hival lookup] with an abbreviated or named base.
    match (a.first(), a.get(1)) {
        (Some(Operand::Name(f)), Some(Operand::Name(base))) if f == b"I" || f == b"Indexed" => {
            let base = colour::device(base).unwrap_or_else(|| {
                match lookup(doc, resources, b"ColorSpace", base) {
                    Some((_, o)) => colour::classify(doc, o),
                    None => ColourSpace::unknown(name_text(base)),
                }
            });
            ColourSpace {
                desc: format!("Indexed({})", base.desc),
                model: base.model,
                components: 1,
                spots: base.spots,
            }
        }
        _ => ColourSpace::unknown("inline array".into()),
    }
}

/// A four-component process CMYK space (what `k` and TAC talk about).
fn is_cmyk4(cs: &ColourSpace) -> bool {
    matches!(cs.desc.as_str(), "DeviceCMYK" | "ICCBased(N=4)" | "CalCMYK")
}

/// An array of numbers (`/Decode`).
fn numbers(doc: &Document, obj: Option<&Object>) -> Option<Vec<f64>> {
    match obj? {
        Object::Array(a) if a.len() <= 64 => a
            .iter()
            .map(|o| deref(doc, o).and_then(super::objects::num))
            .collect(),
        _ => None,
    }
}

/// The last `N` operands as numbers.
fn last_numbers<const N: usize>(ops: &[Operand]) -> Option<[f64; N]> {
    let start = ops.len().checked_sub(N)?;
    let mut out = [0.0; N];
    for (slot, o) in out.iter_mut().zip(&ops[start..]) {
        *slot = o.num()?;
    }
    Some(out)
}

/// Looks a resource up through the chain (innermost first), like readers do
/// when a form lacks its own entry.
pub(crate) fn lookup<'a>(
    doc: &'a Document,
    resources: &[&'a Dictionary],
    category: &[u8],
    name: &[u8],
) -> Option<(Option<ObjectId>, &'a Object)> {
    for res in resources.iter().rev() {
        if let Some(cat) = get_dict(doc, res, category)
            && let Ok(o) = cat.get(name)
            && let Some(found) = deref_id(doc, o)
        {
            return Some(found);
        }
    }
    None
}

/// Filter names of a stream dictionary.
fn filters(doc: &Document, dict: &Dictionary) -> Vec<Vec<u8>> {
    match get(doc, dict, b"Filter") {
        Some(Object::Name(n)) => vec![n.clone()],
        Some(Object::Array(a)) => a
            .iter()
            .take(8)
            .filter_map(|o| match deref(doc, o) {
                Some(Object::Name(n)) => Some(n.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
