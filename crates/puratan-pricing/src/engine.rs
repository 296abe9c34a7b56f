//! The pricing pipeline.
//!
//! A request is validated in three stages (options, quantity, environment);
//! everything that does not depend on the quantity — including the coupon
//! checks that do not look at the subtotal and the production dates — is
//! computed once per request in [`Env`], so [`Catalog::quote_table`] only
//! repeats the per-quantity work. Errors are still reported in the documented
//! order: a precomputed failure is returned at the step where it would have
//! occurred.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::catalog::FixedText;
use crate::catalog::{
    AreaColor, Binding, Booklet, BreakMode, BreakOption, Breaks, Catalog, Coupon, CouponKind,
    Finishing, Group, Kind, Layout, Material, Paper, PressColor, Product, Sheet, Text, Turnaround,
};
use crate::error::PricingError;
use crate::lookup::Refs;
use crate::num::{
    Overflow, PCT, add, ceil_pct, div, mul, round_fraction, round_to, sub, unit_price,
};
use crate::types::{
    AppliedCoupon, Discount, DiscountKind, Imposition, Line, LineKind, Production, Quote,
    QuoteRequest, Tax,
};

/// Most quantities accepted by [`Catalog::quote_table`].
pub const MAX_TABLE_QUANTITIES: usize = 20;

/// Method-specific options resolved against the catalog.
#[derive(Debug)]
pub(crate) enum Spec<'c> {
    Sheet {
        sheet: &'c Sheet,
        paper: &'c Paper,
        color: &'c PressColor,
    },
    Area {
        material: &'c Material,
        color: &'c AreaColor,
        min_area_sqm: Decimal,
        w: Decimal,
        h: Decimal,
    },
    Breaks {
        breaks: &'c Breaks,
        options: Refs<'c, BreakOption>,
    },
    Booklet {
        booklet: &'c Booklet,
        paper: &'c Paper,
        cover: &'c Paper,
        color: &'c PressColor,
        pages: u32,
    },
}

/// Validation stage 1: everything that precedes the quantity checks.
#[derive(Debug)]
pub(crate) struct Ctx<'c> {
    pub(crate) product_ix: usize,
    pub(crate) product: &'c Product,
    pub(crate) turnaround: &'c Turnaround,
    /// (1 + markup/100) × turnaround multiplier, precomputed at load.
    pub(crate) selling: Option<Decimal>,
    pub(crate) finishing: Refs<'c, Finishing>,
    pub(crate) spec: Spec<'c>,
    pub(crate) fixed: &'c FixedText,
}

/// The request's coupon after the checks that do not depend on the subtotal.
#[derive(Debug)]
struct CouponPlan<'c> {
    coupon: &'c Coupon,
    /// `min_subtotal` × exchange rate (compared exactly, unrounded).
    min_subtotal: Decimal,
    /// Fixed coupons: round(value × rate).
    fixed: Result<Decimal, Overflow>,
}

/// Step 11, identical for every quantity.
#[derive(Debug, Clone, Copy)]
struct Dates {
    business_days: u32,
    ship_date: NaiveDate,
    valid_until: DateTime<Utc>,
}

/// Validation stage 3 plus every quantity-independent value of steps 5–11.
#[derive(Debug)]
pub(crate) struct Env<'c> {
    group: Option<&'c Group>,
    tax_region: &'c Text,
    tax_rate: Decimal,
    currency: &'c Text,
    minor: u32,
    pub(crate) rate: Decimal,
    /// (1 + markup/100) × turnaround multiplier × exchange rate
    pub(crate) factor: Decimal,
    /// round(minimum_price × rate)
    minimum: Result<Decimal, Overflow>,
    coupon: Result<Option<CouponPlan<'c>>, PricingError>,
    dates: Result<Dates, PricingError>,
}

/// A cost line before markup.
#[derive(Debug, Clone)]
pub(crate) struct CostLine<'c> {
    pub(crate) kind: LineKind,
    pub(crate) id: Option<&'c Text>,
    pub(crate) label: &'c Text,
    /// The cost as a decimal (a repeating quotient is rounded to 28 digits).
    pub(crate) cost: Decimal,
    /// The exact cost as numerator / denominator when it is a quotient
    /// (interpolated quantity breaks); the selling line is rounded from it.
    pub(crate) fraction: Option<(Decimal, u32)>,
}

/// Returns a copy of a precomputed result (errors are cloned).
fn cloned<T: Copy, E: Clone>(r: &Result<T, E>) -> Result<T, E> {
    r.as_ref().copied().map_err(Clone::clone)
}

/// Sheet counts for one imposed form.
fn sheets_for(
    units: u64,
    n_up: u64,
    spoilage_pct: Decimal,
    setup: u32,
    rotated: bool,
) -> Result<Imposition, Overflow> {
    let run = units.div_ceil(n_up.max(1));
    let spoil = ceil_pct(run, spoilage_pct)?;
    let setup = u64::from(setup);
    let sheets = run
        .checked_add(spoil)
        .and_then(|s| s.checked_add(setup))
        .ok_or(Overflow)?;
    Ok(Imposition {
        n_up,
        rotated,
        run_sheets: run,
        spoilage_sheets: spoil,
        setup_sheets: setup,
        sheets,
    })
}

