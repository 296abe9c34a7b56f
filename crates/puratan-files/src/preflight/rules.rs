//! Judgement: measured facts + the order's intent + a profile → findings.
//! Every check id here is stable (clients branch on it); messages are for
//! the customer, `fix` says what to do.

use std::collections::{BTreeMap, BTreeSet};

use super::Intent;
use super::pdf::PdfFacts;
use super::profile::{Level, Profile};
use super::report::{Finding, ImageInfo, PageInfo, RasterInfo, Severity, Value, round2};

/// Collects findings; severities come from the profile's levels.
#[derive(Debug, Default)]
pub(crate) struct Findings(pub Vec<Finding>);

pub(crate) struct F {
    pub check: &'static str,
    pub page: Option<u32>,
    pub object: Option<String>,
    pub measured: Option<Value>,
    pub threshold: Option<Value>,
    pub unit: Option<&'static str>,
    pub message: String,
    pub fix: Option<&'static str>,
}

impl F {
    fn new(check: &'static str, message: impl Into<String>) -> Self {
        Self {
            check,
            page: None,
            object: None,
            measured: None,
            threshold: None,
            unit: None,
            message: message.into(),
            fix: None,
        }
    }
    fn page(mut self, p: u32) -> Self {
        self.page = Some(p);
        self
    }
    fn object(mut self, o: impl Into<String>) -> Self {
        self.object = Some(o.into());
        self
    }
    fn measured(mut self, v: impl Into<Value>) -> Self {
        self.measured = Some(v.into());
        self
    }
    fn threshold(mut self, v: impl Into<Value>) -> Self {
        self.threshold = Some(v.into());
        self
    }
    fn unit(mut self, u: &'static str) -> Self {
        self.unit = Some(u);
        self
    }
    fn fix(mut self, f: &'static str) -> Self {
        self.fix = Some(f);
        self
    }
}

impl Findings {
    fn add(&mut self, level: Level, f: F) {
        if let Some(severity) = level.severity() {
            self.push(severity, f);
        }
    }

    fn push(&mut self, severity: Severity, f: F) {
        self.0.push(Finding {
            check: f.check.into(),
            severity,
            page: f.page,
            object: f.object,
            measured: f.measured,
            threshold: f.threshold,
            unit: f.unit.map(Into::into),
            message: f.message,
            fix: f.fix.map(Into::into),
        });
    }

    /// Keeps at most `max` findings per check (the most severe first) and
    /// says how many more there were.
    pub(crate) fn cap(&mut self, max: usize) {
        let mut all = std::mem::take(&mut self.0);
        all.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let mut kept: BTreeMap<String, usize> = BTreeMap::new();
        let mut dropped: BTreeMap<String, (usize, Severity)> = BTreeMap::new();
        for f in all {
            let n = kept.entry(f.check.clone()).or_default();
            if *n < max {
                *n += 1;
                self.0.push(f);
            } else {
                let e = dropped.entry(f.check.clone()).or_insert((0, f.severity));
                e.0 += 1;
            }
        }
        for (check, (count, severity)) in dropped {
            self.0.push(Finding {
                check: check.clone(),
                severity,
                page: None,
                object: None,
                measured: Some(Value::Number(count as f64)),
                threshold: None,
                unit: Some("more findings".into()),
                message: format!(
                    "{count} more problems of the same kind ({check}) are not listed."
                ),
                fix: None,
            });
        }
        // Stable order: by page, then severity (worst first), then check.
        self.0.sort_by(|a, b| {
            a.page
                .unwrap_or(0)
                .cmp(&b.page.unwrap_or(0))
                .then(b.severity.cmp(&a.severity))
                .then(a.check.cmp(&b.check))
        });
    }
}

fn fits(w: f64, h: f64, ow: f64, oh: f64, tol: f64) -> bool {
    ((w - ow).abs() <= tol && (h - oh).abs() <= tol)
        || ((w - oh).abs() <= tol && (h - ow).abs() <= tol)
}

fn size_text(w: f64, h: f64) -> String {
    format!("{} × {} mm", round2(w), round2(h))
}

