//! Resource limits for decoding and rendering untrusted files.

use crate::error::FilesError;

/// Resource limits for every processing step. Checked against the sizes a
/// file *declares* (image header, page box) before any pixel memory is
/// allocated, so a decompression bomb costs a header parse, not gigabytes.
///
/// The defaults fit print artwork: a 120 MP source image is an A1 poster at
/// 300 ppi with room to spare; a progressive JPEG of that size needs about
/// 360 MB of coefficient memory while decoding, which `max_alloc_bytes`
/// allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most pixels (width × height) a source image may declare.
    pub max_pixels: u64,
    /// Longest edge a source image may declare, in pixels.
    pub max_dimension: u32,
    /// Most bytes a decoder may allocate for one image.
    pub max_alloc_bytes: u64,
    /// Most pixels of an output raster (a PDF page render, a preview).
    pub max_output_pixels: u64,
    /// Most pages a PDF may have to be rendered or converted.
    pub max_pages: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pixels: 120_000_000,
            max_dimension: 65_000,
            max_alloc_bytes: 1 << 30,
            max_output_pixels: 50_000_000,
            max_pages: 10_000,
        }
    }
}

impl Limits {
    /// Fails with [`FilesError::ImageTooLarge`] when a declared source size
    /// exceeds the limits.
    pub fn check_source(&self, width: u64, height: u64) -> Result<(), FilesError> {
        self.check(width, height, self.max_pixels)
    }

    /// Fails with [`FilesError::ImageTooLarge`] when an output size exceeds
    /// the limits.
    pub fn check_output(&self, width: u64, height: u64) -> Result<(), FilesError> {
        self.check(width, height, self.max_output_pixels)
    }

    fn check(&self, width: u64, height: u64, max_pixels: u64) -> Result<(), FilesError> {
        let too_large = width == 0
            || height == 0
            || width > u64::from(self.max_dimension)
            || height > u64::from(self.max_dimension)
            || width.saturating_mul(height) > max_pixels;
        if too_large && width > 0 && height > 0 {
            return Err(FilesError::ImageTooLarge {
                width,
                height,
                limit: max_pixels,
            });
        }
        if width == 0 || height == 0 {
            return Err(FilesError::InvalidRequest {
                reason: "the image has no pixels (zero width or height)",
            });
        }
        Ok(())
    }

    /// The `image` crate's allocation limit. Dimensions are checked by
    /// [`Limits::check_source`] once the header is read, so the error names
    /// the declared size.
    pub(crate) fn to_image_limits(self) -> image::Limits {
        let mut l = image::Limits::default();
        l.max_alloc = Some(self.max_alloc_bytes);
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bombs_and_empty_images() {
        let l = Limits::default();
        assert!(l.check_source(8000, 6000).is_ok());
        let err = l.check_source(100_000, 100_000).unwrap_err();
        assert_eq!(err.code(), "image_too_large");
        let err = l.check_source(70_000, 10).unwrap_err();
        assert_eq!(err.code(), "image_too_large");
        assert_eq!(
            l.check_source(0, 10).unwrap_err().code(),
            "processing_invalid_request"
        );
        assert!(l.check_output(8000, 6000).is_ok());
        assert!(l.check_output(10_000, 10_000).is_err());
    }
}
