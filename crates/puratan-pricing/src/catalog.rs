//! Catalog model, loading and up-front validation.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::currency::minor_units;
use crate::error::PricingError;
use crate::json::{
    MAX_AMOUNT, MAX_MM, Obj, Path, array, boolean, bounded, decimal, money, object, opt, req,
    string, uint,
};
use crate::lookup::Lookup;
use crate::num::{PCT, add, mul};

pub(crate) const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// Text shared between the catalog and the quotes built from it.
pub(crate) type Text = Arc<str>;

/// Line labels and ids that do not come from the catalog document, allocated
/// once per catalog so quotes can share them.
#[derive(Debug, Clone)]
pub(crate) struct FixedText {
    pub(crate) setup_fee: Text,
    pub(crate) minimum_charge: Text,
    pub(crate) saddle_stitch: (Text, Text),
    pub(crate) perfect: (Text, Text),
}

impl Default for FixedText {
    fn default() -> Self {
        Self {
            setup_fee: "Setup fee".into(),
            minimum_charge: "Minimum charge".into(),
            saddle_stitch: ("saddle_stitch".into(), "Saddle stitching".into()),
            perfect: ("perfect".into(), "Perfect binding".into()),
        }
    }
}
/// Upper bound for day counts (turnaround days, extra days, quote validity).
pub(crate) const MAX_DAYS: u32 = 3650;

/// A validated, pre-indexed price catalog. Cheap to share (`&Catalog` is all
/// quoting needs) and `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub(crate) version: Text,
    pub(crate) currency: Text,
    pub(crate) minor: u32,
    /// currency code -> (rate, minor units)
    pub(crate) rates: Lookup<(Decimal, u32)>,
    pub(crate) validity_days: u32,
    pub(crate) papers: Vec<Paper>,
    pub(crate) finishing: Vec<Finishing>,
    pub(crate) turnarounds: Vec<Turnaround>,
    pub(crate) materials: Vec<Material>,
    pub(crate) groups: Lookup<Group>,
    /// lower-cased code -> coupon
    pub(crate) coupons: Lookup<Coupon>,
    /// per tax category (see [`Product::tax_ix`]): region -> normalised rate_pct
    pub(crate) tax: Vec<Lookup<Decimal>>,
    pub(crate) products: Vec<Product>,
    pub(crate) product_index: HashMap<String, usize>,
    pub(crate) fixed: FixedText,
}

#[derive(Debug, Clone)]
pub(crate) struct Press {
    pub(crate) id: String,
    pub(crate) sheet_w: Decimal,
    pub(crate) sheet_h: Decimal,
    pub(crate) margin: Decimal,
    pub(crate) click_cost: HashMap<String, Decimal>,
    pub(crate) setup_sheets: HashMap<String, u32>,
    pub(crate) spoilage_pct: Decimal,
    /// Name and line labels of every colour with a click cost, formatted once
    /// per press and shared by all products printed on it.
    pub(crate) color_text: HashMap<String, [Text; 4]>,
}

#[derive(Debug, Clone)]
pub(crate) struct Paper {
    pub(crate) id: Text,
    pub(crate) name: Text,
    pub(crate) sheet_cost: Decimal,
    /// Booklet line labels `Inner pages: <name>` and `Cover: <name>`.
    pub(crate) inner_label: Text,
    pub(crate) cover_label: Text,
}

