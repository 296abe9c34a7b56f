// Headless-Chromium test of the live calculator: the page prices in the
// browser (WASM) and must show exactly what the Node build of the same
// package computes, byte for byte. Needs bindings/wasm/pkg (built by
// scripts/bindings-test.sh) and Debian's chromium.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { serve } from "./serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const pkg = resolve(process.env.PURATAN_WASM_PKG ?? join(root, "bindings", "wasm", "pkg"));
const chromium = process.env.CHROMIUM ?? "chromium";
const { Catalog } = await import(join(pkg, "node.mjs"));
const catalog = new Catalog(readFileSync(join(here, "catalog.json"), "utf8"));

const server = await serve(0);
const base = `http://127.0.0.1:${server.address().port}/examples/web-calculator/`;
const profile = mkdtempSync(join(tmpdir(), "puratan-chromium-"));
after(() => {
  server.close();
  rmSync(profile, { recursive: true, force: true });
});

// No traffic beyond the loopback server: background networking, component
// updates, sync and QUIC are off (the machine's network is closed).
const flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
  "--metrics-recording-only", "--disable-domain-reliability", "--disable-breakpad",
  `--user-data-dir=${profile}`, "--virtual-time-budget=15000"];

async function dom(params) {
  const url = `${base}?${new URLSearchParams(params)}`;
  const { stdout } = await promisify(execFile)(chromium, [...flags, "--dump-dom", url], {
    timeout: 90_000,
    maxBuffer: 16 << 20,
  });
  return stdout;
}

const unescape = (s) => s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
const text = (html, id) => {
  const m = html.match(new RegExp(`id="${id}"[^>]*>([^<]*)<`));
  return m ? unescape(m[1]) : undefined;
};
const state = (html) => html.match(/<body[^>]*data-state="(\w+)"/)?.[1];

const at = "2026-11-28T10:00:00Z";

test("worked example: the page shows the engine's quote, byte for byte", async () => {
  const request = { product: "business-card", quantity: 500, paper: "silk-350", color: "4/4",
    finishing: ["matt-lam"], turnaround: "express", region: "DE", currency: "EUR",
    customer_group: "trade", coupon: "welcome10", at };
  const html = await dom({ ...request, finishing: "matt-lam" });
  assert.equal(state(html), "quoted", "page did not finish pricing");
  assert.equal(text(html, "total"), "52.51 EUR");
  assert.equal(text(html, "quote-json"), catalog.quoteJson(request));
  assert.match(html, /<svg id="diagram"[^>]*><rect/, "imposition diagram drawn");
});

test("area product with finishing via URL parameters", async () => {
  const request = { product: "banner", quantity: 2, material: "mesh", color: "4/0", width_mm: "2000",
    height_mm: "1000", finishing: ["hem", "eyelets"], turnaround: "standard", region: "DE", currency: "EUR", at };
  const html = await dom({ ...request, finishing: "hem,eyelets" });
  assert.equal(state(html), "quoted");
  assert.equal(text(html, "quote-json"), catalog.quoteJson(request));
});

test("errors show the code and mark the offending field", async () => {
  const html = await dom({ product: "banner", quantity: 1, width_mm: 50, height_mm: 500, at });
  assert.equal(state(html), "error");
  assert.equal(text(html, "quote-json"), JSON.stringify({ code: "size_out_of_range", field: "width_mm" }));
  assert.match(html, /id="width_mm"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="width_mm"/);
  const tax = await dom({ product: "business-card", region: "XX", at });
  assert.equal(text(tax, "quote-json"), JSON.stringify({ code: "no_tax_rule" }));
});

test("screenshot renders", { skip: !process.env.PURATAN_SCREENSHOT }, async () => {
  const out = process.env.PURATAN_SCREENSHOT;
  const url = `${base}?${new URLSearchParams({ product: "business-card", quantity: 500, paper: "silk-350",
    color: "4/4", finishing: "matt-lam", turnaround: "express", customer_group: "trade", coupon: "welcome10", at })}`;
  await promisify(execFile)(chromium, [...flags, "--window-size=1100,900", `--screenshot=${out}`, url], {
    timeout: 90_000,
  });
  assert.ok(readFileSync(out).length > 1000);
});
