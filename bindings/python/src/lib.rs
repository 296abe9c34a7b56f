//! # puratan (Python)
//!
//! pyo3 bindings of [`puratan_pricing`], built by maturin into an abi3 wheel
//! (CPython ≥ 3.9) with the module `puratan`. Thin by design: Python values are
//! converted to JSON values with JSON's semantics, the engine runs, and its
//! serde output becomes plain `dict`s/`list`s/`str`s.
//!
//! Amounts are returned as **strings** exactly as in the engine's JSON
//! (`"12.30"`): lossless, identical byte for byte to the shared vectors and the
//! WASM package; wrap them in `decimal.Decimal` for arithmetic.
//!
//! Errors are `puratan.PricingError` subclasses carrying `.code`, `.field`,
//! `.message` (and `.index` in `quote_many`).

mod topy;

use std::path::PathBuf;

use puratan_pricing::{PricingError as EngineError, Quote, QuoteRequest};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde::Serialize;
use serde_json::{Map, Number, Value};

create_exception!(
    puratan,
    PricingError,
    PyException,
    "Base class of every pricing failure. Attributes: `code` (stable string such as \
     \"option_not_allowed\"), `field` (JSON path or request field, or None), `message`, \
     `index` (position in `quote_many`, else None)."
);
create_exception!(
    puratan,
    CatalogError,
    PricingError,
    "`invalid_catalog`: `field` is the JSON path of the first bad field (\"products[0].press\")."
);
create_exception!(
    puratan,
    RequestError,
    PricingError,
    "`invalid_request`: malformed request (unknown field, wrong type, overflow, bad arguments)."
);
create_exception!(
    puratan,
    ProductError,
    PricingError,
    "`unknown_product`, `unsupported_method`, `does_not_fit`."
);
create_exception!(
    puratan,
    OptionError,
    PricingError,
    "`option_not_allowed` (`field` names the request field), `duplicate_finishing`, \
     `duplicate_option`, `unknown_customer_group`."
);
create_exception!(
    puratan,
    QuantityError,
    PricingError,
    "`quantity_out_of_range`, `quantity_step`, `pages_invalid`, `size_out_of_range` (`field`)."
);
create_exception!(
    puratan,
    CouponError,
    PricingError,
    "`coupon_unknown`, `coupon_not_applicable`, `coupon_not_yet_valid`, `coupon_expired`, \
     `coupon_min_subtotal`."
);
create_exception!(puratan, TaxError, PricingError, "`no_tax_rule`.");
create_exception!(
    puratan,
    CurrencyError,
    PricingError,
    "`currency_unsupported`."
);

/// The exception class for an engine error code (the base class for codes
/// added in later engine versions).
fn error_class<'py>(py: Python<'py>, code: &str) -> Bound<'py, PyType> {
    match code {
        "invalid_catalog" => py.get_type::<CatalogError>(),
        "invalid_request" => py.get_type::<RequestError>(),
        "unknown_product" | "unsupported_method" | "does_not_fit" => py.get_type::<ProductError>(),
        "option_not_allowed"
        | "duplicate_finishing"
        | "duplicate_option"
        | "unknown_customer_group" => py.get_type::<OptionError>(),
        "quantity_out_of_range" | "quantity_step" | "pages_invalid" | "size_out_of_range" => {
            py.get_type::<QuantityError>()
        }
        c if c.starts_with("coupon_") => py.get_type::<CouponError>(),
        "no_tax_rule" => py.get_type::<TaxError>(),
        "currency_unsupported" => py.get_type::<CurrencyError>(),
        _ => py.get_type::<PricingError>(),
    }
}

/// The exception instance for an engine error.
fn error_instance<'py>(
    py: Python<'py>,
    e: &EngineError,
    index: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let message = e.to_string();
    let exc = error_class(py, e.code()).call1((message.as_str(),))?;
    exc.setattr("code", e.code())?;
    exc.setattr("field", e.field())?;
    exc.setattr("message", message)?;
    exc.setattr("index", index)?;
    Ok(exc)
}

