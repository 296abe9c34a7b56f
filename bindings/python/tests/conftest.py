"""Shared fixtures: the engine's vectors and the worked example."""

import json
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parents[3] / "crates" / "puratan-pricing" / "tests" / "vectors"


def vector_files():
    files = sorted(VECTORS.glob("*.json"))
    assert files, f"no vectors in {VECTORS}"
    return files


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def canonical(value):
    """The engine's JSON text form: compact, key order kept, UTF-8 unescaped."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


WORKED_REQUEST = {
    "product": "business-card",
    "quantity": 500,
    "paper": "silk-350",
    "color": "4/4",
    "finishing": ["matt-lam"],
    "turnaround": "express",
    "customer_group": "trade",
    "coupon": "welcome10",
    "region": "DE",
    "currency": "EUR",
    "at": "2026-11-28T10:00:00Z",
}


@pytest.fixture(scope="session")
def spec_doc():
    return load(VECTORS / "sheet_core.json")["catalogs"]["spec"]


@pytest.fixture(scope="session")
def catalog(spec_doc):
    import puratan

    return puratan.Catalog.from_dict(spec_doc)


@pytest.fixture()
def request_dict():
    return json.loads(json.dumps(WORKED_REQUEST))
