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


def test_quote_jsonl_100k_matches_single_calls(catalog, request_dict):
    import json

    quantities = [500 * (1 + i % 20) for i in range(N)]
    lines = "\n".join(json.dumps(dict(request_dict, quantity=q)) for q in quantities)
    expected = {q: catalog.quote_json(dict(request_dict, quantity=q)) for q in set(quantities)}
    for threads in (1, 2):
        t0 = time.perf_counter()
        out = catalog.quote_jsonl(lines, threads=threads)
        elapsed = time.perf_counter() - t0
        got = out.decode().split("\n")
        assert got[-1] == "" and len(got) == N + 1
        for i in range(0, N, 991):
            assert got[i] == expected[quantities[i]]
        print(f"\nquote_jsonl threads={threads}: {N / elapsed:,.0f} quotes/s")
    assert catalog.quote_jsonl(lines.encode(), threads=1) == catalog.quote_jsonl(lines, threads=1)


def test_quote_jsonl_reports_bad_lines_in_place(catalog, request_dict):
    import json

    good = json.dumps(request_dict)
    text = "\n".join([good, "", "{not json", json.dumps(dict(request_dict, paper="gold")), good]) + "\n"
    out = catalog.quote_jsonl(text).decode().split("\n")
    assert out[-1] == ""
    out = out[:-1]
    assert len(out) == 4  # the blank line is skipped
    assert out[0] == out[3] == catalog.quote_json(request_dict)
    bad_json = json.loads(out[1])["error"]
    assert bad_json["line"] == 3 and bad_json["code"] == "invalid_request"
    bad_option = json.loads(out[2])["error"]
    assert bad_option["line"] == 4 and bad_option["field"] == "paper"
    with pytest.raises(TypeError):
        catalog.quote_jsonl([good])  # type: ignore[arg-type]
    assert catalog.quote_jsonl(b"\xff\n").startswith(b'{"error"')


def test_quote_jsonl_file_streams_1m_lines_like_the_in_memory_call(catalog, request_dict, tmp_path):
    import json

    quantities = [500 * (1 + i % 20) for i in range(N)]
    lines = [json.dumps(dict(request_dict, quantity=q)) for q in quantities]
    lines[7] = "{broken"
    src = tmp_path / "requests.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for threads in (1, 2):
        dst = tmp_path / f"quotes-{threads}.jsonl"
        t0 = time.perf_counter()
        counts = catalog.quote_jsonl_file(src, dst, threads=threads)
        elapsed = time.perf_counter() - t0
        assert counts == {"lines": N, "errors": 1}
        assert dst.read_bytes() == catalog.quote_jsonl("\n".join(lines), threads=1)
        print(f"\nquote_jsonl_file threads={threads}: {N / elapsed:,.0f} quotes/s")
    with pytest.raises(OSError):
        catalog.quote_jsonl_file(tmp_path / "missing.jsonl", tmp_path / "out.jsonl")
