# Type-checked (mypy --strict) by test_stubs.py, never executed. Lines marked
# `type: ignore[...]` must be errors: with warn_unused_ignores an imprecise
# stub (e.g. `Any`) makes the ignore unused and fails the check.
from decimal import Decimal

import puratan

cat = puratan.Catalog.from_path("catalog.json")
q = cat.quote({"product": "x", "quantity": 1, "turnaround": "s", "region": "DE", "at": "2026-01-01T00:00:00Z"})
total: Decimal = Decimal(q["total"])
amounts: list[str] = [line["amount"] for line in q["lines"]]
for row in cat.quote_table("{}", [1, 2]):
    if "quote" in row:
        net: str = row["quote"]["net"]
texts: list[str] = cat.quote_many(["{}"], as_json=True)
mixed = cat.quote_many([{}], return_exceptions=True)
products: list[puratan.ProductInfo] = cat.products()
explanation: puratan.Explanation = cat.explain("{}")
try:
    cat.quote("{}")
except puratan.OptionError as e:
    code: puratan.ErrorCode = e.code
    field: "str | None" = e.field
wrong: int = q["total"]  # type: ignore[assignment]
no_such = q["no_such_key"]  # type: ignore[typeddict-item]
cat.quote_many([{}], threads="2")  # type: ignore[call-overload]
