"""Exact print-shop pricing: the Puratan engine compiled from Rust.

Amounts are returned as decimal strings exactly as in the engine's JSON
(``"12.30"``, ``"1500"`` for JPY): lossless and byte-identical with the Rust
crate and the WASM package. Wrap them in ``decimal.Decimal`` for arithmetic.
"""

import os
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, Optional, Union, overload

from typing_extensions import NotRequired, TypedDict

__version__: str

DecimalStr = str
"""A decimal amount as a string, e.g. ``"12.30"``."""

ErrorCode = Literal[
    "unknown_product",
    "unsupported_method",
    "option_not_allowed",
    "duplicate_finishing",
    "duplicate_option",
    "unknown_customer_group",
    "quantity_out_of_range",
    "quantity_step",
    "pages_invalid",
    "size_out_of_range",
    "does_not_fit",
    "coupon_unknown",
    "coupon_not_applicable",
    "coupon_not_yet_valid",
    "coupon_expired",
    "coupon_min_subtotal",
    "no_tax_rule",
    "currency_unsupported",
    "invalid_catalog",
    "invalid_request",
]

LineKind = Literal[
    "paper", "print", "finishing", "setup", "minimum_charge", "material", "base", "option", "binding"
]

class QuoteRequest(TypedDict):
    """A quote request. Unknown keys are rejected (``RequestError``)."""

    product: str
    quantity: int
    turnaround: str
    region: str
    at: str
    """RFC 3339 instant, e.g. ``"2026-11-28T10:00:00Z"``."""
    paper: NotRequired[str]
    color: NotRequired[str]
    finishing: NotRequired[list[str]]
    customer_group: NotRequired[str]
    coupon: NotRequired[str]
    currency: NotRequired[str]
    material: NotRequired[str]
    width_mm: NotRequired[Union[int, float, str, Decimal]]
    height_mm: NotRequired[Union[int, float, str, Decimal]]
    pages: NotRequired[int]
    cover_paper: NotRequired[str]
    options: NotRequired[list[str]]

RequestInput = Union[QuoteRequest, Mapping[str, Any], str]
"""A request dict or its JSON text."""

class Line(TypedDict):
    kind: LineKind
    id: NotRequired[str]
    label: str
    amount: DecimalStr

class Discount(TypedDict):
    kind: Literal["group", "coupon"]
    id: str
    amount: DecimalStr

class Tax(TypedDict):
    region: str
    rate_pct: DecimalStr
    amount: DecimalStr

class Imposition(TypedDict):
    n_up: int
    rotated: bool
    run_sheets: int
    spoilage_sheets: int
    setup_sheets: int
    sheets: int

class Production(TypedDict):
    business_days: int
    ship_date: str

class Quote(TypedDict):
    """A quote; ``json.dumps(q, separators=(",", ":"), ensure_ascii=False)`` equals the engine's JSON."""

    lines: list[Line]
    subtotal: DecimalStr
    discounts: list[Discount]
    net: DecimalStr
    tax: Tax
    total: DecimalStr
    currency: str
    unit_price: DecimalStr
    imposition: NotRequired[Imposition]
    cover_imposition: NotRequired[Imposition]
    production: Production
    catalog_version: str
    valid_until: str

class ErrorInfo(TypedDict):
    code: ErrorCode
    field: NotRequired[str]
    message: str

class QuoteTableRow(TypedDict):
    """``quote`` on success, ``error`` otherwise (never both)."""

    quantity: int
    quote: NotRequired[Quote]
    error: NotRequired[ErrorInfo]

class ImpositionDiagram(TypedDict):
    n_up: int
    columns: int
    rows: int
    rotated: bool
    orientation: Literal["portrait", "landscape"]
    sheet_w_mm: DecimalStr
    sheet_h_mm: DecimalStr
    margin_mm: DecimalStr
    gutter_mm: DecimalStr
    bleed_mm: DecimalStr
    trim_w_mm: DecimalStr
    trim_h_mm: DecimalStr
    piece_w_mm: DecimalStr
    piece_h_mm: DecimalStr

class Explanation(TypedDict):
    quote: Quote
    text: str
    diagram: NotRequired[ImpositionDiagram]

class Choice(TypedDict):
    id: str
    name: str

class TurnaroundChoice(TypedDict):
    id: str
    days: int

class QuantityRule(TypedDict):
    min: int
    max: int
    step: int

class ProductInfo(TypedDict):
    """A product and the options a storefront form may offer (empty lists are omitted)."""

    id: str
    name: str
    method: str
    supported: bool
    quantity: NotRequired[QuantityRule]
    papers: NotRequired[list[Choice]]
    cover_papers: NotRequired[list[Choice]]
    materials: NotRequired[list[Choice]]
    colors: NotRequired[list[str]]
    finishing: NotRequired[list[Choice]]
    options: NotRequired[list[Choice]]
    turnarounds: NotRequired[list[TurnaroundChoice]]
    pages: NotRequired[list[int]]
    size_limits_mm: NotRequired[list[DecimalStr]]

