//! Geometry of placing an image on a print page: millimetres to points,
//! "cover" scaling and EXIF orientation as a PDF transformation matrix.

use image::metadata::Orientation;

/// Points per millimetre (1 pt = 1/72 in, 1 in = 25.4 mm).
pub(crate) const PT_PER_MM: f64 = 72.0 / 25.4;

/// Where the image goes on the page, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placement {
    /// The `cm` operands that map the image's unit square to the page.
    pub matrix: [f64; 6],
    /// Resolution of the image on the page (the lower of both axes).
    pub effective_ppi: f64,
}

/// The image size as displayed (after orientation) in pixels.
pub(crate) fn displayed_size(width: u32, height: u32, o: Orientation) -> (u32, u32) {
    match o {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}

/// The affine map (a, b, c, d, e, f) from the stored image's unit square to
/// the displayed image's unit square, both in PDF orientation (v up).
fn orientation_matrix(o: Orientation) -> [f64; 6] {
    match o {
        Orientation::NoTransforms => [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        Orientation::FlipHorizontal => [-1.0, 0.0, 0.0, 1.0, 1.0, 0.0],
        Orientation::Rotate180 => [-1.0, 0.0, 0.0, -1.0, 1.0, 1.0],
        Orientation::FlipVertical => [1.0, 0.0, 0.0, -1.0, 0.0, 1.0],
        // EXIF 5: transpose.
        Orientation::Rotate90FlipH => [0.0, -1.0, -1.0, 0.0, 1.0, 1.0],
        // EXIF 6: rotate 90° clockwise to display.
        Orientation::Rotate90 => [0.0, -1.0, 1.0, 0.0, 0.0, 1.0],
        // EXIF 7: transverse.
        Orientation::Rotate270FlipH => [0.0, 1.0, 1.0, 0.0, 0.0, 0.0],
        // EXIF 8: rotate 90° counter-clockwise to display.
        Orientation::Rotate270 => [0.0, 1.0, -1.0, 0.0, 1.0, 0.0],
    }
}

/// Scales the (displayed) image to cover a `box_w × box_h` pt box at the
/// origin, centred; the overhang is clipped by the page.
pub(crate) fn cover(width: u32, height: u32, o: Orientation, box_w: f64, box_h: f64) -> Placement {
    let (dw, dh) = displayed_size(width, height, o);
    let (dw, dh) = (f64::from(dw.max(1)), f64::from(dh.max(1)));
    let scale = (box_w / dw).max(box_h / dh); // pt per pixel
    let (pw, ph) = (dw * scale, dh * scale);
    let (tx, ty) = ((box_w - pw) / 2.0, (box_h - ph) / 2.0);
    let [a, b, c, d, e, f] = orientation_matrix(o);
    Placement {
        matrix: [pw * a, ph * b, pw * c, ph * d, tx + pw * e, ty + ph * f],
        effective_ppi: 72.0 / scale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(m: [f64; 6], u: f64, v: f64) -> (f64, f64) {
        (m[0] * u + m[2] * v + m[4], m[1] * u + m[3] * v + m[5])
    }

    #[test]
    fn cover_fills_the_box_and_centres() {
        // 3:2 landscape into a square box: height fits, width overhangs.
        let p = cover(300, 200, Orientation::NoTransforms, 100.0, 100.0);
        assert_eq!(apply(p.matrix, 0.0, 0.0), (-25.0, 0.0));
        assert_eq!(apply(p.matrix, 1.0, 1.0), (125.0, 100.0));
        assert!((p.effective_ppi - 144.0).abs() < 1e-9);
    }

    #[test]
    fn orientations_keep_the_unit_square_on_the_box() {
        for o in [
            Orientation::NoTransforms,
            Orientation::FlipHorizontal,
            Orientation::Rotate180,
            Orientation::FlipVertical,
            Orientation::Rotate90FlipH,
            Orientation::Rotate90,
            Orientation::Rotate270FlipH,
            Orientation::Rotate270,
        ] {
            let p = cover(200, 100, o, 50.0, 50.0);
            let corners: Vec<_> = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
                .iter()
                .map(|&(u, v)| apply(p.matrix, u, v))
                .collect();
            let max_y = corners.iter().map(|c| c.1).fold(f64::MIN, f64::max);
            let min_y = corners.iter().map(|c| c.1).fold(f64::MAX, f64::min);
            // Every orientation covers the box exactly on its short side.
            assert!(min_y <= 1e-9 && max_y >= 50.0 - 1e-9, "{o:?} {corners:?}");
        }
        // EXIF 6 (rotate 90° clockwise): the stored top-left corner (u 0, v 1)
        // is displayed top-right.
        let p = cover(200, 100, Orientation::Rotate90, 100.0, 200.0);
        assert_eq!(apply(p.matrix, 0.0, 1.0), (100.0, 200.0));
    }
}