fn to_py_err(py: Python<'_>, e: &EngineError, index: Option<usize>) -> PyErr {
    match error_instance(py, e, index) {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

fn invalid_request(message: impl Into<String>) -> EngineError {
    EngineError::InvalidRequest {
        message: message.into(),
    }
}

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

const MAX_DEPTH: usize = 128;

/// Converts a Python value to a JSON value with JSON's semantics: `dict` with
/// `str` keys, `list`/`tuple`, `str`, `int`, finite `float`, `bool`, `None`;
/// `decimal.Decimal` becomes its decimal string (money must be a string anyway).
fn to_json(obj: &Bound<'_, PyAny>, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("nested too deeply".into());
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return s
            .to_cow()
            .map(|c| Value::String(c.into_owned()))
            .map_err(|e| e.to_string());
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        return obj
            .extract::<u64>()
            .map(Value::from)
            .map_err(|_| "integer out of range".to_owned());
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| "floats must be finite".to_owned());
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| "dict keys must be str".to_owned())?
                .to_cow()
                .map_err(|e| e.to_string())?
                .into_owned();
            map.insert(key, to_json(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|v| to_json(&v, depth + 1)).collect();
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|v| to_json(&v, depth + 1)).collect();
    }
    let py = obj.py();
    if decimal_type(py).is_ok_and(|d| obj.is_instance(d).unwrap_or(false)) {
        return obj
            .str()
            .and_then(|s| s.to_cow().map(|c| Value::String(c.into_owned())))
            .map_err(|e| e.to_string());
    }
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(format!("unsupported type `{type_name}`"))
}

/// A request given as a mapping or as JSON text.
fn parse_request(obj: &Bound<'_, PyAny>) -> Result<QuoteRequest, EngineError> {
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_cow().map_err(|e| invalid_request(e.to_string()))?;
        return QuoteRequest::from_json(&text);
    }
    if !obj.is_instance_of::<PyDict>() {
        return Err(invalid_request(
            "the request must be a dict or a JSON string",
        ));
    }
    let value = to_json(obj, 0).map_err(invalid_request)?;
    QuoteRequest::from_value(value)
}

fn pythonize<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    topy::to_py(py, value)
}

/// One element of `quote_table`: the quantity plus either the quote or the error.
#[derive(Debug, Serialize)]
struct TableRow<'a> {
    quantity: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    quote: Option<&'a Quote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a EngineError>,
}

/// Below this many requests `quote_many` prices on the calling thread only.
const PARALLEL_MIN: usize = 512;

/// A `quote_many` item as read with the GIL held: JSON text is only copied
/// (parsed later without the GIL), a dict is converted to a JSON value.
#[derive(Debug)]
enum Input {
    Text(String),
    Value(Value),
    Invalid(EngineError),
}

fn read_input(obj: &Bound<'_, PyAny>) -> Input {
    if let Ok(s) = obj.cast::<PyString>() {
        return match s.to_cow() {
            Ok(text) => Input::Text(text.into_owned()),
            Err(e) => Input::Invalid(invalid_request(e.to_string())),
        };
    }
    if !obj.is_instance_of::<PyDict>() {
        return Input::Invalid(invalid_request(
            "the request must be a dict or a JSON string",
        ));
    }
    match to_json(obj, 0) {
        Ok(value) => Input::Value(value),
        Err(message) => Input::Invalid(invalid_request(message)),
    }
}

/// A priced item: the quote, or (`as_json`) the engine's JSON text of it.
// Boxing the common `Quote` variant would only add an allocation per quote.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Priced {
    Quote(Quote),
    Json(String),
}