/// Page size, trim box and bleed of one page.
fn page_geometry(out: &mut Findings, p: &PageInfo, intent: &Intent, profile: &Profile) {
    let bleed_required = intent.bleed_mm.unwrap_or(profile.required_bleed_mm);
    let tol = profile.size_tolerance_mm;
    let (w, h) = (p.trim_width_mm, p.trim_height_mm);
    let mut bleed_included_without_trim = false;
    if let Some(size) = intent.trim {
        let (ow, oh) = (size.width_mm, size.height_mm);
        if fits(w, h, ow, oh, tol) {
            // The finished size is right.
        } else if !p.has_trim_box
            && fits(
                w,
                h,
                ow + 2.0 * bleed_required,
                oh + 2.0 * bleed_required,
                tol,
            )
        {
            bleed_included_without_trim = true;
            out.add(
                profile.trim_box_missing,
                F::new(
                    "trim_box_missing",
                    format!(
                        "The page is {} — the ordered size {} plus {} mm bleed on every side — but has no trim box; we will trim it to {}.",
                        size_text(w, h),
                        size_text(ow, oh),
                        round2(bleed_required),
                        size_text(ow, oh)
                    ),
                )
                .page(p.number)
                .fix("Export the PDF with trim marks or a TrimBox (\"use document bleed settings\") so the finished size is explicit."),
            );
        } else {
            out.add(
                profile.page_size,
                F::new(
                    "page_size_mismatch",
                    format!("The page is {}, but the ordered size is {}.", size_text(w, h), size_text(ow, oh)),
                )
                .page(p.number)
                .measured(size_text(w, h))
                .threshold(size_text(ow, oh))
                .fix("Set the document size to the ordered format (plus bleed) and export again, or order the size that matches your file."),
            );
            return;
        }
    }
    if bleed_required <= 0.0 || bleed_included_without_trim {
        return;
    }
    if intent.trim.is_none() && !p.has_trim_box {
        out.add(
            profile.trim_box_missing,
            F::new(
                "trim_box_missing",
                "The page has no trim box, so the finished size and the bleed cannot be checked.",
            )
            .page(p.number)
            .fix("Export with a TrimBox and BleedBox (\"use document bleed settings\")."),
        );
        return;
    }
    let min = p.bleed_mm.min();
    if min + 0.01 < bleed_required {
        let (check, message) = if min < 0.01 {
            (
                "bleed_missing",
                format!(
                    "The page has no bleed. Colours and pictures that reach the edge need {} mm extra beyond the cut on every side, otherwise white edges may show.",
                    round2(bleed_required)
                ),
            )
        } else {
            (
                "bleed_insufficient",
                format!(
                    "The page has only {} mm bleed; {} mm are needed on every side, otherwise white edges may show.",
                    round2(min),
                    round2(bleed_required)
                ),
            )
        };
        out.add(
            profile.bleed,
            F::new(check, message)
                .page(p.number)
                .measured(min)
                .threshold(bleed_required)
                .unit("mm")
                .fix("Extend backgrounds and pictures beyond the page edge and export with bleed (e.g. \"use document bleed settings\", 3 mm)."),
        );
    }
}

fn image_resolution(out: &mut Findings, img: &ImageInfo, profile: &Profile, raster: bool) {
    if img.ignored || profile.image_resolution == Level::Off {
        return;
    }
    let bitmap = img.stencil || (img.bits_per_component == 1 && img.components <= 1);
    let (err, warn) = if bitmap {
        (profile.bitmap_ppi_error, profile.bitmap_ppi_warning)
    } else {
        (profile.image_ppi_error, profile.image_ppi_warning)
    };
    let ppi = img.ppi_x.min(img.ppi_y);
    let what = if raster {
        "The image".to_owned()
    } else {
        format!("An image ({} × {} px)", img.width, img.height)
    };
    let fix = if bitmap {
        "Scan or export line art at 1200 ppi at its printed size."
    } else {
        "Use a higher-resolution original (300 ppi at the printed size) or place the image smaller. Upscaling the image does not add detail."
    };
    let object = if raster {
        None
    } else {
        Some(format!("image {}", img.object))
    };
    if ppi < err {
        let mut f = F::new(
            "image_ppi_too_low",
            format!("{what} has only {} ppi at its printed size; at least {} ppi are needed, below that it prints visibly blurred or pixelated.", ppi.round(), err),
        )
        .measured(ppi)
        .threshold(err)
        .unit("ppi")
        .fix(fix);
        if !raster {
            f = f.page(img.page);
        }
        if let Some(o) = object {
            f = f.object(o);
        }
        out.add(profile.image_resolution, f);
    } else if ppi < warn {
        let mut f = F::new(
            "image_ppi_low",
            format!("{what} has {} ppi at its printed size; {} ppi or more are recommended for sharp print.", ppi.round(), warn),
        )
        .measured(ppi)
        .threshold(warn)
        .unit("ppi")
        .fix(fix);
        if !raster {
            f = f.page(img.page);
        }
        if let Some(o) = object {
            f = f.object(o);
        }
        let level = if profile.image_resolution == Level::Error {
            Level::Warning
        } else {
            profile.image_resolution
        };
        out.add(level, f);
    }
}

const TAC_FIX: &str = "Convert the images and colours to CMYK with a profile whose total ink limit is 300–320 % (such as PSO Coated v3 or Coated FOGRA39), or reduce the ink of rich blacks and deep shadows (e.g. C 60 M 50 Y 50 K 100).";

