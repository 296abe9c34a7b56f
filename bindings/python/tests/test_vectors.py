"""Every case of the engine's shared vectors through the Python binding,
compared byte for byte with the expected JSON (dict path and JSON-text path)."""

import pytest

import puratan
from conftest import canonical, load, vector_files

FILES = vector_files()


def error_form(e):
    assert isinstance(e, puratan.PricingError), repr(e)
    return {"code": e.code} if e.field is None else {"code": e.code, "field": e.field}


def attempt(fn):
    try:
        return ("ok", fn())
    except puratan.PricingError as e:
        return ("err", error_form(e))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_shared_vectors(path):
    doc = load(path)
    # Named catalogs from JSON text, inline ones from dicts: both paths are covered.
    catalogs = {
        name: attempt(lambda c=c: puratan.Catalog.from_json(canonical(c)))
        for name, c in doc["catalogs"].items()
    }
    failures = []
    assert doc["cases"], f"{path.name} has no cases"
    for case in doc["cases"]:
        if isinstance(case["catalog"], str):
            kind, cat = catalogs[case["catalog"]]
        else:
            kind, cat = attempt(lambda: puratan.Catalog.from_dict(case["catalog"]))
        if kind == "err":
            got = got_text = ("err", cat)
        else:
            got = attempt(lambda: cat.quote(case["request"]))
            got_text = attempt(lambda: cat.quote_json(canonical(case["request"])))
        if "expected" in case:
            want = canonical(case["expected"])
            ok = got[0] == "ok" and canonical(got[1]) == want and got_text == ("ok", want)
        else:
            want = canonical(case["error"])
            ok = got[0] == "err" and canonical(got[1]) == want and got_text == got
        if not ok:
            failures.append(f"{case['name']}\n  expected: {want}\n  got:      {got}\n  text:     {got_text}")
    assert not failures, f"{len(failures)} of {len(doc['cases'])} failed:\n" + "\n".join(failures)


def test_vector_count():
    total = sum(len(load(p)["cases"]) for p in FILES)
    assert total >= 200, total
