//! The pricing pipeline.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::catalog::{
    AreaColor, Binding, Booklet, BreakMode, BreakOption, Breaks, Catalog, CouponKind, Finishing,
    Group, Kind, Layout, Material, Paper, PressColor, Product, Sheet, Turnaround,
};
use crate::error::PricingError;
use crate::types::{
    Discount, DiscountKind, Imposition, Line, LineKind, Production, Quote, QuoteRequest, Tax,
};

/// Most quantities accepted by [`Catalog::quote_table`].
pub const MAX_TABLE_QUANTITIES: usize = 20;

/// 1/100 as an exact decimal (multiplying is cheaper than dividing by 100).
const PCT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// `net / quantity` rounded half away from zero to 4 decimals. Uses exact
/// integer arithmetic when `net` has at most 4 decimals (every real currency).
pub(crate) fn unit_price(net: Decimal, quantity: u32) -> Result<Decimal, PricingError> {
    let q = i128::from(quantity.max(1));
    let scale = net.scale();
    if scale <= 4 {
        let num = net
            .mantissa()
            .checked_mul(10_i128.pow(4 - scale))
            .ok_or_else(PricingError::overflow)?;
        let (quot, rem) = (num / q, num % q);
        let rounded = if rem.abs() * 2 >= q {
            quot + num.signum()
        } else {
            quot
        };
        Decimal::try_from_i128_with_scale(rounded, 4).map_err(|_| PricingError::overflow())
    } else {
        Ok(round_to(div(net, Decimal::from(q))?, 4))
    }
}

/// Half away from zero to `dp` decimals, with exactly `dp` decimals.
pub(crate) fn round_to(d: Decimal, dp: u32) -> Decimal {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r
}

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, PricingError> {
    a.checked_mul(b).ok_or_else(PricingError::overflow)
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, PricingError> {
    a.checked_add(b).ok_or_else(PricingError::overflow)
}

fn sub(a: Decimal, b: Decimal) -> Result<Decimal, PricingError> {
    a.checked_sub(b).ok_or_else(PricingError::overflow)
}

fn div(a: Decimal, b: Decimal) -> Result<Decimal, PricingError> {
    a.checked_div(b).ok_or_else(PricingError::overflow)
}

fn ceil_u64(d: Decimal) -> Result<u64, PricingError> {
    u64::try_from(d.ceil()).map_err(|_| PricingError::overflow())
}

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
        options: Vec<&'c BreakOption>,
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
    pub(crate) product: &'c Product,
    pub(crate) turnaround: &'c Turnaround,
    pub(crate) finishing: Vec<&'c Finishing>,
    pub(crate) spec: Spec<'c>,
}

/// Validation stage 3: quantity-independent checks that follow the quantity checks.
#[derive(Debug)]
pub(crate) struct Env<'c> {
    group: Option<&'c Group>,
    tax_region: &'c str,
    tax_rate: Decimal,
    currency: &'c str,
    minor: u32,
    pub(crate) rate: Decimal,
    /// (1 + markup/100) × turnaround multiplier × exchange rate
    pub(crate) factor: Decimal,
}

/// A cost line before markup.
#[derive(Debug, Clone)]
pub(crate) struct CostLine<'c> {
    pub(crate) kind: LineKind,
    pub(crate) id: Option<&'c str>,
    pub(crate) label: Cow<'c, str>,
    pub(crate) cost: Decimal,
}

/// Cost lines plus the inner and cover sheet counts.
pub(crate) type Costed<'c> = (Vec<CostLine<'c>>, Option<Imposition>, Option<Imposition>);

