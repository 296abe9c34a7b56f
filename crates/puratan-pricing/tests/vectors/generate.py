#!/usr/bin/env python3
"""Independent reference implementation of the pricing methods documented in
the crate docs (src/lib.rs): "sheet", "area", "breaks" and "booklet" (stdlib
only, exact `decimal` arithmetic; the one division that can repeat — quantity
break interpolation — is kept as a fraction and rounded on integers), and
generator of the shared test vectors in this directory.

The expected outputs written here are computed by THIS file, never by the Rust
engine under test. Expected errors for malformed catalogs / requests are
specified by hand (the mutation and its JSON path are chosen together).

Usage:  python3 generate.py          # rewrites *.json next to this file
        python3 generate.py --check  # fails if the files on disk differ
"""

import copy
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D, ROUND_CEILING, ROUND_HALF_UP, getcontext
from pathlib import Path

getcontext().prec = 100  # far beyond anything the vectors need: exact

HERE = Path(__file__).resolve().parent

MINOR = {"EUR": 2, "GBP": 2, "USD": 2, "CHF": 2, "SEK": 2, "JPY": 0, "KRW": 0,
         "BHD": 3, "KWD": 3, "OMR": 3}


class PricingErr(Exception):
    def __init__(self, code, field=None):
        super().__init__(code)
        self.code = code
        self.field = field

    def as_json(self):
        out = {"code": self.code}
        if self.field is not None:
            out["field"] = self.field
        return out


def rnd(x, dp):
    """Half away from zero (Python's ROUND_HALF_UP) to dp decimals."""
    return x.quantize(D(1).scaleb(-dp), rounding=ROUND_HALF_UP)


def fmt(x, dp):
    s = format(rnd(x, dp), "f")
    return s[1:] if s.startswith("-") and D(s) == 0 else s


def fmt_norm(x):
    return format(D(x).normalize(), "f")


def dec(v):
    """Dimensions and percentages may be JSON numbers or strings."""
    return D(str(v))


def ceil_int(x):
    return int(x.to_integral_value(rounding=ROUND_CEILING))


def parse_at(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc)


