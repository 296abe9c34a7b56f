"""The Python surface: constructors, error mapping, quote_table, explain, products."""

import copy
import json
from decimal import Decimal

import pytest

import puratan
from conftest import canonical


def test_worked_example(catalog, request_dict):
    q = catalog.quote(request_dict)
    assert q["total"] == "52.51"
    assert q["production"]["ship_date"] == "2026-12-02"
    assert canonical(q) == catalog.quote_json(request_dict)
    assert catalog.quote_json(json.dumps(request_dict)) == catalog.quote_json(request_dict)
    assert Decimal(q["net"]) + Decimal(q["tax"]["amount"]) == Decimal(q["total"])
    assert catalog.version == "2026-11-28.1"
    assert catalog.currency == "EUR"
    assert "2026-11-28.1" in repr(catalog)


def test_constructors_agree(spec_doc, tmp_path, request_dict):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(spec_doc), encoding="utf-8")
    a = puratan.Catalog.from_json(json.dumps(spec_doc))
    b = puratan.Catalog.from_path(path)
    c = puratan.Catalog.from_path(str(path))
    d = puratan.Catalog.from_dict(spec_doc)
    assert len({x.quote_json(request_dict) for x in (a, b, c, d)}) == 1
    with pytest.raises(FileNotFoundError):
        puratan.Catalog.from_path(tmp_path / "missing.json")


def test_decimal_values_in_catalog_dict(spec_doc, request_dict):
    doc = copy.deepcopy(spec_doc)
    # Money must be a decimal string in JSON; a Decimal in a dict is passed as one.
    doc["papers"][0]["sheet_cost"] = Decimal(doc["papers"][0]["sheet_cost"])
    assert (
        puratan.Catalog.from_dict(doc).quote_json(request_dict)
        == puratan.Catalog.from_dict(spec_doc).quote_json(request_dict)
    )


@pytest.mark.parametrize(
    ("change", "cls", "code", "field"),
    [
        ({"product": "nope"}, puratan.ProductError, "unknown_product", None),
        ({"paper": "gold"}, puratan.OptionError, "option_not_allowed", "paper"),
        ({"finishing": ["matt-lam", "matt-lam"]}, puratan.OptionError, "duplicate_finishing", None),
        ({"customer_group": "vip"}, puratan.OptionError, "unknown_customer_group", None),
        ({"quantity": 10**6}, puratan.QuantityError, "quantity_out_of_range", None),
        ({"coupon": "nope"}, puratan.CouponError, "coupon_unknown", None),
        ({"region": "XX"}, puratan.TaxError, "no_tax_rule", None),
        ({"currency": "CHF"}, puratan.CurrencyError, "currency_unsupported", None),
        ({"colour": "4/4"}, puratan.RequestError, "invalid_request", None),
        ({"quantity": True}, puratan.RequestError, "invalid_request", None),
        ({"quantity": 500.0}, puratan.RequestError, "invalid_request", None),
        ({"quantity": -1}, puratan.RequestError, "invalid_request", None),
        ({"at": "yesterday"}, puratan.RequestError, "invalid_request", None),
    ],
)
def test_error_mapping(catalog, request_dict, change, cls, code, field):
    request_dict.update(change)
    with pytest.raises(cls) as info:
        catalog.quote(request_dict)
    e = info.value
    assert isinstance(e, puratan.PricingError)
    assert (e.code, e.field, e.index) == (code, field, None)
    assert e.message == str(e)
    # The same error through every entry point.
    for call in (catalog.quote_json, catalog.explain, lambda r: catalog.quote_many([r])):
        with pytest.raises(cls) as again:
            call(request_dict)
        assert (again.value.code, again.value.field) == (code, field)


def test_quantity_step(catalog, request_dict):
    rule = next(p for p in catalog.products() if p["id"] == request_dict["product"])["quantity"]
    assert rule["step"] > 1
    request_dict["quantity"] = rule["min"] + 1
    with pytest.raises(puratan.QuantityError) as info:
        catalog.quote(request_dict)
    assert info.value.code == "quantity_step"