/// Sheet counts for one imposed form.
fn sheets_for(
    units: u64,
    n_up: u64,
    spoilage_pct: Decimal,
    setup: u32,
) -> Result<Imposition, PricingError> {
    let run = units.div_ceil(n_up.max(1));
    let spoil = ceil_u64(mul(mul(Decimal::from(run), spoilage_pct)?, PCT)?)?;
    let setup = u64::from(setup);
    let sheets = run
        .checked_add(spoil)
        .and_then(|s| s.checked_add(setup))
        .ok_or_else(PricingError::overflow)?;
    Ok(Imposition {
        n_up,
        rotated: false,
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
        .ok_or_else(|| PricingError::OptionNotAllowed {
            field,
            value: wanted.to_owned(),
        })
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
    let mut date = start;
    let mut left = business_days;
    // Any 7 consecutive days hold exactly 5 weekdays.
    while left > 5 {
        date = date.checked_add_days(Days::new(7))?;
        left -= 5;
    }
    while left > 0 {
        date = date.checked_add_days(Days::new(1))?;
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    Some(date)
}

impl Catalog {
    /// Stage 1: product, method and options (in the normative order).
    pub(crate) fn resolve<'c>(&'c self, req: &QuoteRequest) -> Result<Ctx<'c>, PricingError> {
        let product = self
            .product_idx(&req.product)
            .and_then(|ix| self.products.get(ix))
            .ok_or_else(|| PricingError::UnknownProduct {
                product: req.product.clone(),
            })?;
        let m = product.method.as_str();
        let finishing_ok = |this: &'c Self| -> Result<Vec<&'c Finishing>, PricingError> {
            if let Some(dup) = first_duplicate(&req.finishing) {
                return Err(PricingError::DuplicateFinishing {
                    finishing: dup.to_owned(),
                });
            }
            req.finishing
                .iter()
                .map(|f| {
                    pick(
                        &this.finishing,
                        &product.finishing,
                        f,
                        |x| &x.id,
                        "finishing",
                    )
                })
                .collect()
        };
        let turnaround_ok = |this: &'c Self| {
            pick(
                &this.turnarounds,
                &product.turnarounds,
                &req.turnaround,
                |x| &x.id,
                "turnaround",
            )
        };
        let (finishing, turnaround, spec) = match &product.kind {
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
                let paper = pick(&self.papers, &sheet.papers, paper_id, |x| &x.id, "paper")?;
                let color = sheet
                    .colors
                    .iter()
                    .find(|c| c.name == color_id)
                    .ok_or_else(|| PricingError::OptionNotAllowed {
                        field: "color",
                        value: color_id.to_owned(),
                    })?;
                let finishing = finishing_ok(self)?;
                let turnaround = turnaround_ok(self)?;
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
                    |x| &x.id,
                    "material",
                )?;
                let color = area
                    .colors
                    .iter()
                    .find(|c| c.name == color_id)
                    .ok_or_else(|| PricingError::OptionNotAllowed {
                        field: "color",
                        value: color_id.to_owned(),
                    })?;
                let finishing = finishing_ok(self)?;
                let turnaround = turnaround_ok(self)?;
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
                let options = req
                    .options
                    .iter()
                    .map(|o| {
                        breaks.options.iter().find(|x| x.id == *o).ok_or_else(|| {
                            PricingError::OptionNotAllowed {
                                field: "options",
                                value: o.clone(),
                            }
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let finishing = finishing_ok(self)?;
                let turnaround = turnaround_ok(self)?;
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
                let paper = pick(&self.papers, &booklet.papers, paper_id, |x| &x.id, "paper")?;
                let cover = match &req.cover_paper {
                    Some(c) => pick(
                        &self.papers,
                        &booklet.cover_papers,
                        c,
                        |x| &x.id,
                        "cover_paper",
                    )?,
                    None => paper,
                };
                let color = booklet
                    .colors
                    .iter()
                    .find(|c| c.name == color_id)
                    .ok_or_else(|| PricingError::OptionNotAllowed {
                        field: "color",
                        value: color_id.to_owned(),
                    })?;
                let finishing = finishing_ok(self)?;
                let turnaround = turnaround_ok(self)?;
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
            product,
            turnaround,
            finishing,
            spec,
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

    /// Stage 3: group, tax, currency, fit.
    pub(crate) fn environment<'c>(
        &'c self,
        ctx: &Ctx<'c>,
        req: &'c QuoteRequest,
    ) -> Result<Env<'c>, PricingError> {
        let group = match &req.customer_group {
            Some(g) => Some(
                self.groups
                    .get(g)
                    .ok_or_else(|| PricingError::UnknownCustomerGroup { group: g.clone() })?,
            ),
            None => None,
        };
        let category = ctx.product.tax_category.as_str();
        let lookup = |region: &str| {
            self.tax
                .get_key_value(region)
                .and_then(|(r, cats)| cats.get(category).map(|rate| (r.as_str(), *rate)))
        };
        let (tax_region, tax_rate) = lookup(&req.region)
            .or_else(|| {
                req.region
                    .split_once('-')
                    .and_then(|(country, _)| lookup(country))
            })
            .ok_or_else(|| PricingError::NoTaxRule {
                region: req.region.clone(),
                category: category.to_owned(),
            })?;
        let (currency, minor, rate) = match req.currency.as_deref() {
            None => (self.currency.as_str(), self.minor, Decimal::ONE),
            Some(c) if c == self.currency => (self.currency.as_str(), self.minor, Decimal::ONE),
            Some(c) => {
                let (rate, minor) =
                    self.rates
                        .get(c)
                        .ok_or_else(|| PricingError::CurrencyUnsupported {
                            currency: c.to_owned(),
                        })?;
                (c, *minor, *rate)
            }
        };
        let layout = match &ctx.spec {
            Spec::Sheet { sheet, .. } => Some(&sheet.layout),
            Spec::Booklet { booklet, .. } => Some(&booklet.layout),
            _ => None,
        };
        if layout.is_some_and(|l| l.n_up == 0) {
            return Err(PricingError::DoesNotFit {
                product: ctx.product.id.clone(),
            });
        }
        let markup = add(Decimal::ONE, mul(ctx.product.markup_pct, PCT)?)?;
        let factor = mul(mul(markup, ctx.turnaround.multiplier)?, rate)?;
        Ok(Env {
            group,
            tax_region,
            tax_rate,
            currency,
            minor,
            rate,
            factor,
        })
    }

    /// Step 2–4: cost lines and sheet counts.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn costs<'c>(
        &'c self,
        ctx: &Ctx<'c>,
        quantity: u32,
    ) -> Result<Costed<'c>, PricingError> {
        let q = Decimal::from(quantity);
        let product = ctx.product;
        let mut lines: Vec<CostLine<'c>> = Vec::with_capacity(5 + ctx.finishing.len());
        let mut inner = None;
        let mut cover_imp = None;
        match &ctx.spec {
            Spec::Sheet {
                sheet,
                paper,
                color,
            } => {
                let mut imp = sheets_for(
                    u64::from(quantity),
                    sheet.layout.n_up,
                    sheet.spoilage_pct,
                    color.setup_sheets,
                )?;
                imp.rotated = sheet.layout.rotated;
                let s = Decimal::from(imp.sheets);
                lines.push(CostLine {
                    kind: LineKind::Paper,
                    id: Some(&paper.id),
                    label: Cow::Borrowed(&paper.name),
                    cost: mul(s, paper.sheet_cost)?,
                });
                lines.push(CostLine {
                    kind: LineKind::Print,
                    id: Some(&color.name),
                    label: Cow::Borrowed(&color.label),
                    cost: mul(s, color.click_cost)?,
                });
                for f in &ctx.finishing {
                    let cost = add(add(f.setup, mul(s, f.per_sheet)?)?, mul(q, f.per_piece)?)?;
                    lines.push(finishing_line(f, cost));
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
                lines.push(CostLine {
                    kind: LineKind::Material,
                    id: Some(&material.id),
                    label: Cow::Borrowed(&material.name),
                    cost: mul(area, material.per_sqm)?,
                });
                lines.push(CostLine {
                    kind: LineKind::Print,
                    id: Some(&color.name),
                    label: Cow::Borrowed(&color.label),
                    cost: mul(area, color.per_sqm)?,
                });
                for f in &ctx.finishing {
                    let cost = add(
                        add(f.setup, mul(q, f.per_piece)?)?,
                        add(mul(area, f.per_sqm)?, mul(perimeter, f.per_m)?)?,
                    )?;
                    lines.push(finishing_line(f, cost));
                }
            }
            Spec::Breaks { breaks, options } => {
                lines.push(CostLine {
                    kind: LineKind::Base,
                    id: None,
                    label: Cow::Borrowed(&product.name),
                    cost: break_base(breaks, quantity)?,
                });
                for o in options {
                    lines.push(CostLine {
                        kind: LineKind::Option,
                        id: Some(&o.id),
                        label: Cow::Borrowed(&o.name),
                        cost: add(o.per_job, mul(q, o.per_unit)?)?,
                    });
                }
                for f in &ctx.finishing {
                    let cost = add(f.setup, mul(q, f.per_piece)?)?;
                    lines.push(finishing_line(f, cost));
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
                let mut imp_inner = sheets_for(
                    u64::from(quantity)
                        .checked_mul(inner_spreads)
                        .ok_or_else(PricingError::overflow)?,
                    n_up,
                    booklet.spoilage_pct,
                    color.setup_sheets,
                )?;
                imp_inner.rotated = booklet.layout.rotated;
                let mut imp_cover = sheets_for(
                    u64::from(quantity),
                    n_up,
                    booklet.spoilage_pct,
                    color.setup_sheets,
                )?;
                imp_cover.rotated = booklet.layout.rotated;
                let si = Decimal::from(imp_inner.sheets);
                let sc = Decimal::from(imp_cover.sheets);
                lines.push(CostLine {
                    kind: LineKind::Paper,
                    id: Some(&paper.id),
                    label: Cow::Owned(format!("Inner pages: {}", paper.name)),
                    cost: mul(si, paper.sheet_cost)?,
                });
                lines.push(CostLine {
                    kind: LineKind::Paper,
                    id: Some(&cover.id),
                    label: Cow::Owned(format!("Cover: {}", cover.name)),
                    cost: mul(sc, cover.sheet_cost)?,
                });
                lines.push(CostLine {
                    kind: LineKind::Print,
                    id: Some(&color.name),
                    label: Cow::Owned(format!("Printing inner pages {}", color.name)),
                    cost: mul(si, color.click_cost)?,
                });
                lines.push(CostLine {
                    kind: LineKind::Print,
                    id: Some(&color.name),
                    label: Cow::Owned(format!("Printing cover {}", color.name)),
                    cost: mul(sc, color.click_cost)?,
                });
                for f in &ctx.finishing {
                    let cost = add(add(f.setup, mul(sc, f.per_sheet)?)?, mul(q, f.per_piece)?)?;
                    lines.push(finishing_line(f, cost));
                }
                let (bid, blabel) = match booklet.binding {
                    Binding::SaddleStitch => ("saddle_stitch", "Saddle stitching"),
                    Binding::Perfect => ("perfect", "Perfect binding"),
                };
                lines.push(CostLine {
                    kind: LineKind::Binding,
                    id: Some(bid),
                    label: Cow::Borrowed(blabel),
                    cost: add(booklet.binding_setup, mul(q, booklet.binding_per_piece)?)?,
                });
                inner = Some(imp_inner);
                cover_imp = Some(imp_cover);
            }
        }
        lines.push(CostLine {
            kind: LineKind::Setup,
            id: None,
            label: Cow::Borrowed("Setup fee"),
            cost: product.setup_fee,
        });
        Ok((lines, inner, cover_imp))
    }

    /// Steps 5–11 for one quantity whose checks passed.
    pub(crate) fn price<'c>(
        &'c self,
        ctx: &Ctx<'c>,
        env: &Env<'c>,
        req: &QuoteRequest,
        quantity: u32,
    ) -> Result<(Quote, Vec<CostLine<'c>>), PricingError> {
        let (costs, imposition, cover_imposition) = self.costs(ctx, quantity)?;
        let dp = env.minor;
        let mut lines = Vec::with_capacity(costs.len() + 1);
        let mut price = Decimal::ZERO;
        for c in &costs {
            let amount = round_to(mul(c.cost, env.factor)?, dp);
            price = add(price, amount)?;
            lines.push(Line {
                kind: c.kind,
                id: c.id.map(str::to_owned),
                label: c.label.clone().into_owned(),
                amount,
            });
        }
        let minimum = round_to(mul(ctx.product.minimum_price, env.rate)?, dp);
        let subtotal = if price < minimum {
            lines.push(Line {
                kind: LineKind::MinimumCharge,
                id: None,
                label: "Minimum charge".to_owned(),
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
        let mut discounts = Vec::with_capacity(2);
        let mut coupon_applied: Option<(&str, Decimal)> = None;
        let mut group_applied = group;
        if let Some(code) = &req.coupon {
            let c = self.coupons.get(&code.to_lowercase()).ok_or_else(|| {
                PricingError::CouponUnknown {
                    coupon: code.clone(),
                }
            })?;
            if let Some(products) = &c.products {
                let ok = self
                    .product_idx(&ctx.product.id)
                    .is_some_and(|ix| products.contains(&ix));
                if !ok {
                    return Err(PricingError::CouponNotApplicable {
                        coupon: code.clone(),
                    });
                }
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
            if subtotal < mul(c.min_subtotal, env.rate)? {
                return Err(PricingError::CouponMinSubtotal {
                    coupon: code.clone(),
                });
            }
            let base = if !c.stackable_with_group && group.is_some() {
                subtotal
            } else {
                sub(subtotal, group_amount)?
            };
            let amount = match c.kind {
                CouponKind::Percent => round_to(mul(mul(base, c.value)?, PCT)?, dp),
                CouponKind::Fixed => {
                    let v = round_to(mul(c.value, env.rate)?, dp);
                    if v < base { v } else { round_to(base, dp) }
                }
            };
            if !c.stackable_with_group && group.is_some() {
                if amount > group_amount {
                    group_applied = None;
                    coupon_applied = Some((&c.code, amount));
                }
            } else {
                coupon_applied = Some((&c.code, amount));
            }
        }
        let mut net = subtotal;
        if let Some((g, amount)) = group_applied {
            net = sub(net, amount)?;
            discounts.push(Discount {
                kind: DiscountKind::Group,
                id: g.id.clone(),
                amount,
            });
        }
        if let Some((code, amount)) = coupon_applied {
            net = sub(net, amount)?;
            discounts.push(Discount {
                kind: DiscountKind::Coupon,
                id: code.to_owned(),
                amount,
            });
        }
        if net.is_sign_negative() {
            net = Decimal::ZERO;
        }
        let net = round_to(net, dp);

        // Step 9–10.
        let tax_amount = round_to(mul(mul(net, env.tax_rate)?, PCT)?, dp);
        let total = round_to(add(net, tax_amount)?, dp);
        let unit_price = unit_price(net, quantity)?;

        // Step 11.
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
        let ship = ship_date(req.at.date_naive(), business_days)
            .ok_or_else(|| PricingError::request("ship date out of range"))?;
        let valid_until: DateTime<Utc> = req
            .at
            .checked_add_days(Days::new(u64::from(self.validity_days)))
            .ok_or_else(|| PricingError::request("valid_until out of range"))?;

        let quote = Quote {
            lines,
            subtotal,
            discounts,
            net,
            tax: Tax {
                region: env.tax_region.to_owned(),
                rate_pct: env.tax_rate,
                amount: tax_amount,
            },
            total,
            currency: env.currency.to_owned(),
            unit_price,
            imposition,
            cover_imposition,
            production: Production {
                business_days,
                ship_date: ship,
            },
            catalog_version: self.version.clone(),
            valid_until,
        };
        Ok((quote, costs))
    }

    /// Prices a request.
    ///
    /// # Errors
    /// The first failing check in the documented order (see the crate docs).
    pub fn quote(&self, req: &QuoteRequest) -> Result<Quote, PricingError> {
        let ctx = self.resolve(req)?;
        Self::check_quantity(&ctx, req.quantity)?;
        let env = self.environment(&ctx, req)?;
        self.price(&ctx, &env, req, req.quantity).map(|(q, _)| q)
    }

    /// Prices one request at several quantities (1 to 20), sharing validation.
    ///
    /// `request.quantity` is ignored. Element `i` equals
    /// `quote(&request with quantity = quantities[i])`. The outer error is
    /// returned for failures that precede the quantity checks (unknown product,
    /// unsupported method, option errors, more than 20 or no quantities).
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
                self.price(&ctx, env, req, q).map(|(quote, _)| quote)
            })
            .collect())
    }
}

fn finishing_line(f: &Finishing, cost: Decimal) -> CostLine<'_> {
    CostLine {
        kind: LineKind::Finishing,
        id: Some(&f.id),
        label: Cow::Borrowed(&f.name),
        cost,
    }
}

/// Base price of a quantity-break product (before markup).
pub(crate) fn break_base(b: &Breaks, quantity: u32) -> Result<Decimal, PricingError> {
    let q = Decimal::from(quantity);
    let first = b.breaks.first().ok_or_else(PricingError::overflow)?;
    match b.mode {
        BreakMode::AllUnits => {
            let unit = b
                .breaks
                .iter()
                .rev()
                .find(|(bq, _)| *bq <= quantity)
                .unwrap_or(first)
                .1;
            mul(q, unit)
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
            Ok(total)
        }
        BreakMode::Interpolate => {
            let idx = b
                .breaks
                .iter()
                .rposition(|(bq, _)| *bq <= quantity)
                .unwrap_or(0);
            let (q0, p0) = b.breaks.get(idx).copied().unwrap_or(*first);
            if q0 == quantity {
                return Ok(p0);
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
                    add(p0, div(mul(dq, slope_num)?, slope_den)?)
                }
                // A single break: proportional to the quantity.
                None => div(mul(p0, q)?, Decimal::from(q0)),
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
    fn rounding_half_away_from_zero() {
        assert_eq!(round_to(Decimal::new(125, 3), 2).to_string(), "0.13");
        assert_eq!(round_to(Decimal::new(-125, 3), 2).to_string(), "-0.13");
        assert_eq!(round_to(Decimal::new(5, 1), 0).to_string(), "1");
        assert_eq!(round_to(Decimal::new(1, 0), 3).to_string(), "1.000");
        assert_eq!(round_to(Decimal::new(-1, 3), 2).to_string(), "0.00");
    }

    #[test]
    fn unit_prices() {
        let up = |n: i64, s: u32, q: u32| {
            unit_price(Decimal::new(n, s), q)
                .map(|d| d.to_string())
                .ok()
        };
        assert_eq!(up(4413, 2, 500), Some("0.0883".into()));
        assert_eq!(up(1, 2, 200), Some("0.0001".into())); // 0.00005 -> half away
        assert_eq!(up(1, 2, 201), Some("0.0000".into()));
        assert_eq!(up(1500, 0, 7), Some("214.2857".into()));
        assert_eq!(up(1, 0, 3), Some("0.3333".into()));
        assert_eq!(up(2, 0, 3), Some("0.6667".into()));
        assert_eq!(up(0, 2, 3), Some("0.0000".into()));
        assert_eq!(up(1, 6, 3), Some("0.0000".into()));
    }

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

    #[test]
    fn sheet_counts() {
        let imp = sheets_for(500, 21, Decimal::TWO, 8).ok();
        assert_eq!(
            imp.map(|i| (i.run_sheets, i.spoilage_sheets, i.sheets)),
            Some((24, 1, 33))
        );
    }
}