fn need<'r>(v: Option<&'r String>, field: &str, method: &str) -> Result<&'r str, PricingError> {
    v.map(String::as_str).ok_or_else(|| {
        PricingError::request(format!("field `{field}` is required for method {method}"))
    })
}

fn forbid(present: bool, field: &str, method: &str) -> Result<(), PricingError> {
    if present {
        Err(PricingError::request(format!(
            "field `{field}` is not used by method {method}"
        )))
    } else {
        Ok(())
    }
}

fn not_allowed(field: &'static str, value: &str) -> PricingError {
    PricingError::OptionNotAllowed {
        field,
        value: value.to_owned(),
    }
}

fn pick<'c, T>(
    all: &'c [T],
    allowed: &[usize],
    wanted: &str,
    id: impl Fn(&T) -> &str,
    field: &'static str,
) -> Result<&'c T, PricingError> {
    allowed
        .iter()
        .filter_map(|&ix| all.get(ix))
        .find(|x| id(x) == wanted)
        .ok_or_else(|| not_allowed(field, wanted))
}

fn first_duplicate(items: &[String]) -> Option<&str> {
    if items.len() <= 16 {
        for (i, a) in items.iter().enumerate() {
            if items.iter().take(i).any(|b| b == a) {
                return Some(a);
            }
        }
        None
    } else {
        let mut seen = HashSet::with_capacity(items.len());
        items
            .iter()
            .find(|s| !seen.insert(s.as_str()))
            .map(String::as_str)
    }
}

/// Counts `business_days` Monday–Friday days after `start`.
pub(crate) fn ship_date(start: NaiveDate, business_days: u32) -> Option<NaiveDate> {
    // Any 7 consecutive days hold exactly 5 weekdays: skip whole weeks, then
    // step day by day (at most 7 steps) on the weekday number alone.
    let weeks = business_days.saturating_sub(1) / 5;
    let mut left = business_days - weeks * 5;
    let mut days = u64::from(weeks) * 7;
    let mut weekday = start.weekday().num_days_from_monday();
    while left > 0 {
        days += 1;
        weekday = (weekday + 1) % 7;
        if weekday < 5 {
            left -= 1;
        }
    }
    // The date only grows, so the last step is the one that can overflow.
    start.checked_add_days(Days::new(days))
}

/// Looks up a coupon by code, compared case-insensitively via Unicode
/// lower-casing; ASCII codes are lower-cased on the stack.
fn find_coupon<'c>(catalog: &'c Catalog, code: &str) -> Option<&'c Coupon> {
    let mut buf = [0_u8; 64];
    if code.is_ascii()
        && let Some(dst) = buf.get_mut(..code.len())
    {
        dst.copy_from_slice(code.as_bytes());
        dst.make_ascii_lowercase();
        // ASCII in, ASCII out: always valid UTF-8.
        if let Ok(lower) = std::str::from_utf8(dst) {
            return catalog.coupons.get(lower);
        }
    }
    catalog.coupons.get(&code.to_lowercase())
}

