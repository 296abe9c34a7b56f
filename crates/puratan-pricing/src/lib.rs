//! # puratan-pricing
//!
//! Exact, I/O-free pricing engine for print products. No clock, no threads, no
//! floating point (`#![deny(clippy::float_arithmetic)]`, no binary float types
//! anywhere); builds for `wasm32-unknown-unknown`. All arithmetic uses
//! [`rust_decimal`] with checked operations: any overflow caused by request or
//! catalog values is reported as `invalid_request`, never as a panic.
//!
//! ```
//! use puratan_pricing::{Catalog, QuoteRequest};
//! # let catalog_json = include_str!("../tests/vectors/sheet_core.json");
//! # let doc: serde_json::Value = serde_json::from_str(catalog_json).unwrap();
//! # let catalog_json = doc["catalogs"]["spec"].to_string();
//! let catalog = Catalog::from_json(&catalog_json)?;
//! let request = QuoteRequest::from_json(r#"{"product": "business-card", "quantity": 500,
//!     "paper": "silk-350", "color": "4/4", "finishing": ["matt-lam"], "turnaround": "express",
//!     "customer_group": "trade", "coupon": "welcome10", "region": "DE", "currency": "EUR",
//!     "at": "2026-11-28T10:00:00Z"}"#)?;
//! let quote = catalog.quote(&request)?;
//! assert_eq!(quote.total.to_string(), "52.51");
//! assert_eq!(quote.production.ship_date.to_string(), "2026-12-02");
//! # Ok::<(), puratan_pricing::PricingError>(())
//! ```
//!
//! ## API
//!
//! * [`Catalog::from_json`] / [`Catalog::from_value`] — validate everything up
//!   front and pre-index ids; [`Catalog::version`].
//! * [`Catalog::quote`] — one [`Quote`]; [`Catalog::quote_table`] — 1 to 20
//!   quantities sharing validation; [`Catalog::explain`] — the quote plus a
//!   human-readable breakdown and [`ImpositionDiagram`] data;
//!   [`Catalog::products`] — products with their allowed options.
//! * [`QuoteRequest`] and [`Quote`] are serde types. A request with unknown
//!   fields or wrong types is `invalid_request`. [`Quote`] serialises with a
//!   fixed field order ([`Quote::to_json`]) so bindings can compare bytes; its
//!   strings are `Arc<str>` shared with the catalog (no text is copied per
//!   quote) and serialise exactly like `String`.
//! * [`PricingError`]: one `#[non_exhaustive]` enum with a stable
//!   [`PricingError::code`] and [`PricingError::field`].
//!
//! ## Catalog
//!
//! Money (`sheet_cost`, `click_cost`, `setup`, `per_*`, `setup_fee`,
//! `minimum_price`, coupon `value`/`min_subtotal`, break `price`) must be a
//! decimal **string** (never parsed through binary floating point).
//! Dimensions (`w_mm`, `h_mm`, `margin_mm`, `bleed_mm`, `gutter_mm`, size
//! limits), percentages, multipliers, exchange rates and `min_area_sqm` may be
//! decimal strings or JSON numbers. Unknown keys are ignored.
//!
//! Sections are validated in this order and the first failure is reported as
//! `invalid_catalog` with its JSON path (e.g. `products[0].press`,
//! `presses[0].click_cost.4/4`, `exchange_rates.XXY`; `""` for the document):
//! `version`, `currency` (ISO 4217, see [`minor_units`]), `exchange_rates`
//! (known ISO codes, rate > 0, keys in sorted order), `quote_validity_days`
//! (≤ 3650), `presses` (sheet > 0, `2 × margin` smaller than both sides, costs
//! ≥ 0, `spoilage_pct` 0–100), `papers`, `finishing` (all amounts optional,
//! default 0; `extra_days` default 0), `turnarounds` (required, `multiplier` > 0),
//! `materials`, `customer_groups` (`discount_pct` 0–100), `tax.rules` (unique
//! region/category, `rate_pct` 0–100), `products`, `coupons` (codes unique
//! case-insensitively; `products` must exist; percent `value` ≤ 100;
//! `stackable_with_group` defaults to `true`; `valid_from`, `valid_until`,
//! `min_subtotal`, `products` optional; `max_redemptions` optional, an
//! integer 1–4294967295, e.g. `coupons[0].max_redemptions` for 0, a
//! negative or a fractional number or a string). Ids are unique per section; product
//! references (press, papers, colours — which must have both a `click_cost` and
//! a `setup_sheets` entry on the press — finishing, turnarounds) are resolved
//! to indices at load. Products: `setup_fee`, `minimum_price`, `markup_pct`,
//! `bleed_mm`, `gutter_mm` default to 0, `grain_critical` to false,
//! `quantity.step` to 1; `quantity.min` ≥ 1. A product whose `method` is not
//! one of `sheet`, `area`, `breaks`, `booklet` loads (only `id`/`name` are
//! checked) and quoting it is `unsupported_method`.
//!
//! ## The `sheet` method (normative)
//!
//! round(x) is half away from zero to the quote currency's minor units.
//!
//! 1. **Validation**, first failure wins: `unknown_product`;
//!    `unsupported_method`; `invalid_request` if `paper`/`color` are missing or a
//!    field of another method is present; `option_not_allowed` (`field`) for
//!    `paper`, then `color`; `duplicate_finishing`; `option_not_allowed` for
//!    each finishing in request order; `option_not_allowed` for `turnaround`;
//!    `quantity_out_of_range` (min ≤ q ≤ max); `quantity_step`
//!    ((q − min) mod step = 0); `unknown_customer_group`; `no_tax_rule`;
//!    `currency_unsupported`; `does_not_fit`; then the coupon checks of step 8.
//! 2. **Imposition** (precomputed at load): pw = w + 2·bleed, ph = h + 2·bleed,
//!    uw = sheet.w − 2·margin, uh = sheet.h − 2·margin, g = gutter,
//!    fit(a,b) = ⌊(uw+g)/(a+g)⌋ · ⌊(uh+g)/(b+g)⌋. n_up = fit(pw,ph) when
//!    `grain_critical`, else max(fit(pw,ph), fit(ph,pw)); `rotated` only when the
//!    rotated fit is strictly larger. n_up = 0 is `does_not_fit`.
//! 3. **Sheets**: run = ⌈q / n_up⌉, spoil = ⌈run · spoilage_pct / 100⌉,
//!    setup = setup_sheets\[color\], sheets = run + spoil + setup.
//! 4. **Cost lines** (exact): paper = sheets · sheet_cost; print = sheets ·
//!    click_cost\[color\]; per finishing in request order: setup + sheets ·
//!    per_sheet + q · per_piece; setup = setup_fee.
//! 5. **Selling**: each cost line · (1 + markup_pct/100) · turnaround.multiplier.
//! 6. **Currency**: when the request currency differs from the catalog's, selling
//!    lines, `minimum_price`, `min_subtotal` and fixed coupon values are
//!    multiplied by `exchange_rates[currency]` (exact).
//! 7. **Rounding**: every selling line is rounded; price = Σ lines. If price <
//!    round(minimum_price) a `minimum_charge` line of the difference is added.
//!    subtotal = Σ lines.
//! 8. **Discounts**: group = round(subtotal · discount_pct / 100) when a
//!    `customer_group` is given (listed even when 0). Coupon (code compared
//!    case-insensitively via Unicode lower-casing): `coupon_unknown`,
//!    `coupon_not_applicable` (product not in `products` when present),
//!    `coupon_not_yet_valid` (at < valid_from), `coupon_expired`
//!    (at ≥ valid_until), `coupon_min_subtotal` (subtotal < min_subtotal · rate,
//!    compared exactly, unrounded). Percent: round((subtotal − group) · value /
//!    100); fixed: min(round(value · rate), subtotal − group). If
//!    `stackable_with_group` is false and a customer group is given, both are
//!    computed on the subtotal alone (percent round(subtotal · value/100), fixed
//!    min(round(value · rate), subtotal)) and only the larger is kept; the group
//!    wins a tie. net = subtotal − discounts, never below 0. Discounts are
//!    listed group first; a coupon's `id` is its code as written in the catalog.
//!    The coupon that was applied is also reported in [`Quote::coupon`] (not
//!    serialised): its lower-cased code and `max_redemptions`. The engine
//!    never counts redemptions (it is pure): `max_redemptions` caps how many
//!    *orders* may use the coupon, and the caller that stores orders (the
//!    server's checkout) enforces it when an order is written.
//! 9. **Tax**: the rule for (region, tax_category); a region `CC-SUB` without a
//!    rule falls back to `CC` (text before the first `-`). Regions match
//!    exactly (case-sensitive). `tax.region` is the region of the matching rule,
//!    `rate_pct` is normalised (`"20.0"` → `"20"`). tax = round(net · rate/100);
//!    total = net + tax.
//! 10. unit_price = net / q, half away from zero to 4 decimals.
//! 11. business_days = turnaround.days + max(extra_days of chosen finishing, 0);
//!     ship_date = starting from the UTC date of `at`, step one calendar day at
//!     a time, counting Monday–Friday only, until business_days are counted
//!     (0 = the date of `at`). valid_until = at + quote_validity_days days.
//!     A ship date or `valid_until` outside the years 0000–9999 (not
//!     expressible in RFC 3339) is `invalid_request`.
//!
//! Lines: `paper` (id = paper id, label = paper name), `print` (id = colour,
//! label `Printing <colour>`), `finishing` (id, name), `setup` (no id, label
//! `Setup fee`, always present), `minimum_charge` (no id, `Minimum charge`).
//! The optional `name` of papers, materials, finishing, options and products
//! defaults to the id.
//! Amounts are strings with exactly the currency's minor digits (`"12.30"`,
//! `"1500"`, `"0.125"`), `unit_price` with 4 decimals.
//!
//! ## The `area` method (large format)
//!
//! Catalog: top-level `materials: [{id, name, per_sqm}]`; product `materials`
//! (ids), `ink_per_sqm: {colour: amount}` (its keys are the allowed colours),
//! `min_area_sqm` (default 0), `size_limits: {min_w_mm, max_w_mm, min_h_mm,
//! max_h_mm}`. Request: `material`, `color`, `width_mm`, `height_mm` (number or
//! decimal string). Validation after `unsupported_method`: missing fields or
//! `paper`/`pages`/`cover_paper`/`options` present → `invalid_request`;
//! `option_not_allowed` for `material`, `color`, finishing (as for sheet),
//! `turnaround`; `size_out_of_range` (`field` `width_mm` then `height_mm`,
//! limits inclusive); then quantity, group, tax, currency as for sheet.
//! Costs: piece = w·h/10⁶ m², billable = max(piece, min_area_sqm), A = billable
//! · q, P = 2·(w+h)/1000 · q metres; `material` = A · per_sqm; `print` = A ·
//! ink_per_sqm\[colour\]; finishing = setup + q · per_piece + A · per_sqm + P ·
//! per_m (`per_sheet` is ignored); `setup` = setup_fee. Then steps 5–11. No
//! `imposition` in the quote. Lines: `material` (id = material id, label =
//! material name), `print` (id = colour, label `Printing <colour>`),
//! `finishing`, `setup`.
//!
//! ## The `breaks` method (quantity-break tables)
//!
//! Product: `mode` (`all_units` | `graduated` | `interpolate`), `breaks:
//! [{quantity, price}]` with strictly increasing quantities, optional
//! `options: [{id, name, per_unit, per_job}]`. Request: optional `options`
//! (ids); `paper`, `color`, `material`, sizes, `pages`, `cover_paper` must be
//! absent. Validation: `duplicate_option`, `option_not_allowed` (`options`),
//! finishing, turnaround, then as for sheet. Base cost (line `base`, label =
//! product name):
//! * `all_units`: `price` is a unit price; base = q · price of the largest
//!   break ≤ q (the first break when none is).
//! * `graduated`: `price` is a unit price per tier; unit k (1-based) costs the
//!   price of the largest break ≤ k (units below the first break use the first).
//! * `interpolate`: `price` is the job price at that quantity (prices must not
//!   decrease; `quantity.min` ≥ first break). Between breaks linear:
//!   p₀ + (q − q₀)·(p₁ − p₀)/(q₁ − q₀) (100 → 100.00, 500 → 400.00 gives
//!   250 → 212.50); beyond the last break the last segment continues; with a
//!   single break, price · q / q₀.
//!
//! The interpolated base is exact: it is kept as the fraction
//! (p₀·(q₁ − q₀) + (q − q₀)·(p₁ − p₀)) / (q₁ − q₀) (single break: p₀·q / q₀)
//! and the division happens when its selling line is rounded, so a repeating
//! quotient is never truncated first (intermediates beyond 128-bit integers,
//! far outside any real catalog, fall back to a 28-digit decimal quotient).
//!
//! Each option adds an `option` line per_job + q · per_unit; finishing adds
//! setup + q · per_piece; `setup` = setup_fee; then steps 5–11 (markup
//! defaults to 0, so table prices are selling prices). Lines: `base` (no id,
//! label = product name), `option` (id, name) in request order, `finishing`,
//! `setup`.
//!
//! ## The `booklet` method
//!
//! Product: `size` (one page), `bleed_mm`, `gutter_mm`, `grain_critical`,
//! `press`, `papers` (inner), optional `cover_papers`, `colors`, `pages: {min,
//! max}` (multiples of 4, min ≥ 8), `binding: {kind: saddle_stitch | perfect,
//! setup, per_piece}`. Request: `paper`, `color`, `pages` (total incl. the 4
//! cover pages), optional `cover_paper` (absent = self-cover on the inner
//! paper). Validation: `option_not_allowed` for `paper`, `cover_paper`,
//! `color`, finishing, `turnaround`; `pages_invalid` (not a multiple of 4 or
//! outside min..max); then as for sheet including `does_not_fit`.
//! Imposition of spreads: the step-2 fit with w replaced by 2·w. Each copy has
//! 1 cover spread and pages/4 − 1 inner spreads, each spread printed both sides
//! with the chosen colour. Inner: step 3 with q·(pages/4 − 1) units; cover:
//! step 3 with q units (each form has its own spoilage and setup sheets).
//! Lines: `paper` inner, `paper` cover, `print` inner, `print` cover (click
//! cost per sheet), finishing = setup + cover_sheets · per_sheet + q ·
//! per_piece, `binding` = setup + q · per_piece, `setup`. Quote has
//! `imposition` (inner) and `cover_imposition`. Labels: `Inner pages: <paper
//! name>`, `Cover: <cover paper name>`, `Printing inner pages <colour>`,
//! `Printing cover <colour>` (both print lines have id = colour); the binding
//! line has id = the binding kind and label `Saddle stitching` or `Perfect
//! binding`.
//!
//! ## quote_table
//!
//! Takes 1–20 quantities (else `invalid_request`); `request.quantity` is
//! ignored. Errors preceding the quantity checks (product, method, options)
//! are returned as the outer error; element i equals `quote` with quantity
//! `quantities[i]`.
#![deny(clippy::float_arithmetic)]

mod catalog;
mod currency;
mod engine;
mod error;
// The request fast path is left out of the size-first WASM build (≈2.6 KB
// gzipped); there `from_json` is serde_json only, with identical results.
#[cfg(not(target_arch = "wasm32"))]
mod fastreq;
mod info;
mod json;
mod lookup;
mod num;
mod ser;
mod types;

pub use catalog::Catalog;
pub use currency::minor_units;
pub use engine::MAX_TABLE_QUANTITIES;
pub use error::PricingError;
pub use info::{
    Choice, Explanation, ImpositionDiagram, Orientation, ProductInfo, QuantityRule,
    TurnaroundChoice,
};
pub use types::{
    AppliedCoupon, Discount, DiscountKind, Imposition, Line, LineKind, Production, Quote,
    QuoteRequest, Tax,
};
