"""The type stubs are shipped and precise (mypy --strict on typing/usage.py)."""

import pathlib
import subprocess
import sys

import pytest

import puratan

HERE = pathlib.Path(__file__).parent


def test_stubs_are_shipped():
    pkg = pathlib.Path(puratan.__file__).parent
    assert (pkg / "py.typed").exists()
    stub = (pkg / "__init__.pyi").read_text(encoding="utf-8")
    for name in ("class Catalog", "def quote_many", "class PricingError", "class Quote(TypedDict)"):
        assert name in stub


def test_stubs_type_check(tmp_path):
    """Checks the installed package's stub (run outside the source tree)."""
    pytest.importorskip("mypy")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(HERE / "typing" / "usage.py")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