impl Catalog {
    /// Stage 1: product, method and options (in the normative order).
    #[allow(clippy::too_many_lines)]
    pub(crate) fn resolve<'c>(&'c self, req: &QuoteRequest) -> Result<Ctx<'c>, PricingError> {
        let (product_ix, product) = self
            .product_idx(&req.product)
            .and_then(|ix| self.products.get(ix).map(|p| (ix, p)))
            .ok_or_else(|| PricingError::UnknownProduct {
                product: req.product.clone(),
            })?;
        let m = product.method.as_str();
        let finishing_ok = || -> Result<Refs<'c, Finishing>, PricingError> {
            if let Some(dup) = first_duplicate(&req.finishing) {
                return Err(PricingError::DuplicateFinishing {
                    finishing: dup.to_owned(),
                });
            }
            let mut out = Refs::default();
            for f in &req.finishing {
                out.push(pick(
                    &self.finishing,
                    &product.finishing,
                    f,
                    |x| x.id.as_ref(),
                    "finishing",
                )?);
            }
            Ok(out)
        };
        let turnaround_ok = || -> Result<(&'c Turnaround, Option<Decimal>), PricingError> {
            product
                .turnarounds
                .iter()
                .zip(&product.selling)
                .find_map(|(&ix, selling)| {
                    self.turnarounds
                        .get(ix)
                        .filter(|t| t.id == req.turnaround)
                        .map(|t| (t, *selling))
                })
                .ok_or_else(|| not_allowed("turnaround", &req.turnaround))
        };
        let (finishing, (turnaround, selling), spec) = match &product.kind {
            Kind::Unsupported => {
                return Err(PricingError::UnsupportedMethod {
                    product: product.id.clone(),
                    method: product.method.clone(),
                });
            }
            Kind::Sheet(sheet) => {
                forbid(req.material.is_some(), "material", m)?;
                forbid(req.width_mm.is_some(), "width_mm", m)?;
                forbid(req.height_mm.is_some(), "height_mm", m)?;
                forbid(req.pages.is_some(), "pages", m)?;
                forbid(req.cover_paper.is_some(), "cover_paper", m)?;
                forbid(!req.options.is_empty(), "options", m)?;
                let paper_id = need(req.paper.as_ref(), "paper", m)?;
                let color_id = need(req.color.as_ref(), "color", m)?;
                let paper = pick(
                    &self.papers,
                    &sheet.papers,
                    paper_id,
                    |x| x.id.as_ref(),
                    "paper",
                )?;
                let color = sheet
                    .colors
                    .iter()
                    .find(|c| &*c.name == color_id)
                    .ok_or_else(|| not_allowed("color", color_id))?;
                let finishing = finishing_ok()?;
                let turnaround = turnaround_ok()?;
                (
                    finishing,
                    turnaround,
                    Spec::Sheet {
                        sheet,
                        paper,
                        color,
                    },
                )
            }
            Kind::Area(area) => {
                forbid(req.paper.is_some(), "paper", m)?;
                forbid(req.pages.is_some(), "pages", m)?;
                forbid(req.cover_paper.is_some(), "cover_paper", m)?;
                forbid(!req.options.is_empty(), "options", m)?;
                let material_id = need(req.material.as_ref(), "material", m)?;
                let color_id = need(req.color.as_ref(), "color", m)?;
                let w = req.width_mm.ok_or_else(|| {
                    PricingError::request("field `width_mm` is required for method area")
                })?;
                let h = req.height_mm.ok_or_else(|| {
                    PricingError::request("field `height_mm` is required for method area")
                })?;
                let material = pick(
                    &self.materials,
                    &area.materials,
                    material_id,
                    |x| x.id.as_ref(),
                    "material",
                )?;
                let color = area
                    .colors
                    .iter()
                    .find(|c| &*c.name == color_id)
                    .ok_or_else(|| not_allowed("color", color_id))?;
                let finishing = finishing_ok()?;
                let turnaround = turnaround_ok()?;
                if w < area.min_w || w > area.max_w {
                    return Err(PricingError::SizeOutOfRange { field: "width_mm" });
                }
                if h < area.min_h || h > area.max_h {
                    return Err(PricingError::SizeOutOfRange { field: "height_mm" });
                }
                let spec = Spec::Area {
                    material,
                    color,
                    min_area_sqm: area.min_area_sqm,
                    w,
                    h,
                };
                (finishing, turnaround, spec)
            }
            Kind::Breaks(breaks) => {
                forbid(req.paper.is_some(), "paper", m)?;
                forbid(req.color.is_some(), "color", m)?;
                forbid(req.material.is_some(), "material", m)?;
                forbid(req.width_mm.is_some(), "width_mm", m)?;
                forbid(req.height_mm.is_some(), "height_mm", m)?;
                forbid(req.pages.is_some(), "pages", m)?;
                forbid(req.cover_paper.is_some(), "cover_paper", m)?;
                if let Some(dup) = first_duplicate(&req.options) {
                    return Err(PricingError::DuplicateOption {
                        option: dup.to_owned(),
                    });
                }
                let mut options = Refs::default();
                for o in &req.options {
                    options.push(
                        breaks
                            .options
                            .iter()
                            .find(|x| *x.id == **o)
                            .ok_or_else(|| not_allowed("options", o))?,
                    );
                }
                let finishing = finishing_ok()?;
                let turnaround = turnaround_ok()?;
                (finishing, turnaround, Spec::Breaks { breaks, options })
            }
            Kind::Booklet(booklet) => {
                forbid(req.material.is_some(), "material", m)?;
                forbid(req.width_mm.is_some(), "width_mm", m)?;
                forbid(req.height_mm.is_some(), "height_mm", m)?;
                forbid(!req.options.is_empty(), "options", m)?;
                let paper_id = need(req.paper.as_ref(), "paper", m)?;
                let color_id = need(req.color.as_ref(), "color", m)?;
                let pages = req.pages.ok_or_else(|| {
                    PricingError::request("field `pages` is required for method booklet")
                })?;
                let paper = pick(
                    &self.papers,
                    &booklet.papers,
                    paper_id,
                    |x| x.id.as_ref(),
                    "paper",
                )?;
                let cover = match &req.cover_paper {
                    Some(c) => pick(
                        &self.papers,
                        &booklet.cover_papers,
                        c,
                        |x| x.id.as_ref(),
                        "cover_paper",
                    )?,
                    None => paper,
                };
                let color = booklet
                    .colors
                    .iter()
                    .find(|c| &*c.name == color_id)
                    .ok_or_else(|| not_allowed("color", color_id))?;
                let finishing = finishing_ok()?;
                let turnaround = turnaround_ok()?;
                if !pages.is_multiple_of(4)
                    || pages < booklet.pages_min
                    || pages > booklet.pages_max
                {
                    return Err(PricingError::PagesInvalid {
                        pages,
                        min: booklet.pages_min,
                        max: booklet.pages_max,
                    });
                }
                let spec = Spec::Booklet {
                    booklet,
                    paper,
                    cover,
                    color,
                    pages,
                };
                (finishing, turnaround, spec)
            }
        };
        Ok(Ctx {
            product_ix,
            product,
            turnaround,
            selling,
            finishing,
            spec,
            fixed: &self.fixed,
        })
    }

    /// Stage 2: quantity range and step.
    pub(crate) fn check_quantity(ctx: &Ctx<'_>, quantity: u32) -> Result<(), PricingError> {
        let q = ctx.product.qty;
        if quantity < q.min || quantity > q.max {
            return Err(PricingError::QuantityOutOfRange {
                quantity,
                min: q.min,
                max: q.max,
            });
        }
        if !(quantity - q.min).is_multiple_of(q.step) {
            return Err(PricingError::QuantityStep {
                quantity,
                min: q.min,
                step: q.step,
            });
        }
        Ok(())
    }

    /// Stage 3 (group, tax, currency, fit), then the quantity-independent
    /// parts of steps 5–11.
    pub(crate) fn environment<'c>(
        &'c self,
        ctx: &Ctx<'c>,
        req: &QuoteRequest,
    ) -> Result<Env<'c>, PricingError> {
        let group = match &req.customer_group {
            Some(g) => Some(
                self.groups
                    .get(g)
                    .ok_or_else(|| PricingError::UnknownCustomerGroup { group: g.clone() })?,
            ),
            None => None,
        };
        let rules = ctx.product.tax_ix.and_then(|ix| self.tax.get(ix));
        let lookup = |region: &str| {
            rules
                .and_then(|r| r.get_key_value(region))
                .map(|(r, rate)| (r, *rate))
        };
        let (tax_region, tax_rate) = lookup(&req.region)
            .or_else(|| {
                req.region
                    .split_once('-')
                    .and_then(|(country, _)| lookup(country))
            })
            .ok_or_else(|| PricingError::NoTaxRule {
                region: req.region.clone(),
                category: ctx.product.tax_category.clone(),
            })?;
        let (currency, minor, rate) = match req.currency.as_deref() {
            None => (&self.currency, self.minor, Decimal::ONE),
            Some(c) if c == &*self.currency => (&self.currency, self.minor, Decimal::ONE),
            Some(c) => {
                let (code, &(rate, minor)) = self.rates.get_key_value(c).ok_or_else(|| {
                    PricingError::CurrencyUnsupported {
                        currency: c.to_owned(),
                    }
                })?;
                (code, minor, rate)
            }
        };
        if layout_of(ctx).is_some_and(|l| l.n_up == 0) {
            return Err(PricingError::DoesNotFit {
                product: ctx.product.id.clone(),
            });
        }
        let selling = ctx.selling.ok_or_else(PricingError::overflow)?;
        let factor = mul(selling, rate)?;
        let minimum = mul(ctx.product.minimum_price, rate).map(|m| round_to(m, minor));
        Ok(Env {
            group,
            tax_region,
            tax_rate,
            currency,
            minor,
            rate,
            factor,
            minimum,
            coupon: self.coupon_plan(ctx, req, rate, minor),
            dates: self.dates(ctx, req),
        })
    }

    /// Step 8's coupon checks that do not depend on the subtotal, in order.
    fn coupon_plan<'c>(
        &'c self,
        ctx: &Ctx<'c>,
        req: &QuoteRequest,
        rate: Decimal,
        minor: u32,
    ) -> Result<Option<CouponPlan<'c>>, PricingError> {
        let Some(code) = &req.coupon else {
            return Ok(None);
        };
        let c = find_coupon(self, code).ok_or_else(|| PricingError::CouponUnknown {
            coupon: code.clone(),
        })?;
        if let Some(products) = &c.products
            && !products.contains(&ctx.product_ix)
        {
            return Err(PricingError::CouponNotApplicable {
                coupon: code.clone(),
            });
        }
        if c.valid_from.is_some_and(|from| req.at < from) {
            return Err(PricingError::CouponNotYetValid {
                coupon: code.clone(),
            });
        }
        if c.valid_until.is_some_and(|until| req.at >= until) {
            return Err(PricingError::CouponExpired {
                coupon: code.clone(),
            });
        }
        Ok(Some(CouponPlan {
            coupon: c,
            min_subtotal: mul(c.min_subtotal, rate)?,
            fixed: mul(c.value, rate).map(|v| round_to(v, minor)),
        }))
    }

    /// Step 11.
    fn dates(&self, ctx: &Ctx<'_>, req: &QuoteRequest) -> Result<Dates, PricingError> {
        let extra = ctx
            .finishing
            .iter()
            .map(|f| f.extra_days)
            .max()
            .unwrap_or(0);
        let business_days = ctx
            .turnaround
            .days
            .checked_add(extra)
            .ok_or_else(PricingError::overflow)?;
        // Both must be expressible as RFC 3339 dates (years 0000–9999).
        let ship_date = ship_date(req.at.date_naive(), business_days)
            .filter(|d| (0..=9999).contains(&d.year()))
            .ok_or_else(|| PricingError::request("ship date out of range"))?;
        let valid_until: DateTime<Utc> = req
            .at
            .checked_add_days(Days::new(u64::from(self.validity_days)))
            .filter(|t| (0..=9999).contains(&t.year()))
            .ok_or_else(|| PricingError::request("valid_until out of range"))?;
        Ok(Dates {
            business_days,
            ship_date,
            valid_until,
        })
    }

    /// Steps 2–4: emits the cost lines in order and returns the inner and
    /// cover sheet counts.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn costs<'c>(
        ctx: &Ctx<'c>,
        quantity: u32,
        emit: &mut impl FnMut(CostLine<'c>) -> Result<(), Overflow>,
    ) -> Result<(Option<Imposition>, Option<Imposition>), Overflow> {
        let q = Decimal::from(quantity);
        let product = ctx.product;
        let mut inner = None;
        let mut cover_imp = None;
        match &ctx.spec {
            Spec::Sheet {
                sheet,
                paper,
                color,
            } => {
                let imp = sheets_for(
                    u64::from(quantity),
                    sheet.layout.n_up,
                    sheet.spoilage_pct,
                    color.setup_sheets,
                    sheet.layout.rotated,
                )?;
                let s = Decimal::from(imp.sheets);
                emit(CostLine {
                    kind: LineKind::Paper,
                    id: Some(&paper.id),
                    label: &paper.name,
                    cost: mul(s, paper.sheet_cost)?,
                    fraction: None,
                })?;
                emit(CostLine {
                    kind: LineKind::Print,
                    id: Some(&color.name),
                    label: &color.label,
                    cost: mul(s, color.click_cost)?,
                    fraction: None,
                })?;
                for f in ctx.finishing.iter() {
                    let cost = add(add(f.setup, mul(s, f.per_sheet)?)?, mul(q, f.per_piece)?)?;
                    emit(finishing_line(f, cost))?;
                }
                inner = Some(imp);
            }
            Spec::Area {
                material,
                color,
                min_area_sqm,
                w,
                h,
            } => {
                let piece = div(mul(*w, *h)?, Decimal::from(1_000_000))?;
                let billable = if piece < *min_area_sqm {
                    *min_area_sqm
                } else {
                    piece
                };
                let area = mul(billable, q)?;
                let perimeter = mul(
                    div(mul(Decimal::TWO, add(*w, *h)?)?, Decimal::ONE_THOUSAND)?,
                    q,
                )?;
                emit(CostLine {
                    kind: LineKind::Material,
                    id: Some(&material.id),
                    label: &material.name,
                    cost: mul(area, material.per_sqm)?,
                    fraction: None,
                })?;
                emit(CostLine {
                    kind: LineKind::Print,
                    id: Some(&color.name),
                    label: &color.label,
                    cost: mul(area, color.per_sqm)?,
                    fraction: None,
                })?;
                for f in ctx.finishing.iter() {
                    let cost = add(
                        add(f.setup, mul(q, f.per_piece)?)?,
                        add(mul(area, f.per_sqm)?, mul(perimeter, f.per_m)?)?,
                    )?;
                    emit(finishing_line(f, cost))?;
                }
            }
            Spec::Breaks { breaks, options } => {
                let (cost, fraction) = break_base(breaks, quantity)?;
                emit(CostLine {
                    kind: LineKind::Base,
                    id: None,
                    label: &product.name,
                    cost,
                    fraction,
                })?;
                for o in options.iter() {
                    emit(CostLine {
                        kind: LineKind::Option,
                        id: Some(&o.id),
                        label: &o.name,
                        cost: add(o.per_job, mul(q, o.per_unit)?)?,
                        fraction: None,
                    })?;
                }
                for f in ctx.finishing.iter() {
                    let cost = add(f.setup, mul(q, f.per_piece)?)?;
                    emit(finishing_line(f, cost))?;
                }
            }
            Spec::Booklet {
                booklet,
                paper,
                cover,
                color,
                pages,
            } => {
                let n_up = booklet.layout.n_up;
                let inner_spreads = u64::from(pages / 4).saturating_sub(1);
                let imp_inner = sheets_for(
                    u64::from(quantity)
                        .checked_mul(inner_spreads)
                        .ok_or(Overflow)?,
                    n_up,
                    booklet.spoilage_pct,
                    color.setup_sheets,
                    booklet.layout.rotated,
                )?;
                let imp_cover = sheets_for(
                    u64::from(quantity),
                    n_up,
                    booklet.spoilage_pct,
                    color.setup_sheets,
                    booklet.layout.rotated,
                )?;
                let si = Decimal::from(imp_inner.sheets);
                let sc = Decimal::from(imp_cover.sheets);
                emit(CostLine {
                    kind: LineKind::Paper,
                    id: Some(&paper.id),
                    label: &paper.inner_label,
                    cost: mul(si, paper.sheet_cost)?,
                    fraction: None,
                })?;
                emit(CostLine {
                    kind: LineKind::Paper,
                    id: Some(&cover.id),
                    label: &cover.cover_label,
                    cost: mul(sc, cover.sheet_cost)?,
                    fraction: None,
                })?;
                emit(CostLine {
                    kind: LineKind::Print,
                    id: Some(&color.name),
                    label: &color.inner_label,
                    cost: mul(si, color.click_cost)?,
                    fraction: None,
                })?;
                emit(CostLine {
                    kind: LineKind::Print,
                    id: Some(&color.name),
                    label: &color.cover_label,
                    cost: mul(sc, color.click_cost)?,
                    fraction: None,
                })?;
                for f in ctx.finishing.iter() {
                    let cost = add(add(f.setup, mul(sc, f.per_sheet)?)?, mul(q, f.per_piece)?)?;
                    emit(finishing_line(f, cost))?;
                }
                let (bid, blabel) = match booklet.binding {
                    Binding::SaddleStitch => &ctx.fixed.saddle_stitch,
                    Binding::Perfect => &ctx.fixed.perfect,
                };
                emit(CostLine {
                    kind: LineKind::Binding,
                    id: Some(bid),
                    label: blabel,
                    cost: add(booklet.binding_setup, mul(q, booklet.binding_per_piece)?)?,
                    fraction: None,
                })?;
                inner = Some(imp_inner);
                cover_imp = Some(imp_cover);
            }
        }
        emit(CostLine {
            kind: LineKind::Setup,
            id: None,
            label: &ctx.fixed.setup_fee,
            cost: product.setup_fee,
            fraction: None,
        })?;
        Ok((inner, cover_imp))
    }

    /// The cost lines of one quantity whose checks passed (for `explain`).
    pub(crate) fn cost_lines<'c>(
        ctx: &Ctx<'c>,
        quantity: u32,
    ) -> Result<Vec<CostLine<'c>>, Overflow> {
        let mut out = Vec::with_capacity(line_capacity(ctx));
        Self::costs(ctx, quantity, &mut |c| {
            out.push(c);
            Ok(())
        })?;
        Ok(out)
    }

    /// Steps 2–11 for one quantity whose checks passed.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn price(
        &self,
        ctx: &Ctx<'_>,
        env: &Env<'_>,
        req: &QuoteRequest,
        quantity: u32,
    ) -> Result<Quote, PricingError> {
        let dp = env.minor;
        // Steps 5–7: selling lines, rounded as they are produced.
        let mut lines = Vec::with_capacity(line_capacity(ctx) + 1);
        let mut price = Decimal::ZERO;
        let (imposition, cover_imposition) = Self::costs(ctx, quantity, &mut |c| {
            let exact = c
                .fraction
                .and_then(|(num, den)| round_fraction(num, den, env.factor, dp));
            let amount = match exact {
                Some(amount) => amount,
                None => round_to(mul(c.cost, env.factor)?, dp),
            };
            price = add(price, amount)?;
            lines.push(Line {
                kind: c.kind,
                id: c.id.cloned(),
                label: c.label.clone(),
                amount,
            });
            Ok(())
        })?;
        let minimum = cloned(&env.minimum)?;
        let subtotal = if price < minimum {
            lines.push(Line {
                kind: LineKind::MinimumCharge,
                id: None,
                label: self.fixed.minimum_charge.clone(),
                amount: round_to(sub(minimum, price)?, dp),
            });
            round_to(minimum, dp)
        } else {
            round_to(price, dp)
        };

        // Step 8: discounts.
        let group = match env.group {
            Some(g) => Some((g, round_to(mul(mul(subtotal, g.discount_pct)?, PCT)?, dp))),
            None => None,
        };
        let group_amount = group.map_or(Decimal::ZERO, |(_, a)| a);
        let mut coupon_applied: Option<(&Coupon, Decimal)> = None;
        let mut group_applied = group;
        let plan = match &env.coupon {
            Ok(plan) => plan.as_ref(),
            Err(e) => return Err(e.clone()),
        };
        if let Some(plan) = plan {
            let c = plan.coupon;
            if subtotal < plan.min_subtotal {
                return Err(PricingError::CouponMinSubtotal {
                    coupon: req.coupon.clone().unwrap_or_default(),
                });
            }
            let exclusive = !c.stackable_with_group && group.is_some();
            let base = if exclusive {
                subtotal
            } else {
                sub(subtotal, group_amount)?
            };
            let amount = match c.kind {
                CouponKind::Percent => round_to(mul(mul(base, c.value)?, PCT)?, dp),
                CouponKind::Fixed => {
                    let v = cloned(&plan.fixed)?;
                    if v < base { v } else { round_to(base, dp) }
                }
            };
            if exclusive {
                if amount > group_amount {
                    group_applied = None;
                    coupon_applied = Some((c, amount));
                }
            } else {
                coupon_applied = Some((c, amount));
            }
        }
        let mut net = subtotal;
        let mut discounts = Vec::new();
        if let Some((g, amount)) = group_applied {
            net = sub(net, amount)?;
            discounts.reserve_exact(1 + usize::from(coupon_applied.is_some()));
            discounts.push(Discount {
                kind: DiscountKind::Group,
                id: g.id.clone(),
                amount,
            });
        }
        let mut applied = None;
        if let Some((c, amount)) = coupon_applied {
            net = sub(net, amount)?;
            discounts.push(Discount {
                kind: DiscountKind::Coupon,
                id: c.code.clone(),
                amount,
            });
            applied = Some(AppliedCoupon {
                code: c.key.clone(),
                max_redemptions: c.max_redemptions,
            });
        }
        if net.is_sign_negative() {
            net = Decimal::ZERO;
        }
        let net = round_to(net, dp);

        // Steps 9–10.
        let tax_amount = round_to(mul(mul(net, env.tax_rate)?, PCT)?, dp);
        let total = round_to(add(net, tax_amount)?, dp);
        let unit_price = unit_price(net, quantity)?;

        // Step 11.
        let dates = cloned(&env.dates)?;

        Ok(Quote {
            lines,
            subtotal,
            discounts,
            net,
            tax: Tax {
                region: env.tax_region.clone(),
                rate_pct: env.tax_rate,
                amount: tax_amount,
            },
            total,
            currency: env.currency.clone(),
            unit_price,
            imposition,
            cover_imposition,
            production: Production {
                business_days: dates.business_days,
                ship_date: dates.ship_date,
            },
            catalog_version: self.version.clone(),
            valid_until: dates.valid_until,
            coupon: applied,
        })
    }

    /// Prices a request.
    ///
    /// # Errors
    /// The first failing check in the documented order (see the crate docs).
    pub fn quote(&self, req: &QuoteRequest) -> Result<Quote, PricingError> {
        let ctx = self.resolve(req)?;
        Self::check_quantity(&ctx, req.quantity)?;
        let env = self.environment(&ctx, req)?;
        self.price(&ctx, &env, req, req.quantity)
    }

    /// Prices one request at several quantities (1 to 20), sharing validation.
    ///
    /// `request.quantity` is ignored. Element `i` equals
    /// `quote(&request with quantity = quantities[i])`. The outer error is
    /// returned for failures that precede the quantity checks (unknown product,
    /// unsupported method, option errors, more than 20 or no quantities).
    ///
    /// Option resolution, the customer group, tax rule, currency, selling
    /// factor, minimum price, the coupon checks that do not depend on the
    /// subtotal and the production dates are computed once for all rows.
    ///
    /// # Errors
    /// See above.
    pub fn quote_table(
        &self,
        req: &QuoteRequest,
        quantities: &[u32],
    ) -> Result<Vec<Result<Quote, PricingError>>, PricingError> {
        if quantities.is_empty() || quantities.len() > MAX_TABLE_QUANTITIES {
            return Err(PricingError::request(format!(
                "quote_table takes 1 to {MAX_TABLE_QUANTITIES} quantities, got {}",
                quantities.len()
            )));
        }
        let ctx = self.resolve(req)?;
        let env = self.environment(&ctx, req);
        Ok(quantities
            .iter()
            .map(|&q| {
                Self::check_quantity(&ctx, q)?;
                let env = env.as_ref().map_err(Clone::clone)?;
                self.price(&ctx, env, req, q)
            })
            .collect())
    }
}