fn price_one(
    catalog: &puratan_pricing::Catalog,
    input: &mut Input,
    as_json: bool,
) -> Result<Priced, EngineError> {
    let request = match input {
        Input::Text(text) => QuoteRequest::from_json(text)?,
        Input::Value(value) => QuoteRequest::from_value(std::mem::take(value))?,
        Input::Invalid(e) => return Err(e.clone()),
    };
    let quote = catalog.quote(&request)?;
    Ok(if as_json {
        Priced::Json(quote.to_json())
    } else {
        Priced::Quote(quote)
    })
}

/// Parses and prices every input (no Python objects involved: runs detached
/// from the interpreter), split over up to `threads` scoped threads.
fn price_all(
    catalog: &puratan_pricing::Catalog,
    inputs: &mut [Input],
    threads: usize,
    as_json: bool,
) -> Vec<Result<Priced, EngineError>> {
    let parts = split_run(
        inputs,
        threads,
        |part| {
            part.iter_mut()
                .map(|input| price_one(catalog, input, as_json))
                .collect::<Vec<_>>()
        },
        |part| {
            part.iter()
                .map(|_| Err(invalid_request("pricing thread panicked")))
                .collect()
        },
    );
    // One part (the common single-thread case): no second copy.
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    parts.into_iter().flatten().collect()
}

/// Runs `run` over `items` split into up to `threads` contiguous parts on
/// scoped threads (one part, on this thread, for small inputs) and returns
/// the parts' results in order; a part whose thread panicked gets
/// `lost(part)` instead.
fn split_run<T: Send, R: Send>(
    items: &mut [T],
    threads: usize,
    run: impl Fn(&mut [T]) -> R + Sync,
    lost: impl Fn(&[T]) -> R,
) -> Vec<R> {
    if threads <= 1 || items.len() < PARALLEL_MIN {
        return vec![run(items)];
    }
    let chunk = items.len().div_ceil(threads);
    let run = &run;
    let joined: Vec<Option<R>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks_mut(chunk)
            .map(|part| s.spawn(move || run(part)))
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    joined
        .into_iter()
        .zip(items.chunks(chunk))
        .map(|(result, part)| result.unwrap_or_else(|| lost(part)))
        .collect()
}

/// Pauses Python's cyclic garbage collector while a batch of results is built
/// (the objects are acyclic; without the pause every 700 new containers
/// trigger a collection that re-scans the growing result list, which doubles
/// the cost of a large batch). The previous state is restored on drop. Only
/// used while the GIL is held and no Python code runs, so it is invisible to
/// other threads.
struct GcPause<'py> {
    gc: Option<Bound<'py, PyModule>>,
}

impl<'py> GcPause<'py> {
    fn new(py: Python<'py>) -> Self {
        let gc = py.import("gc").ok().filter(|gc| {
            gc.call_method0("isenabled")
                .and_then(|v| v.is_truthy())
                .unwrap_or(false)
                && gc.call_method0("disable").is_ok()
        });
        Self { gc }
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Some(gc) = &self.gc {
            let _ = gc.call_method0("enable");
        }
    }
}

impl std::fmt::Debug for GcPause<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcPause")
            .field("paused", &self.gc.is_some())
            .finish()
    }
}

/// A validated, indexed catalog. Load once (`from_json`, `from_path`,
/// `from_dict`), then quote from any number of threads.
#[pyclass(frozen, module = "puratan", name = "Catalog")]
#[derive(Debug)]
struct Catalog {
    inner: puratan_pricing::Catalog,
}

