// WASM-under-Node benchmark of the bindings (same catalog and request as
// native.rs and python.py). Usage: PURATAN_WASM_PKG=bindings/wasm/pkg node benches/bindings/wasm.mjs
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const pkg = resolve(process.env.PURATAN_WASM_PKG ?? join(root, "bindings", "wasm", "pkg"));
const { Catalog } = await import(join(pkg, "node.mjs"));

const vectors = JSON.parse(
  readFileSync(join(root, "crates", "puratan-pricing", "tests", "vectors", "sheet_core.json"), "utf8"),
);
const request = {
  product: "business-card",
  quantity: 500,
  paper: "silk-350",
  color: "4/4",
  finishing: ["matt-lam"],
  turnaround: "express",
  customer_group: "trade",
  coupon: "welcome10",
  region: "DE",
  currency: "EUR",
  at: "2026-11-28T10:00:00Z",
};
const requestText = JSON.stringify(request);
const catalog = new Catalog(vectors.catalogs.spec);
const quantities = Array.from({ length: 20 }, (_, i) => (i + 1) * 500);

function bench(name, fn, seconds = 1.5) {
  for (let i = 0; i < 2000; i++) fn(); // warm up (JIT, wasm tiers)
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round((seconds / 5) * 1e9));
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 200; i++) fn();
      n += 200;
      now = process.hrtime.bigint();
    }
    best = Math.min(best, Number(now - start) / n);
  }
  const perSecond = 1e9 / best;
  console.log(`${name.padEnd(44)} ${(best / 1000).toFixed(2).padStart(8)} µs  ${Math.round(perSecond).toLocaleString("en").padStart(10)} /s`);
  return best;
}

console.log(`node ${process.version}, package ${pkg}`);
bench("wasm quoteJson(text) -> text", () => catalog.quoteJson(requestText));
bench("wasm quoteJson(object) -> text", () => catalog.quoteJson(request));
bench("wasm quote(object) -> object", () => catalog.quote(request));
bench("wasm quoteTable(object, 20 quantities)", () => catalog.quoteTable(request, quantities), 1.5);
bench("wasm catalog load (spec catalog, object)", () => new Catalog(vectors.catalogs.spec).free(), 1.0);
