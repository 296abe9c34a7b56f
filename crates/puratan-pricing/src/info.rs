//! `explain` (human-readable breakdown + imposition diagram data) and `products`.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Kind, Layout};
use crate::engine::{Spec, layout_of};
use crate::error::PricingError;
use crate::types::{Quote, QuoteRequest};

/// Orientation of the placed piece on the press sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Placed piece is at least as tall as it is wide.
    Portrait,
    /// Placed piece is wider than it is tall.
    Landscape,
}

/// Geometry needed to draw the imposition: `columns × rows` pieces of
/// `piece_w_mm × piece_h_mm` (incl. bleed) separated by `gutter_mm`, inside the
/// `margin_mm` of a `sheet_w_mm × sheet_h_mm` sheet, starting at the top-left margin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpositionDiagram {
    /// Pieces per sheet (spreads for booklets).
    pub n_up: u64,
    /// Pieces across the sheet width.
    pub columns: u64,
    /// Pieces down the sheet height.
    pub rows: u64,
    /// Whether the piece is turned 90°.
    pub rotated: bool,
    /// Orientation of the placed piece.
    pub orientation: Orientation,
    /// Press sheet width.
    pub sheet_w_mm: Decimal,
    /// Press sheet height.
    pub sheet_h_mm: Decimal,
    /// Unprintable margin on every side.
    pub margin_mm: Decimal,
    /// Gap between pieces.
    pub gutter_mm: Decimal,
    /// Bleed on every side of the trimmed piece.
    pub bleed_mm: Decimal,
    /// Trimmed width (product width; spread width for booklets), before rotation.
    pub trim_w_mm: Decimal,
    /// Trimmed height, before rotation.
    pub trim_h_mm: Decimal,
    /// Placed piece width incl. bleed (after rotation).
    pub piece_w_mm: Decimal,
    /// Placed piece height incl. bleed (after rotation).
    pub piece_h_mm: Decimal,
}

/// Result of [`Catalog::explain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The quote, identical to [`Catalog::quote`].
    pub quote: Quote,
    /// Multi-line human-readable breakdown (English; not a stable format).
    pub text: String,
    /// Imposition geometry for `sheet` and `booklet` products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagram: Option<ImpositionDiagram>,
}

/// An id with its display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Id to send in a request.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A turnaround choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnaroundChoice {
    /// Id to send in a request.
    pub id: String,
    /// Business days.
    pub days: u32,
}

/// Allowed quantities: `min`, `min + step`, … up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityRule {
    /// Minimum.
    pub min: u32,
    /// Maximum.
    pub max: u32,
    /// Step from `min`.
    pub step: u32,
}

/// A product and the options a storefront form may offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductInfo {
    /// Product id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Pricing method as written in the catalog.
    pub method: String,
    /// False for methods this engine does not implement.
    pub supported: bool,
    /// Allowed quantities (absent for unsupported products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<QuantityRule>,
    /// `paper` choices (`sheet`, `booklet` inner pages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub papers: Vec<Choice>,
    /// `cover_paper` choices (`booklet`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cover_papers: Vec<Choice>,
    /// `material` choices (`area`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<Choice>,
    /// `color` choices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colors: Vec<String>,
    /// `finishing` choices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finishing: Vec<Choice>,
    /// `options` choices (`breaks`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// `turnaround` choices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turnarounds: Vec<TurnaroundChoice>,
    /// Allowed page counts `[min, max]`, multiples of 4 (`booklet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<[u32; 2]>,
    /// Allowed `[min, max]` width and height in mm (`area`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_limits_mm: Option<[Decimal; 4]>,
}

fn diagram(l: &Layout) -> ImpositionDiagram {
    ImpositionDiagram {
        n_up: l.n_up,
        columns: l.columns,
        rows: l.rows,
        rotated: l.rotated,
        orientation: if l.piece_w > l.piece_h {
            Orientation::Landscape
        } else {
            Orientation::Portrait
        },
        sheet_w_mm: l.sheet_w,
        sheet_h_mm: l.sheet_h,
        margin_mm: l.margin,
        gutter_mm: l.gutter,
        bleed_mm: l.bleed,
        trim_w_mm: l.trim_w,
        trim_h_mm: l.trim_h,
        piece_w_mm: l.piece_w,
        piece_h_mm: l.piece_h,
    }
}