/// Whether a total area coverage exceeds the limit (like
/// [`crate::colour::Tac::exceeds`]: half a percent of tolerance for
/// rounding of 8-bit samples).
fn tac_exceeds(percent: f64, limit: f64) -> bool {
    percent > limit + 0.5
}

/// Total area coverage: one finding per page for its worst object.
fn total_area_coverage(out: &mut Findings, facts: &PdfFacts, profile: &Profile) {
    let limit = profile.tac_limit_percent;
    for (page, worst) in &facts.collected.tac {
        if !tac_exceeds(worst.percent, limit) {
            continue;
        }
        out.add(
            profile.total_area_coverage,
            F::new(
                "total_area_coverage",
                format!(
                    "Too much ink: the {} on this page adds up to {} % of cyan, magenta, yellow and black together, but at most {} % can be printed. Too much ink dries slowly, smears and can rub off onto the next sheet.",
                    worst.object,
                    worst.percent.round(),
                    round2(limit)
                ),
            )
            .page(*page)
            .object(worst.object.clone())
            .measured(worst.percent)
            .threshold(limit)
            .unit("%")
            .fix(TAC_FIX),
        );
    }
}

/// Findings for a PDF.
pub(crate) fn pdf(facts: &PdfFacts, intent: &Intent, profile: &Profile) -> Findings {
    let mut out = Findings::default();
    if facts.encrypted {
        out.add(
            profile.encrypted,
            F::new("pdf_encrypted", "The PDF is protected (encrypted with permissions). We can check it, but some print workflows refuse protected files.")
                .fix("Export the PDF without security settings."),
        );
    }
    let pages = facts.pages.len() as u32;
    if let Some(ordered) = intent.pages
        && ordered != pages
    {
        out.add(
            profile.page_count,
            F::new(
                "page_count_mismatch",
                format!("The file has {pages} pages, but {ordered} were ordered."),
            )
            .measured(f64::from(pages))
            .threshold(f64::from(ordered))
            .unit("pages")
            .fix("Upload a file with exactly the ordered number of pages, or change the order."),
        );
    }
    for p in &facts.pages {
        page_geometry(&mut out, p, intent, profile);
    }
    for font in &facts.fonts {
        if !font.embedded {
            out.add(
                profile.fonts_not_embedded,
                F::new(
                    "font_not_embedded",
                    format!("The font \"{}\" is not embedded, so the printer would substitute another font and text may change or reflow.", font.name),
                )
                .page(font.first_page)
                .object(format!("font {}{}", font.name, font.object.as_deref().map(|o| format!(" ({o})")).unwrap_or_default()))
                .fix("Export the PDF with all fonts embedded (PDF/X presets do this), or convert text to outlines."),
            );
        }
    }
    let c = &facts.collected;
    for img in c.images.iter().chain(c.worst_unlisted.iter()) {
        image_resolution(&mut out, img, profile, false);
    }
    total_area_coverage(&mut out, facts, profile);
    // RGB and spot colours, per page.
    let mut rgb: BTreeMap<u32, BTreeSet<&str>> = BTreeMap::new();
    for u in &c.colour {
        if u.model == "rgb" {
            rgb.entry(u.page).or_default().insert(u.space.as_str());
        }
    }
    for (page, spaces) in rgb {
        let list: Vec<&str> = spaces.into_iter().collect();
        out.add(
            profile.rgb,
            F::new("rgb_colour", "The page uses RGB colours. They will be converted to CMYK for print, and bright colours may look duller.")
                .page(page)
                .measured(list.join(", "))
                .fix("Convert to CMYK with the printer's profile (e.g. PDF/X-1a or PDF/X-4 with the right output intent) and check the colours."),
        );
    }
    for spot in &c.spots {
        out.add(
            profile.spot_colours,
            F::new(
                "spot_colour",
                format!("The file uses the spot colour \"{spot}\". Unless it was ordered as an extra ink, it will be converted to CMYK."),
            )
            .object(format!("spot colour {spot}"))
            .measured(spot.as_str())
            .fix("If you did not order spot colour printing, convert spot colours to CMYK before export."),
        );
    }
    let mut transparency: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for t in &c.transparency {
        if t.kind != "page_group" {
            transparency
                .entry(t.page)
                .or_default()
                .insert(format!("{} ({})", t.kind, t.detail));
        }
    }
    for (page, kinds) in transparency {
        let list: Vec<String> = kinds.into_iter().collect();
        out.add(
            profile.transparency,
            F::new("transparency", "The page uses transparency (see-through objects, shadows, blend modes or soft masks). It prints correctly with a modern workflow, but check the proof closely.")
                .page(page)
                .measured(list.join(", "))
                .fix("Export as PDF/X-4, or flatten transparency with a high-resolution setting if the printer asks for PDF/X-1a."),
        );
    }
    let has_pdfx_intent = facts
        .output_intent
        .as_ref()
        .is_some_and(|o| o.subtype == "GTS_PDFX");
    if !has_pdfx_intent {
        out.add(
            profile.output_intent_missing,
            F::new("output_intent_missing", "The PDF does not say which printing conditions it was made for (no PDF/X output intent).")
                .fix("Export as PDF/X-4 (or PDF/X-1a) with the printer's output condition, e.g. \"Coated FOGRA39\"."),
        );
    }
    for (page, what) in &c.damaged {
        out.push(
            Severity::Warning,
            F::new("content_damaged", format!("Part of the page could not be read ({what}); it may not print as shown on screen."))
                .page(*page)
                .fix("Re-export the PDF from the original application or print it to a new PDF."),
        );
    }
    out
}

