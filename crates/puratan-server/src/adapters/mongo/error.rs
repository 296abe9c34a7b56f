//! Mapping of driver errors into [`puratan_core::Error`].
//!
//! * duplicate key (codes 11000/11001/12582, as a write error, inside an
//!   insert-many or bulk-write error, or as a command error from
//!   `findAndModify`) → `Conflict { Duplicate { field } }`, the field
//!   derived from the name of the violated index;
//! * network, server selection, DNS, pool-cleared, "not primary"/shutdown
//!   codes, write-concern timeouts, and anything labelled retryable →
//!   `Unavailable { retryable: true }`;
//! * authentication failures → `Unavailable { retryable: false }` (the
//!   backend cannot be used until the configuration is fixed);
//! * `$`-prefixed field names that MongoDB refuses to store → `Invalid`;
//! * everything else → `Backend`.

use mongodb::error::{Error as MongoError, ErrorKind as Kind, WriteFailure};
use puratan_core::Error;

/// Name of this backend in errors.
pub(crate) const BACKEND: &str = "mongodb";

const DUPLICATE_KEY_CODES: [i32; 3] = [11000, 11001, 12582];

/// Server codes that mean "this node cannot serve you right now": network
/// trouble, shutdown, elections, time limits.
const UNAVAILABLE_CODES: [i32; 16] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    50,    // MaxTimeMSExpired
    64,    // WriteConcernFailed (wtimeout)
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    189,   // PrimarySteppedDown
    262,   // ExceededTimeLimit
    9001,  // SocketException
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
    462,   // IngressRequestRateLimitExceeded
    10058, // LegacyNotPrimary
];

/// `$`-prefixed or otherwise unstorable field names (free-form maps such
/// as product specifications may contain them).
const INVALID_FIELD_CODES: [i32; 4] = [
    52, // DollarPrefixedFieldName
    55, // InvalidDBRef
    56, // EmptyFieldName
    57, // DottedFieldName (servers before 5.0)
];

const RETRYABLE_LABELS: [&str; 4] = [
    "RetryableWriteError",
    "TransientTransactionError",
    "RetryableError",
    "SystemOverloadedError",
];

/// Maps a driver error for an operation on `entity` (`product`, `user`…).
pub(crate) fn map_err(entity: &'static str, e: MongoError) -> Error {
    if let Some(message) = duplicate_key_message(&e) {
        return Error::duplicate(entity, duplicate_field(&message));
    }
    if is_unavailable(&e) {
        return Error::unavailable(BACKEND, e, true);
    }
    if matches!(e.kind.as_ref(), Kind::Authentication { .. }) {
        return Error::unavailable(BACKEND, e, false);
    }
    if codes(&e).iter().any(|c| INVALID_FIELD_CODES.contains(c)) {
        return Error::invalid(entity, format!("MongoDB cannot store this record: {e}"));
    }
    Error::backend(BACKEND, e)
}

/// Closure form for `map_err`.
pub(crate) fn mapper(entity: &'static str) -> impl Fn(MongoError) -> Error {
    move |e| map_err(entity, e)
}

/// A (de)serialisation failure between a domain record and BSON.
pub(crate) fn codec(e: impl Into<puratan_core::error::BoxError>) -> Error {
    Error::backend(BACKEND, e)
}

/// A stored document without the shape this adapter writes.
pub(crate) fn corrupt(entity: &'static str, what: &str) -> Error {
    Error::Backend {
        backend: BACKEND,
        message: format!("stored {entity} document is malformed: {what}"),
        source: None,
    }
}

/// This error and the driver errors it wraps, outermost first.
fn chain(e: &MongoError) -> impl Iterator<Item = &MongoError> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    std::iter::from_fn(move || {
        let cur = next?.downcast_ref::<MongoError>()?;
        next = std::error::Error::source(cur);
        Some(cur)
    })
}

