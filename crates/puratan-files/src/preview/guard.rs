//! The last line of defence around third-party decoders.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::FilesError;
use crate::format::Format;

/// Runs a decoder; a panic inside becomes [`FilesError::DecoderCrashed`].
///
/// Decoders are third-party code fed hostile bytes (the `image` TIFF decoder
/// is known to panic on some valid files). This does not catch stack
/// overflows or aborts: for those, run processing in a worker process.
pub(crate) fn guarded<T>(
    format: Format,
    f: impl FnOnce() -> Result<T, FilesError>,
) -> Result<T, FilesError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(Err(FilesError::DecoderCrashed { format }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_typed_error() {
        let r: Result<(), _> = guarded(Format::Tiff, || panic!("decoder bug"));
        assert_eq!(r.unwrap_err().code(), "file_decoder_crashed");
        assert_eq!(guarded(Format::Png, || Ok(7)).unwrap(), 7);
    }
}
