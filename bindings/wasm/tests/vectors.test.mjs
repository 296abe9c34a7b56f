// Every case of the engine's shared vectors through the WASM package, compared
// byte for byte with the expected JSON (the Rust test compares the same data
// as serde values; here the serialised text must be identical).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pkgDir, vectorFiles, errorForm } from "./helpers.mjs";

const { Catalog } = await import(join(pkgDir, "node.mjs"));

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { err: errorForm(e) };
  }
}

const files = vectorFiles();
let total = 0;

for (const { name, doc } of files) {
  test(`shared vectors: ${name}`, () => {
    const catalogs = new Map();
    for (const [id, cat] of Object.entries(doc.catalogs)) {
      // Named catalogs go in as JSON text, inline ones as objects: both paths are covered.
      catalogs.set(id, attempt(() => new Catalog(JSON.stringify(cat))));
    }
    const failures = [];
    for (const c of doc.cases) {
      total += 1;
      const cat =
        typeof c.catalog === "string" ? catalogs.get(c.catalog) : attempt(() => new Catalog(c.catalog));
      assert.ok(cat, `${c.name}: unknown catalog ${c.catalog}`);
      let got;
      let gotText;
      if (cat.err) {
        got = { err: cat.err };
      } else {
        got = attempt(() => cat.ok.quote(c.request));
        gotText = attempt(() => cat.ok.quoteJson(JSON.stringify(c.request)));
      }
      const expected = "expected" in c ? JSON.stringify(c.expected) : undefined;
      const expectedErr = "error" in c ? JSON.stringify(c.error) : undefined;
      let ok;
      if (expected !== undefined) {
        ok = got.ok !== undefined && JSON.stringify(got.ok) === expected && gotText.ok === expected;
      } else {
        ok =
          got.err !== undefined &&
          JSON.stringify(got.err) === expectedErr &&
          (gotText === undefined || JSON.stringify(gotText.err) === expectedErr);
      }
      if (!ok) {
        failures.push(
          `${c.name}\n  expected: ${expected ?? expectedErr}\n  got:      ${JSON.stringify(got.ok ?? got.err)}` +
            (gotText ? `\n  got text: ${gotText.ok ?? JSON.stringify(gotText.err)}` : ""),
        );
      }
    }
    assert.ok(doc.cases.length > 0, `${name} has no cases`);
    assert.deepEqual(failures, [], `${failures.length} of ${doc.cases.length} failed`);
  });
}

test("all shared vectors ran", () => {
  const expected = files.reduce((n, f) => n + f.doc.cases.length, 0);
  assert.equal(total, expected);
  assert.ok(total >= 200, `only ${total} vector cases`);
  console.log(`# ${total} shared vector cases byte-identical through WASM`);
});
