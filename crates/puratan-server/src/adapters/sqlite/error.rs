use puratan_core::{ConflictReason, Error};
use rusqlite::ErrorCode;

pub(super) const BACKEND: &str = "sqlite";

/// Maps a SQLite error for `entity` to a core error kind. Unique
/// constraint messages look like `UNIQUE constraint failed: products.sku`;
/// the column becomes the `Duplicate` field.
pub(super) fn map(entity: &'static str, e: rusqlite::Error) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, msg) => match f.code {
            ErrorCode::ConstraintViolation => {
                let field = msg.as_deref().map(duplicate_field).unwrap_or("id");
                Error::Conflict {
                    entity,
                    reason: ConflictReason::Duplicate { field },
                }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                Error::unavailable(BACKEND, e, true)
            }
            ErrorCode::CannotOpen
            | ErrorCode::DiskFull
            | ErrorCode::ReadOnly
            | ErrorCode::SystemIoFailure => Error::unavailable(BACKEND, e, false),
            _ => Error::backend(BACKEND, e),
        },
        rusqlite::Error::QueryReturnedNoRows => Error::NotFound { entity },
        _ => Error::backend(BACKEND, e),
    }
}

fn duplicate_field(msg: &str) -> &'static str {
    // Only fields we declare unique; anything else is reported as `id`.
    for field in ["sku", "email"] {
        if msg.ends_with(&format!(".{field}")) {
            return field;
        }
    }
    "id"
}

pub(super) fn corrupt(e: serde_json::Error) -> Error {
    Error::backend(BACKEND, e)
}