#[pymethods]
impl Catalog {
    /// Parses and validates a catalog from JSON text. Raises `CatalogError`.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        puratan_pricing::Catalog::from_json(text)
            .map(|inner| Self { inner })
            .map_err(|e| to_py_err(py, &e, None))
    }

    /// Reads a catalog JSON file (UTF-8). Raises `OSError` or `CatalogError`.
    #[staticmethod]
    fn from_path(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let text = std::fs::read_to_string(&path)?;
        Self::from_json(py, &text)
    }

    /// Validates a catalog given as a dict (as `json.load` returns it; `Decimal`
    /// values are accepted and passed as decimal strings). Raises `CatalogError`.
    #[staticmethod]
    fn from_dict(py: Python<'_>, doc: &Bound<'_, PyAny>) -> PyResult<Self> {
        let value = to_json(doc, 0).map_err(|message| {
            to_py_err(
                py,
                &EngineError::InvalidCatalog {
                    path: String::new(),
                    message,
                },
                None,
            )
        })?;
        puratan_pricing::Catalog::from_value(&value)
            .map(|inner| Self { inner })
            .map_err(|e| to_py_err(py, &e, None))
    }

    /// The catalog's `version` (echoed as `catalog_version` in quotes).
    #[getter]
    fn version(&self) -> &str {
        self.inner.version()
    }

    /// The catalog's base currency.
    #[getter]
    fn currency(&self) -> &str {
        self.inner.currency()
    }

    fn __repr__(&self) -> String {
        format!(
            "<puratan.Catalog version={:?} currency={:?}>",
            self.inner.version(),
            self.inner.currency()
        )
    }

    /// Prices one request (dict or JSON text) and returns the quote as a dict
    /// whose amounts are decimal strings. Raises a `PricingError` subclass.
    fn quote<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let quote = parse_request(request)
            .and_then(|r| self.inner.quote(&r))
            .map_err(|e| to_py_err(py, &e, None))?;
        pythonize(py, &quote)
    }

    /// Like `quote`, but returns the engine's JSON text (fixed field order).
    fn quote_json(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<String> {
        parse_request(request)
            .and_then(|r| self.inner.quote(&r))
            .map(|q| q.to_json())
            .map_err(|e| to_py_err(py, &e, None))
    }

    /// Bulk pricing in JSON Lines: `lines` (str or bytes) holds one JSON
    /// request per line; returns UTF-8 bytes with one line per non-blank
    /// input line, in
    /// order: the quote's JSON, or `{"error": {"code", "message", "field"?,
    /// "line"}}` (1-based input line). The interpreter is released for the
    /// whole batch and no per-quote Python objects are made, which makes
    /// this the fastest path for price-list exports and other bulk jobs.
    #[pyo3(signature = (lines, *, threads = None))]
    fn quote_jsonl<'py>(
        &self,
        py: Python<'py>,
        lines: &Bound<'py, PyAny>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let owned;
        let text: &[u8] = if let Ok(b) = lines.cast::<pyo3::types::PyBytes>() {
            b.as_bytes()
        } else if let Ok(s) = lines.cast::<PyString>() {
            owned = s.to_cow()?.into_owned();
            owned.as_bytes()
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "lines must be str or bytes (JSON Lines)",
            ));
        };
        let threads = threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let inner = &self.inner;
        let out = py.detach(|| price_jsonl(inner, text, threads));
        // Bytes, not str: a bulk result goes to a file or a socket, and
        // building a 70 MB str would re-scan and widen every character.
        Ok(pyo3::types::PyBytes::new(py, &out))
    }

    /// Streams a JSON Lines file of requests into a JSON Lines file of
    /// results (same format as `quote_jsonl`), in bounded memory: the way to
    /// price millions of rows. Returns `{"lines": n, "errors": k}`. The
    /// interpreter is released for the whole run.
    #[pyo3(signature = (src, dst, *, threads = None))]
    fn quote_jsonl_file<'py>(
        &self,
        py: Python<'py>,
        src: PathBuf,
        dst: PathBuf,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let threads = threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let inner = &self.inner;
        let (lines, errors) = py
            .detach(|| stream_jsonl(inner, &src, &dst, threads))
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))?;
        let out = PyDict::new(py);
        out.set_item("lines", lines)?;
        out.set_item("errors", errors)?;
        Ok(out)
    }

    /// Prices one request at 1–20 quantities (`request["quantity"]` is ignored).
    /// Returns one dict per quantity: `{"quantity", "quote"}` or
    /// `{"quantity", "error": {"code", "field"?, "message"}}`. Failures before
    /// the quantity checks (product, options, arguments) are raised.
    fn quote_table<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        quantities: Vec<u32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let results = parse_request(request)
            .and_then(|r| self.inner.quote_table(&r, &quantities))
            .map_err(|e| to_py_err(py, &e, None))?;
        let rows: Vec<TableRow<'_>> = quantities
            .iter()
            .zip(&results)
            .map(|(&quantity, result)| TableRow {
                quantity,
                quote: result.as_ref().ok(),
                error: result.as_ref().err(),
            })
            .collect();
        pythonize(py, &rows)
    }

    /// The quote plus a human-readable breakdown (`text`) and imposition
    /// `diagram` data (sheet and booklet products).
    fn explain<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let explanation = parse_request(request)
            .and_then(|r| self.inner.explain(&r))
            .map_err(|e| to_py_err(py, &e, None))?;
        pythonize(py, &explanation)
    }

    /// Every product with the options a storefront form may offer, in catalog order.
    fn products<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        pythonize(py, &self.inner.products())
    }

    /// Prices many requests (dicts or JSON texts) in request order.
    ///
    /// Reading the inputs and building the results need the GIL; parsing and
    /// pricing run with the GIL released, on up to `threads` threads (default:
    /// all cores). `as_json=True` returns each quote as the engine's JSON text
    /// instead of a dict (much cheaper for large batches). With
    /// `return_exceptions=False` (default) the failure with the lowest index is
    /// raised (its `.index` set); with `True`, failed positions hold the
    /// `PricingError` instance instead.
    #[pyo3(signature = (requests, *, return_exceptions = false, threads = None, as_json = false))]
    fn quote_many<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'py, PyAny>,
        return_exceptions: bool,
        threads: Option<usize>,
        as_json: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut inputs = Vec::with_capacity(requests.len().unwrap_or(0));
        for item in requests.try_iter()? {
            inputs.push(read_input(&item?));
        }
        let threads = threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let inner = &self.inner;
        let results = py.detach(|| price_all(inner, &mut inputs, threads, as_json));
        drop(inputs);
        if !return_exceptions
            && let Some((i, Err(e))) = results.iter().enumerate().find(|(_, r)| r.is_err())
        {
            return Err(to_py_err(py, e, Some(i)));
        }
        let pause = (results.len() >= PARALLEL_MIN && !as_json).then(|| GcPause::new(py));
        let mut items = Vec::with_capacity(results.len());
        for (i, result) in results.iter().enumerate() {
            items.push(match result {
                Ok(Priced::Quote(quote)) => pythonize(py, quote)?,
                Ok(Priced::Json(text)) => PyString::new(py, text).into_any(),
                Err(e) => error_instance(py, e, Some(i))?,
            });
        }
        let list = PyList::new(py, items);
        drop(pause);
        list
    }
}