impl Catalog {
    /// Prices a request and explains every step.
    ///
    /// # Errors
    /// Exactly those of [`Catalog::quote`].
    pub fn explain(&self, req: &QuoteRequest) -> Result<Explanation, PricingError> {
        let ctx = self.resolve(req)?;
        Self::check_quantity(&ctx, req.quantity)?;
        let env = self.environment(&ctx, req)?;
        let quote = self.price(&ctx, &env, req, req.quantity)?;
        // Cannot fail once `price` succeeded: the same steps, recorded.
        let costs = Self::cost_lines(&ctx, req.quantity)?;
        let p = ctx.product;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{} ({}) x {}, method {}",
            p.name, p.id, req.quantity, p.method
        );
        let layout = layout_of(&ctx);
        if let Some(l) = layout {
            let _ = writeln!(
                t,
                "Imposition: {}-up ({} x {}, {}) on a {} x {} mm sheet with {} mm margin; piece {} x {} mm incl. {} mm bleed, {} mm gutter",
                l.n_up,
                l.columns,
                l.rows,
                if l.rotated { "rotated" } else { "not rotated" },
                l.sheet_w,
                l.sheet_h,
                l.margin,
                l.piece_w,
                l.piece_h,
                l.bleed,
                l.gutter
            );
        }
        for (name, imp) in [
            ("Sheets", &quote.imposition),
            ("Cover sheets", &quote.cover_imposition),
        ] {
            if let Some(i) = imp {
                let _ = writeln!(
                    t,
                    "{name}: {} run + {} spoilage + {} setup = {}",
                    i.run_sheets, i.spoilage_sheets, i.setup_sheets, i.sheets
                );
            }
        }
        if let Spec::Area { w, h, .. } = &ctx.spec {
            let _ = writeln!(t, "Finished size: {w} x {h} mm");
        }
        if let Spec::Booklet { pages, .. } = &ctx.spec {
            let _ = writeln!(
                t,
                "Pages: {pages} (1 cover spread + {} inner spreads)",
                pages / 4 - 1
            );
        }
        let _ = writeln!(
            t,
            "Selling factor: (1 + {}/100) markup x {} turnaround `{}` x {} exchange rate = {}",
            p.markup_pct,
            ctx.turnaround.multiplier,
            ctx.turnaround.id,
            env.rate,
            env.factor.normalize()
        );
        for (line, cost) in quote.lines.iter().zip(costs.iter()) {
            let _ = writeln!(
                t,
                "  {:<15} {:<30} cost {:>12} -> {:>12}",
                kind_name(line),
                line.label,
                cost.cost.normalize(),
                line.amount
            );
        }
        if let Some(min) = quote.lines.get(costs.len()) {
            let _ = writeln!(
                t,
                "  {:<15} {:<30} {:>30}",
                "minimum_charge", min.label, min.amount
            );
        }
        let _ = writeln!(t, "Subtotal: {}", quote.subtotal);
        for d in &quote.discounts {
            let kind = match d.kind {
                crate::types::DiscountKind::Group => "group",
                crate::types::DiscountKind::Coupon => "coupon",
            };
            let _ = writeln!(t, "Discount {kind} {}: -{}", d.id, d.amount);
        }
        let _ = writeln!(t, "Net: {}", quote.net);
        let _ = writeln!(
            t,
            "Tax {} {} %: {}",
            quote.tax.region, quote.tax.rate_pct, quote.tax.amount
        );
        let _ = writeln!(t, "Total: {} {}", quote.total, quote.currency);
        let _ = writeln!(t, "Unit price: {}", quote.unit_price);
        let _ = writeln!(
            t,
            "Production: {} business days, ships {}; quote valid until {}",
            quote.production.business_days,
            quote.production.ship_date,
            quote
                .valid_until
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
        Ok(Explanation {
            diagram: layout.map(diagram),
            quote,
            text: t,
        })
    }

    /// Every product with the options a storefront may offer, in catalog order.
    #[must_use]
    pub fn products(&self) -> Vec<ProductInfo> {
        let choice = |id: &str, name: &str| Choice {
            id: id.to_owned(),
            name: name.to_owned(),
        };
        let papers = |ixs: &[usize]| {
            ixs.iter()
                .filter_map(|&i| self.papers.get(i))
                .map(|x| choice(&x.id, &x.name))
                .collect::<Vec<_>>()
        };
        self.products
            .iter()
            .map(|p| {
                let supported = !matches!(p.kind, Kind::Unsupported);
                let mut info = ProductInfo {
                    id: p.id.clone(),
                    name: p.name.to_string(),
                    method: p.method.clone(),
                    supported,
                    quantity: supported.then_some(QuantityRule {
                        min: p.qty.min,
                        max: p.qty.max,
                        step: p.qty.step,
                    }),
                    papers: Vec::new(),
                    cover_papers: Vec::new(),
                    materials: Vec::new(),
                    colors: Vec::new(),
                    finishing: p
                        .finishing
                        .iter()
                        .filter_map(|&i| self.finishing.get(i))
                        .map(|x| choice(&x.id, &x.name))
                        .collect(),
                    options: Vec::new(),
                    turnarounds: p
                        .turnarounds
                        .iter()
                        .filter_map(|&i| self.turnarounds.get(i))
                        .map(|x| TurnaroundChoice {
                            id: x.id.clone(),
                            days: x.days,
                        })
                        .collect(),
                    pages: None,
                    size_limits_mm: None,
                };
                match &p.kind {
                    Kind::Sheet(s) => {
                        info.papers = papers(&s.papers);
                        info.colors = s.colors.iter().map(|c| c.name.to_string()).collect();
                    }
                    Kind::Booklet(b) => {
                        info.papers = papers(&b.papers);
                        info.cover_papers = papers(&b.cover_papers);
                        info.colors = b.colors.iter().map(|c| c.name.to_string()).collect();
                        info.pages = Some([b.pages_min, b.pages_max]);
                    }
                    Kind::Area(a) => {
                        info.materials = a
                            .materials
                            .iter()
                            .filter_map(|&i| self.materials.get(i))
                            .map(|x| choice(&x.id, &x.name))
                            .collect();
                        info.colors = a.colors.iter().map(|c| c.name.to_string()).collect();
                        info.size_limits_mm = Some([a.min_w, a.max_w, a.min_h, a.max_h]);
                    }
                    Kind::Breaks(b) => {
                        info.options = b.options.iter().map(|o| choice(&o.id, &o.name)).collect();
                    }
                    Kind::Unsupported => {}
                }
                info
            })
            .collect()
    }
}

fn kind_name(line: &crate::types::Line) -> String {
    serde_json::to_value(line.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
