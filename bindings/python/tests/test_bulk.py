"""Bulk: 100,000 quotes through quote_many (GIL released, all cores)."""

import time

import pytest

import puratan
from conftest import canonical

N = 100_000


def test_quote_many_100k(catalog, request_dict):
    quantities = [q for q in range(100, 10_001) if q % 100 == 0]
    base = [dict(request_dict, quantity=q) for q in quantities]
    requests = [base[i % len(base)] for i in range(N)]
    t0 = time.perf_counter()
    quotes = catalog.quote_many(requests)
    elapsed = time.perf_counter() - t0
    assert len(quotes) == N
    expected = {q: catalog.quote_json(r) for q, r in zip(quantities, base)}
    for i in range(0, N, 997):
        assert canonical(quotes[i]) == expected[requests[i]["quantity"]]
    print(f"\nquote_many: {N} quotes in {elapsed:.3f} s = {N / elapsed:,.0f} quotes/s")


def test_quote_many_threads_agree(catalog, request_dict):
    requests = [dict(request_dict, quantity=500 + 500 * (i % 10)) for i in range(5000)]
    requests[1234] = dict(request_dict, paper="gold")
    one = catalog.quote_many(requests, threads=1, return_exceptions=True)
    many = catalog.quote_many(requests, threads=4, return_exceptions=True)
    assert len(one) == len(many) == 5000
    for a, b in zip(one, many):
        if isinstance(a, puratan.PricingError):
            assert (type(a), a.code, a.index) == (type(b), b.code, b.index)
        else:
            assert canonical(a) == canonical(b)


def test_quote_many_as_json_and_text_inputs(catalog, request_dict):
    import json

    requests = [dict(request_dict, quantity=500 * (1 + i % 20)) for i in range(2000)]
    texts = [json.dumps(r) for r in requests]
    expected = [catalog.quote_json(r) for r in requests]
    for threads in (1, 2):
        assert catalog.quote_many(texts, as_json=True, threads=threads) == expected
        assert catalog.quote_many(requests, as_json=True, threads=threads) == expected
        assert [canonical(q) for q in catalog.quote_many(texts, threads=threads)] == expected
    bad = texts[:3] + ['{"product": 1}']
    with pytest.raises(puratan.RequestError) as info:
        catalog.quote_many(bad, as_json=True)
    assert info.value.index == 3
    mixed = catalog.quote_many(bad, as_json=True, return_exceptions=True)
    assert mixed[:3] == expected[:3]
    assert isinstance(mixed[3], puratan.RequestError)