def fit(uw, uh, g, a, b):
    cols = int((uw + g) // (a + g))
    rows = int((uh + g) // (b + g))
    return cols * rows


def rnd_div(x, den, dp):
    """round(x / den) half away from zero to dp decimals, exactly: the
    division is done on integers (a repeating decimal is never truncated)."""
    if den == 1:
        return rnd(x, dp)
    sign, digits, exp = x.as_tuple()
    m = int("".join(map(str, digits)) or "0")
    e = exp + dp  # x * 10^dp = m * 10^e
    num, d = (m * 10 ** e, den) if e >= 0 else (m, den * 10 ** (-e))
    q, r = divmod(num, d)
    if 2 * r >= d:
        q += 1
    v = D(q).scaleb(-dp)
    return -v if sign else v


METHODS = ("sheet", "area", "breaks", "booklet")

# Request fields that belong to some methods only: (required, forbidden).
FIELDS = {
    "sheet": (["paper", "color"], ["material", "width_mm", "height_mm", "pages", "cover_paper", "options"]),
    "area": (["material", "color", "width_mm", "height_mm"], ["paper", "pages", "cover_paper", "options"]),
    "breaks": ([], ["paper", "color", "material", "width_mm", "height_mm", "pages", "cover_paper"]),
    "booklet": (["paper", "color", "pages"], ["material", "width_mm", "height_mm", "options"]),
}


def present(req, field):
    v = req.get(field)
    return v is not None and v != []


def layout(cat, p, trim_w):
    """Step 2 for a sheet piece or a booklet spread (trim_w = 2·w)."""
    press = {x["id"]: x for x in cat["presses"]}[p["press"]]
    h = dec(p["size"]["h_mm"])
    bleed = dec(p.get("bleed_mm", 0))
    g = dec(p.get("gutter_mm", 0))
    margin = dec(press.get("margin_mm", 0))
    pw, ph = trim_w + 2 * bleed, h + 2 * bleed
    uw = dec(press["sheet"]["w_mm"]) - 2 * margin
    uh = dec(press["sheet"]["h_mm"]) - 2 * margin
    straight = fit(uw, uh, g, pw, ph)
    turned = 0 if p.get("grain_critical", False) else fit(uw, uh, g, ph, pw)
    rotated = turned > straight
    return press, (turned if rotated else straight), rotated


def form(units, n_up, press, color, rotated):
    """Step 3 for one imposed form."""
    run = -(-units // n_up)
    spoil = ceil_int(D(run) * dec(press.get("spoilage_pct", "0")) / 100)
    setup = press["setup_sheets"][color]
    return {"n_up": n_up, "rotated": rotated, "run_sheets": run, "spoilage_sheets": spoil,
            "setup_sheets": setup, "sheets": run + spoil + setup}


def break_base(p, q):
    """Base cost of a `breaks` product as (numerator, integer denominator)."""
    bs = [(int(b["quantity"]), D(b["price"])) for b in p["breaks"]]
    Q = D(q)
    mode = p["mode"]
    if mode == "all_units":
        unit = bs[0][1]
        for bq, price in bs:
            if bq <= q:
                unit = price
        return Q * unit, 1
    if mode == "graduated":
        total = D(0)
        for k in range(1, q + 1):  # unit by unit, on purpose
            unit = bs[0][1]
            for bq, price in bs:
                if bq <= k:
                    unit = price
            total += unit
        return total, 1
    assert mode == "interpolate", mode
    i = max(j for j, (bq, _) in enumerate(bs) if bq <= q)
    q0, p0 = bs[i]
    if len(bs) == 1:
        return p0 * Q, q0  # price · q / q0
    (qa, pa), (qb, pb) = (bs[i], bs[i + 1]) if i + 1 < len(bs) else (bs[i - 1], bs[i])
    dq = qb - qa
    # p0 + (q − q0)(pb − pa)/(qb − qa), kept as one fraction
    return p0 * dq + D(q - q0) * (pb - pa), dq


def reference_quote(cat, req):
    products = {p["id"]: p for p in cat["products"]}
    p = products.get(req["product"])
    if p is None:
        raise PricingErr("unknown_product")
    method = p["method"]
    if method not in METHODS:
        raise PricingErr("unsupported_method")
    required, forbidden = FIELDS[method]
    if any(not present(req, f) for f in required) or any(present(req, f) for f in forbidden):
        raise PricingErr("invalid_request")
    papers = {x["id"]: x for x in cat.get("papers", [])}
    fins = {x["id"]: x for x in cat.get("finishing", [])}

    # 1. method options, then finishing and turnaround
    if method in ("sheet", "booklet"):
        if req["paper"] not in p["papers"]:
            raise PricingErr("option_not_allowed", "paper")
        if method == "booklet" and req.get("cover_paper") is not None \
                and req["cover_paper"] not in p.get("cover_papers", []):
            raise PricingErr("option_not_allowed", "cover_paper")
        if req["color"] not in p["colors"]:
            raise PricingErr("option_not_allowed", "color")
    elif method == "area":
        if req["material"] not in p["materials"]:
            raise PricingErr("option_not_allowed", "material")
        if req["color"] not in p["ink_per_sqm"]:
            raise PricingErr("option_not_allowed", "color")
    else:
        opts = req.get("options", [])
        if len(set(opts)) != len(opts):
            raise PricingErr("duplicate_option")
        offered = {o["id"]: o for o in p.get("options", [])}
        for o in opts:
            if o not in offered:
                raise PricingErr("option_not_allowed", "options")
    fin_ids = req.get("finishing", [])
    if len(set(fin_ids)) != len(fin_ids):
        raise PricingErr("duplicate_finishing")
    for f in fin_ids:
        if f not in p.get("finishing", []):
            raise PricingErr("option_not_allowed", "finishing")
    if req["turnaround"] not in p["turnarounds"]:
        raise PricingErr("option_not_allowed", "turnaround")
    if method == "area":
        w, h = dec(req["width_mm"]), dec(req["height_mm"])
        lim = p["size_limits"]
        if w < dec(lim["min_w_mm"]) or w > dec(lim["max_w_mm"]):
            raise PricingErr("size_out_of_range", "width_mm")
        if h < dec(lim["min_h_mm"]) or h > dec(lim["max_h_mm"]):
            raise PricingErr("size_out_of_range", "height_mm")
    if method == "booklet":
        pages = req["pages"]
        if pages % 4 != 0 or pages < p["pages"]["min"] or pages > p["pages"]["max"]:
            raise PricingErr("pages_invalid")

    # quantity, group, tax, currency, fit
    q = req["quantity"]
    qr = p["quantity"]
    if q < qr["min"] or q > qr["max"]:
        raise PricingErr("quantity_out_of_range")
    if (q - qr["min"]) % qr.get("step", 1) != 0:
        raise PricingErr("quantity_step")
    groups = {g["id"]: g for g in cat.get("customer_groups", [])}
    group = None
    if req.get("customer_group") is not None:
        group = groups.get(req["customer_group"])
        if group is None:
            raise PricingErr("unknown_customer_group")
    rules = {(r["region"], r["category"]): r for r in cat["tax"]["rules"]}
    region = req["region"]
    rule = rules.get((region, p["tax_category"]))
    if rule is None and "-" in region:
        rule = rules.get((region.split("-", 1)[0], p["tax_category"]))
    if rule is None:
        raise PricingErr("no_tax_rule")
    cur = req.get("currency") or cat["currency"]
    if cur == cat["currency"]:
        rate = D(1)
    elif cur in cat.get("exchange_rates", {}):
        rate = dec(cat["exchange_rates"][cur])
    else:
        raise PricingErr("currency_unsupported")
    dp = MINOR[cur]
    if method in ("sheet", "booklet"):
        trim_w = dec(p["size"]["w_mm"]) * (2 if method == "booklet" else 1)
        press, n_up, rotated = layout(cat, p, trim_w)
        if n_up == 0:
            raise PricingErr("does_not_fit")

    # 2.-4. cost lines: (kind, id, label, cost numerator, integer denominator)
    Q = D(q)
    costs = []
    imposition = cover_imposition = None
    if method == "sheet":
        color = req["color"]
        imposition = form(q, n_up, press, color, rotated)
        S = D(imposition["sheets"])
        paper = papers[req["paper"]]
        costs.append(("paper", paper["id"], paper.get("name", paper["id"]), S * D(paper["sheet_cost"]), 1))
        costs.append(("print", color, "Printing " + color, S * D(press["click_cost"][color]), 1))
        for fid in fin_ids:
            f = fins[fid]
            c = D(f.get("setup", "0")) + S * D(f.get("per_sheet", "0")) + Q * D(f.get("per_piece", "0"))
            costs.append(("finishing", fid, f.get("name", fid), c, 1))
    elif method == "area":
        material = {x["id"]: x for x in cat["materials"]}[req["material"]]
        color = req["color"]
        piece = w * h / D(10 ** 6)  # exact: a division by a power of ten
        billable = max(piece, dec(p.get("min_area_sqm", 0)))
        A = billable * Q
        P = 2 * (w + h) / D(1000) * Q
        costs.append(("material", material["id"], material.get("name", material["id"]),
                      A * D(material["per_sqm"]), 1))
        costs.append(("print", color, "Printing " + color, A * D(p["ink_per_sqm"][color]), 1))
        for fid in fin_ids:
            f = fins[fid]
            c = (D(f.get("setup", "0")) + Q * D(f.get("per_piece", "0"))
                 + A * D(f.get("per_sqm", "0")) + P * D(f.get("per_m", "0")))
            costs.append(("finishing", fid, f.get("name", fid), c, 1))
    elif method == "breaks":
        num, den = break_base(p, q)
        costs.append(("base", None, p.get("name", p["id"]), num, den))
        offered = {o["id"]: o for o in p.get("options", [])}
        for oid in req.get("options", []):
            o = offered[oid]
            costs.append(("option", oid, o.get("name", oid),
                          D(o.get("per_job", "0")) + Q * D(o.get("per_unit", "0")), 1))
        for fid in fin_ids:
            f = fins[fid]
            costs.append(("finishing", fid, f.get("name", fid),
                          D(f.get("setup", "0")) + Q * D(f.get("per_piece", "0")), 1))
    else:  # booklet
        color = req["color"]
        inner_spreads = req["pages"] // 4 - 1
        imposition = form(q * inner_spreads, n_up, press, color, rotated)
        cover_imposition = form(q, n_up, press, color, rotated)
        SI, SC = D(imposition["sheets"]), D(cover_imposition["sheets"])
        paper = papers[req["paper"]]
        cover = papers[req.get("cover_paper") or req["paper"]]
        click = D(press["click_cost"][color])
        costs.append(("paper", paper["id"], "Inner pages: " + paper.get("name", paper["id"]),
                      SI * D(paper["sheet_cost"]), 1))
        costs.append(("paper", cover["id"], "Cover: " + cover.get("name", cover["id"]),
                      SC * D(cover["sheet_cost"]), 1))
        costs.append(("print", color, "Printing inner pages " + color, SI * click, 1))
        costs.append(("print", color, "Printing cover " + color, SC * click, 1))
        for fid in fin_ids:
            f = fins[fid]
            c = D(f.get("setup", "0")) + SC * D(f.get("per_sheet", "0")) + Q * D(f.get("per_piece", "0"))
            costs.append(("finishing", fid, f.get("name", fid), c, 1))
        b = p["binding"]
        label = {"saddle_stitch": "Saddle stitching", "perfect": "Perfect binding"}[b["kind"]]
        costs.append(("binding", b["kind"], label,
                      D(b.get("setup", "0")) + Q * D(b.get("per_piece", "0")), 1))
    costs.append(("setup", None, "Setup fee", D(p.get("setup_fee", "0")), 1))

    # 5.-7. selling lines, currency, rounding, minimum
    turnaround = {x["id"]: x for x in cat["turnarounds"]}[req["turnaround"]]
    markup = D(1) + dec(p.get("markup_pct", "0")) / 100
    mult = dec(turnaround["multiplier"])
    lines = []
    price = D(0)
    for kind, lid, label, cost, den in costs:
        amount = rnd_div(cost * markup * mult * rate, den, dp)
        price += amount
        line = {"kind": kind}
        if lid is not None:
            line["id"] = lid
        line["label"] = label
        line["amount"] = fmt(amount, dp)
        lines.append(line)
    minimum = rnd(D(p.get("minimum_price", "0")) * rate, dp)
    if price < minimum:
        lines.append({"kind": "minimum_charge", "label": "Minimum charge",
                      "amount": fmt(minimum - price, dp)})
        subtotal = minimum
    else:
        subtotal = price

    # 8. discounts
    group_amt = rnd(subtotal * dec(group["discount_pct"]) / 100, dp) if group else D(0)
    discounts = []
    keep_group = group is not None
    coupon_amt = None
    code = req.get("coupon")
    if code is not None:
        cmap = {c["code"].lower(): c for c in cat.get("coupons", [])}
        c = cmap.get(code.lower())
        if c is None:
            raise PricingErr("coupon_unknown")
        if "products" in c and p["id"] not in c["products"]:
            raise PricingErr("coupon_not_applicable")
        at = parse_at(req["at"])
        if "valid_from" in c and at < parse_at(c["valid_from"]):
            raise PricingErr("coupon_not_yet_valid")
        if "valid_until" in c and at >= parse_at(c["valid_until"]):
            raise PricingErr("coupon_expired")
        if subtotal < D(c.get("min_subtotal", "0")) * rate:
            raise PricingErr("coupon_min_subtotal")
        value = D(c["value"])
        stack = c.get("stackable_with_group", True)
        if not stack and group is not None:
            if c["kind"] == "percent":
                alone = rnd(subtotal * value / 100, dp)
            else:
                alone = min(rnd(value * rate, dp), subtotal)
            if alone > group_amt:
                keep_group = False
                coupon_amt = (c["code"], alone)
        else:
            if c["kind"] == "percent":
                amt = rnd((subtotal - group_amt) * value / 100, dp)
            else:
                amt = min(rnd(value * rate, dp), subtotal - group_amt)
            coupon_amt = (c["code"], amt)
    net = subtotal
    if keep_group:
        net -= group_amt
        discounts.append({"kind": "group", "id": group["id"], "amount": fmt(group_amt, dp)})
    if coupon_amt is not None:
        net -= coupon_amt[1]
        discounts.append({"kind": "coupon", "id": coupon_amt[0], "amount": fmt(coupon_amt[1], dp)})
    net = max(net, D(0))

    # 9.-10.
    rate_pct = dec(rule["rate_pct"])
    tax = rnd(net * rate_pct / 100, dp)
    total = net + tax
    unit = (net / Q).quantize(D("0.0001"), rounding=ROUND_HALF_UP)

    # 11.
    extra = max([int(fins[f].get("extra_days", 0)) for f in fin_ids] + [0])
    bdays = int(turnaround["days"]) + extra
    at = parse_at(req["at"])
    day = at.date()
    counted = 0
    try:  # Python dates end at 9999-12-31, like RFC 3339
        while counted < bdays:
            day = day + timedelta(days=1)
            if day.weekday() < 5:
                counted += 1
        valid_until = at + timedelta(days=int(cat["quote_validity_days"]))
    except OverflowError:
        raise PricingErr("invalid_request") from None

    out = {
        "lines": lines,
        "subtotal": fmt(subtotal, dp),
        "discounts": discounts,
        "net": fmt(net, dp),
        "tax": {"region": rule["region"], "rate_pct": fmt_norm(rate_pct), "amount": fmt(tax, dp)},
        "total": fmt(total, dp),
        "currency": cur,
        "unit_price": format(unit, "f"),
    }
    if imposition is not None:
        out["imposition"] = imposition
    if cover_imposition is not None:
        out["cover_imposition"] = cover_imposition
    out["production"] = {"business_days": bdays, "ship_date": day.isoformat()}
    out["catalog_version"] = cat["version"]
    out["valid_until"] = valid_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


# --------------------------------------------------------------------------
# Catalogs
# --------------------------------------------------------------------------

BASE = {
    "version": "2026-11-28.1",
    "currency": "EUR",
    "exchange_rates": {"GBP": "0.86", "JPY": "162.5", "BHD": "0.4125", "KWD": "0.3335", "USD": "1.0825"},
    "quote_validity_days": 14,
    "presses": [{"id": "sra3-digital", "sheet": {"w_mm": 320, "h_mm": 450}, "margin_mm": 5,
                 "click_cost": {"4/0": "0.09", "4/4": "0.18", "1/0": "0.02", "1/1": "0.04"},
                 "setup_sheets": {"4/0": 5, "4/4": 8, "1/0": 3, "1/1": 4}, "spoilage_pct": "2"}],
    "papers": [{"id": "silk-350", "name": "Silk 350 gsm", "gsm": 350, "sheet_cost": "0.18"},
               {"id": "uncoated-120", "name": "Uncoated 120 gsm", "gsm": 120, "sheet_cost": "0.045"}],
    "finishing": [
        {"id": "matt-lam", "name": "Matt lamination", "setup": "8.00", "per_sheet": "0.12", "per_piece": "0", "extra_days": 1},
        {"id": "round-corners", "name": "Round corners", "setup": "3.50", "per_sheet": "0", "per_piece": "0.004", "extra_days": 2},
        {"id": "spot-uv", "name": "Spot UV", "setup": "25.00", "per_sheet": "0.35", "per_piece": "0.001", "extra_days": 3},
    ],
    "turnarounds": [{"id": "standard", "days": 5, "multiplier": "1.0"},
                    {"id": "express", "days": 2, "multiplier": "1.25"},
                    {"id": "same-day", "days": 0, "multiplier": "2"}],
    "customer_groups": [{"id": "trade", "discount_pct": "15"}, {"id": "reseller", "discount_pct": "10"},
                        {"id": "staff", "discount_pct": "100"}, {"id": "none", "discount_pct": "0"}],
    "coupons": [
        {"code": "WELCOME10", "kind": "percent", "value": "10", "valid_from": "2026-01-01T00:00:00Z",
         "valid_until": "2027-01-01T00:00:00Z", "min_subtotal": "20.00", "products": ["business-card"],
         "stackable_with_group": True},
        {"code": "FIVEOFF", "kind": "fixed", "value": "5.00", "stackable_with_group": True},
        {"code": "BIGFIXED", "kind": "fixed", "value": "1000.00"},
        {"code": "Solo20", "kind": "percent", "value": "20", "stackable_with_group": False},
        {"code": "SOLO15", "kind": "percent", "value": "15", "stackable_with_group": False},
        {"code": "SoloFix", "kind": "fixed", "value": "9.00", "stackable_with_group": False},
        {"code": "FLYERS", "kind": "percent", "value": "5", "products": ["flyer-a6"]},
        {"code": "LATER", "kind": "percent", "value": "5", "valid_from": "2027-01-01T00:00:00Z"},
        {"code": "OLD", "kind": "percent", "value": "5", "valid_until": "2026-06-01T00:00:00Z"},
        {"code": "HALF", "kind": "percent", "value": "50", "min_subtotal": "100.00"},
    ],
    "tax": {"rules": [{"region": "DE", "category": "standard", "rate_pct": "19"},
                      {"region": "DE", "category": "reduced", "rate_pct": "7"},
                      {"region": "US-CA", "category": "standard", "rate_pct": "7.25"},
                      {"region": "US", "category": "standard", "rate_pct": "0"},
                      {"region": "GB", "category": "standard", "rate_pct": "20.0"},
                      {"region": "JP", "category": "standard", "rate_pct": "10"},
                      {"region": "BH", "category": "standard", "rate_pct": "10"},
                      {"region": "CH", "category": "standard", "rate_pct": "8.1"}]},
    "products": [
        {"id": "business-card", "name": "Business cards", "method": "sheet", "tax_category": "standard",
         "size": {"w_mm": 85, "h_mm": 55}, "bleed_mm": 2, "gutter_mm": 0, "grain_critical": False,
         "press": "sra3-digital", "papers": ["silk-350"], "colors": ["4/0", "4/4"],
         "finishing": ["matt-lam", "round-corners"], "turnarounds": ["standard", "express"],
         "quantity": {"min": 50, "max": 10000, "step": 50},
         "setup_fee": "5.00", "markup_pct": "60", "minimum_price": "15.00"},
        {"id": "flyer-a6", "name": "Flyers A6", "method": "sheet", "tax_category": "standard",
         "size": {"w_mm": 105, "h_mm": 148}, "bleed_mm": 3, "gutter_mm": 4, "grain_critical": False,
         "press": "sra3-digital", "papers": ["silk-350", "uncoated-120"], "colors": ["4/0", "4/4", "1/0", "1/1"],
         "finishing": ["matt-lam", "spot-uv"], "turnarounds": ["standard", "express", "same-day"],
         "quantity": {"min": 25, "max": 50000, "step": 25},
         "setup_fee": "7.50", "markup_pct": "45.5", "minimum_price": "30.00"},
        {"id": "long-card", "name": "Long cards", "method": "sheet", "tax_category": "standard",
         "size": {"w_mm": 210, "h_mm": 99}, "bleed_mm": 2, "gutter_mm": 0, "grain_critical": False,
         "press": "sra3-digital", "papers": ["silk-350"], "colors": ["4/4"], "finishing": [],
         "turnarounds": ["standard"], "quantity": {"min": 10, "max": 5000, "step": 1},
         "setup_fee": "0", "markup_pct": "50", "minimum_price": "0"},
        {"id": "long-card-grain", "name": "Long cards (grain critical)", "method": "sheet", "tax_category": "standard",
         "size": {"w_mm": 210, "h_mm": 99}, "bleed_mm": 2, "gutter_mm": 0, "grain_critical": True,
         "press": "sra3-digital", "papers": ["silk-350"], "colors": ["4/4"], "finishing": [],
         "turnarounds": ["standard"], "quantity": {"min": 10, "max": 5000, "step": 1},
         "setup_fee": "0", "markup_pct": "50", "minimum_price": "0"},
        {"id": "decimal-card", "name": "Decimal cards", "method": "sheet", "tax_category": "reduced",
         "size": {"w_mm": 85.5, "h_mm": "54.5"}, "bleed_mm": "1.5", "gutter_mm": 2.5, "grain_critical": False,
         "press": "sra3-digital", "papers": ["silk-350", "uncoated-120"], "colors": ["4/0", "1/0"],
         "finishing": ["matt-lam"], "turnarounds": ["standard", "express"],
         "quantity": {"min": 1, "max": 100000, "step": 1},
         "setup_fee": "2.345", "markup_pct": "33.3", "minimum_price": "9.99"},
        {"id": "poster-a2", "name": "Poster A2", "method": "sheet", "tax_category": "standard",
         "size": {"w_mm": 420, "h_mm": 594}, "bleed_mm": 3, "press": "sra3-digital",
         "papers": ["silk-350"], "colors": ["4/0"], "turnarounds": ["standard"],
         "quantity": {"min": 1, "max": 100}, "markup_pct": "50"},
        {"id": "banner", "name": "Banner", "method": "wallpaper", "tax_category": "standard"},
    ],
}

WORKED_REQUEST = {"product": "business-card", "quantity": 500, "paper": "silk-350", "color": "4/4",
                  "finishing": ["matt-lam"], "turnaround": "express", "customer_group": "trade",
                  "coupon": "welcome10", "region": "DE", "currency": "EUR", "at": "2026-11-28T10:00:00Z"}

# The exact catalog of the specification's worked example.
SPEC = {
    "version": "2026-11-28.1", "currency": "EUR", "exchange_rates": {"GBP": "0.86", "JPY": "162.5"},
    "quote_validity_days": 14,
    "presses": [{"id": "sra3-digital", "sheet": {"w_mm": 320, "h_mm": 450}, "margin_mm": 5,
                 "click_cost": {"4/0": "0.09", "4/4": "0.18", "1/0": "0.02", "1/1": "0.04"},
                 "setup_sheets": {"4/0": 5, "4/4": 8, "1/0": 3, "1/1": 4}, "spoilage_pct": "2"}],
    "papers": [{"id": "silk-350", "name": "Silk 350 gsm", "gsm": 350, "sheet_cost": "0.18"}],
    "finishing": [{"id": "matt-lam", "name": "Matt lamination", "setup": "8.00", "per_sheet": "0.12", "per_piece": "0", "extra_days": 1}],
    "turnarounds": [{"id": "standard", "days": 5, "multiplier": "1.0"}, {"id": "express", "days": 2, "multiplier": "1.25"}],
    "customer_groups": [{"id": "trade", "discount_pct": "15"}],
    "coupons": [{"code": "WELCOME10", "kind": "percent", "value": "10", "valid_from": "2026-01-01T00:00:00Z",
                 "valid_until": "2027-01-01T00:00:00Z", "min_subtotal": "20.00", "products": ["business-card"],
                 "stackable_with_group": True}],
    "tax": {"rules": [{"region": "DE", "category": "standard", "rate_pct": "19"},
                      {"region": "US-CA", "category": "standard", "rate_pct": "7.25"}]},
    "products": [{"id": "business-card", "name": "Business cards", "method": "sheet", "tax_category": "standard",
                  "size": {"w_mm": 85, "h_mm": 55}, "bleed_mm": 2, "gutter_mm": 0, "grain_critical": False,
                  "press": "sra3-digital", "papers": ["silk-350"], "colors": ["4/0", "4/4"],
                  "finishing": ["matt-lam"], "turnarounds": ["standard", "express"],
                  "quantity": {"min": 50, "max": 10000, "step": 50},
                  "setup_fee": "5.00", "markup_pct": "60", "minimum_price": "15.00"}],
}


def req(**kw):
    r = {"product": "business-card", "quantity": 500, "paper": "silk-350", "color": "4/4",
         "turnaround": "standard", "region": "DE", "at": "2026-11-28T10:00:00Z"}
    r.update(kw)
    return {k: v for k, v in r.items() if v is not None}


class Suite:
    def __init__(self, name, description, catalogs):
        self.name = name
        self.description = description
        self.catalogs = catalogs
        self.cases = []

    def case(self, name, request, catalog="base", error=None):
        if not isinstance(catalog, str):  # register once, refer by name
            found = [k for k, v in self.catalogs.items() if v == catalog]
            if found:
                catalog = found[0]
            else:
                key = f"c{len(self.catalogs)}"
                self.catalogs[key] = copy.deepcopy(catalog)
                catalog = key
        cat = self.catalogs[catalog]
        entry = {"name": name, "catalog": catalog, "request": request}
        if error is not None:  # hand-specified expectation (malformed input)
            entry["error"] = error
        else:
            try:
                entry["expected"] = reference_quote(cat, request)
            except PricingErr as e:
                entry["error"] = e.as_json()
        self.cases.append(entry)
        return entry

    def write(self, check):
        doc = {"description": self.description, "catalogs": self.catalogs, "cases": self.cases}
        text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
        path = HERE / (self.name + ".json")
        if check:
            if not path.exists() or path.read_text() != text:
                sys.exit(f"{path.name} is out of date; run generate.py")
        else:
            path.write_text(text)
        return len(self.cases)


def with_changes(cat, fn):
    c = copy.deepcopy(cat)
    fn(c)
    return c


def core_suite():
    s = Suite("sheet_core", "Worked example, option/quantity sweeps, discounts, tax, currencies, dates.",
              {"base": BASE, "spec": SPEC})
    e = s.case("worked example EUR", dict(WORKED_REQUEST), "spec")["expected"]
    # Hand-verified numbers from the specification.
    assert e["imposition"] == {"n_up": 21, "rotated": False, "run_sheets": 24, "spoilage_sheets": 1,
                               "setup_sheets": 8, "sheets": 33}, e
    assert [l["amount"] for l in e["lines"]] == ["11.88", "11.88", "23.92", "10.00"], e
    assert (e["subtotal"], e["net"], e["tax"]["amount"], e["total"], e["unit_price"]) == \
        ("57.68", "44.13", "8.38", "52.51", "0.0883"), e
    assert [d["amount"] for d in e["discounts"]] == ["8.65", "4.90"], e
    assert e["discounts"][1]["id"] == "WELCOME10"
    assert e["production"] == {"business_days": 3, "ship_date": "2026-12-02"}, e
    assert e["valid_until"] == "2026-12-12T10:00:00Z"
    g = s.case("worked example GBP", dict(WORKED_REQUEST, currency="GBP"), "spec")["expected"]
    assert g["total"] == "45.16", g
    s.case("worked example default currency", {k: v for k, v in WORKED_REQUEST.items() if k != "currency"}, "spec")
    s.case("worked example JPY", dict(WORKED_REQUEST, currency="JPY"), "spec")
    s.case("worked example US-CA own rule", dict(WORKED_REQUEST, region="US-CA"), "spec")
    s.case("worked example same coupon upper case", dict(WORKED_REQUEST, coupon="WELCOME10"), "spec")
    s.case("worked example mixed case coupon", dict(WORKED_REQUEST, coupon="WeLcOmE10"), "spec")

    for q in [50, 100, 150, 250, 500, 1000, 1050, 2000, 2500, 5000, 9950, 10000]:
        for color in ["4/0", "4/4"]:
            s.case(f"business-card q={q} {color}", req(quantity=q, color=color))
    for fins in [[], ["matt-lam"], ["round-corners"], ["matt-lam", "round-corners"], ["round-corners", "matt-lam"]]:
        for t in ["standard", "express"]:
            s.case(f"business-card finishing {fins} {t}", req(finishing=fins, turnaround=t, quantity=1000))
    for q in [25, 100, 475, 1000, 12500, 50000]:
        for paper in ["silk-350", "uncoated-120"]:
            for color in ["4/0", "1/1"]:
                s.case(f"flyer q={q} {paper} {color}", req(product="flyer-a6", quantity=q, paper=paper, color=color,
                                                          finishing=["spot-uv"], turnaround="same-day"))
    # groups and coupons
    for grp in [None, "trade", "reseller", "staff", "none"]:
        for cp in [None, "WELCOME10", "FIVEOFF", "BIGFIXED", "Solo20", "solo15", "SOLOFIX", "half"]:
            s.case(f"discounts group={grp} coupon={cp}", req(quantity=1000, customer_group=grp, coupon=cp,
                                                               finishing=["matt-lam"]))
    # tax regions
    for region in ["DE", "US-CA", "US-NY", "US", "GB", "GB-SCT", "FR", "DE-BY", "USA", "US-"]:
        s.case(f"tax region {region}", req(region=region))
    s.case("tax reduced category", req(product="decimal-card", paper="silk-350", color="4/0", quantity=100, region="DE"))
    s.case("tax reduced category no rule in US", req(product="decimal-card", paper="silk-350", color="4/0",
                                                       quantity=100, region="US-CA"))
    # currencies
    for cur in ["EUR", "GBP", "JPY", "BHD", "KWD", "USD", "CHF", "eur"]:
        s.case(f"currency {cur}", req(currency=cur, customer_group="trade", coupon="FIVEOFF", finishing=["matt-lam"]))
    # ship dates across the week
    for day in range(23, 30):
        for t, fins in [("standard", []), ("express", ["matt-lam"]), ("express", ["round-corners", "matt-lam"])]:
            s.case(f"ship date from 2026-11-{day} {t} {fins}",
                   req(at=f"2026-11-{day}T23:59:59Z", turnaround=t, finishing=fins))
    for t in ["same-day", "express"]:
        s.case(f"ship date {t} from Saturday", req(product="flyer-a6", quantity=100, turnaround=t, at="2026-11-28T08:00:00Z"))
        s.case(f"ship date {t} from Friday", req(product="flyer-a6", quantity=100, turnaround=t, at="2026-11-27T08:00:00Z"))
    s.case("at with offset crossing midnight", req(at="2026-11-30T00:30:00+02:00", turnaround="express"))
    s.case("ship date over new year", req(at="2026-12-31T12:00:00Z", finishing=["round-corners"]))
    return s


def geometry_suite():
    s = Suite("sheet_geometry", "Imposition: rotation, grain, gutter, decimal dimensions, spoilage rounding, minimum charge.",
              {"base": BASE})
    for q in [10, 11, 19, 20, 21, 100, 101, 4999]:
        s.case(f"long card rotated q={q}", req(product="long-card", quantity=q))
        s.case(f"long card grain critical q={q}", req(product="long-card-grain", quantity=q))
    for q in [1, 2, 21, 27, 28, 29, 333, 1000, 99999]:
        for paper in ["silk-350", "uncoated-120"]:
            s.case(f"decimal card q={q} {paper}", req(product="decimal-card", quantity=q, paper=paper, color="4/0",
                                                      finishing=["matt-lam"] if q % 2 else [], turnaround="express"))
    s.case("poster does not fit", req(product="poster-a2", quantity=10, color="4/0"))
    s.case("flyer minimum charge applies", req(product="flyer-a6", quantity=25, paper="uncoated-120", color="1/0"))
    s.case("flyer minimum charge in GBP", req(product="flyer-a6", quantity=25, paper="uncoated-120", color="1/0",
                                              currency="GBP"))
    s.case("business-card minimum charge with group", req(quantity=50, color="4/0", customer_group="trade"))
    s.case("business-card minimum charge in JPY", req(quantity=50, color="4/0", currency="JPY"))

    # spoilage rounding and gutter variants on generated presses
    for spoil in ["0", "0.5", "2", "2.5", "10", "33.33", "100"]:
        cat = with_changes(BASE, lambda c, sp=spoil: c["presses"][0].update(spoilage_pct=sp))
        for q in [50, 1000, 2050]:
            s.case(f"spoilage {spoil}% q={q}", req(quantity=q), catalog=cat)
    for gutter in [0, 1, 2.5, "3.25", 10]:
        cat = with_changes(BASE, lambda c, g=gutter: c["products"][0].update(gutter_mm=g))
        s.case(f"gutter {gutter}", req(quantity=1000), catalog=cat)
    for margin in [0, "2.5", 12]:
        cat = with_changes(BASE, lambda c, m=margin: c["presses"][0].update(margin_mm=m))
        s.case(f"margin {margin}", req(quantity=1000), catalog=cat)
    return s


def rounding_suite():
    """Catalogs built so that lines, discounts and tax land exactly on half minor units."""
    s = Suite("sheet_rounding", "Half-minor-unit cases for 0, 2 and 3 decimal currencies.", {"base": BASE})
    half = with_changes(BASE, lambda c: c["products"][0].update(setup_fee="1.00", markup_pct="12.5"))
    s.case("setup line 1.125 rounds up", req(quantity=50), catalog=half)
    s.case("setup line half in GBP", req(quantity=50, currency="GBP"), catalog=half)
    s.case("setup line half in BHD", req(quantity=50, currency="BHD"), catalog=half)
    s.case("setup line half in KWD", req(quantity=50, currency="KWD"), catalog=half)
    s.case("setup line half in JPY", req(quantity=50, currency="JPY"), catalog=half)
    # JPY: 0.04 * 162.5 = 6.5 per sheet; 1/1 clicks
    jp = with_changes(BASE, lambda c: c["products"][1].update(markup_pct="0"))
    for q in [25, 50, 75, 100, 125]:
        s.case(f"JPY flyer q={q}", req(product="flyer-a6", quantity=q, paper="uncoated-120", color="1/1",
                                        currency="JPY", region="JP"), catalog=jp)
        s.case(f"BHD flyer q={q}", req(product="flyer-a6", quantity=q, paper="uncoated-120", color="1/1",
                                        currency="BHD", region="BH"), catalog=jp)
    # group discount of exactly x.xx5 and tax of exactly x.xx5
    for fee in ["10.10", "10.30", "10.50", "11.70", "33.30", "0.10"]:
        cat = with_changes(BASE, lambda c, f=fee: c["products"].append(
            {"id": "fee-only", "name": "Fee only", "method": "sheet", "tax_category": "standard",
             "size": {"w_mm": 100, "h_mm": 100}, "press": "sra3-digital", "papers": ["uncoated-120"],
             "colors": ["1/0"], "turnarounds": ["standard"], "quantity": {"min": 1, "max": 10},
             "setup_fee": f, "markup_pct": "0", "minimum_price": "0"}))
        cat["presses"][0]["click_cost"]["1/0"] = "0"
        cat["papers"][1]["sheet_cost"] = "0"
        for grp in [None, "trade", "reseller"]:
            for cp in [None, "Solo20", "SOLO15", "SoloFix", "FIVEOFF", "BIGFIXED"]:
                s.case(f"fee {fee} group={grp} coupon={cp}",
                       req(product="fee-only", quantity=1, paper="uncoated-120", color="1/0",
                           customer_group=grp, coupon=cp, region="US-CA"), catalog=cat)
    # tie between non-stackable coupon and group discount: 15% vs 15%
    tie = with_changes(BASE, lambda c: c["customer_groups"].append({"id": "fifteen", "discount_pct": "15.0"}))
    for q in [50, 500, 5000]:
        s.case(f"tie group 15 vs SOLO15 q={q}", req(quantity=q, customer_group="fifteen", coupon="solo15"), catalog=tie)
        s.case(f"group 15 vs Solo20 q={q}", req(quantity=q, customer_group="fifteen", coupon="solo20"), catalog=tie)
    fixtie = with_changes(BASE, lambda c: (c["products"][0].update(setup_fee="0", minimum_price="60.00"),
                                           c["customer_groups"].append({"id": "g15", "discount_pct": "15"})))
    s.case("fixed 9.00 ties group 15% of 60.00", req(quantity=50, color="4/0", customer_group="g15", coupon="SOLOFIX"),
           catalog=fixtie)
    return s


def random_suite():
    rng = random.Random(20261128)
    s = Suite("sheet_random", "Seeded random catalogs and requests (reference: generate.py).", {})

    def money(lo, hi, dps=(2, 3, 4)):
        dp = rng.choice(dps)
        v = D(rng.randint(int(lo * 10 ** dp), int(hi * 10 ** dp))).scaleb(-dp)
        return format(v, "f")

    for i in range(60):
        cat = copy.deepcopy(BASE)
        cur = rng.choice(["EUR", "EUR", "GBP", "JPY", "BHD"])
        cat["currency"] = cur
        cat["exchange_rates"] = {c: money(0.05, 200, (2, 3, 4)) for c in ["EUR", "GBP", "JPY", "BHD", "USD"] if c != cur}
        press = cat["presses"][0]
        press["sheet"] = {"w_mm": rng.choice([320, 330, "330.2", 350, 464, 520]), "h_mm": rng.choice([450, 482.6, 488, 660, 720])}
        press["margin_mm"] = rng.choice([0, 3, 5, "6.5"])
        press["spoilage_pct"] = money(0, 8, (0, 1, 2))
        for k in press["click_cost"]:
            press["click_cost"][k] = money(0, 0.6)
            press["setup_sheets"][k] = rng.randint(0, 25)
        for pap in cat["papers"]:
            pap["sheet_cost"] = money(0.01, 1.2)
        for f in cat["finishing"]:
            f.update(setup=money(0, 40, (0, 2)), per_sheet=money(0, 0.5), per_piece=money(0, 0.05, (3, 4)),
                     extra_days=rng.randint(0, 4))
        cat["turnarounds"][1]["multiplier"] = money(1, 2, (1, 2, 3))
        cat["turnarounds"][1]["days"] = rng.randint(0, 6)
        cat["customer_groups"][0]["discount_pct"] = money(0, 30, (0, 1, 2))
        cat["tax"]["rules"][0]["rate_pct"] = money(0, 27, (0, 1, 2))
        cat["quote_validity_days"] = rng.randint(0, 60)
        for c in cat["coupons"]:
            if c["kind"] == "fixed":
                c["value"] = money(0, 60, (0, 2))
        prod = cat["products"][0]
        prod.update(size={"w_mm": rng.choice([54, 55, 85, "85.6", 90, 99, 105, 148, 210]),
                          "h_mm": rng.choice([50, 55, "53.98", 85, 99, 148, 210, 297])},
                    bleed_mm=rng.choice([0, 1, 2, "2.5", 3]), gutter_mm=rng.choice([0, 0, 2, "2.5", 5]),
                    grain_critical=rng.random() < 0.3, setup_fee=money(0, 30, (0, 2)),
                    markup_pct=money(0, 150, (0, 1, 2)), minimum_price=money(0, 80, (0, 2)),
                    quantity={"min": rng.choice([1, 10, 50]), "max": 20000, "step": rng.choice([1, 5, 50])})
        qmin, step = prod["quantity"]["min"], prod["quantity"]["step"]
        for j in range(3):
            q = qmin + step * rng.randint(0, 400 // step + 40)
            fins = rng.sample(["matt-lam", "round-corners"], rng.randint(0, 2))
            r = req(quantity=q, color=rng.choice(["4/0", "4/4"]), finishing=fins,
                    turnaround=rng.choice(["standard", "express"]),
                    customer_group=rng.choice([None, "trade"]),
                    coupon=rng.choice([None, "FIVEOFF", "solo20", "SoloFix", "bigfixed"]),
                    currency=rng.choice([None, "EUR", "GBP", "JPY", "BHD", "USD"]),
                    region=rng.choice(["DE", "US-CA", "US-TX", "GB"]),
                    at=f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z")
            s.case(f"random {i}.{j}", r, catalog=cat)
    return s


def errors_suite():
    s = Suite("errors", "Every error code, in the normative validation order.", {"base": BASE})
    # request-level errors (computed by the reference)
    s.case("unknown product", req(product="nope", paper="nope", quantity=0))
    s.case("unsupported method", req(product="banner", paper="nope", quantity=0))
    s.case("paper not allowed (exists elsewhere)", req(paper="uncoated-120", color="nope", finishing=["x", "x"]))
    s.case("paper not allowed (unknown)", req(paper="gold-leaf"))
    s.case("color not allowed", req(color="1/0", finishing=["x", "x"]))
    s.case("duplicate finishing before unknown finishing", req(finishing=["spot-uv", "matt-lam", "matt-lam"]))
    s.case("duplicate finishing", req(finishing=["matt-lam", "matt-lam"]))
    s.case("finishing not allowed", req(finishing=["matt-lam", "spot-uv"], turnaround="nope"))
    s.case("turnaround not allowed", req(turnaround="same-day", quantity=1))
    s.case("turnaround unknown", req(turnaround="yesterday"))
    s.case("quantity below min", req(quantity=0, customer_group="nope"))
    s.case("quantity below min 49", req(quantity=49))
    s.case("quantity above max", req(quantity=10050))
    s.case("quantity step", req(quantity=75, customer_group="nope"))
    s.case("quantity max allowed", req(quantity=10000))
    s.case("unknown customer group", req(customer_group="vip", region="FR"))
    s.case("no tax rule", req(region="FR", currency="XXX"))
    s.case("no tax rule for lower-case region", req(region="de"))
    s.case("currency unsupported", req(currency="CHF", product="poster-a2", color="4/0", quantity=1))
    s.case("currency unknown code", req(currency="XYZ"))
    s.case("does not fit before coupon", req(product="poster-a2", color="4/0", quantity=1, coupon="nope"))
    s.case("coupon unknown", req(coupon="WELCOME11"))
    s.case("coupon not applicable", req(coupon="flyers", at="2020-01-01T00:00:00Z"))
    s.case("coupon applicable to flyer", req(product="flyer-a6", quantity=500, coupon="flyers"))
    s.case("coupon not yet valid", req(coupon="later"))
    s.case("coupon valid from boundary", req(coupon="later", at="2027-01-01T00:00:00Z"))
    s.case("coupon expired", req(coupon="old"))
    s.case("coupon valid until boundary is expired", req(coupon="welcome10", at="2027-01-01T00:00:00Z"))
    s.case("coupon valid just before until", req(coupon="welcome10", at="2026-12-31T23:59:59Z"))
    s.case("coupon before valid_from", req(coupon="welcome10", at="2025-12-31T23:59:59Z"))
    s.case("coupon min subtotal", req(coupon="half", quantity=50))
    s.case("coupon min subtotal met", req(coupon="half", quantity=2000))
    s.case("coupon min subtotal converted GBP", req(coupon="welcome10", quantity=50, color="4/0", currency="GBP"))
    s.case("ship date after year 9999", req(at="9999-12-28T10:00:00Z"))
    s.case("valid_until after year 9999", req(product="flyer-a6", quantity=100, turnaround="same-day",
                                              at="9999-12-20T10:00:00Z"))
    s.case("latest representable quote", req(product="flyer-a6", quantity=100, turnaround="same-day",
                                              at="9999-12-17T10:00:00Z"))
    # request-shape errors: hand-specified
    bad = {"code": "invalid_request"}
    s.case("unknown request field", dict(req(), colour="4/4"), error=bad)
    s.case("quantity as string", req(quantity="500"), error=bad)
    s.case("negative quantity", req(quantity=-5), error=bad)
    s.case("fractional quantity", req(quantity=50.5), error=bad)
    s.case("missing at", {k: v for k, v in req().items() if k != "at"}, error=bad)
    s.case("malformed at", req(at="28/11/2026"), error=bad)
    s.case("missing product", {k: v for k, v in req().items() if k != "product"}, error=bad)
    s.case("finishing not a list", req(finishing="matt-lam"), error=bad)
    s.case("request not an object", ["business-card"], error=bad)
    s.case("missing paper for sheet", {k: v for k, v in req().items() if k != "paper"}, error=bad)
    s.case("area-only field on sheet", req(width_mm=100), error=bad)
    return s


def catalog_errors_suite():
    s = Suite("catalog_errors", "Malformed catalogs: invalid_catalog with the JSON path of the first bad field.",
              {"base": BASE})

    def bad(name, path, fn):
        cat = with_changes(BASE, fn)
        s.case(name, req(), catalog=cat, error={"code": "invalid_catalog", "field": path})

    bad("unknown press", "products[0].press", lambda c: c["products"][0].update(press="offset-b1"))
    bad("unknown paper", "products[1].papers[1]", lambda c: c["products"][1].update(papers=["silk-350", "x"]))
    bad("unknown finishing", "products[0].finishing[1]", lambda c: c["products"][0].update(finishing=["matt-lam", "foil"]))
    bad("unknown turnaround", "products[0].turnarounds[0]", lambda c: c["products"][0].update(turnarounds=["slow"]))
    bad("color without click cost", "products[0].colors[1]", lambda c: c["products"][0].update(colors=["4/0", "6/0"]))
    bad("negative sheet cost", "papers[1].sheet_cost", lambda c: c["papers"][1].update(sheet_cost="-0.01"))
    bad("numeric money rejected", "papers[0].sheet_cost", lambda c: c["papers"][0].update(sheet_cost=0.18))
    bad("negative click cost", "presses[0].click_cost.4/4", lambda c: c["presses"][0]["click_cost"].update({"4/4": "-1"}))
    bad("negative finishing setup", "finishing[2].setup", lambda c: c["finishing"][2].update(setup="-25.00"))
    bad("unknown currency", "currency", lambda c: c.update(currency="EURO"))
    bad("unknown exchange currency", "exchange_rates.XXY", lambda c: c["exchange_rates"].update(XXY="1"))
    bad("zero exchange rate", "exchange_rates.GBP", lambda c: c["exchange_rates"].update(GBP="0"))
    bad("zero sheet width", "presses[0].sheet.w_mm", lambda c: c["presses"][0]["sheet"].update(w_mm=0))
    bad("margin eats sheet", "presses[0].margin_mm", lambda c: c["presses"][0].update(margin_mm=160))
    bad("negative bleed", "products[0].bleed_mm", lambda c: c["products"][0].update(bleed_mm=-1))
    bad("zero product width", "products[0].size.w_mm", lambda c: c["products"][0]["size"].update(w_mm="0"))
    bad("missing press", "products[0].press", lambda c: c["products"][0].pop("press"))
    bad("missing version", "version", lambda c: c.pop("version"))
    bad("duplicate product id", "products[1].id", lambda c: c["products"][1].update(id="business-card"))
    bad("quantity max below min", "products[0].quantity.max", lambda c: c["products"][0]["quantity"].update(max=10))
    bad("quantity step zero", "products[0].quantity.step", lambda c: c["products"][0]["quantity"].update(step=0))
    bad("coupon unknown product", "coupons[6].products[0]", lambda c: c["coupons"][6].update(products=["flyer-a7"]))
    bad("coupon bad kind", "coupons[1].kind", lambda c: c["coupons"][1].update(kind="bogo"))
    bad("coupon duplicate code case-insensitive", "coupons[4].code", lambda c: c["coupons"][4].update(code="solo20"))
    bad("group discount above 100", "customer_groups[0].discount_pct", lambda c: c["customer_groups"][0].update(discount_pct="101"))
    bad("negative tax rate", "tax.rules[1].rate_pct", lambda c: c["tax"]["rules"][1].update(rate_pct="-7"))
    bad("turnaround zero multiplier", "turnarounds[1].multiplier", lambda c: c["turnarounds"][1].update(multiplier="0"))
    bad("negative markup", "products[0].markup_pct", lambda c: c["products"][0].update(markup_pct="-10"))
    bad("products not an array", "products", lambda c: c.update(products={}))
    bad("bad valid_until", "coupons[0].valid_until", lambda c: c["coupons"][0].update(valid_until="soon"))
    return s


# --------------------------------------------------------------------------
# Methods beyond sheet: area, breaks, booklet
# --------------------------------------------------------------------------

MBASE = {
    "version": "2026-12-01.m",
    "currency": "EUR",
    "exchange_rates": {"BHD": "0.4125", "GBP": "0.86", "JPY": "162.5", "USD": "1.0825"},
    "quote_validity_days": 30,
    "presses": [
        {"id": "sra3", "sheet": {"w_mm": 320, "h_mm": 450}, "margin_mm": 5,
         "click_cost": {"4/4": "0.18", "1/1": "0.04", "4/1": "0.11"},
         "setup_sheets": {"4/4": 8, "1/1": 4, "4/1": 6}, "spoilage_pct": "2"},
        {"id": "b2-offset", "sheet": {"w_mm": 520, "h_mm": 720}, "margin_mm": "7.5",
         "click_cost": {"4/4": "0.05", "1/1": "0.015"}, "setup_sheets": {"4/4": 120, "1/1": 40},
         "spoilage_pct": "3.5"},
    ],
    "papers": [
        {"id": "silk-130", "name": "Silk 130 gsm", "sheet_cost": "0.06"},
        {"id": "silk-150", "name": "Silk 150 gsm", "sheet_cost": "0.10"},
        {"id": "silk-350", "name": "Silk 350 gsm", "sheet_cost": "0.18"},
        {"id": "offset-90", "sheet_cost": "0.035"},
    ],
    "materials": [
        {"id": "pvc", "name": "PVC 510 g", "per_sqm": "6.00"},
        {"id": "mesh", "name": "Mesh 270 g", "per_sqm": "7.25"},
        {"id": "vinyl", "per_sqm": "3.333"},
    ],
    "finishing": [
        {"id": "hem", "name": "Hemming", "setup": "2.00", "per_m": "1.20"},
        {"id": "eyelets", "name": "Eyelets", "per_piece": "0.80", "extra_days": 1},
        {"id": "laminate", "name": "Laminate", "setup": "5.00", "per_sqm": "2.75", "per_sheet": "0.50",
         "extra_days": 2},
        {"id": "shrink-wrap", "name": "Shrink wrap", "setup": "1.50", "per_piece": "0.035"},
        {"id": "spot-uv", "name": "Spot UV", "setup": "25.00", "per_sheet": "0.35", "per_piece": "0.001",
         "extra_days": 3},
    ],
    "turnarounds": [{"id": "standard", "days": 3, "multiplier": "1"},
                    {"id": "express", "days": 1, "multiplier": "1.35"},
                    {"id": "economy", "days": 8, "multiplier": "0.9"}],
    "customer_groups": [{"id": "trade", "discount_pct": "15"}, {"id": "agency", "discount_pct": "7.5"}],
    "coupons": [
        {"code": "BANNER5", "kind": "percent", "value": "5", "products": ["banner"]},
        {"code": "TENOFF", "kind": "fixed", "value": "10.00", "min_subtotal": "50.00"},
        {"code": "Solo12", "kind": "percent", "value": "12", "stackable_with_group": False},
        {"code": "XMAS", "kind": "percent", "value": "20", "valid_from": "2026-12-01T00:00:00Z",
         "valid_until": "2026-12-27T00:00:00Z"},
    ],
    "tax": {"rules": [{"region": "DE", "category": "standard", "rate_pct": "19"},
                      {"region": "DE", "category": "reduced", "rate_pct": "7"},
                      {"region": "US-CA", "category": "standard", "rate_pct": "7.25"},
                      {"region": "US", "category": "standard", "rate_pct": "0"},
                      {"region": "GB", "category": "standard", "rate_pct": "20"},
                      {"region": "JP", "category": "standard", "rate_pct": "10"},
                      {"region": "BH", "category": "standard", "rate_pct": "10"}]},
    "products": [
        # --- area ---
        {"id": "banner", "name": "PVC banner", "method": "area", "tax_category": "standard",
         "materials": ["pvc", "mesh"], "ink_per_sqm": {"4/0": "4.50", "4/4": "8.10"}, "min_area_sqm": "0.5",
         "size_limits": {"min_w_mm": 100, "max_w_mm": 5000, "min_h_mm": 100, "max_h_mm": 50000},
         "finishing": ["hem", "eyelets", "laminate"], "turnarounds": ["standard", "express"],
         "quantity": {"min": 1, "max": 500}, "setup_fee": "10.00", "markup_pct": "50",
         "minimum_price": "25.00"},
        {"id": "sticker", "name": "Vinyl stickers", "method": "area", "tax_category": "reduced",
         "materials": ["vinyl"], "ink_per_sqm": {"4/0": "2.20"}, "min_area_sqm": 0.01,
         "size_limits": {"min_w_mm": "20.5", "max_w_mm": 300, "min_h_mm": 20, "max_h_mm": "300.0"},
         "finishing": ["laminate"], "turnarounds": ["standard", "economy"],
         "quantity": {"min": 50, "max": 100000, "step": 50}, "markup_pct": "80"},
        {"id": "canvas", "name": "Canvas print", "method": "area", "tax_category": "standard",
         "materials": ["pvc"], "ink_per_sqm": {"4/0": "12"},
         "size_limits": {"min_w_mm": 200, "max_w_mm": 1500, "min_h_mm": 200, "max_h_mm": 1500},
         "turnarounds": ["economy", "standard"], "quantity": {"min": 1, "max": 20}},
        # --- breaks ---
        {"id": "flyer-all", "name": "Flyers (all units)", "method": "breaks", "mode": "all_units",
         "tax_category": "standard",
         "breaks": [{"quantity": 1, "price": "1.00"}, {"quantity": 100, "price": "0.80"},
                    {"quantity": 500, "price": "0.60"}, {"quantity": 1000, "price": "0.4500"}],
         "options": [{"id": "premium", "name": "Premium paper", "per_unit": "0.02", "per_job": "5.00"},
                     {"id": "proof", "name": "Printed proof", "per_job": "12.50"},
                     {"id": "varnish", "per_unit": "0.0125"}],
         "finishing": ["shrink-wrap"], "turnarounds": ["standard", "express"],
         "quantity": {"min": 1, "max": 20000}},
        {"id": "flyer-grad", "name": "Flyers (graduated)", "method": "breaks", "mode": "graduated",
         "tax_category": "standard",
         "breaks": [{"quantity": 10, "price": "1.20"}, {"quantity": 100, "price": "0.90"},
                    {"quantity": 250, "price": "0.755"}],
         "options": [{"id": "premium", "name": "Premium paper", "per_unit": "0.02", "per_job": "5.00"}],
         "turnarounds": ["standard", "express"], "quantity": {"min": 1, "max": 5000},
         "setup_fee": "3.00", "markup_pct": "10", "minimum_price": "20.00"},
        {"id": "flyer-interp", "name": "Flyers (interpolated)", "method": "breaks", "mode": "interpolate",
         "tax_category": "standard",
         "breaks": [{"quantity": 100, "price": "100.00"}, {"quantity": 500, "price": "400.00"},
                    {"quantity": 1000, "price": "650.00"}],
         "options": [{"id": "premium", "name": "Premium paper", "per_unit": "0.02", "per_job": "5.00"}],
         "finishing": ["shrink-wrap"], "turnarounds": ["standard", "express"],
         "quantity": {"min": 100, "max": 5000, "step": 50}},
        {"id": "poster-single", "name": "Posters", "method": "breaks", "mode": "interpolate",
         "tax_category": "standard", "breaks": [{"quantity": 250, "price": "99.00"}],
         "turnarounds": ["standard"], "quantity": {"min": 250, "max": 10000, "step": 1}},
        {"id": "thirds", "name": "Thirds", "method": "breaks", "mode": "interpolate", "tax_category": "standard",
         "breaks": [{"quantity": 3, "price": "1.000"}, {"quantity": 6, "price": "1.025"},
                    {"quantity": 9, "price": "2.000"}],
         "turnarounds": ["standard", "express"], "quantity": {"min": 3, "max": 30}, "markup_pct": "200"},
        {"id": "postcard", "name": "Postcards", "method": "breaks", "mode": "all_units", "tax_category": "reduced",
         "breaks": [{"quantity": 50, "price": "0.30"}, {"quantity": 200, "price": "0.22"}],
         "turnarounds": ["economy"], "quantity": {"min": 1, "max": 1000}, "setup_fee": "4.99"},
        # --- booklet ---
        {"id": "booklet-a5", "name": "A5 booklet", "method": "booklet", "tax_category": "reduced",
         "size": {"w_mm": 148, "h_mm": 210}, "bleed_mm": 3, "press": "sra3",
         "papers": ["silk-130", "silk-150"], "cover_papers": ["silk-350"], "colors": ["4/4", "1/1"],
         "pages": {"min": 8, "max": 64},
         "binding": {"kind": "saddle_stitch", "setup": "15.00", "per_piece": "0.10"},
         "finishing": ["spot-uv", "shrink-wrap"], "turnarounds": ["standard", "express"],
         "quantity": {"min": 10, "max": 5000}, "setup_fee": "20.00", "markup_pct": "40",
         "minimum_price": "60.00"},
        {"id": "catalogue-a4", "name": "A4 catalogue", "method": "booklet", "tax_category": "standard",
         "size": {"w_mm": 210, "h_mm": 297}, "bleed_mm": 3, "gutter_mm": 6, "grain_critical": True,
         "press": "b2-offset", "papers": ["offset-90", "silk-130"], "cover_papers": ["silk-350", "silk-150"],
         "colors": ["4/4", "1/1"], "pages": {"min": 32, "max": 400},
         "binding": {"kind": "perfect", "setup": "45.00", "per_piece": "0.65"},
         "finishing": ["laminate"], "turnarounds": ["standard", "economy"],
         "quantity": {"min": 50, "max": 20000, "step": 50}, "markup_pct": "25.5"},
        {"id": "zine", "name": "Square zine", "method": "booklet", "tax_category": "standard",
         "size": {"w_mm": 140, "h_mm": "140.5"}, "bleed_mm": "2.5", "gutter_mm": 4, "press": "sra3",
         "papers": ["silk-130"], "colors": ["4/1"], "pages": {"min": 8, "max": 24},
         "binding": {"kind": "saddle_stitch", "per_piece": "0.05"}, "turnarounds": ["standard"],
         "quantity": {"min": 1, "max": 2000}},
        {"id": "atlas-a3", "name": "A3 atlas", "method": "booklet", "tax_category": "standard",
         "size": {"w_mm": 297, "h_mm": 420}, "bleed_mm": 3, "press": "sra3", "papers": ["silk-150"],
         "colors": ["4/4"], "pages": {"min": 8, "max": 16}, "binding": {"kind": "perfect"},
         "turnarounds": ["standard"], "quantity": {"min": 1, "max": 100}},
    ],
}

MAT = "2026-12-04T09:30:00Z"  # a Friday


def mreq(product, quantity, **kw):
    r = {"product": product, "quantity": quantity, "turnaround": "standard", "region": "DE", "at": MAT}
    r.update(kw)
    return {k: v for k, v in r.items() if v is not None}


def method_catalog_errors(s, product_ix, cases):
    """Hand-specified invalid_catalog expectations: (name, path, mutation)."""
    for name, path, fn in cases:
        cat = with_changes(MBASE, fn)
        s.case(name, mreq(MBASE["products"][product_ix]["id"], 1), catalog=cat,
               error={"code": "invalid_catalog", "field": path})


def area_suite():
    s = Suite("area", "Method area (large format): sizes, minimum area, perimeter finishing, errors.",
              {"base": MBASE})
    banner = lambda q, w, h, **kw: mreq("banner", q, material=kw.pop("material", "pvc"),
                                         color=kw.pop("color", "4/0"), width_mm=w, height_mm=h, **kw)
    for q in [1, 2, 7, 500]:
        for w, h in [(1000, "500"), (200, 300), ("1234.5", "678.9"), (5000, 50000), (100, 100)]:
            s.case(f"banner q={q} {w}x{h}", banner(q, w, h, finishing=["hem", "eyelets"]))
    s.case("banner 4/4 mesh laminate express", banner(3, 2000, 1000, material="mesh", color="4/4",
                                                     finishing=["laminate"], turnaround="express"))
    s.case("banner all finishing, reverse order", banner(2, 3000, 800, finishing=["laminate", "eyelets", "hem"]))
    s.case("banner minimum area exactly", banner(1, 1000, 500))
    s.case("banner just under minimum area", banner(1, 999, 500))
    s.case("banner decimal dims as numbers", banner(4, 812.5, 333.25, finishing=["hem"]))
    s.case("banner minimum charge", banner(1, 100, 100))
    s.case("banner minimum charge JPY", banner(1, 100, 100, currency="JPY", region="JP"))
    for cur, region in [("GBP", "GB"), ("JPY", "JP"), ("BHD", "BH"), ("USD", "US-CA"), ("USD", "US-NY")]:
        s.case(f"banner {cur} {region}", banner(5, 1500, 700, finishing=["hem"], currency=cur, region=region,
                                                customer_group="trade", coupon="banner5"))
    s.case("banner group + TENOFF", banner(2, 2000, 1000, customer_group="agency", coupon="tenoff"))
    s.case("banner Solo12 beats agency", banner(2, 2000, 1000, customer_group="agency", coupon="SOLO12"))
    s.case("banner Solo12 loses to trade", banner(2, 2000, 1000, customer_group="trade", coupon="solo12"))
    s.case("banner XMAS valid", banner(2, 2000, 1000, coupon="xmas"))
    s.case("banner XMAS expired at until", banner(2, 2000, 1000, coupon="xmas", at="2026-12-27T00:00:00Z"))
    s.case("banner TENOFF below min subtotal", banner(1, 300, 300, coupon="TENOFF"))
    s.case("banner ship from Saturday with eyelets", banner(1, 1000, 1000, finishing=["eyelets"],
                                                            at="2026-12-05T23:00:00Z", turnaround="express"))
    for q in [50, 100, 5000, 100000]:
        for w, h in [(20.5, 20), (50, 50), ("300", "300.0"), (99, "101.5")]:
            s.case(f"sticker q={q} {w}x{h}", mreq("sticker", q, material="vinyl", color="4/0", width_mm=w,
                                                  height_mm=h, finishing=["laminate"] if q > 50 else []))
    s.case("sticker economy reduced tax", mreq("sticker", 250, material="vinyl", color="4/0", width_mm=75,
                                               height_mm=75, turnaround="economy"))
    for w in [200, 1500, "777.7"]:
        s.case(f"canvas {w} square, no markup", mreq("canvas", 3, material="pvc", color="4/0", width_mm=w,
                                                     height_mm=w, turnaround="economy"))
    # errors (reference-computed)
    s.case("width below min", banner(1, 99, 500))
    s.case("width above max", banner(1, "5000.01", 500))
    s.case("height below min", banner(1, 500, 99.9))
    s.case("width checked before height", banner(1, 6000, 60000))
    s.case("sticker width below decimal min", mreq("sticker", 50, material="vinyl", color="4/0",
                                                   width_mm="20.4", height_mm=50))
    s.case("size checked after turnaround", banner(1, 50, 50, turnaround="economy"))
    s.case("material not allowed", banner(1, 1000, 1000, material="vinyl"))
    s.case("material unknown before color", banner(1, 1000, 1000, material="paper", color="6/0"))
    s.case("color not allowed", banner(1, 1000, 1000, color="1/0"))
    s.case("finishing not allowed", banner(1, 1000, 1000, finishing=["hem", "spot-uv"]))
    s.case("duplicate finishing", banner(1, 1000, 1000, finishing=["hem", "hem"]))
    s.case("turnaround not allowed", banner(1, 1000, 1000, turnaround="economy"))
    s.case("quantity above max", banner(501, 1000, 1000))
    s.case("quantity step", mreq("sticker", 75, material="vinyl", color="4/0", width_mm=50, height_mm=50))
    s.case("unknown customer group", banner(1, 1000, 1000, customer_group="vip"))
    s.case("no tax rule", banner(1, 1000, 1000, region="FR"))
    s.case("reduced category has no US rule", mreq("sticker", 50, material="vinyl", color="4/0", width_mm=50,
                                                    height_mm=50, region="US-CA"))
    s.case("currency unsupported", banner(1, 1000, 1000, currency="CHF"))
    s.case("coupon not applicable", mreq("sticker", 50, material="vinyl", color="4/0", width_mm=50, height_mm=50,
                                         coupon="BANNER5"))
    s.case("missing width", mreq("banner", 1, material="pvc", color="4/0", height_mm=500))
    s.case("missing material", mreq("banner", 1, color="4/0", width_mm=500, height_mm=500))
    s.case("paper on area", banner(1, 1000, 1000, paper="silk-130"))
    s.case("pages on area", banner(1, 1000, 1000, pages=8))
    s.case("options on area", banner(1, 1000, 1000, options=["premium"]))
    bad = {"code": "invalid_request"}
    s.case("negative width string", banner(1, "-500", 500), error=bad)
    s.case("negative width number", banner(1, -500, 500), error=bad)
    s.case("exponent width", banner(1, "1e3", 500), error=bad)
    s.case("width not a number", banner(1, "wide", 500), error=bad)
    method_catalog_errors(s, 0, [
        ("area unknown material", "products[0].materials[1]",
         lambda c: c["products"][0].update(materials=["pvc", "canvas"])),
        ("area empty ink table", "products[0].ink_per_sqm", lambda c: c["products"][0].update(ink_per_sqm={})),
        ("area numeric ink price", "products[0].ink_per_sqm.4/0",
         lambda c: c["products"][0]["ink_per_sqm"].update({"4/0": 4.5})),
        ("area max width below min", "products[0].size_limits.max_w_mm",
         lambda c: c["products"][0]["size_limits"].update(max_w_mm=99)),
        ("area zero height limit", "products[0].size_limits.min_h_mm",
         lambda c: c["products"][0]["size_limits"].update(min_h_mm=0)),
        ("area missing size limits", "products[0].size_limits", lambda c: c["products"][0].pop("size_limits")),
        ("area negative min area", "products[0].min_area_sqm",
         lambda c: c["products"][0].update(min_area_sqm="-1")),
        ("material without price", "materials[1].per_sqm", lambda c: c["materials"][1].pop("per_sqm")),
        ("finishing negative per_m", "finishing[0].per_m", lambda c: c["finishing"][0].update(per_m="-1.20")),
    ])
    return s


def breaks_suite():
    s = Suite("breaks", "Method breaks: all_units, graduated and interpolate tables, options, errors.",
              {"base": MBASE})
    for q in [1, 2, 99, 100, 101, 499, 500, 999, 1000, 1001, 20000]:
        s.case(f"all_units q={q}", mreq("flyer-all", q))
    for opts in [["premium"], ["proof", "premium"], ["varnish", "proof", "premium"]]:
        s.case(f"all_units options {opts}", mreq("flyer-all", 750, options=opts, finishing=["shrink-wrap"]))
    for q in [1, 9, 10, 11, 99, 100, 101, 249, 250, 251, 1234, 5000]:
        s.case(f"graduated q={q}", mreq("flyer-grad", q))
    s.case("graduated express + premium", mreq("flyer-grad", 333, options=["premium"], turnaround="express"))
    s.case("graduated minimum charge", mreq("flyer-grad", 5))
    for q in [100, 150, 250, 450, 500, 550, 1000, 1050, 5000]:
        s.case(f"interpolate q={q}", mreq("flyer-interp", q))
    s.case("interpolate options + finishing express", mreq("flyer-interp", 700, options=["premium"],
                                                            finishing=["shrink-wrap"], turnaround="express"))
    for q in [250, 251, 333, 10000]:
        s.case(f"single break q={q}", mreq("poster-single", q))
    s.case("single break JPY", mreq("poster-single", 333, currency="JPY", region="JP"))
    # the interpolated base is a repeating decimal: rounding must use the exact value
    for q in [4, 5, 7, 8, 10, 11, 30]:
        s.case(f"thirds q={q}", mreq("thirds", q))
    s.case("thirds q=4 express", mreq("thirds", 4, turnaround="express"))
    s.case("thirds q=4 JPY", mreq("thirds", 4, currency="JPY", region="JP"))
    s.case("thirds q=5 BHD", mreq("thirds", 5, currency="BHD", region="BH"))
    for q in [1, 49, 50, 199, 200, 1000]:
        s.case(f"postcard below first break q={q}", mreq("postcard", q, turnaround="economy"))
    for cur, region in [("GBP", "GB"), ("JPY", "JP"), ("BHD", "BH"), ("USD", "US-CA")]:
        s.case(f"all_units {cur}", mreq("flyer-all", 1500, options=["premium"], currency=cur, region=region,
                                        customer_group="trade", coupon="TENOFF"))
    s.case("Solo12 vs agency", mreq("flyer-interp", 1000, customer_group="agency", coupon="solo12"))
    s.case("XMAS not yet valid", mreq("flyer-all", 100, coupon="XMAS", at="2026-11-30T23:59:59Z"))
    # errors
    s.case("duplicate option", mreq("flyer-all", 100, options=["premium", "proof", "premium"]))
    s.case("duplicate option before unknown option", mreq("flyer-all", 100, options=["gold", "proof", "proof"]))
    s.case("option not allowed", mreq("flyer-all", 100, options=["proof", "gold"]))
    s.case("option of another product", mreq("flyer-interp", 100, options=["proof"]))
    s.case("options on product without options", mreq("postcard", 100, options=["premium"], turnaround="economy"))
    s.case("option error before finishing", mreq("flyer-all", 100, options=["gold"], finishing=["x"]))
    s.case("finishing not allowed", mreq("flyer-grad", 100, finishing=["shrink-wrap"]))
    s.case("duplicate finishing", mreq("flyer-all", 100, finishing=["shrink-wrap", "shrink-wrap"]))
    s.case("turnaround not allowed", mreq("postcard", 100))
    s.case("interpolate below min", mreq("flyer-interp", 50))
    s.case("interpolate quantity step", mreq("flyer-interp", 125))
    s.case("quantity zero", mreq("flyer-all", 0))
    s.case("no tax rule for reduced in GB", mreq("postcard", 100, turnaround="economy", region="GB"))
    s.case("paper on breaks", mreq("flyer-all", 100, paper="silk-130"))
    s.case("color on breaks", mreq("flyer-all", 100, color="4/4"))
    s.case("material on breaks", mreq("flyer-all", 100, material="pvc"))
    s.case("pages on breaks", mreq("flyer-all", 100, pages=8))
    s.case("cover paper on breaks", mreq("flyer-all", 100, cover_paper="silk-350"))
    s.case("options not a list", mreq("flyer-all", 100, options="premium"), error={"code": "invalid_request"})
    method_catalog_errors(s, 3, [
        ("breaks unknown mode", "products[3].mode", lambda c: c["products"][3].update(mode="tiered")),
        ("breaks empty table", "products[3].breaks", lambda c: c["products"][3].update(breaks=[])),
        ("breaks not increasing", "products[3].breaks[2].quantity",
         lambda c: c["products"][3]["breaks"][2].update(quantity=100)),
        ("breaks zero quantity", "products[3].breaks[0].quantity",
         lambda c: c["products"][3]["breaks"][0].update(quantity=0)),
        ("breaks numeric price", "products[3].breaks[1].price",
         lambda c: c["products"][3]["breaks"][1].update(price=0.8)),
        ("breaks duplicate option id", "products[3].options[2].id",
         lambda c: c["products"][3]["options"][2].update(id="premium")),
        ("breaks negative option price", "products[3].options[0].per_unit",
         lambda c: c["products"][3]["options"][0].update(per_unit="-0.02")),
        ("interpolate decreasing price", "products[5].breaks[2].price",
         lambda c: c["products"][5]["breaks"][2].update(price="399.99")),
        ("interpolate min below first break", "products[5].quantity.min",
         lambda c: c["products"][5]["quantity"].update(min=99)),
        ("breaks missing table", "products[3].breaks", lambda c: c["products"][3].pop("breaks")),
    ])
    return s


def booklet_suite():
    s = Suite("booklet", "Method booklet: spreads imposition, inner + cover forms, binding, errors.",
              {"base": MBASE})
    for q in [10, 11, 100, 999, 5000]:
        for pages in [8, 12, 16, 36, 64]:
            s.case(f"A5 q={q} pages={pages}", mreq("booklet-a5", q, pages=pages, paper="silk-130", color="4/4",
                                                   cover_paper="silk-350" if q % 2 else None))
    s.case("A5 self-cover 1/1 silk-150", mreq("booklet-a5", 250, pages=24, paper="silk-150", color="1/1"))
    s.case("A5 spot UV and shrink wrap", mreq("booklet-a5", 500, pages=32, paper="silk-130", color="4/4",
                                              cover_paper="silk-350", finishing=["spot-uv", "shrink-wrap"]))
    s.case("A5 minimum charge", mreq("booklet-a5", 10, pages=8, paper="silk-130", color="1/1"))
    s.case("A5 express GBP trade", mreq("booklet-a5", 300, pages=20, paper="silk-130", color="4/4",
                                        turnaround="express", currency="GBP", region="DE", customer_group="trade"))
    for q in [50, 1000, 20000]:
        for pages in [32, 100, 400]:
            s.case(f"A4 perfect q={q} pages={pages}", mreq("catalogue-a4", q, pages=pages, paper="offset-90",
                                                           color="4/4" if pages < 400 else "1/1",
                                                           cover_paper="silk-350"))
    s.case("A4 laminate economy JPY", mreq("catalogue-a4", 150, pages=48, paper="silk-130", color="4/4",
                                           cover_paper="silk-150", finishing=["laminate"], turnaround="economy",
                                           currency="JPY", region="JP"))
    s.case("A4 BHD", mreq("catalogue-a4", 100, pages=64, paper="offset-90", color="1/1", currency="BHD",
                          region="BH", coupon="TENOFF"))
    for q in [1, 7, 2000]:
        for pages in [8, 24]:
            s.case(f"zine q={q} pages={pages}", mreq("zine", q, pages=pages, paper="silk-130", color="4/1"))
    # errors
    s.case("does not fit", mreq("atlas-a3", 10, pages=8, paper="silk-150", color="4/4"))
    s.case("does not fit after currency", mreq("atlas-a3", 10, pages=8, paper="silk-150", color="4/4",
                                               currency="CHF"))
    s.case("pages not a multiple of 4", mreq("booklet-a5", 100, pages=18, paper="silk-130", color="4/4"))
    s.case("pages below min", mreq("booklet-a5", 100, pages=4, paper="silk-130", color="4/4"))
    s.case("pages above max", mreq("booklet-a5", 100, pages=68, paper="silk-130", color="4/4"))
    s.case("pages zero", mreq("booklet-a5", 100, pages=0, paper="silk-130", color="4/4"))
    s.case("pages checked after turnaround", mreq("booklet-a5", 100, pages=18, paper="silk-130", color="4/4",
                                                  turnaround="economy"))
    s.case("pages checked before quantity", mreq("booklet-a5", 1, pages=18, paper="silk-130", color="4/4"))
    s.case("paper not allowed", mreq("booklet-a5", 100, pages=8, paper="silk-350", color="4/4"))
    s.case("cover paper not allowed", mreq("booklet-a5", 100, pages=8, paper="silk-130", color="4/4",
                                           cover_paper="silk-150"))
    s.case("cover paper on product without cover papers", mreq("zine", 10, pages=8, paper="silk-130",
                                                                color="4/1", cover_paper="silk-130"))
    s.case("cover paper checked before color", mreq("booklet-a5", 100, pages=8, paper="silk-130", color="4/1",
                                                    cover_paper="offset-90"))
    s.case("color not allowed", mreq("booklet-a5", 100, pages=8, paper="silk-130", color="4/1"))
    s.case("finishing not allowed", mreq("booklet-a5", 100, pages=8, paper="silk-130", color="4/4",
                                         finishing=["laminate"]))
    s.case("quantity step", mreq("catalogue-a4", 75, pages=32, paper="offset-90", color="4/4"))
    s.case("missing pages", mreq("booklet-a5", 100, paper="silk-130", color="4/4"))
    s.case("missing color", mreq("booklet-a5", 100, pages=8, paper="silk-130"))
    s.case("options on booklet", mreq("booklet-a5", 100, pages=8, paper="silk-130", color="4/4",
                                      options=["premium"]))
    s.case("width on booklet", mreq("booklet-a5", 100, pages=8, paper="silk-130", color="4/4", width_mm=100))
    s.case("negative pages", mreq("booklet-a5", 100, pages=-8, paper="silk-130", color="4/4"),
           error={"code": "invalid_request"})
    method_catalog_errors(s, 9, [
        ("booklet min pages below 8", "products[9].pages.min",
         lambda c: c["products"][9]["pages"].update(min=4)),
        ("booklet min pages not multiple of 4", "products[9].pages.min",
         lambda c: c["products"][9]["pages"].update(min=10)),
        ("booklet max pages below min", "products[9].pages.max",
         lambda c: c["products"][9]["pages"].update(max=4)),
        ("booklet max pages not multiple of 4", "products[9].pages.max",
         lambda c: c["products"][9]["pages"].update(max=66)),
        ("booklet unknown binding", "products[9].binding.kind",
         lambda c: c["products"][9]["binding"].update(kind="wire_o")),
        ("booklet missing binding", "products[9].binding", lambda c: c["products"][9].pop("binding")),
        ("booklet numeric binding setup", "products[9].binding.setup",
         lambda c: c["products"][9]["binding"].update(setup=15)),
        ("booklet unknown cover paper", "products[9].cover_papers[0]",
         lambda c: c["products"][9].update(cover_papers=["gold"])),
        ("booklet colour without click cost", "products[9].colors[1]",
         lambda c: c["products"][9].update(colors=["4/4", "6/6"])),
        ("booklet missing pages", "products[9].pages", lambda c: c["products"][9].pop("pages")),
    ])
    return s


def method_random_suite():
    """Seeded random catalogs and requests for the three methods."""
    rng = random.Random(20261204)
    s = Suite("methods_random", "Seeded random area / breaks / booklet catalogs and requests.", {})

    def money(lo, hi, dps=(2, 3, 4)):
        dp = rng.choice(dps)
        return format(D(rng.randint(int(lo * 10 ** dp), int(hi * 10 ** dp))).scaleb(-dp), "f")

    def common(cat):
        cat["exchange_rates"] = {c: money(0.05, 200) for c in ["GBP", "JPY", "BHD", "USD"]}
        cat["turnarounds"][1]["multiplier"] = money(1, 2, (1, 2, 3))
        cat["customer_groups"][0]["discount_pct"] = money(0, 30, (0, 1, 2))
        cat["tax"]["rules"][0]["rate_pct"] = money(0, 27, (0, 1, 2))
        cat["tax"]["rules"][1]["rate_pct"] = money(0, 27, (0, 1, 2))
        cat["quote_validity_days"] = rng.randint(0, 60)
        for f in cat["finishing"]:
            f.update(setup=money(0, 40, (0, 2)), per_sheet=money(0, 0.5), per_piece=money(0, 0.5, (2, 3, 4)),
                     per_sqm=money(0, 5), per_m=money(0, 3), extra_days=rng.randint(0, 4))

    def extras():
        return dict(turnaround=rng.choice(["standard", "express"]),
                    customer_group=rng.choice([None, "trade"]),
                    coupon=rng.choice([None, "TENOFF", "solo12", None]),
                    currency=rng.choice([None, "EUR", "GBP", "JPY", "BHD", "USD"]),
                    at=f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z")

    for i in range(25):
        cat = copy.deepcopy(MBASE)
        common(cat)
        b = cat["products"][0]
        b.update(ink_per_sqm={"4/0": money(0.5, 15), "4/4": money(0.5, 25)}, min_area_sqm=money(0, 2, (0, 1, 2, 3)),
                 setup_fee=money(0, 30, (0, 2)), markup_pct=money(0, 150, (0, 1, 2)),
                 minimum_price=money(0, 80, (0, 2)))
        cat["materials"][0]["per_sqm"] = money(1, 20)
        for j in range(2):
            w = rng.choice([100, 250, "333.3", 999, 1000, "1500.25", 5000])
            h = rng.choice([100, "120.5", 500, 1000, 2500, 50000])
            fins = rng.sample(["hem", "eyelets", "laminate"], rng.randint(0, 3))
            s.case(f"area random {i}.{j}", mreq("banner", rng.randint(1, 500), material="pvc",
                                                color=rng.choice(["4/0", "4/4"]), width_mm=w, height_mm=h,
                                                finishing=fins, region=rng.choice(["DE", "US-CA", "GB"]),
                                                **extras()), catalog=cat)
    for i in range(25):
        cat = copy.deepcopy(MBASE)
        common(cat)
        for ix in (3, 4, 5):
            prod = cat["products"][ix]
            prices, qs = [], sorted(rng.sample(range(1, 3000), rng.randint(1, 5)))
            for k, bq in enumerate(qs):
                if prod["mode"] == "interpolate":
                    prev = D(prices[-1]) if prices else D(0)
                    prices.append(format(prev + D(money(0, 300, (0, 2, 3))), "f"))
                else:
                    prices.append(money(0.01, 2, (2, 3, 4)))
            prod["breaks"] = [{"quantity": bq, "price": pr} for bq, pr in zip(qs, prices)]
            prod["quantity"] = {"min": qs[0] if prod["mode"] == "interpolate" else rng.choice([1, 5]),
                                "max": 10000, "step": 1}
            prod.update(markup_pct=money(0, 60, (0, 1, 2)), setup_fee=money(0, 10, (0, 2)))
            prod["options"][0]["per_unit"] = money(0, 0.1, (2, 3, 4))
        for ix in (3, 4, 5):
            prod = cat["products"][ix]
            q = prod["quantity"]["min"] + rng.randint(0, 3500)
            opts = rng.sample([o["id"] for o in prod["options"]], rng.randint(0, len(prod["options"])))
            s.case(f"breaks random {i} {prod['mode']}", mreq(prod["id"], q, options=opts or None,
                                                             region=rng.choice(["DE", "US-CA"]), **extras()),
                   catalog=cat)
    for i in range(25):
        cat = copy.deepcopy(MBASE)
        common(cat)
        press = cat["presses"][0]
        press["spoilage_pct"] = money(0, 8, (0, 1, 2))
        for k in press["click_cost"]:
            press["click_cost"][k] = money(0, 0.6)
            press["setup_sheets"][k] = rng.randint(0, 25)
        for pap in cat["papers"]:
            pap["sheet_cost"] = money(0.01, 1.2)
        bk = cat["products"][9]
        bk.update(size={"w_mm": rng.choice([99, 105, 148, "148.5", 150]), "h_mm": rng.choice([140, 210, "210.5", 148])},
                  bleed_mm=rng.choice([0, 2, 3, "2.5"]), gutter_mm=rng.choice([0, 3, "4.5"]),
                  grain_critical=rng.random() < 0.3, markup_pct=money(0, 80, (0, 1, 2)),
                  minimum_price=money(0, 80, (0, 2)), setup_fee=money(0, 30, (0, 2)))
        bk["binding"].update(setup=money(0, 40, (0, 2)), per_piece=money(0, 0.5, (2, 3)))
        for j in range(2):
            s.case(f"booklet random {i}.{j}",
                   mreq("booklet-a5", rng.randint(10, 3000), pages=rng.choice(range(8, 65, 4)),
                        paper=rng.choice(["silk-130", "silk-150"]), color=rng.choice(["4/4", "1/1"]),
                        cover_paper=rng.choice([None, "silk-350"]),
                        finishing=rng.sample(["spot-uv", "shrink-wrap"], rng.randint(0, 2)),
                        region=rng.choice(["DE", "US-CA"]), **extras()), catalog=cat)
    # Interpolated bases that are repeating decimals whose selling line lands
    # exactly on a half unit: only exact arithmetic rounds these correctly.
    found = 0
    while found < 40:
        cat = copy.deepcopy(MBASE)
        cur = rng.choice(["EUR", "JPY", "BHD", "GBP"])
        dq = rng.choice([3, 6, 7, 9, 11, 12, 13, 21, 300])
        q0 = rng.randint(1, 500)
        p0 = D(rng.randint(0, 100000)).scaleb(-rng.choice([0, 2, 3]))
        step = D(rng.randint(0, 50000)).scaleb(-rng.choice([0, 2, 3, 4]))
        single = rng.random() < 0.2
        prod = cat["products"][5]
        prod["breaks"] = [{"quantity": q0, "price": format(p0, "f")}]
        if not single:
            prod["breaks"].append({"quantity": q0 + dq, "price": format(p0 + step, "f")})
        prod["quantity"] = {"min": q0, "max": q0 + 5 * dq, "step": 1}
        prod["markup_pct"] = rng.choice(["0", "50", "200", "12.5", "25", "150"])
        cat["turnarounds"][1]["multiplier"] = rng.choice(["1", "1.5", "1.35", "0.75", "3", "1.2"])
        cat["exchange_rates"] = {"BHD": rng.choice(["0.4125", "0.375", "3"]), "GBP": rng.choice(["0.86", "1.5"]),
                                 "JPY": rng.choice(["162.5", "150", "3"]), "USD": "1"}
        q = rng.randint(q0, q0 + 5 * dq)
        r = mreq("flyer-interp", q, turnaround=rng.choice(["standard", "express"]),
                 currency=None if cur == "EUR" else cur,
                 region={"EUR": "DE", "JPY": "JP", "BHD": "BH", "GBP": "GB"}[cur])
        num, den = break_base(prod, q)
        factor = (D(1) + D(prod["markup_pct"]) / 100) * (
            D(cat["turnarounds"][1]["multiplier"]) if r["turnaround"] == "express" else D(1)) * (
            D(1) if cur == "EUR" else D(cat["exchange_rates"][cur]))
        sign, digits, exp = (num * factor).scaleb(MINOR[cur]).as_tuple()
        m = int("".join(map(str, digits)) or "0")
        n, d = (m * 10 ** exp, den) if exp >= 0 else (m, den * 10 ** (-exp))
        if n % d == 0 or (2 * n) % d != 0:  # keep exact ties only
            continue
        found += 1
        s.case(f"interpolation tie {found} ({cur}, {den} units per segment)", r, catalog=cat)
    return s


def main():
    check = "--check" in sys.argv
    total = 0
    for suite in [core_suite(), geometry_suite(), rounding_suite(), random_suite(), errors_suite(),
                  catalog_errors_suite(), area_suite(), breaks_suite(), booklet_suite(), method_random_suite()]:
        n = suite.write(check)
        print(f"{suite.name}: {n} cases")
        total += n
    print(f"total: {total} cases")


if __name__ == "__main__":
    main()
