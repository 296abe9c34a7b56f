//! EXIF orientation.

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

use super::decode::from_dynamic;
use super::raster::{PixelLayout, Raster};

/// Applies an EXIF orientation so the raster is upright. CMYK rasters are
/// returned unchanged (convert them to RGB first).
pub(crate) fn apply(r: Raster, orientation: Orientation) -> Raster {
    if orientation == Orientation::NoTransforms {
        return r;
    }
    let (w, h) = (r.width, r.height);
    let img = match r.layout {
        PixelLayout::Gray8 => GrayImage::from_raw(w, h, r.data).map(DynamicImage::ImageLuma8),
        PixelLayout::Rgb8 => RgbImage::from_raw(w, h, r.data).map(DynamicImage::ImageRgb8),
        PixelLayout::Rgba8 => RgbaImage::from_raw(w, h, r.data).map(DynamicImage::ImageRgba8),
        PixelLayout::Cmyk8 => return r,
    };
    match img {
        Some(mut img) => {
            img.apply_orientation(orientation);
            from_dynamic(img)
        }
        // Raster::new guarantees matching lengths; an empty raster stays empty.
        None => Raster {
            width: w,
            height: h,
            layout: PixelLayout::Rgb8,
            data: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotate_90_swaps_the_size() {
        let r = Raster::new(3, 2, PixelLayout::Gray8, vec![1, 2, 3, 4, 5, 6]).unwrap();
        let o = apply(r, Orientation::Rotate90);
        assert_eq!((o.width, o.height), (2, 3));
        // Clockwise: the left column (bottom to top) becomes the top row.
        assert_eq!(o.data, vec![4, 1, 5, 2, 6, 3]);
    }
}
