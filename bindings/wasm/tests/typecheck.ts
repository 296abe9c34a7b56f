// Compile-only check (tsc --strict) that the published declarations describe
// every input and output precisely: no `any` leaks, discriminated unions work.
import init, {
  Catalog,
  bindingsVersion,
  type CatalogDocument,
  type ErrorCode,
  type Explanation,
  type PricingError,
  type ProductInfo,
  type Quote,
  type QuoteRequest,
  type QuoteTableRow,
} from "../pkg/puratan_wasm.js";

// Assignability helpers: `Exact<A, B>` is true only when A and B are identical,
// so a declaration widened to `any` fails to compile.
type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const yes = <T extends true>(): T | undefined => undefined;

const doc: CatalogDocument = {
  version: "t.1",
  currency: "EUR",
  quote_validity_days: 14,
  presses: [
    {
      id: "p",
      sheet: { w_mm: 320, h_mm: 450 },
      margin_mm: 5,
      click_cost: { "4/4": "0.18" },
      setup_sheets: { "4/4": 8 },
      spoilage_pct: "2",
    },
  ],
  papers: [{ id: "silk", name: "Silk", sheet_cost: "0.18" }],
  turnarounds: [{ id: "standard", days: 5, multiplier: "1" }],
  tax: { rules: [{ region: "DE", category: "standard", rate_pct: "19" }] },
  products: [
    {
      id: "card",
      name: "Card",
      method: "sheet",
      tax_category: "standard",
      size: { w_mm: 85, h_mm: 55 },
      press: "p",
      papers: ["silk"],
      colors: ["4/4"],
      turnarounds: ["standard"],
      quantity: { min: 50, max: 1000, step: 50 },
    },
    {
      id: "flyer",
      method: "breaks",
      mode: "interpolate",
      tax_category: "standard",
      breaks: [{ quantity: 100, price: "100.00" }],
      turnarounds: ["standard"],
      quantity: { min: 100, max: 5000 },
    },
  ],
};

export async function storefront(): Promise<string> {
  await init();
  const catalog = new Catalog(doc);
  const request: QuoteRequest = {
    product: "card",
    quantity: 100,
    paper: "silk",
    color: "4/4",
    turnaround: "standard",
    region: "DE",
    at: "2026-11-28T10:00:00Z",
  };
  const quote: Quote = catalog.quote(request);
  yes<Exact<typeof quote, Quote>>();
  yes<Exact<typeof quote.total, string>>();
  yes<Exact<typeof quote.lines[number]["kind"], import("../pkg/puratan_wasm.js").LineKind>>();
  const text: string = catalog.quoteJson(JSON.stringify(request));
  const rows: QuoteTableRow[] = catalog.quoteTable(request, [50, 100]);
  catalog.quoteTable(request, new Uint32Array([50, 100]));
  // @ts-expect-error quantities are numbers
  catalog.quoteTable(request, ["50"]);
  let sum = 0;
  for (const row of rows) {
    if (row.quote) {
      sum += row.quote.lines.length;
    } else {
      const code: ErrorCode = row.error.code;
      sum += code.length;
    }
  }
  const ex: Explanation = catalog.explain(request);
  const diagramCols: number | undefined = ex.diagram?.columns;
  const products: ProductInfo[] = catalog.products();
  yes<Exact<ReturnType<Catalog["products"]>, ProductInfo[]>>();
  yes<Exact<Parameters<Catalog["quote"]>[0], QuoteRequest | string>>();
  try {
    catalog.quote({ ...request, quantity: 7 });
  } catch (e) {
    const err = e as PricingError;
    const field: string | undefined = err.field;
    sum += err.code.length + (field?.length ?? 0);
  }
  // @ts-expect-error unknown request fields are rejected at compile time too
  catalog.quote({ ...request, colour: "4/4" });
  // @ts-expect-error money in a catalog must be a decimal string
  new Catalog({ ...doc, papers: [{ id: "x", sheet_cost: 0.18 }] });
  return `${quote.total} ${text.length} ${sum} ${diagramCols} ${products.length} ${catalog.version} ${bindingsVersion()}`;
}