/// Appends the result line for input line `index` (0-based) to `out`;
/// returns whether it was an error.
fn price_line(
    catalog: &puratan_pricing::Catalog,
    index: usize,
    line: &[u8],
    out: &mut Vec<u8>,
) -> bool {
    let priced = std::str::from_utf8(line)
        .map_err(|_| invalid_request("the line is not UTF-8"))
        .and_then(QuoteRequest::from_json)
        .and_then(|r| catalog.quote(&r));
    let failed = match priced {
        Ok(quote) => {
            quote.write_json(out);
            false
        }
        Err(e) => {
            let mut error = serde_json::json!({
                "code": e.code(),
                "message": e.to_string(),
                "line": index + 1,
            });
            if let Some(field) = e.field() {
                error["field"] = Value::from(field);
            }
            out.extend_from_slice(serde_json::json!({ "error": error }).to_string().as_bytes());
            true
        }
    };
    out.push(b'\n');
    failed
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Prices numbered lines, split over up to `threads` scoped threads;
/// returns the output text and the error count.
fn price_lines(
    catalog: &puratan_pricing::Catalog,
    lines: &mut [(usize, &[u8])],
    threads: usize,
) -> (Vec<u8>, usize) {
    let parts = split_run(
        lines,
        threads,
        |part| {
            let mut out = Vec::with_capacity(part.len() * 1024);
            let mut errors = 0;
            for (index, line) in part.iter() {
                errors += usize::from(price_line(catalog, *index, line, &mut out));
            }
            (out, errors)
        },
        |part| {
            let mut out = Vec::new();
            for (index, _) in part {
                let error = serde_json::json!({ "error": {
                    "code": "invalid_request",
                    "message": "pricing thread panicked",
                    "line": index + 1,
                }});
                out.extend_from_slice(error.to_string().as_bytes());
                out.push(b'\n');
            }
            (out, part.len())
        },
    );
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    let mut out = Vec::with_capacity(parts.iter().map(|(t, _)| t.len()).sum());
    let mut errors = 0;
    for (text, e) in parts {
        out.extend_from_slice(&text);
        errors += e;
    }
    (out, errors)
}

/// Prices JSON Lines held in memory (see `Catalog.quote_jsonl`).
fn price_jsonl(catalog: &puratan_pricing::Catalog, text: &[u8], threads: usize) -> Vec<u8> {
    let mut lines: Vec<(usize, &[u8])> = text
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, l)| !is_blank(l))
        .collect();
    price_lines(catalog, &mut lines, threads).0
}