class PricingError(Exception):
    """Base class of every pricing failure."""

    code: ErrorCode
    """Stable machine-readable code."""
    field: Optional[str]
    """Catalog JSON path (``"products[0].press"``) or request field (``"paper"``), else None."""
    message: str
    index: Optional[int]
    """Position of the failing request in ``quote_many``, else None."""

class CatalogError(PricingError):
    """``invalid_catalog``."""

class RequestError(PricingError):
    """``invalid_request``."""

class ProductError(PricingError):
    """``unknown_product``, ``unsupported_method``, ``does_not_fit``."""

class OptionError(PricingError):
    """``option_not_allowed``, ``duplicate_finishing``, ``duplicate_option``, ``unknown_customer_group``."""

class QuantityError(PricingError):
    """``quantity_out_of_range``, ``quantity_step``, ``pages_invalid``, ``size_out_of_range``."""

class CouponError(PricingError):
    """``coupon_unknown``, ``coupon_not_applicable``, ``coupon_not_yet_valid``, ``coupon_expired``, ``coupon_min_subtotal``."""

class TaxError(PricingError):
    """``no_tax_rule``."""

class CurrencyError(PricingError):
    """``currency_unsupported``."""

class Catalog:
    """A validated, indexed catalog. Load once, then quote from any thread."""

    @staticmethod
    def from_json(text: str) -> Catalog:
        """Parses and validates catalog JSON text. Raises ``CatalogError``."""
    @staticmethod
    def from_path(path: Union[str, os.PathLike[str]]) -> Catalog:
        """Reads a UTF-8 catalog JSON file. Raises ``OSError`` or ``CatalogError``."""
    @staticmethod
    def from_dict(doc: Mapping[str, Any]) -> Catalog:
        """Validates a catalog dict (``Decimal`` values become decimal strings). Raises ``CatalogError``."""
    @property
    def version(self) -> str:
        """The catalog's ``version`` (echoed as ``catalog_version``)."""
    @property
    def currency(self) -> str:
        """The catalog's base currency."""
    def quote(self, request: RequestInput) -> Quote:
        """Prices one request. Raises a ``PricingError`` subclass."""
    def quote_json(self, request: RequestInput) -> str:
        """Like ``quote`` but returns the engine's JSON text (fixed field order)."""
    def quote_table(self, request: RequestInput, quantities: Sequence[int]) -> list[QuoteTableRow]:
        """Prices one request at 1–20 quantities; per-quantity failures are rows with ``error``."""
    def explain(self, request: RequestInput) -> Explanation:
        """The quote plus a human-readable breakdown and imposition diagram data."""
    def products(self) -> list[ProductInfo]:
        """Every product with the options a storefront form may offer, in catalog order."""
    def quote_jsonl_file(
        self,
        src: Union[str, "os.PathLike[str]"],
        dst: Union[str, "os.PathLike[str]"],
        *,
        threads: Optional[int] = ...,
    ) -> dict[str, int]:
        """Streams a JSON Lines file of requests into a JSON Lines file of
        results (same format as ``quote_jsonl``) in bounded memory — the way
        to price millions of rows. Returns ``{"lines": n, "errors": k}``;
        ``OSError`` if a file cannot be read or written.
        """
        ...
    def quote_jsonl(self, lines: Union[str, bytes], *, threads: Optional[int] = ...) -> bytes:
        """Bulk pricing in JSON Lines: one request per line in, UTF-8 bytes
        with one line per request out (blank lines skipped), in order — the
        quote's JSON, or
        ``{"error": {"code", "message", "field"?, "line"}}`` with the 1-based
        input line. Runs with the GIL released and creates no per-quote
        Python objects: the fastest path for price-list exports.
        """
        ...
    @overload
    def quote_many(
        self,
        requests: Iterable[RequestInput],
        *,
        return_exceptions: Literal[False] = ...,
        threads: Optional[int] = ...,
        as_json: Literal[False] = ...,
    ) -> list[Quote]:
        """Prices many requests (dicts or JSON texts) in request order.

        Parsing and pricing run with the GIL released, on ``threads`` threads
        (default: all cores). ``as_json=True`` returns each quote as the
        engine's JSON text instead of a dict (far cheaper for large batches).
        Raises the failure with the lowest index (``.index`` set) unless
        ``return_exceptions=True``, which puts the exception in its position instead.
        """

    @overload
    def quote_many(
        self,
        requests: Iterable[RequestInput],
        *,
        return_exceptions: Literal[False] = ...,
        threads: Optional[int] = ...,
        as_json: Literal[True],
    ) -> list[str]: ...
    @overload
    def quote_many(
        self,
        requests: Iterable[RequestInput],
        *,
        return_exceptions: Literal[True],
        threads: Optional[int] = ...,
        as_json: Literal[False] = ...,
    ) -> list[Union[Quote, PricingError]]: ...
    @overload
    def quote_many(
        self,
        requests: Iterable[RequestInput],
        *,
        return_exceptions: Literal[True],
        threads: Optional[int] = ...,
        as_json: Literal[True],
    ) -> list[Union[str, PricingError]]: ...