/// Number of cost lines a request produces (capacity hint).
fn line_capacity(ctx: &Ctx<'_>) -> usize {
    let fixed = match &ctx.spec {
        Spec::Sheet { .. } | Spec::Area { .. } => 3,
        Spec::Breaks { options, .. } => 2 + options.len(),
        Spec::Booklet { .. } => 6,
    };
    fixed + ctx.finishing.len()
}

fn finishing_line(f: &Finishing, cost: Decimal) -> CostLine<'_> {
    CostLine {
        kind: LineKind::Finishing,
        id: Some(&f.id),
        label: &f.name,
        cost,
        fraction: None,
    }
}

/// Base price of a quantity-break product (before markup): the decimal value
/// and, for an interpolated quotient, the exact fraction (numerator,
/// denominator) it comes from.
#[allow(clippy::type_complexity)]
pub(crate) fn break_base(
    b: &Breaks,
    quantity: u32,
) -> Result<(Decimal, Option<(Decimal, u32)>), Overflow> {
    let q = Decimal::from(quantity);
    let first = b.breaks.first().ok_or(Overflow)?;
    match b.mode {
        BreakMode::AllUnits => {
            let unit = b
                .breaks
                .iter()
                .rev()
                .find(|(bq, _)| *bq <= quantity)
                .unwrap_or(first)
                .1;
            Ok((mul(q, unit)?, None))
        }
        BreakMode::Graduated => {
            let mut total = Decimal::ZERO;
            for (i, (bq, unit)) in b.breaks.iter().enumerate() {
                let start = if i == 0 { 1 } else { *bq };
                if start > quantity {
                    break;
                }
                let end = b
                    .breaks
                    .get(i + 1)
                    .map_or(quantity, |(next, _)| (next - 1).min(quantity));
                let count = Decimal::from(end - start + 1);
                total = add(total, mul(count, *unit)?)?;
            }
            Ok((total, None))
        }
        BreakMode::Interpolate => {
            let idx = b
                .breaks
                .iter()
                .rposition(|(bq, _)| *bq <= quantity)
                .unwrap_or(0);
            let (q0, p0) = b.breaks.get(idx).copied().unwrap_or(*first);
            if q0 == quantity {
                return Ok((p0, None));
            }
            let segment = match (
                b.breaks.get(idx + 1),
                idx.checked_sub(1).and_then(|i| b.breaks.get(i)),
            ) {
                (Some(&next), _) => Some(((q0, p0), next)),
                (None, Some(&prev)) => Some((prev, (q0, p0))),
                (None, None) => None,
            };
            match segment {
                Some(((qa, pa), (qb, pb))) => {
                    let dq = Decimal::from(quantity) - Decimal::from(q0);
                    let slope_num = sub(pb, pa)?;
                    let slope_den = Decimal::from(qb) - Decimal::from(qa);
                    let cost = add(p0, div(mul(dq, slope_num)?, slope_den)?)?;
                    // p0 + dq·Δp/Δq = (p0·Δq + dq·Δp) / Δq
                    let fraction = qb.checked_sub(qa).and_then(|den| {
                        let num = add(mul(p0, Decimal::from(den)).ok()?, mul(dq, slope_num).ok()?);
                        Some((num.ok()?, den))
                    });
                    Ok((cost, fraction))
                }
                // A single break: proportional to the quantity.
                None => {
                    let num = mul(p0, q)?;
                    Ok((div(num, Decimal::from(q0))?, Some((num, q0))))
                }
            }
        }
    }
}

