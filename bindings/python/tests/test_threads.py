"""Concurrency: quotes from several Python threads, with garbage-collector
finalizers that themselves quote (re-entrancy while a result is being built).

Runs in a subprocess so that a deadlock (which would hold the GIL and freeze
the whole interpreter) fails the test after a timeout instead of hanging it."""

import json
import subprocess
import sys
import textwrap

from conftest import VECTORS, WORKED_REQUEST

SCENARIO = textwrap.dedent(
    """
    import gc, json, sys, threading
    import puratan

    doc = json.loads(open(sys.argv[1], encoding="utf-8").read())["catalogs"]["spec"]
    request = json.loads(sys.argv[2])
    catalog = puratan.Catalog.from_dict(doc)
    expected = catalog.quote_json(request)
    canonical = lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    seen, errors = [], []

    class Cycle:
        def __init__(self):
            self.me = self  # only the cyclic GC frees it

        def __del__(self):
            seen.append(canonical(catalog.quote(request)))

    def worker():
        try:
            for i in range(300):
                Cycle()
                assert canonical(catalog.quote(request)) == expected
                if i % 50 == 0:
                    assert len(catalog.quote_many([request] * 600)) == 600
        except BaseException as e:
            errors.append(repr(e))

    gc.set_threshold(10, 2, 2)  # collect, and run finalizers, very often
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gc.collect()
    assert not errors, errors
    assert seen and all(s == expected for s in seen), len(seen)
    print("ok", len(seen))
    """
)


def test_threads_and_reentrant_finalizers():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SCENARIO,
            str(VECTORS / "sheet_core.json"),
            json.dumps(WORKED_REQUEST),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok ")
