#!/usr/bin/env python3
"""Independent reference implementation of the normative "sheet" pricing
algorithm (stdlib only, exact `decimal` arithmetic) and generator of the shared
test vectors in this directory.

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


def reference_quote(cat, req):
    products = {p["id"]: p for p in cat["products"]}
    p = products.get(req["product"])
    if p is None:
        raise PricingErr("unknown_product")
    if p["method"] != "sheet":
        raise PricingErr("unsupported_method")
    if req["paper"] not in p["papers"]:
        raise PricingErr("option_not_allowed", "paper")
    if req["color"] not in p["colors"]:
        raise PricingErr("option_not_allowed", "color")
    fin_ids = req.get("finishing", [])
    if len(set(fin_ids)) != len(fin_ids):
        raise PricingErr("duplicate_finishing")
    for f in fin_ids:
        if f not in p.get("finishing", []):
            raise PricingErr("option_not_allowed", "finishing")
    if req["turnaround"] not in p["turnarounds"]:
        raise PricingErr("option_not_allowed", "turnaround")
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

    # 2. imposition
    press = {x["id"]: x for x in cat["presses"]}[p["press"]]
    w, h = dec(p["size"]["w_mm"]), dec(p["size"]["h_mm"])
    bleed = dec(p.get("bleed_mm", 0))
    g = dec(p.get("gutter_mm", 0))
    margin = dec(press.get("margin_mm", 0))
    pw, ph = w + 2 * bleed, h + 2 * bleed
    uw = dec(press["sheet"]["w_mm"]) - 2 * margin
    uh = dec(press["sheet"]["h_mm"]) - 2 * margin
    straight = fit(uw, uh, g, pw, ph)
    turned = 0 if p.get("grain_critical", False) else fit(uw, uh, g, ph, pw)
    rotated = turned > straight
    n_up = turned if rotated else straight
    if n_up == 0:
        raise PricingErr("does_not_fit")

    # 3. sheets
    color = req["color"]
    run = -(-q // n_up)
    spoil = ceil_int(D(run) * dec(press.get("spoilage_pct", "0")) / 100)
    setup = press["setup_sheets"][color]
    sheets = run + spoil + setup
    S, Q = D(sheets), D(q)

    # 4. cost lines
    papers = {x["id"]: x for x in cat["papers"]}
    fins = {x["id"]: x for x in cat.get("finishing", [])}
    paper = papers[req["paper"]]
    costs = [
        ("paper", paper["id"], paper.get("name", paper["id"]), S * D(paper["sheet_cost"])),
        ("print", color, "Printing " + color, S * D(press["click_cost"][color])),
    ]
    for fid in fin_ids:
        f = fins[fid]
        c = D(f.get("setup", "0")) + S * D(f.get("per_sheet", "0")) + Q * D(f.get("per_piece", "0"))
        costs.append(("finishing", fid, f.get("name", fid), c))
    costs.append(("setup", None, "Setup fee", D(p.get("setup_fee", "0"))))

    # 5.-7. selling lines, currency, rounding, minimum
    turnaround = {x["id"]: x for x in cat["turnarounds"]}[req["turnaround"]]
    markup = D(1) + dec(p.get("markup_pct", "0")) / 100
    mult = dec(turnaround["multiplier"])
    lines = []
    price = D(0)
    for kind, lid, label, cost in costs:
        amount = rnd(cost * markup * mult * rate, dp)
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
    while counted < bdays:
        day = day + timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    valid_until = at + timedelta(days=int(cat["quote_validity_days"]))

    return {
        "lines": lines,
        "subtotal": fmt(subtotal, dp),
        "discounts": discounts,
        "net": fmt(net, dp),
        "tax": {"region": rule["region"], "rate_pct": fmt_norm(rate_pct), "amount": fmt(tax, dp)},
        "total": fmt(total, dp),
        "currency": cur,
        "unit_price": format(unit, "f"),
        "imposition": {"n_up": n_up, "rotated": rotated, "run_sheets": run,
                       "spoilage_sheets": spoil, "setup_sheets": setup, "sheets": sheets},
        "production": {"business_days": bdays, "ship_date": day.isoformat()},
        "catalog_version": cat["version"],
        "valid_until": valid_until.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


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


def main():
    check = "--check" in sys.argv
    total = 0
    for suite in [core_suite(), geometry_suite(), rounding_suite(), random_suite(), errors_suite(),
                  catalog_errors_suite()]:
        n = suite.write(check)
        print(f"{suite.name}: {n} cases")
        total += n
    print(f"total: {total} cases")


if __name__ == "__main__":
    main()