pub(crate) fn layout_of<'a>(ctx: &Ctx<'a>) -> Option<&'a Layout> {
    match ctx.spec {
        Spec::Sheet { sheet, .. } => Some(&sheet.layout),
        Spec::Booklet { booklet, .. } => Some(&booklet.layout),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ship_dates() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let sat = d("2026-11-28").unwrap_or_default();
        assert_eq!(ship_date(sat, 0), d("2026-11-28"));
        assert_eq!(ship_date(sat, 1), d("2026-11-30"));
        assert_eq!(ship_date(sat, 3), d("2026-12-02"));
        assert_eq!(ship_date(sat, 5), d("2026-12-04"));
        assert_eq!(ship_date(sat, 6), d("2026-12-07"));
        let fri = d("2026-11-27").unwrap_or_default();
        assert_eq!(ship_date(fri, 1), d("2026-11-30"));
        assert_eq!(ship_date(fri, 11), d("2026-12-14"));
    }

    /// The original day-by-day definition of step 11.
    fn ship_date_reference(start: NaiveDate, business_days: u32) -> Option<NaiveDate> {
        let mut date = start;
        let mut left = business_days;
        while left > 0 {
            date = date.checked_add_days(Days::new(1))?;
            if date.weekday().num_days_from_monday() < 5 {
                left -= 1;
            }
        }
        Some(date)
    }

    #[test]
    fn ship_date_matches_day_by_day_count() {
        let starts = [
            NaiveDate::from_ymd_opt(2026, 11, 23),
            NaiveDate::from_ymd_opt(2028, 2, 26),
            NaiveDate::MAX.checked_sub_days(Days::new(40)),
            Some(NaiveDate::MAX),
            Some(NaiveDate::MIN),
        ];
        for start in starts.into_iter().flatten() {
            for offset in 0..7 {
                let Some(day) = start.checked_add_days(Days::new(offset)) else {
                    continue;
                };
                for n in 0..40 {
                    assert_eq!(
                        ship_date(day, n),
                        ship_date_reference(day, n),
                        "{day} + {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn sheet_counts() {
        let imp = sheets_for(500, 21, Decimal::TWO, 8, false).ok();
        assert_eq!(
            imp.map(|i| (i.run_sheets, i.spoilage_sheets, i.sheets)),
            Some((24, 1, 33))
        );
    }
}
