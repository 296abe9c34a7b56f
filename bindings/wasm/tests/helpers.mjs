// Shared helpers of the Node tests: where the built package and the vectors are.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The built npm package (scripts/bindings-test.sh writes it to bindings/wasm/pkg). */
export const pkgDir = resolve(process.env.PURATAN_WASM_PKG ?? join(here, "..", "pkg"));

/** The engine's shared, runtime-neutral vectors. */
export const vectorsDir = resolve(here, "..", "..", "..", "crates", "puratan-pricing", "tests", "vectors");

export function vectorFiles() {
  return readdirSync(vectorsDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ name: f, doc: JSON.parse(readFileSync(join(vectorsDir, f), "utf8")) }));
}

/** The `{code, field?}` form the vectors use for errors, in that key order. */
export function errorForm(e) {
  if (e === null || typeof e !== "object" || typeof e.code !== "string") {
    throw e;
  }
  return e.field === undefined ? { code: e.code } : { code: e.code, field: e.field };
}

/** The worked example of the engine docs (catalog `spec` of sheet_core.json). */
export function specCatalog() {
  return vectorFiles().find((f) => f.name === "sheet_core.json").doc.catalogs.spec;
}

export const workedRequest = {
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
