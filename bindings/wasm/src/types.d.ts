
/**
 * A decimal amount as a string, exactly as the engine prints it: money has the
 * currency's minor digits ("12.30", "1500", "0.125"), `unit_price` 4 decimals.
 * Never `parseFloat` money; use a decimal library or display it as is.
 */
export type DecimalString = string;

/** A decimal given as a string ("0.18") or, where the engine allows it, a JSON number. */
export type DecimalInput = string | number;

/** An RFC 3339 instant such as "2026-11-28T10:00:00Z". */
export type Rfc3339 = string;

/** Stable machine-readable error codes of the engine. */
export type ErrorCode =
  | "unknown_product"
  | "unsupported_method"
  | "option_not_allowed"
  | "duplicate_finishing"
  | "duplicate_option"
  | "unknown_customer_group"
  | "quantity_out_of_range"
  | "quantity_step"
  | "pages_invalid"
  | "size_out_of_range"
  | "does_not_fit"
  | "coupon_unknown"
  | "coupon_not_applicable"
  | "coupon_not_yet_valid"
  | "coupon_expired"
  | "coupon_min_subtotal"
  | "no_tax_rule"
  | "currency_unsupported"
  | "invalid_catalog"
  | "invalid_request";

/**
 * What every method throws: a JS `Error` with `name === "PricingError"`, the
 * engine's stable `code` and, for `invalid_catalog` (JSON path such as
 * `products[0].press`), `option_not_allowed` and `size_out_of_range`
 * (request field), the offending `field`.
 */
export interface PricingError extends Error {
  name: "PricingError";
  code: ErrorCode;
  field?: string;
}

/** The engine's error as data (rows of `quoteTable`). */
export interface PricingErrorInfo {
  code: ErrorCode;
  field?: string;
  message: string;
}

/** A quote request. Unknown fields are rejected (`invalid_request`). */
export interface QuoteRequest {
  /** Product id. */
  product: string;
  /** Finished pieces (copies for booklets); an integer. */
  quantity: number;
  /** Paper id (`sheet`; inner paper for `booklet`). */
  paper?: string;
  /** Colour such as "4/4" (`sheet`, `area`, `booklet`). */
  color?: string;
  /** Finishing ids, applied in this order. */
  finishing?: string[];
  /** Turnaround id. */
  turnaround: string;
  /** Customer group id. */
  customer_group?: string;
  /** Coupon code (case-insensitive). */
  coupon?: string;
  /** Tax region such as "DE" or "US-CA". */
  region: string;
  /** Quote currency (ISO 4217); default: the catalog currency. */
  currency?: string;
  /** The pricing instant. */
  at: Rfc3339;
  /** `area`: material id. */
  material?: string;
  /** `area`: finished width in mm. */
  width_mm?: DecimalInput;
  /** `area`: finished height in mm. */
  height_mm?: DecimalInput;
  /** `booklet`: total pages including the 4 cover pages. */
  pages?: number;
  /** `booklet`: cover paper id. */
  cover_paper?: string;
  /** `breaks`: option ids. */
  options?: string[];
}

/** A request object or its JSON text. */
export type QuoteRequestInput = QuoteRequest | string;

export type LineKind =
  | "paper"
  | "print"
  | "finishing"
  | "setup"
  | "minimum_charge"
  | "material"
  | "base"
  | "option"
  | "binding";

/** One selling-price line, rounded to the currency's minor units. */
export interface Line {
  kind: LineKind;
  /** Catalog id; absent for `setup`, `base` and `minimum_charge`. */
  id?: string;
  label: string;
  amount: DecimalString;
}

export interface Discount {
  kind: "group" | "coupon";
  /** Group id, or the coupon code as written in the catalog. */
  id: string;
  amount: DecimalString;
}

export interface Tax {
  region: string;
  /** Normalised percentage ("19", "7.25"). */
  rate_pct: DecimalString;
  amount: DecimalString;
}

export interface Imposition {
  n_up: number;
  rotated: boolean;
  run_sheets: number;
  spoilage_sheets: number;
  setup_sheets: number;
  sheets: number;
}

export interface Production {
  business_days: number;
  /** ISO date "YYYY-MM-DD". */
  ship_date: string;
}

/** A quote; `JSON.stringify` of it equals the engine's JSON byte for byte. */
export interface Quote {
  lines: Line[];
  subtotal: DecimalString;
  discounts: Discount[];
  net: DecimalString;
  tax: Tax;
  total: DecimalString;
  currency: string;
  unit_price: DecimalString;
  /** `sheet`; inner pages for `booklet`. */
  imposition?: Imposition;
  /** `booklet` cover. */
  cover_imposition?: Imposition;
  production: Production;
  catalog_version: string;
  valid_until: Rfc3339;
}

/** A `quoteTable` row: the quote, or the error for that quantity. */
export type QuoteTableRow =
  | { quantity: number; quote: Quote; error?: never }
  | { quantity: number; error: PricingErrorInfo; quote?: never };

export interface ImpositionDiagram {
  n_up: number;
  columns: number;
  rows: number;
  rotated: boolean;
  orientation: "portrait" | "landscape";
  sheet_w_mm: DecimalString;
  sheet_h_mm: DecimalString;
  margin_mm: DecimalString;
  gutter_mm: DecimalString;
  bleed_mm: DecimalString;
  trim_w_mm: DecimalString;
  trim_h_mm: DecimalString;
  piece_w_mm: DecimalString;
  piece_h_mm: DecimalString;
}