#[derive(Debug, Clone)]
pub(crate) struct Finishing {
    pub(crate) id: Text,
    pub(crate) name: Text,
    pub(crate) setup: Decimal,
    pub(crate) per_sheet: Decimal,
    pub(crate) per_piece: Decimal,
    pub(crate) per_sqm: Decimal,
    pub(crate) per_m: Decimal,
    pub(crate) extra_days: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Turnaround {
    pub(crate) id: String,
    pub(crate) days: u32,
    pub(crate) multiplier: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct Material {
    pub(crate) id: Text,
    pub(crate) name: Text,
    pub(crate) per_sqm: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) id: Text,
    pub(crate) discount_pct: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CouponKind {
    Percent,
    Fixed,
}

#[derive(Debug, Clone)]
pub(crate) struct Coupon {
    pub(crate) code: Text,
    /// The lower-cased code (the lookup key, what redemptions count under).
    pub(crate) key: Text,
    pub(crate) kind: CouponKind,
    pub(crate) value: Decimal,
    pub(crate) valid_from: Option<DateTime<Utc>>,
    pub(crate) valid_until: Option<DateTime<Utc>>,
    pub(crate) min_subtotal: Decimal,
    /// product indices; `None` = every product
    pub(crate) products: Option<Vec<usize>>,
    pub(crate) stackable_with_group: bool,
    /// How many orders may use the coupon in total (≥ 1); `None` = no cap.
    pub(crate) max_redemptions: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct QtyRule {
    pub(crate) min: u32,
    pub(crate) max: u32,
    pub(crate) step: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) name: Text,
    pub(crate) method: String,
    pub(crate) tax_category: String,
    /// Index into [`Catalog::tax`]; `None` when no rule has this category.
    pub(crate) tax_ix: Option<usize>,
    pub(crate) turnarounds: Vec<usize>,
    /// (1 + markup_pct/100) × multiplier for each entry of `turnarounds`
    /// (`None` on overflow, reported when quoting).
    pub(crate) selling: Vec<Option<Decimal>>,
    pub(crate) finishing: Vec<usize>,
    pub(crate) qty: QtyRule,
    pub(crate) setup_fee: Decimal,
    pub(crate) markup_pct: Decimal,
    pub(crate) minimum_price: Decimal,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Sheet(Box<Sheet>),
    Area(Box<Area>),
    Breaks(Box<Breaks>),
    Booklet(Box<Booklet>),
    Unsupported,
}

/// A print colour resolved against the press at load time.
#[derive(Debug, Clone)]
pub(crate) struct PressColor {
    pub(crate) name: Text,
    /// `Printing <colour>`, and the booklet labels `Printing inner pages
    /// <colour>` / `Printing cover <colour>`.
    pub(crate) label: Text,
    pub(crate) inner_label: Text,
    pub(crate) cover_label: Text,
    pub(crate) click_cost: Decimal,
    pub(crate) setup_sheets: u32,
}

/// Precomputed imposition of a piece on a press sheet.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) n_up: u64,
    pub(crate) columns: u64,
    pub(crate) rows: u64,
    pub(crate) rotated: bool,
    pub(crate) trim_w: Decimal,
    pub(crate) trim_h: Decimal,
    pub(crate) bleed: Decimal,
    pub(crate) gutter: Decimal,
    pub(crate) margin: Decimal,
    pub(crate) sheet_w: Decimal,
    pub(crate) sheet_h: Decimal,
    /// piece incl. bleed as placed on the sheet (after rotation)
    pub(crate) piece_w: Decimal,
    pub(crate) piece_h: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct Sheet {
    pub(crate) papers: Vec<usize>,
    pub(crate) colors: Vec<PressColor>,
    pub(crate) spoilage_pct: Decimal,
    pub(crate) layout: Layout,
}

#[derive(Debug, Clone)]
pub(crate) struct AreaColor {
    pub(crate) name: Text,
    pub(crate) label: Text,
    pub(crate) per_sqm: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct Area {
    pub(crate) materials: Vec<usize>,
    pub(crate) colors: Vec<AreaColor>,
    pub(crate) min_area_sqm: Decimal,
    pub(crate) min_w: Decimal,
    pub(crate) max_w: Decimal,
    pub(crate) min_h: Decimal,
    pub(crate) max_h: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BreakMode {
    AllUnits,
    Graduated,
    Interpolate,
}

#[derive(Debug, Clone)]
pub(crate) struct BreakOption {
    pub(crate) id: Text,
    pub(crate) name: Text,
    pub(crate) per_unit: Decimal,
    pub(crate) per_job: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct Breaks {
    pub(crate) mode: BreakMode,
    /// (quantity, price), strictly increasing quantity
    pub(crate) breaks: Vec<(u32, Decimal)>,
    pub(crate) options: Vec<BreakOption>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    SaddleStitch,
    Perfect,
}

#[derive(Debug, Clone)]
pub(crate) struct Booklet {
    pub(crate) papers: Vec<usize>,
    pub(crate) cover_papers: Vec<usize>,
    pub(crate) colors: Vec<PressColor>,
    pub(crate) spoilage_pct: Decimal,
    pub(crate) layout: Layout,
    pub(crate) pages_min: u32,
    pub(crate) pages_max: u32,
    pub(crate) binding: Binding,
    pub(crate) binding_setup: Decimal,
    pub(crate) binding_per_piece: Decimal,
}

impl Catalog {
    /// Parses and validates a catalog from JSON text.
    ///
    /// # Errors
    /// `invalid_catalog` with the JSON path of the first bad field.
    pub fn from_json(text: &str) -> Result<Self, PricingError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PricingError::InvalidCatalog {
                path: String::new(),
                message: format!("not valid JSON: {e}"),
            })?;
        Self::from_value(&value)
    }

    /// Validates a catalog already parsed into a [`serde_json::Value`].
    ///
    /// # Errors
    /// `invalid_catalog` with the JSON path of the first bad field.
    pub fn from_value(value: &Value) -> Result<Self, PricingError> {
        Loader::default().load(value)
    }

    /// The catalog's `version` string (echoed as `catalog_version` in quotes).
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The catalog's base currency.
    #[must_use]
    pub fn currency(&self) -> &str {
        &self.currency
    }

    pub(crate) fn product_idx(&self, id: &str) -> Option<usize> {
        // SipHash keeps lookups collision-resistant for catalogs of any size.
        self.product_index.get(id).copied()
    }
}

/// Builds `HashMap<id, index>` for a section, rejecting duplicate ids.
fn index_ids<'a>(
    ids: impl Iterator<Item = &'a str>,
    p: &Path<'_>,
) -> Result<HashMap<String, usize>, PricingError> {
    let mut map = HashMap::new();
    for (i, id) in ids.enumerate() {
        if map.insert(id.to_owned(), i).is_some() {
            return Err(p.idx(i).key("id").err(format!("duplicate id `{id}`")));
        }
    }
    Ok(map)
}

#[derive(Default)]
struct Loader {
    press_ix: HashMap<String, usize>,
    paper_ix: HashMap<String, usize>,
    finishing_ix: HashMap<String, usize>,
    turnaround_ix: HashMap<String, usize>,
    material_ix: HashMap<String, usize>,
}

fn section<'v>(root: &'v Obj, key: &str, required: bool) -> Result<&'v [Value], PricingError> {
    let p = Path::Root;
    match opt(root, key) {
        Some(v) => array(v, &p.key(key)),
        None if required => Err(p.key(key).err("missing required field")),
        None => Ok(&[]),
    }
}