/// Every server error code carried by the error (and its sources).
fn codes(e: &MongoError) -> Vec<i32> {
    let mut out = Vec::new();
    for e in chain(e) {
        match e.kind.as_ref() {
            Kind::Command(c) => out.push(c.code),
            Kind::Write(WriteFailure::WriteError(w)) => out.push(w.code),
            Kind::Write(WriteFailure::WriteConcernError(w)) => out.push(w.code),
            Kind::InsertMany(m) => {
                out.extend(m.write_errors.iter().flatten().map(|w| w.code));
                out.extend(m.write_concern_error.iter().map(|w| w.code));
            }
            Kind::BulkWrite(b) => {
                out.extend(b.write_errors.values().map(|w| w.code));
                out.extend(b.write_concern_errors.iter().map(|w| w.code));
            }
            _ => {}
        }
    }
    out
}

/// The server's message of the first duplicate-key error in `e`, if any.
fn duplicate_key_message(e: &MongoError) -> Option<String> {
    let dup = |code: i32| DUPLICATE_KEY_CODES.contains(&code);
    chain(e).find_map(|e| match e.kind.as_ref() {
        Kind::Write(WriteFailure::WriteError(w)) if dup(w.code) => Some(w.message.clone()),
        Kind::Command(c) if dup(c.code) => Some(c.message.clone()),
        Kind::InsertMany(m) => m
            .write_errors
            .iter()
            .flatten()
            .find(|w| dup(w.code))
            .map(|w| w.message.clone()),
        Kind::BulkWrite(b) => {
            // Lowest operation index first, so the answer is deterministic.
            let mut errs: Vec<_> = b.write_errors.iter().filter(|(_, w)| dup(w.code)).collect();
            errs.sort_by_key(|(i, _)| **i);
            errs.first().map(|(_, w)| w.message.clone())
        }
        _ => None,
    })
}

fn is_unavailable(e: &MongoError) -> bool {
    let kind_says = chain(e).any(|e| {
        matches!(
            e.kind.as_ref(),
            Kind::Io(_)
                | Kind::ConnectionPoolCleared { .. }
                | Kind::ServerSelection { .. }
                | Kind::DnsResolve { .. }
        )
    });
    kind_says
        || RETRYABLE_LABELS.iter().any(|l| e.contains_label(l))
        || codes(e).iter().any(|c| UNAVAILABLE_CODES.contains(c))
}

/// The domain field behind a duplicate-key message such as
/// `E11000 duplicate key error collection: db.products index: sku_unique
/// dup key: { sku: "X" }`: the index name first (every unique index of
/// this adapter is named in [`super::indexes`]), else the first key of
/// `dup key: { … }`.
pub(crate) fn duplicate_field(message: &str) -> &'static str {
    let index = message
        .split_once("index: ")
        .and_then(|(_, rest)| rest.split_whitespace().next());
    // Servers before 4.2 print `db.coll.$name`.
    let index = index.map(|i| i.rsplit('$').next().unwrap_or(i));
    if let Some(field) = index.and_then(field_of_index) {
        return field;
    }
    let key = message
        .split_once("dup key: {")
        .and_then(|(_, rest)| rest.trim_start().split([':', ' ']).next());
    key.and_then(field_of_index).unwrap_or("key")
}

/// Index name (or key) → domain field name.
fn field_of_index(name: &str) -> Option<&'static str> {
    Some(match name {
        "_id_" | "_id" => "id",
        "sku_unique" | "sku_1" | "sku" => "sku",
        "email_unique" | "email_1" | "email" => "email",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_field_from_index_name() {
        let m = r#"E11000 duplicate key error collection: t1.products index: sku_unique dup key: { sku: "X" }"#;
        assert_eq!(duplicate_field(m), "sku");
        let m = r#"Plan executor error during update :: caused by :: E11000 duplicate key error collection: t.users index: email_unique dup key: { email: "a@b.de" }"#;
        assert_eq!(duplicate_field(m), "email");
        let m =
            r#"E11000 duplicate key error collection: t.orders index: _id_ dup key: { _id: "x" }"#;
        assert_eq!(duplicate_field(m), "id");
        // Older servers: default index name, or only the key.
        assert_eq!(
            duplicate_field(
                "E11000 duplicate key error index: db.users.$email_1 dup key: { : \"a\" }"
            ),
            "email"
        );
        assert_eq!(
            duplicate_field("E11000 duplicate key error index: other dup key: { email: \"a\" }"),
            "email"
        );
        assert_eq!(duplicate_field("something else"), "key");
    }
}