/// Lines read and priced per step of `stream_jsonl`: bounded memory, and
/// output buffers small enough to be reused rather than freshly mapped.
const STREAM_LINES: usize = 4096;

/// Streams `src` (JSON Lines) into `dst`; returns (lines, errors).
fn stream_jsonl(
    catalog: &puratan_pricing::Catalog,
    src: &std::path::Path,
    dst: &std::path::Path,
    threads: usize,
) -> std::io::Result<(usize, usize)> {
    use std::io::{BufRead, Write};
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(src)?);
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(dst)?);
    let (mut total, mut errors, mut index) = (0, 0, 0);
    let mut buf: Vec<Vec<u8>> = Vec::with_capacity(STREAM_LINES);
    loop {
        buf.clear();
        let mut numbered = Vec::with_capacity(STREAM_LINES);
        while buf.len() < STREAM_LINES {
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            if !is_blank(&line) {
                numbered.push(index);
                buf.push(line);
            }
            index += 1;
        }
        if buf.is_empty() {
            break;
        }
        let mut lines: Vec<(usize, &[u8])> = numbered
            .into_iter()
            .zip(buf.iter().map(Vec::as_slice))
            .collect();
        let (text, e) = price_lines(catalog, &mut lines, threads);
        writer.write_all(&text)?;
        total += lines.len();
        errors += e;
    }
    writer.flush()?;
    Ok((total, errors))
}

// Rust-side allocations only (Python objects use Python's allocator).
// Pricing allocates many small short-lived values per quote; batches keep
// large result buffers: mimalloc measured faster than glibc malloc for both.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exact print-shop pricing: the Puratan engine compiled from Rust.
#[pymodule]
fn puratan(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Catalog>()?;
    m.add("PricingError", py.get_type::<PricingError>())?;
    m.add("CatalogError", py.get_type::<CatalogError>())?;
    m.add("RequestError", py.get_type::<RequestError>())?;
    m.add("ProductError", py.get_type::<ProductError>())?;
    m.add("OptionError", py.get_type::<OptionError>())?;
    m.add("QuantityError", py.get_type::<QuantityError>())?;
    m.add("CouponError", py.get_type::<CouponError>())?;
    m.add("TaxError", py.get_type::<TaxError>())?;
    m.add("CurrencyError", py.get_type::<CurrencyError>())?;
    Ok(())
}