fn opt_money(m: &Obj, key: &str, p: &Path<'_>) -> Result<Decimal, PricingError> {
    match opt(m, key) {
        Some(v) => {
            let kp = p.key(key);
            bounded(money(v, &kp)?, MAX_AMOUNT, &kp)
        }
        None => Ok(Decimal::ZERO),
    }
}

fn req_money(m: &Obj, key: &str, p: &Path<'_>) -> Result<Decimal, PricingError> {
    let kp = p.key(key);
    bounded(money(req(m, key, p)?, &kp)?, MAX_AMOUNT, &kp)
}

fn pct(
    m: &Obj,
    key: &str,
    p: &Path<'_>,
    required: bool,
    max: Decimal,
) -> Result<Decimal, PricingError> {
    let kp = p.key(key);
    match opt(m, key) {
        Some(v) => bounded(decimal(v, &kp)?, max, &kp),
        None if required => Err(kp.err("missing required field")),
        None => Ok(Decimal::ZERO),
    }
}

fn mm(
    m: &Obj,
    key: &str,
    p: &Path<'_>,
    required: bool,
    positive: bool,
) -> Result<Decimal, PricingError> {
    let kp = p.key(key);
    let d = match opt(m, key) {
        Some(v) => bounded(decimal(v, &kp)?, MAX_MM, &kp)?,
        None if required => return Err(kp.err("missing required field")),
        None => Decimal::ZERO,
    };
    if positive && d.is_zero() {
        return Err(kp.err("must be greater than zero"));
    }
    Ok(d)
}

fn id_of<'v>(m: &'v Obj, p: &Path<'_>) -> Result<&'v str, PricingError> {
    string(req(m, "id", p)?, &p.key("id"))
}

fn name_of(m: &Obj, p: &Path<'_>, default: &str) -> Result<Text, PricingError> {
    Ok(match opt(m, "name") {
        Some(v) => string(v, &p.key("name"))?.into(),
        None => default.into(),
    })
}

fn timestamp(v: &Value, p: &Path<'_>) -> Result<DateTime<Utc>, PricingError> {
    let s = v
        .as_str()
        .ok_or_else(|| p.err("expected an RFC 3339 timestamp string"))?;
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| p.err("expected an RFC 3339 timestamp"))
}

