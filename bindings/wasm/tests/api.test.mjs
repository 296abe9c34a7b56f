// The JS surface of the package: entries, errors, quoteTable, explain, products.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { pkgDir, specCatalog, workedRequest } from "./helpers.mjs";

const node = await import(join(pkgDir, "node.mjs"));
const { Catalog } = node;
const catalog = new Catalog(specCatalog());

function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail("expected a throw");
}

test("worked example: quote object equals the engine JSON text", () => {
  const q = catalog.quote(workedRequest);
  assert.equal(q.total, "52.51");
  assert.equal(q.production.ship_date, "2026-12-02");
  assert.equal(JSON.stringify(q), catalog.quoteJson(workedRequest));
  assert.equal(catalog.quoteJson(JSON.stringify(workedRequest)), catalog.quoteJson(workedRequest));
  assert.equal(catalog.version, "2026-11-28.1");
  assert.equal(catalog.currency, "EUR");
});

test("catalog from JSON text equals catalog from object", () => {
  const fromText = new Catalog(JSON.stringify(specCatalog()));
  assert.equal(fromText.quoteJson(workedRequest), catalog.quoteJson(workedRequest));
});

test("errors are Error objects with the engine's code and field", () => {
  const e = thrown(() => catalog.quote({ ...workedRequest, paper: "gold-foil" }));
  assert.ok(e instanceof Error);
  assert.equal(e.name, "PricingError");
  assert.equal(e.code, "option_not_allowed");
  assert.equal(e.field, "paper");
  assert.match(e.message, /gold-foil/);

  const u = thrown(() => catalog.quote({ ...workedRequest, product: "nope" }));
  assert.equal(u.code, "unknown_product");
  assert.equal(u.field, undefined);
  assert.equal("field" in u, false);

  const bad = thrown(() => catalog.quote({ ...workedRequest, colour: "4/4" }));
  assert.equal(bad.code, "invalid_request");
  assert.equal(thrown(() => catalog.quote("{not json")).code, "invalid_request");
});

test("catalog errors carry the JSON path", () => {
  const doc = structuredClone(specCatalog());
  doc.products[0].press = "missing-press";
  const e = thrown(() => new Catalog(doc));
  assert.equal(e.code, "invalid_catalog");
  assert.equal(e.field, "products[0].press");
  assert.equal(thrown(() => new Catalog("{")).field, "");
  for (const bad of [undefined, null, 42, true]) {
    assert.equal(thrown(() => new Catalog(bad)).code, "invalid_catalog");
  }
});

test("non-JSON inputs are invalid_request, not crashes", () => {
  const cyclic = { ...workedRequest };
  cyclic.self = cyclic;
  for (const bad of [undefined, null, 42, false, cyclic, { ...workedRequest, quantity: 10n }]) {
    assert.equal(thrown(() => catalog.quote(bad)).code, "invalid_request");
  }
  for (const bad of [[], [2.5], [-1], "x", [1, "2"], undefined, null, 500, {}, Array(21).fill(500)]) {
    assert.equal(thrown(() => catalog.quoteTable(workedRequest, bad)).code, "invalid_request");
  }
  // The catalog still works after errors (no poisoned state).
  assert.equal(catalog.quote(workedRequest).total, "52.51");
});

test("quoteTable: one row per quantity, quote or error, equal to single quotes", () => {
  const quantities = [500, 1000, 1234567];
  const rows = catalog.quoteTable(workedRequest, quantities);
  assert.equal(rows.length, 3);
  for (const [i, row] of rows.entries()) {
    assert.equal(row.quantity, quantities[i]);
    let single;
    try {
      single = { quote: catalog.quote({ ...workedRequest, quantity: quantities[i] }) };
    } catch (e) {
      single = { error: { code: e.code, message: e.message } };
    }
    if (single.quote) {
      assert.equal(JSON.stringify(row.quote), JSON.stringify(single.quote));
      assert.equal(row.error, undefined);
    } else {
      assert.equal(row.quote, undefined);
      assert.deepEqual(row.error, single.error);
    }
  }
  assert.equal(rows[2].error.code, "quantity_out_of_range");
  // Typed arrays and other iterables work too.
  for (const q of [new Uint32Array(quantities), new Set(quantities)]) {
    assert.equal(JSON.stringify(catalog.quoteTable(workedRequest, q)), JSON.stringify(rows));
  }
  // Failures before the quantity checks are thrown.
  assert.equal(thrown(() => catalog.quoteTable({ ...workedRequest, product: "x" }, [500])).code, "unknown_product");
});

test("explain: quote, text, diagram", () => {
  const ex = catalog.explain(workedRequest);
  assert.equal(JSON.stringify(ex.quote), catalog.quoteJson(workedRequest));
  assert.match(ex.text, /Total: 52\.51 EUR/);
  assert.equal(ex.diagram.n_up, ex.diagram.columns * ex.diagram.rows);
  assert.equal(typeof ex.diagram.sheet_w_mm, "string");
  const rule = catalog.products().find((p) => p.id === workedRequest.product).quantity;
  assert.ok(rule.step > 1);
  const offStep = { ...workedRequest, quantity: rule.min + 1 };
  assert.equal(thrown(() => catalog.explain(offStep)).code, "quantity_step");
});

test("products: storefront options", () => {
  const products = catalog.products();
  const card = products.find((p) => p.id === "business-card");
  assert.ok(card.supported);
  assert.ok(card.papers.some((p) => p.id === "silk-350"));
  assert.ok(card.colors.includes("4/4"));
  assert.equal(typeof card.quantity.min, "number");
});

test("entries: ESM, CommonJS and the browser build give identical results", async () => {
  const require = createRequire(import.meta.url);
  const cjs = require(join(pkgDir, "node.cjs"));
  const generated = require(join(pkgDir, "puratan_wasm_node.cjs"));
  // node.mjs must re-export everything the generated module exports.
  for (const name of Object.keys(generated)) {
    assert.ok(name in node, `node.mjs lacks export ${name}`);
    assert.ok(name in cjs, `node.cjs lacks export ${name}`);
  }
  assert.equal(typeof (await node.default()), "object");
  assert.equal(typeof (await cjs.default()), "object");
  const viaCjs = new cjs.Catalog(specCatalog()).quoteJson(workedRequest);

  const web = await import(pathToFileURL(join(pkgDir, "puratan_wasm.js")).href);
  web.initSync({ module: readFileSync(join(pkgDir, "puratan_wasm_bg.wasm")) });
  const viaWeb = new web.Catalog(specCatalog()).quoteJson(workedRequest);
  assert.equal(viaCjs, catalog.quoteJson(workedRequest));
  assert.equal(viaWeb, viaCjs);
  assert.equal(web.bindingsVersion(), node.bindingsVersion());

  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  assert.equal(pkg.version, node.bindingsVersion());
  for (const f of pkg.files) {
    assert.ok(readFileSync(join(pkgDir, f)).length > 0, `missing ${f}`);
  }
});

test("free() releases the handle", () => {
  const c = new Catalog(specCatalog());
  c.free();
  assert.throws(() => c.quote(workedRequest));
});
