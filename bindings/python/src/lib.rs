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
    let run = |part: &mut [Input]| {
        part.iter_mut()
            .map(|input| price_one(catalog, input, as_json))
            .collect::<Vec<_>>()
    };
    if threads <= 1 || inputs.len() < PARALLEL_MIN {
        return run(inputs);
    }
    let total = inputs.len();
    let chunk = total.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .chunks_mut(chunk)
            .map(|part| {
                let len = part.len();
                (len, s.spawn(move || run(part)))
            })
            .collect();
        let mut out = Vec::with_capacity(total);
        for (len, handle) in handles {
            match handle.join() {
                Ok(results) => out.extend(results),
                Err(_) => {
                    out.extend((0..len).map(|_| Err(invalid_request("pricing thread panicked"))))
                }
            }
        }
        out
    })
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