/// Resolves a list of ids against an index, rejecting unknown and duplicate ids.
fn resolve_list(
    m: &Obj,
    key: &str,
    p: &Path<'_>,
    index: &HashMap<String, usize>,
    required_non_empty: bool,
) -> Result<Vec<usize>, PricingError> {
    let kp = p.key(key);
    let items = match opt(m, key) {
        Some(v) => array(v, &kp)?,
        None if required_non_empty => return Err(kp.err("missing required field")),
        None => &[],
    };
    if required_non_empty && items.is_empty() {
        return Err(kp.err("must not be empty"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ip = kp.idx(i);
        let id = string(item, &ip)?;
        let ix = *index
            .get(id)
            .ok_or_else(|| ip.err(format!("unknown id `{id}`")))?;
        if out.contains(&ix) {
            return Err(ip.err(format!("duplicate id `{id}`")));
        }
        out.push(ix);
    }
    Ok(out)
}

/// `floor((usable + gutter) / (piece + gutter))`, exact for the decimal inputs.
fn fit_count(usable: Decimal, gutter: Decimal, piece: Decimal) -> Option<u64> {
    let num = usable.checked_add(gutter)?;
    let den = piece.checked_add(gutter)?;
    if den.is_zero() {
        return None;
    }
    let q = num.checked_div(den)?.floor();
    u64::try_from(q).ok()
}

/// Step 2 of the sheet algorithm, evaluated once per product at load time.
pub(crate) fn layout(
    press: &Press,
    trim_w: Decimal,
    trim_h: Decimal,
    bleed: Decimal,
    gutter: Decimal,
    grain_critical: bool,
    p: &Path<'_>,
) -> Result<Layout, PricingError> {
    let too_big = || p.key("size").err("dimensions out of range");
    let two_bleed = bleed.checked_mul(Decimal::TWO).ok_or_else(too_big)?;
    let pw = trim_w.checked_add(two_bleed).ok_or_else(too_big)?;
    let ph = trim_h.checked_add(two_bleed).ok_or_else(too_big)?;
    let two_margin = press.margin * Decimal::TWO;
    let uw = press.sheet_w - two_margin;
    let uh = press.sheet_h - two_margin;
    let fit = |a: Decimal, b: Decimal| -> Result<(u64, u64, u64), PricingError> {
        let c = fit_count(uw, gutter, a).ok_or_else(too_big)?;
        let r = fit_count(uh, gutter, b).ok_or_else(too_big)?;
        let n = c.checked_mul(r).ok_or_else(too_big)?;
        Ok((n, c, r))
    };
    let straight = fit(pw, ph)?;
    let turned = if grain_critical {
        (0, 0, 0)
    } else {
        fit(ph, pw)?
    };
    let rotated = turned.0 > straight.0;
    let (n_up, columns, rows) = if rotated { turned } else { straight };
    let (piece_w, piece_h) = if rotated { (ph, pw) } else { (pw, ph) };
    Ok(Layout {
        n_up,
        columns,
        rows,
        rotated,
        trim_w,
        trim_h,
        bleed,
        gutter,
        margin: press.margin,
        sheet_w: press.sheet_w,
        sheet_h: press.sheet_h,
        piece_w,
        piece_h,
    })
}

impl Loader {
    fn load(mut self, value: &Value) -> Result<Catalog, PricingError> {
        let root_path = Path::Root;
        let root = object(value, &root_path)?;

        let version: Text =
            string(req(root, "version", &root_path)?, &root_path.key("version"))?.into();

        let currency_path = root_path.key("currency");
        let currency: Text = string(req(root, "currency", &root_path)?, &currency_path)?.into();
        let minor = minor_units(&currency)
            .ok_or_else(|| currency_path.err(format!("unknown ISO 4217 currency `{currency}`")))?;

        let mut rates = Lookup::default();
        if let Some(v) = opt(root, "exchange_rates") {
            let rp = root_path.key("exchange_rates");
            // Sorted iteration so the first reported error is deterministic.
            let mut entries: Vec<(&String, &Value)> = object(v, &rp)?.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (code, rate) in entries {
                let cp = rp.key(code);
                let code_minor = minor_units(code)
                    .ok_or_else(|| cp.err(format!("unknown ISO 4217 currency `{code}`")))?;
                let r = bounded(decimal(rate, &cp)?, MAX_AMOUNT, &cp)?;
                if r.is_zero() {
                    return Err(cp.err("exchange rate must be greater than zero"));
                }
                rates.insert(code.as_str().into(), (r, code_minor));
                // (keys of a JSON object are unique, so nothing is replaced)
            }
        }

        let validity_days = uint(
            req(root, "quote_validity_days", &root_path)?,
            &root_path.key("quote_validity_days"),
            MAX_DAYS,
        )?;

        let presses = self.presses(root)?;
        let papers = self.papers(root)?;
        let finishing = self.finishing(root)?;
        let turnarounds = self.turnarounds(root)?;
        let materials = self.materials(root)?;
        let groups = Self::groups(root)?;
        let (tax, categories) = Self::tax(root)?;
        let (products, product_index) = self.products(root, &presses, &turnarounds, &categories)?;
        let coupons = Self::coupons(root, &product_index)?;

        Ok(Catalog {
            version,
            currency,
            minor,
            rates,
            validity_days,
            papers,
            finishing,
            turnarounds,
            materials,
            groups,
            coupons,
            tax,
            products,
            product_index,
            fixed: FixedText::default(),
        })
    }

    fn presses(&mut self, root: &Obj) -> Result<Vec<Press>, PricingError> {
        let items = section(root, "presses", false)?;
        let root_path = Path::Root;
        let sp = root_path.key("presses");
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = sp.idx(i);
            let m = object(item, &p)?;
            let id = id_of(m, &p)?.to_owned();
            let sheet_path = p.key("sheet");
            let sheet = object(req(m, "sheet", &p)?, &sheet_path)?;
            let sheet_w = mm(sheet, "w_mm", &sheet_path, true, true)?;
            let sheet_h = mm(sheet, "h_mm", &sheet_path, true, true)?;
            let margin = mm(m, "margin_mm", &p, false, false)?;
            let two_margin = margin * Decimal::TWO;
            if two_margin >= sheet_w || two_margin >= sheet_h {
                return Err(p.key("margin_mm").err("margins leave no printable area"));
            }
            let mut click_cost = HashMap::new();
            let mut color_text = HashMap::new();
            let cp = p.key("click_cost");
            let mut entries: Vec<(&String, &Value)> =
                object(req(m, "click_cost", &p)?, &cp)?.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (color, v) in entries {
                let kp = cp.key(color);
                if color.is_empty() {
                    return Err(kp.err("color name must not be empty"));
                }
                click_cost.insert(color.clone(), bounded(money(v, &kp)?, MAX_AMOUNT, &kp)?);
                color_text.insert(
                    color.clone(),
                    [
                        color.as_str().into(),
                        format!("Printing {color}").into(),
                        format!("Printing inner pages {color}").into(),
                        format!("Printing cover {color}").into(),
                    ],
                );
            }
            let mut setup_sheets = HashMap::new();
            let ssp = p.key("setup_sheets");
            if let Some(v) = opt(m, "setup_sheets") {
                let mut entries: Vec<(&String, &Value)> = object(v, &ssp)?.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                for (color, v) in entries {
                    let kp = ssp.key(color);
                    setup_sheets.insert(color.clone(), uint(v, &kp, 1_000_000)?);
                }
            }
            let spoilage_pct = pct(m, "spoilage_pct", &p, false, HUNDRED)?;
            out.push(Press {
                id,
                sheet_w,
                sheet_h,
                margin,
                click_cost,
                setup_sheets,
                spoilage_pct,
                color_text,
            });
        }
        self.press_ix = index_ids(out.iter().map(|x| x.id.as_str()), &sp)?;
        Ok(out)
    }

    fn papers(&mut self, root: &Obj) -> Result<Vec<Paper>, PricingError> {
        let items = section(root, "papers", false)?;
        let root_path = Path::Root;
        let sp = root_path.key("papers");
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = sp.idx(i);
            let m = object(item, &p)?;
            let id = id_of(m, &p)?;
            let name = name_of(m, &p, id)?;
            if let Some(v) = opt(m, "gsm") {
                uint(v, &p.key("gsm"), 100_000)?;
            }
            let sheet_cost = req_money(m, "sheet_cost", &p)?;
            out.push(Paper {
                id: id.into(),
                inner_label: format!("Inner pages: {name}").into(),
                cover_label: format!("Cover: {name}").into(),
                name,
                sheet_cost,
            });
        }
        self.paper_ix = index_ids(out.iter().map(|x| &*x.id), &sp)?;
        Ok(out)
    }

    fn finishing(&mut self, root: &Obj) -> Result<Vec<Finishing>, PricingError> {
        let items = section(root, "finishing", false)?;
        let root_path = Path::Root;
        let sp = root_path.key("finishing");
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = sp.idx(i);
            let m = object(item, &p)?;
            let id = id_of(m, &p)?;
            let name = name_of(m, &p, id)?;
            let extra_days = match opt(m, "extra_days") {
                Some(v) => uint(v, &p.key("extra_days"), MAX_DAYS)?,
                None => 0,
            };
            out.push(Finishing {
                id: id.into(),
                name,
                setup: opt_money(m, "setup", &p)?,
                per_sheet: opt_money(m, "per_sheet", &p)?,
                per_piece: opt_money(m, "per_piece", &p)?,
                per_sqm: opt_money(m, "per_sqm", &p)?,
                per_m: opt_money(m, "per_m", &p)?,
                extra_days,
            });
        }
        self.finishing_ix = index_ids(out.iter().map(|x| &*x.id), &sp)?;
        Ok(out)
    }

    fn turnarounds(&mut self, root: &Obj) -> Result<Vec<Turnaround>, PricingError> {
        let items = section(root, "turnarounds", true)?;
        let root_path = Path::Root;
        let sp = root_path.key("turnarounds");
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = sp.idx(i);
            let m = object(item, &p)?;
            let id = id_of(m, &p)?.to_owned();
            let days = uint(req(m, "days", &p)?, &p.key("days"), MAX_DAYS)?;
            let multiplier = pct(m, "multiplier", &p, true, Decimal::from(1000))?;
            if multiplier.is_zero() {
                return Err(p.key("multiplier").err("must be greater than zero"));
            }
            out.push(Turnaround {
                id,
                days,
                multiplier,
            });
        }
        self.turnaround_ix = index_ids(out.iter().map(|x| x.id.as_str()), &sp)?;
        Ok(out)
    }

    fn materials(&mut self, root: &Obj) -> Result<Vec<Material>, PricingError> {
        let items = section(root, "materials", false)?;
        let root_path = Path::Root;
        let sp = root_path.key("materials");
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = sp.idx(i);
            let m = object(item, &p)?;
            let id = id_of(m, &p)?;
            let name = name_of(m, &p, id)?;
            out.push(Material {
                id: id.into(),
                name,
                per_sqm: req_money(m, "per_sqm", &p)?,
            });
        }
        self.material_ix = index_ids(out.iter().map(|x| &*x.id), &sp)?;
        Ok(out)
    }

    fn groups(root: &Obj) -> Result<Lookup<Group>, PricingError> {
        let items = section(root, "customer_groups", false)?;
        let root_path = Path::Root;
        let sp = root_path.key("customer_groups");
        let mut out = Lookup::default();
        for (i, item) in items.iter().enumerate() {
            let p = sp.idx(i);
            let m = object(item, &p)?;
            let id = id_of(m, &p)?;
            let discount_pct = pct(m, "discount_pct", &p, true, HUNDRED)?;
            if out.get(id).is_some() {
                return Err(p.key("id").err(format!("duplicate id `{id}`")));
            }
            let id: Text = id.into();
            out.insert(id.clone(), Group { id, discount_pct });
        }
        Ok(out)
    }

    /// Tax rules grouped by category: (region tables, category -> table index).
    #[allow(clippy::type_complexity)]
    fn tax(root: &Obj) -> Result<(Vec<Lookup<Decimal>>, HashMap<String, usize>), PricingError> {
        let root_path = Path::Root;
        let tp = root_path.key("tax");
        let tax = object(req(root, "tax", &root_path)?, &tp)?;
        let rp = tp.key("rules");
        let rules = array(req(tax, "rules", &tp)?, &rp)?;
        let mut tables: Vec<Lookup<Decimal>> = Vec::new();
        let mut categories: HashMap<String, usize> = HashMap::new();
        for (i, item) in rules.iter().enumerate() {
            let p = rp.idx(i);
            let m = object(item, &p)?;
            let region = string(req(m, "region", &p)?, &p.key("region"))?;
            let category = string(req(m, "category", &p)?, &p.key("category"))?;
            let rate = pct(m, "rate_pct", &p, true, HUNDRED)?;
            let ix = *categories.entry(category.to_owned()).or_insert_with(|| {
                tables.push(Lookup::default());
                tables.len() - 1
            });
            let new = tables
                .get_mut(ix)
                .is_some_and(|t| t.insert(region.into(), rate.normalize()));
            if !new {
                return Err(p.err(format!("duplicate rule for `{region}` / `{category}`")));
            }
        }
        Ok((tables, categories))
    }

    fn quantity(m: &Obj, p: &Path<'_>) -> Result<QtyRule, PricingError> {
        let qp = p.key("quantity");
        let q = object(req(m, "quantity", p)?, &qp)?;
        let min = uint(req(q, "min", &qp)?, &qp.key("min"), u32::MAX)?;
        let max = uint(req(q, "max", &qp)?, &qp.key("max"), u32::MAX)?;
        let step = match opt(q, "step") {
            Some(v) => uint(v, &qp.key("step"), u32::MAX)?,
            None => 1,
        };
        if min == 0 {
            return Err(qp.key("min").err("must be at least 1"));
        }
        if max < min {
            return Err(qp.key("max").err("must not be below min"));
        }
        if step == 0 {
            return Err(qp.key("step").err("must be at least 1"));
        }
        Ok(QtyRule { min, max, step })
    }

    fn press_colors(
        &self,
        m: &Obj,
        p: &Path<'_>,
        press: &Press,
    ) -> Result<Vec<PressColor>, PricingError> {
        let cp = p.key("colors");
        let items = array(req(m, "colors", p)?, &cp)?;
        if items.is_empty() {
            return Err(cp.err("must not be empty"));
        }
        let mut out: Vec<PressColor> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ip = cp.idx(i);
            let name = string(item, &ip)?;
            let click_cost = *press.click_cost.get(name).ok_or_else(|| {
                ip.err(format!(
                    "press `{}` has no click_cost for `{name}`",
                    press.id
                ))
            })?;
            let setup_sheets = *press.setup_sheets.get(name).ok_or_else(|| {
                ip.err(format!(
                    "press `{}` has no setup_sheets for `{name}`",
                    press.id
                ))
            })?;
            if out.iter().any(|c| &*c.name == name) {
                return Err(ip.err(format!("duplicate color `{name}`")));
            }
            let [name, label, inner_label, cover_label] =
                press.color_text.get(name).cloned().unwrap_or_else(|| {
                    [
                        name.into(),
                        format!("Printing {name}").into(),
                        format!("Printing inner pages {name}").into(),
                        format!("Printing cover {name}").into(),
                    ]
                });
            out.push(PressColor {
                name,
                label,
                inner_label,
                cover_label,
                click_cost,
                setup_sheets,
            });
        }
        Ok(out)
    }

    fn press_of<'c>(
        &self,
        m: &Obj,
        p: &Path<'_>,
        presses: &'c [Press],
    ) -> Result<&'c Press, PricingError> {
        let pp = p.key("press");
        let id = string(req(m, "press", p)?, &pp)?;
        self.press_ix
            .get(id)
            .and_then(|&ix| presses.get(ix))
            .ok_or_else(|| pp.err(format!("unknown press `{id}`")))
    }

    fn trim(m: &Obj, p: &Path<'_>) -> Result<(Decimal, Decimal), PricingError> {
        let sp = p.key("size");
        let size = object(req(m, "size", p)?, &sp)?;
        Ok((
            mm(size, "w_mm", &sp, true, true)?,
            mm(size, "h_mm", &sp, true, true)?,
        ))
    }

    fn sheet(&self, m: &Obj, p: &Path<'_>, presses: &[Press]) -> Result<Sheet, PricingError> {
        let (w, h) = Self::trim(m, p)?;
        let bleed = mm(m, "bleed_mm", p, false, false)?;
        let gutter = mm(m, "gutter_mm", p, false, false)?;
        let grain_critical = match opt(m, "grain_critical") {
            Some(v) => boolean(v, &p.key("grain_critical"))?,
            None => false,
        };
        let press = self.press_of(m, p, presses)?;
        let papers = resolve_list(m, "papers", p, &self.paper_ix, true)?;
        let colors = self.press_colors(m, p, press)?;
        let layout = layout(press, w, h, bleed, gutter, grain_critical, p)?;
        Ok(Sheet {
            papers,
            colors,
            spoilage_pct: press.spoilage_pct,
            layout,
        })
    }

    fn area(&self, m: &Obj, p: &Path<'_>) -> Result<Area, PricingError> {
        let materials = resolve_list(m, "materials", p, &self.material_ix, true)?;
        let ip = p.key("ink_per_sqm");
        let mut entries: Vec<(&String, &Value)> =
            object(req(m, "ink_per_sqm", p)?, &ip)?.iter().collect();
        if entries.is_empty() {
            return Err(ip.err("must not be empty"));
        }
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let mut colors = Vec::with_capacity(entries.len());
        for (name, v) in entries {
            let kp = ip.key(name);
            if name.is_empty() {
                return Err(kp.err("color name must not be empty"));
            }
            colors.push(AreaColor {
                name: name.as_str().into(),
                label: format!("Printing {name}").into(),
                per_sqm: bounded(money(v, &kp)?, MAX_AMOUNT, &kp)?,
            });
        }
        let min_area_sqm = pct(m, "min_area_sqm", p, false, Decimal::from(1_000_000))?;
        let lp = p.key("size_limits");
        let limits = object(req(m, "size_limits", p)?, &lp)?;
        let min_w = mm(limits, "min_w_mm", &lp, true, true)?;
        let max_w = mm(limits, "max_w_mm", &lp, true, true)?;
        let min_h = mm(limits, "min_h_mm", &lp, true, true)?;
        let max_h = mm(limits, "max_h_mm", &lp, true, true)?;
        if max_w < min_w {
            return Err(lp.key("max_w_mm").err("must not be below min_w_mm"));
        }
        if max_h < min_h {
            return Err(lp.key("max_h_mm").err("must not be below min_h_mm"));
        }
        Ok(Area {
            materials,
            colors,
            min_area_sqm,
            min_w,
            max_w,
            min_h,
            max_h,
        })
    }

    fn breaks(m: &Obj, p: &Path<'_>, qty: QtyRule) -> Result<Breaks, PricingError> {
        let mp = p.key("mode");
        let mode = match string(req(m, "mode", p)?, &mp)? {
            "all_units" => BreakMode::AllUnits,
            "graduated" => BreakMode::Graduated,
            "interpolate" => BreakMode::Interpolate,
            other => return Err(mp.err(format!("unknown mode `{other}`"))),
        };
        let bp = p.key("breaks");
        let items = array(req(m, "breaks", p)?, &bp)?;
        if items.is_empty() {
            return Err(bp.err("must not be empty"));
        }
        let mut breaks: Vec<(u32, Decimal)> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ip = bp.idx(i);
            let b = object(item, &ip)?;
            let q = uint(req(b, "quantity", &ip)?, &ip.key("quantity"), u32::MAX)?;
            if q == 0 {
                return Err(ip.key("quantity").err("must be at least 1"));
            }
            if let Some(&(prev, _)) = breaks.last()
                && q <= prev
            {
                return Err(ip
                    .key("quantity")
                    .err("break quantities must increase strictly"));
            }
            breaks.push((q, req_money(b, "price", &ip)?));
        }
        if mode == BreakMode::Interpolate {
            for (i, pair) in breaks.windows(2).enumerate() {
                if let [(_, a), (_, b)] = pair
                    && b < a
                {
                    return Err(bp
                        .idx(i + 1)
                        .key("price")
                        .err("interpolated prices must not decrease"));
                }
            }
        }
        if mode == BreakMode::Interpolate && breaks.first().is_some_and(|&(q, _)| qty.min < q) {
            return Err(p
                .key("quantity")
                .key("min")
                .err("interpolate needs min >= the first break"));
        }
        let op = p.key("options");
        let mut options: Vec<BreakOption> = Vec::new();
        if let Some(v) = opt(m, "options") {
            for (i, item) in array(v, &op)?.iter().enumerate() {
                let ip = op.idx(i);
                let o = object(item, &ip)?;
                let id = id_of(o, &ip)?;
                if options.iter().any(|x| &*x.id == id) {
                    return Err(ip.key("id").err(format!("duplicate id `{id}`")));
                }
                options.push(BreakOption {
                    id: id.into(),
                    name: name_of(o, &ip, id)?,
                    per_unit: opt_money(o, "per_unit", &ip)?,
                    per_job: opt_money(o, "per_job", &ip)?,
                });
            }
        }
        Ok(Breaks {
            mode,
            breaks,
            options,
        })
    }

    fn booklet(&self, m: &Obj, p: &Path<'_>, presses: &[Press]) -> Result<Booklet, PricingError> {
        let (w, h) = Self::trim(m, p)?;
        let bleed = mm(m, "bleed_mm", p, false, false)?;
        let gutter = mm(m, "gutter_mm", p, false, false)?;
        let grain_critical = match opt(m, "grain_critical") {
            Some(v) => boolean(v, &p.key("grain_critical"))?,
            None => false,
        };
        let press = self.press_of(m, p, presses)?;
        let papers = resolve_list(m, "papers", p, &self.paper_ix, true)?;
        let cover_papers = resolve_list(m, "cover_papers", p, &self.paper_ix, false)?;
        let colors = self.press_colors(m, p, press)?;
        let pp = p.key("pages");
        let pages = object(req(m, "pages", p)?, &pp)?;
        let pages_min = uint(req(pages, "min", &pp)?, &pp.key("min"), 100_000)?;
        let pages_max = uint(req(pages, "max", &pp)?, &pp.key("max"), 100_000)?;
        if pages_min < 8 || !pages_min.is_multiple_of(4) {
            return Err(pp.key("min").err("must be a multiple of 4 and at least 8"));
        }
        if pages_max < pages_min || !pages_max.is_multiple_of(4) {
            return Err(pp
                .key("max")
                .err("must be a multiple of 4 and not below min"));
        }
        let bp = p.key("binding");
        let b = object(req(m, "binding", p)?, &bp)?;
        let kp = bp.key("kind");
        let binding = match string(req(b, "kind", &bp)?, &kp)? {
            "saddle_stitch" => Binding::SaddleStitch,
            "perfect" => Binding::Perfect,
            other => return Err(kp.err(format!("unknown binding `{other}`"))),
        };
        // A spread is two pages side by side.
        let spread_w = w
            .checked_mul(Decimal::TWO)
            .ok_or_else(|| p.key("size").err("too large"))?;
        let layout = layout(press, spread_w, h, bleed, gutter, grain_critical, p)?;
        Ok(Booklet {
            papers,
            cover_papers,
            colors,
            spoilage_pct: press.spoilage_pct,
            layout,
            pages_min,
            pages_max,
            binding,
            binding_setup: opt_money(b, "setup", &bp)?,
            binding_per_piece: opt_money(b, "per_piece", &bp)?,
        })
    }

    fn products(
        &self,
        root: &Obj,
        presses: &[Press],
        all_turnarounds: &[Turnaround],
        categories: &HashMap<String, usize>,
    ) -> Result<(Vec<Product>, HashMap<String, usize>), PricingError> {
        let items = section(root, "products", true)?;
        let root_path = Path::Root;
        let sp = root_path.key("products");
        let mut out = Vec::with_capacity(items.len());
        let mut index = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = sp.idx(i);
            let m = object(item, &p)?;
            let id = id_of(m, &p)?;
            if index.insert(id.to_owned(), i).is_some() {
                return Err(p.key("id").err(format!("duplicate id `{id}`")));
            }
            let name = name_of(m, &p, id)?;
            let method = string(req(m, "method", &p)?, &p.key("method"))?.to_owned();
            if !matches!(method.as_str(), "sheet" | "area" | "breaks" | "booklet") {
                // Loadable, but quoting it reports `unsupported_method`.
                out.push(Product {
                    id: id.to_owned(),
                    name,
                    method,
                    tax_category: String::new(),
                    tax_ix: None,
                    turnarounds: Vec::new(),
                    selling: Vec::new(),
                    finishing: Vec::new(),
                    qty: QtyRule {
                        min: 1,
                        max: 1,
                        step: 1,
                    },
                    setup_fee: Decimal::ZERO,
                    markup_pct: Decimal::ZERO,
                    minimum_price: Decimal::ZERO,
                    kind: Kind::Unsupported,
                });
                continue;
            }
            let tax_category =
                string(req(m, "tax_category", &p)?, &p.key("tax_category"))?.to_owned();
            let specific = match method.as_str() {
                "sheet" => Some(Kind::Sheet(Box::new(self.sheet(m, &p, presses)?))),
                "area" => Some(Kind::Area(Box::new(self.area(m, &p)?))),
                "booklet" => Some(Kind::Booklet(Box::new(self.booklet(m, &p, presses)?))),
                _ => None,
            };
            let finishing = resolve_list(m, "finishing", &p, &self.finishing_ix, false)?;
            let turnarounds = resolve_list(m, "turnarounds", &p, &self.turnaround_ix, true)?;
            let qty = Self::quantity(m, &p)?;
            let kind = match specific {
                Some(kind) => kind,
                None => Kind::Breaks(Box::new(Self::breaks(m, &p, qty)?)),
            };
            let setup_fee = opt_money(m, "setup_fee", &p)?;
            let markup_pct = pct(m, "markup_pct", &p, false, Decimal::from(100_000))?;
            let minimum_price = opt_money(m, "minimum_price", &p)?;
            // Step 5's factor without the exchange rate, in the same operation
            // order as at quote time: (1 + markup/100) × multiplier.
            let markup = mul(markup_pct, PCT).and_then(|x| add(Decimal::ONE, x)).ok();
            let selling = turnarounds
                .iter()
                .map(|&t| {
                    let t = all_turnarounds.get(t)?;
                    mul(markup?, t.multiplier).ok()
                })
                .collect();
            out.push(Product {
                id: id.to_owned(),
                name,
                method,
                tax_ix: categories.get(&tax_category).copied(),
                tax_category,
                turnarounds,
                selling,
                finishing,
                qty,
                setup_fee,
                markup_pct,
                minimum_price,
                kind,
            });
        }
        Ok((out, index))
    }

    fn coupons(
        root: &Obj,
        product_index: &HashMap<String, usize>,
    ) -> Result<Lookup<Coupon>, PricingError> {
        let items = section(root, "coupons", false)?;
        let root_path = Path::Root;
        let sp = root_path.key("coupons");
        let mut out = Lookup::default();
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let p = sp.idx(i);
            let m = object(item, &p)?;
            let cp = p.key("code");
            let code = string(req(m, "code", &p)?, &cp)?;
            let key = code.to_lowercase();
            if !seen.insert(key.clone()) {
                return Err(cp.err(format!(
                    "duplicate coupon code `{code}` (codes are case-insensitive)"
                )));
            }
            let kp = p.key("kind");
            let kind = match string(req(m, "kind", &p)?, &kp)? {
                "percent" => CouponKind::Percent,
                "fixed" => CouponKind::Fixed,
                other => return Err(kp.err(format!("unknown coupon kind `{other}`"))),
            };
            let vp = p.key("value");
            let value = bounded(money(req(m, "value", &p)?, &vp)?, MAX_AMOUNT, &vp)?;
            if kind == CouponKind::Percent && value > HUNDRED {
                return Err(vp.err("percent coupons must be at most 100"));
            }
            let valid_from = opt(m, "valid_from")
                .map(|v| timestamp(v, &p.key("valid_from")))
                .transpose()?;
            let valid_until = opt(m, "valid_until")
                .map(|v| timestamp(v, &p.key("valid_until")))
                .transpose()?;
            let min_subtotal = opt_money(m, "min_subtotal", &p)?;
            let products = match opt(m, "products") {
                None => None,
                Some(_) => Some(resolve_list(m, "products", &p, product_index, false)?),
            };
            let stackable_with_group = match opt(m, "stackable_with_group") {
                Some(v) => boolean(v, &p.key("stackable_with_group"))?,
                None => true,
            };
            let max_redemptions = match opt(m, "max_redemptions") {
                None => None,
                Some(v) => {
                    let mp = p.key("max_redemptions");
                    let n = uint(v, &mp, u32::MAX)?;
                    if n == 0 {
                        return Err(mp.err("must be at least 1"));
                    }
                    Some(n)
                }
            };
            let key: Text = key.into();
            out.insert(
                key.clone(),
                Coupon {
                    code: code.into(),
                    key,
                    kind,
                    value,
                    valid_from,
                    valid_until,
                    min_subtotal,
                    products,
                    stackable_with_group,
                    max_redemptions,
                },
            );
        }
        Ok(out)
    }
}
