// Live price calculator: every keystroke re-prices in the browser with the
// Puratan engine compiled to WebAssembly (bindings/wasm). No server round trip.
//
// URL parameters prefill the form (shareable links, and the headless test):
//   ?product=business-card&quantity=500&paper=silk-350&color=4/4&finishing=matt-lam
//   &turnaround=express&region=DE&customer_group=trade&coupon=welcome10&at=2026-11-28T10:00:00Z
import init, { Catalog, bindingsVersion } from "../../bindings/wasm/pkg/puratan_wasm.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const at = params.get("at") ?? new Date().toISOString().replace(/\.\d+Z$/, "Z");

await init();
const catalogUrl = params.get("catalog") ?? "./catalog.json";
const catalog = new Catalog(await (await fetch(catalogUrl)).text());
const products = catalog.products().filter((p) => p.supported);
$("engine").textContent = `Engine ${bindingsVersion()}, catalog ${catalog.version}.`;
$("currency").value = params.get("currency") ?? catalog.currency;

function fillSelect(select, choices, value, empty) {
  select.replaceChildren();
  if (empty) select.append(new Option(empty, ""));
  for (const c of choices) {
    const id = typeof c === "string" ? c : c.id;
    const name = typeof c === "string" ? c : (c.name ?? c.id) + (c.days !== undefined ? ` (${c.days} days)` : "");
    select.append(new Option(name, id));
  }
  if (value !== null && [...select.options].some((o) => o.value === value)) select.value = value;
}

function fillChecks(box, name, choices, selected) {
  box.replaceChildren();
  for (const c of choices) {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), { type: "checkbox", name, value: c.id });
    input.checked = selected.includes(c.id);
    label.append(input, c.name ?? c.id);
    box.append(label);
  }
}

function current() {
  return products.find((p) => p.id === $("product").value) ?? products[0];
}

/** Rebuilds the option fields for the chosen product (first call: from the URL). */
function setupProduct(first) {
  const p = current();
  const pick = (key) => (first ? params.get(key) : null);
  for (const div of document.querySelectorAll("[data-for]")) {
    div.classList.toggle("hidden", p[div.dataset.for] === undefined);
  }
  const q = p.quantity;
  Object.assign($("quantity"), { min: q.min, max: q.max, step: q.step });
  $("quantity").value = pick("quantity") ?? q.min;
  $("qty-rule").textContent = `${q.min}–${q.max}, step ${q.step}`;
  fillSelect($("paper"), p.papers ?? [], pick("paper"));
  fillSelect($("cover_paper"), p.cover_papers ?? [], pick("cover_paper"), "same as inner pages");
  fillSelect($("material"), p.materials ?? [], pick("material"));
  fillSelect($("color"), p.colors ?? [], pick("color"));
  fillSelect($("turnaround"), p.turnarounds ?? [], pick("turnaround"));
  if (p.pages) {
    Object.assign($("pages"), { min: p.pages[0], max: p.pages[1] });
    $("pages").value = pick("pages") ?? p.pages[0];
    $("pages-rule").textContent = `${p.pages[0]}–${p.pages[1]}, multiple of 4`;
  }
  if (p.size_limits_mm) {
    $("width_mm").value = pick("width_mm") ?? 1000;
    $("height_mm").value = pick("height_mm") ?? 500;
  }
  const list = (key) => (pick(key) ?? "").split(",").filter(Boolean);
  fillChecks($("finishing"), "finishing", p.finishing ?? [], list("finishing"));
  fillChecks($("options"), "options", p.options ?? [], list("options"));
}