def test_catalog_errors_carry_json_path(spec_doc):
    doc = copy.deepcopy(spec_doc)
    doc["products"][0]["press"] = "missing"
    with pytest.raises(puratan.CatalogError) as info:
        puratan.Catalog.from_dict(doc)
    assert (info.value.code, info.value.field) == ("invalid_catalog", "products[0].press")
    with pytest.raises(puratan.CatalogError) as info:
        puratan.Catalog.from_json("{")
    assert info.value.field == ""
    for bad in ({1: "x"}, {"version": object()}, {"version": float("nan")}, [1, 2]):
        with pytest.raises(puratan.CatalogError):
            puratan.Catalog.from_dict(bad)


def test_unsupported_inputs(catalog, request_dict):
    for bad in (None, 42, ["x"], {**request_dict, "finishing": {"a"}}, "{not json"):
        with pytest.raises(puratan.RequestError):
            catalog.quote(bad)
    deep = []
    for _ in range(500):
        deep = [deep]
    with pytest.raises(puratan.RequestError):
        catalog.quote({**request_dict, "options": deep})
    assert catalog.quote(request_dict)["total"] == "52.51"


def test_quote_table(catalog, request_dict):
    quantities = [500, 1000, 10**7]
    rows = catalog.quote_table(request_dict, quantities)
    assert [r["quantity"] for r in rows] == quantities
    for row in rows:
        single = dict(request_dict, quantity=row["quantity"])
        if "quote" in row:
            assert "error" not in row
            assert canonical(row["quote"]) == catalog.quote_json(single)
        else:
            with pytest.raises(puratan.PricingError) as info:
                catalog.quote(single)
            assert row["error"] == {"code": info.value.code, "message": info.value.message}
    assert rows[2]["error"]["code"] == "quantity_out_of_range"
    with pytest.raises(puratan.ProductError):
        catalog.quote_table(dict(request_dict, product="x"), [500])
    for bad in ([], [500] * 21):
        with pytest.raises(puratan.RequestError):
            catalog.quote_table(request_dict, bad)
    with pytest.raises((OverflowError, TypeError)):
        catalog.quote_table(request_dict, [-1])


def test_explain_and_products(catalog, request_dict):
    ex = catalog.explain(request_dict)
    assert canonical(ex["quote"]) == catalog.quote_json(request_dict)
    assert "Total: 52.51 EUR" in ex["text"]
    assert ex["diagram"]["n_up"] == ex["diagram"]["columns"] * ex["diagram"]["rows"]
    products = catalog.products()
    card = next(p for p in products if p["id"] == "business-card")
    assert card["supported"] is True
    assert any(p["id"] == "silk-350" for p in card["papers"])


def test_quote_many_order_and_errors(catalog, request_dict):
    reqs = [dict(request_dict, quantity=q) for q in (500, 1000, 1500)]
    assert [canonical(q) for q in catalog.quote_many(reqs)] == [catalog.quote_json(r) for r in reqs]
    assert catalog.quote_many([]) == []
    bad = reqs[:1] + [dict(request_dict, paper="gold"), "{", dict(request_dict, region="XX")]
    with pytest.raises(puratan.OptionError) as info:
        catalog.quote_many(bad)
    assert (info.value.code, info.value.index) == ("option_not_allowed", 1)
    mixed = catalog.quote_many(bad, return_exceptions=True)
    assert mixed[0]["total"]
    assert [type(x).__name__ for x in mixed[1:]] == ["OptionError", "RequestError", "TaxError"]
    assert [x.index for x in mixed[1:]] == [1, 2, 3]
    # Any iterable, including a generator; JSON text and dicts mixed.
    gen = (json.dumps(r) if i % 2 else r for i, r in enumerate(reqs))
    assert [q["total"] for q in catalog.quote_many(gen, threads=1)] == [
        catalog.quote(r)["total"] for r in reqs
    ]
