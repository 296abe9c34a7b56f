"""Python benchmark of the bindings (same catalog and request as native.rs and wasm.mjs).

Usage: $PURATAN_CACHE/pyenv/bin/python benches/bindings/python.py
"""

import gc
import json
import os
import sys
import time
from pathlib import Path

import puratan

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "crates/puratan-pricing/tests/vectors/sheet_core.json").read_text("utf-8"))
REQUEST = {
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
TEXT = json.dumps(REQUEST)


def bench(name, fn, seconds=1.5, rounds=5):
    for _ in range(2000):
        fn()
    best = float("inf")
    for _ in range(rounds):
        n = 0
        start = time.perf_counter()
        deadline = start + seconds / rounds
        now = start
        while now < deadline:
            for _ in range(200):
                fn()
            n += 200
            now = time.perf_counter()
        best = min(best, (now - start) / n)
    print(f"{name:52s} {best * 1e6:8.2f} µs  {1 / best:12,.0f} /s")
    return best


def batch(name, catalog, requests, **kw):
    best = float("inf")
    for _ in range(3):
        gc.collect()
        start = time.perf_counter()
        out = catalog.quote_many(requests, **kw)
        best = min(best, time.perf_counter() - start)
        assert len(out) == len(requests)
        del out
    threads = kw.get("threads") or os.cpu_count() or 1
    rate = len(requests) / best
    print(
        f"{name:52s} {best * 1e6 / len(requests):8.2f} µs  {rate:12,.0f} /s"
        f"  ({rate / threads:,.0f} /s per core, {threads} thread(s))"
    )


def main():
    catalog = puratan.Catalog.from_dict(DOC["catalogs"]["spec"])
    print(f"python {sys.version.split()[0]}, puratan {puratan.__version__}, {os.cpu_count()} cores")
    bench("quote_json(str) -> str", lambda: catalog.quote_json(TEXT))
    bench("quote_json(dict) -> str", lambda: catalog.quote_json(REQUEST))
    bench("quote(dict) -> dict", lambda: catalog.quote(REQUEST))
    quantities = [(i + 1) * 500 for i in range(20)]
    bench("quote_table(dict, 20 quantities)", lambda: catalog.quote_table(REQUEST, quantities), 1.0)
    n = 100_000
    dicts = [dict(REQUEST, quantity=500 * (1 + i % 20)) for i in range(n)]
    texts = [json.dumps(d) for d in dicts]
    jsonl = "\n".join(texts)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("\n".join(texts * 10) + "\n", encoding="utf-8")
        for threads in (1, None):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                catalog.quote_jsonl_file(src, Path(tmp) / "out.jsonl", threads=threads)
                best = min(best, time.perf_counter() - start)
            used = threads or os.cpu_count() or 1
            rate = 10 * n / best
            print(
                f"{'quote_jsonl_file(1M lines), threads=' + str(threads):52s} {best * 1e6 / (10 * n):8.2f} µs  {rate:12,.0f} /s"
                f"  ({rate / used:,.0f} /s per core, {used} thread(s))"
            )
    for threads in (1, None):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            catalog.quote_jsonl(jsonl, threads=threads)
            best = min(best, time.perf_counter() - start)
        used = threads or os.cpu_count() or 1
        rate = n / best
        print(
            f"{'quote_jsonl(100k lines) -> bytes, threads=' + str(threads):52s} {best * 1e6 / n:8.2f} µs  {rate:12,.0f} /s"
            f"  ({rate / used:,.0f} /s per core, {used} thread(s))"
        )
    for threads in (1, None):
        batch(f"quote_many(100k dicts) -> dicts, threads={threads}", catalog, dicts, threads=threads)
        batch(
            f"quote_many(100k str) -> str, threads={threads}",
            catalog,
            texts,
            threads=threads,
            as_json=True,
        )
        batch(
            f"quote_many(100k dicts) -> str, threads={threads}",
            catalog,
            dicts,
            threads=threads,
            as_json=True,
        )


if __name__ == "__main__":
    main()