export interface Explanation {
  quote: Quote;
  /** Multi-line English breakdown (not a stable format). */
  text: string;
  /** `sheet` and `booklet` products. */
  diagram?: ImpositionDiagram;
}

export interface Choice {
  id: string;
  name: string;
}

export interface TurnaroundChoice {
  id: string;
  days: number;
}

export interface QuantityRule {
  min: number;
  max: number;
  step: number;
}

/** A product and the options a storefront form may offer. Empty lists are omitted. */
export interface ProductInfo {
  id: string;
  name: string;
  method: string;
  supported: boolean;
  quantity?: QuantityRule;
  papers?: Choice[];
  cover_papers?: Choice[];
  materials?: Choice[];
  colors?: string[];
  finishing?: Choice[];
  options?: Choice[];
  turnarounds?: TurnaroundChoice[];
  /** [min, max] pages (`booklet`). */
  pages?: [number, number];
  /** [min_w, max_w, min_h, max_h] in mm (`area`). */
  size_limits_mm?: [DecimalString, DecimalString, DecimalString, DecimalString];
}

/* ---- Catalog document (input). Money is always a decimal string. ---- */

export interface CatalogPress {
  id: string;
  sheet: { w_mm: DecimalInput; h_mm: DecimalInput };
  margin_mm?: DecimalInput;
  click_cost: Record<string, string>;
  setup_sheets: Record<string, number>;
  spoilage_pct?: DecimalInput;
}

export interface CatalogPaper {
  id: string;
  name?: string;
  gsm?: number;
  sheet_cost: string;
}

export interface CatalogFinishing {
  id: string;
  name?: string;
  setup?: string;
  per_sheet?: string;
  per_piece?: string;
  per_sqm?: string;
  per_m?: string;
  extra_days?: number;
}

export interface CatalogTurnaround {
  id: string;
  days: number;
  multiplier: DecimalInput;
}

export interface CatalogMaterial {
  id: string;
  name?: string;
  per_sqm: string;
}

export interface CatalogCustomerGroup {
  id: string;
  discount_pct: DecimalInput;
}

export interface CatalogTaxRule {
  region: string;
  category: string;
  rate_pct: DecimalInput;
}

export interface CatalogCoupon {
  code: string;
  kind: "percent" | "fixed";
  value: string;
  valid_from?: Rfc3339;
  valid_until?: Rfc3339;
  min_subtotal?: string;
  products?: string[];
  stackable_with_group?: boolean;
}

interface CatalogProductBase {
  id: string;
  name?: string;
  tax_category: string;
  turnarounds: string[];
  quantity: { min: number; max: number; step?: number };
  finishing?: string[];
  setup_fee?: string;
  minimum_price?: string;
  markup_pct?: DecimalInput;
}

export interface CatalogSheetProduct extends CatalogProductBase {
  method: "sheet";
  size: { w_mm: DecimalInput; h_mm: DecimalInput };
  bleed_mm?: DecimalInput;
  gutter_mm?: DecimalInput;
  grain_critical?: boolean;
  press: string;
  papers: string[];
  colors: string[];
}

export interface CatalogAreaProduct extends CatalogProductBase {
  method: "area";
  materials: string[];
  ink_per_sqm: Record<string, string>;
  min_area_sqm?: DecimalInput;
  size_limits: {
    min_w_mm: DecimalInput;
    max_w_mm: DecimalInput;
    min_h_mm: DecimalInput;
    max_h_mm: DecimalInput;
  };
}

export interface CatalogBreaksProduct extends CatalogProductBase {
  method: "breaks";
  mode: "all_units" | "graduated" | "interpolate";
  breaks: { quantity: number; price: string }[];
  options?: { id: string; name?: string; per_unit?: string; per_job?: string }[];
}

export interface CatalogBookletProduct extends CatalogProductBase {
  method: "booklet";
  size: { w_mm: DecimalInput; h_mm: DecimalInput };
  bleed_mm?: DecimalInput;
  gutter_mm?: DecimalInput;
  grain_critical?: boolean;
  press: string;
  papers: string[];
  cover_papers?: string[];
  colors: string[];
  pages: { min: number; max: number };
  binding: { kind: "saddle_stitch" | "perfect"; setup?: string; per_piece?: string };
}

export type CatalogProduct =
  | CatalogSheetProduct
  | CatalogAreaProduct
  | CatalogBreaksProduct
  | CatalogBookletProduct;

/** A catalog document (see the engine docs for validation rules). Unknown keys are ignored. */
export interface CatalogDocument {
  version: string;
  currency: string;
  exchange_rates?: Record<string, DecimalInput>;
  quote_validity_days: number;
  presses?: CatalogPress[];
  papers?: CatalogPaper[];
  finishing?: CatalogFinishing[];
  turnarounds: CatalogTurnaround[];
  materials?: CatalogMaterial[];
  customer_groups?: CatalogCustomerGroup[];
  tax: { rules: CatalogTaxRule[] };
  products: CatalogProduct[];
  coupons?: CatalogCoupon[];
}

/** A catalog document or its JSON text. */
export type CatalogInput = CatalogDocument | string;