/** The request the form describes: only the fields the product's method uses. */
function readForm() {
  const p = current();
  const v = (id) => $(id).value.trim();
  const req = { product: p.id, quantity: Number(v("quantity")), turnaround: v("turnaround"), region: v("region"), at };
  if (p.papers) req.paper = v("paper");
  if (p.cover_papers && v("cover_paper")) req.cover_paper = v("cover_paper");
  if (p.materials) req.material = v("material");
  if (p.colors) req.color = v("color");
  if (p.pages) req.pages = Number(v("pages"));
  if (p.size_limits_mm) {
    req.width_mm = v("width_mm");
    req.height_mm = v("height_mm");
  }
  const checked = (name) => [...document.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
  if (p.finishing) req.finishing = checked("finishing");
  if (p.options) req.options = checked("options");
  for (const key of ["currency", "customer_group", "coupon"]) if (v(key)) req[key] = v(key);
  return req;
}

function row(label, amount, cls = "") {
  const tr = document.createElement("tr");
  tr.innerHTML = `<td class="${cls}"></td><td class="amt"></td>`;
  tr.children[0].textContent = label;
  tr.children[1].textContent = amount;
  return tr;
}

function drawDiagram(d) {
  const svg = $("diagram");
  svg.classList.toggle("hidden", !d);
  if (!d) return;
  const n = (s) => Number(s); // drawing only; prices never go through floats
  const W = n(d.sheet_w_mm), H = n(d.sheet_h_mm), m = n(d.margin_mm), g = n(d.gutter_mm);
  const scale = Math.min(460 / W, 320 / H);
  const parts = [
    `<rect x="10" y="10" width="${W * scale}" height="${H * scale}" fill="#fff" stroke="#8a93a3"/>`,
    `<rect x="${10 + m * scale}" y="${10 + m * scale}" width="${(W - 2 * m) * scale}" height="${(H - 2 * m) * scale}"
       fill="none" stroke="#c9ced8" stroke-dasharray="4 3"/>`,
  ];
  const pw = n(d.piece_w_mm), ph = n(d.piece_h_mm);
  for (let c = 0; c < d.columns; c++) {
    for (let r = 0; r < d.rows; r++) {
      const x = 10 + (m + c * (pw + g)) * scale, y = 10 + (m + r * (ph + g)) * scale;
      parts.push(`<rect x="${x}" y="${y}" width="${pw * scale}" height="${ph * scale}" fill="#dfe9f7" stroke="#3b6db3"/>`);
    }
  }
  parts.push(`<text x="14" y="${24 + H * scale}" font-size="12" fill="#5b6474">${d.n_up}-up (${d.columns} × ${d.rows}${
    d.rotated ? ", rotated" : ""}) on ${d.sheet_w_mm} × ${d.sheet_h_mm} mm</text>`);
  svg.setAttribute("width", String(W * scale + 20));
  svg.setAttribute("height", String(H * scale + 34));
  svg.innerHTML = parts.join("");
}

function render() {
  for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const req = readForm();
  try {
    const ex = catalog.explain(req);
    const q = ex.quote;
    $("total").textContent = `${q.total} ${q.currency}`;
    $("summary").textContent = `${q.unit_price} ${q.currency} per piece excl. tax · ships ${q.production.ship_date} ` +
      `(${q.production.business_days} business days) · quote valid until ${q.valid_until.slice(0, 10)}`;
    const table = $("lines");
    table.replaceChildren(...q.lines.map((l) => row(l.label, l.amount)));
    table.append(row("Subtotal", q.subtotal, "muted"));
    for (const d of q.discounts) table.append(row(`Discount (${d.kind} ${d.id})`, `−${d.amount}`));
    table.append(row(`Tax ${q.tax.region} ${q.tax.rate_pct} %`, q.tax.amount), row("Total", q.total));
    $("error").classList.add("hidden");
    $("explain").textContent = ex.text;
    $("quote-json").textContent = JSON.stringify(q);
    drawDiagram(ex.diagram);
    document.body.dataset.state = "quoted";
  } catch (e) {
    if (!(e instanceof Error) || !e.code) throw e;
    $("total").textContent = "—";
    $("summary").textContent = "";
    $("lines").replaceChildren();
    drawDiagram(undefined);
    $("quote-json").textContent = JSON.stringify(e.field === undefined ? { code: e.code } : { code: e.code, field: e.field });
    const err = $("error");
    err.classList.remove("hidden");
    err.textContent = `${e.message} (${e.code}${e.field ? `, field ${e.field}` : ""})`;
    const input = e.field && document.querySelector(`[name="${e.field}"]`);
    if (input) input.setAttribute("aria-invalid", "true");
    document.body.dataset.state = "error";
  }
}

fillSelect($("product"), products, params.get("product"));
for (const key of ["region", "customer_group", "coupon"]) if (params.has(key)) $(key).value = params.get(key);
setupProduct(true);
$("product").addEventListener("change", () => {
  setupProduct(false);
  render();
});
$("form").addEventListener("input", (e) => {
  if (e.target.id !== "product") render();
});
render();
