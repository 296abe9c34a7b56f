use puratan_core::Error;

const BACKEND: &str = "file store";

pub(super) fn map(e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { .. } => Error::NotFound { entity: "file" },
        object_store::Error::InvalidPath { .. } => Error::invalid("key", "not a valid storage key"),
        other => Error::backend(BACKEND, other),
    }
}