/// Findings for a raster upload; fills in its effective ppi.
pub(crate) fn raster(info: &mut RasterInfo, intent: &Intent, profile: &Profile) -> Findings {
    let mut out = Findings::default();
    match intent.trim {
        Some(size) => {
            let bleed = intent
                .bleed_mm
                .unwrap_or(profile.required_bleed_mm)
                .max(0.0);
            let (mut ow, mut oh) = (size.width_mm + 2.0 * bleed, size.height_mm + 2.0 * bleed);
            // Match the orientation of the image.
            if (info.width >= info.height) != (ow >= oh) {
                std::mem::swap(&mut ow, &mut oh);
            }
            let ppi_x = round2(f64::from(info.width) / (ow / 25.4));
            let ppi_y = round2(f64::from(info.height) / (oh / 25.4));
            info.ppi_x = Some(ppi_x);
            info.ppi_y = Some(ppi_y);
            let img = ImageInfo {
                page: 1,
                object: "raster".into(),
                width: info.width,
                height: info.height,
                bits_per_component: info.bits_per_component,
                colour_space: info.colour_mode.clone(),
                components: 3,
                stencil: false,
                soft_mask: info.alpha,
                in_form: false,
                ctm: [0.0; 6],
                ppi_x,
                ppi_y,
                ignored: false,
                tac_percent: info.tac_percent,
                tac_max_percent: info.tac_max_percent,
            };
            image_resolution(&mut out, &img, profile, true);
            let (ra, rb) = (
                f64::from(info.width) / f64::from(info.height.max(1)),
                ow / oh,
            );
            if (ra / rb - 1.0).abs() > profile.raster_aspect_tolerance {
                out.add(
                    profile.raster_aspect,
                    F::new(
                        "raster_aspect_mismatch",
                        format!(
                            "The image proportions ({} × {} px) differ from the ordered size with bleed ({}); it will be cropped to fit.",
                            info.width,
                            info.height,
                            size_text(ow, oh)
                        ),
                    )
                    .measured(round2(ra))
                    .threshold(round2(rb))
                    .fix("Crop the image to the ordered proportions (including bleed) yourself, so you decide what is cut off."),
                );
            }
        }
        None => out.push(
            Severity::Info,
            F::new(
                "print_size_unknown",
                "No print size was given, so the image resolution could not be checked.",
            ),
        ),
    }
    if info.colour_mode == "rgb" || info.colour_mode == "indexed" {
        out.add(
            profile.rgb,
            F::new("rgb_colour", "The image is RGB. It will be converted to CMYK for print, and bright colours may look duller.")
                .measured(info.colour_mode.as_str())
                .fix("Convert to CMYK with the printer's profile and check the colours, or accept the automatic conversion."),
        );
    }
    if info.alpha {
        out.add(
            profile.raster_alpha,
            F::new(
                "raster_alpha",
                "The image has transparent areas; they will print as white (paper).",
            )
            .fix("Fill the background or flatten the image before upload."),
        );
    }
    if let Some(tac) = info.tac_percent
        && tac_exceeds(tac, profile.tac_limit_percent)
    {
        out.add(
            profile.total_area_coverage,
            F::new(
                "total_area_coverage",
                format!(
                    "Too much ink: the darkest areas of the image add up to {} % of cyan, magenta, yellow and black together, but at most {} % can be printed. Too much ink dries slowly, smears and can rub off onto the next sheet.",
                    tac.round(),
                    round2(profile.tac_limit_percent)
                ),
            )
            .measured(tac)
            .threshold(profile.tac_limit_percent)
            .unit("%")
            .fix("Convert the image to CMYK with a profile whose total ink limit is 300–320 % (such as PSO Coated v3 or Coated FOGRA39) and save it again."),
        );
    }
    if !info.icc_profile {
        out.add(
            profile.raster_no_icc,
            F::new("raster_no_icc_profile", "The image has no embedded colour profile, so its colours are interpreted with a default profile.")
                .fix("Save the image with its colour profile embedded."),
        );
    }
    out
}
