//! An 8-bit raster in one of the few layouts the pipeline works with.

/// Channel layout of a [`Raster`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelLayout {
    /// Grey, one byte per pixel.
    Gray8,
    /// R, G, B.
    Rgb8,
    /// R, G, B, straight (not premultiplied) alpha.
    Rgba8,
    /// C, M, Y, K ink amounts (0 = no ink, 255 = full ink).
    Cmyk8,
}

impl PixelLayout {
    /// Bytes per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelLayout::Gray8 => 1,
            PixelLayout::Rgb8 => 3,
            PixelLayout::Rgba8 | PixelLayout::Cmyk8 => 4,
        }
    }
}

/// Pixels, row-major, rows without padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    pub layout: PixelLayout,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Raster")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("layout", &self.layout)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl Raster {
    /// A raster whose buffer length matches its size, or `None`.
    pub fn new(width: u32, height: u32, layout: PixelLayout, data: Vec<u8>) -> Option<Self> {
        let expected = (width as usize)
            .checked_mul(height as usize)?
            .checked_mul(layout.channels())?;
        (data.len() == expected).then_some(Self {
            width,
            height,
            layout,
            data,
        })
    }

    /// Whether any pixel is not fully opaque.
    pub fn has_transparency(&self) -> bool {
        self.layout == PixelLayout::Rgba8 && self.data.chunks_exact(4).any(|p| p[3] != 255)
    }

    /// Grey is expanded to RGB; other layouts are returned unchanged.
    pub fn gray_to_rgb(self) -> Self {
        if self.layout != PixelLayout::Gray8 {
            return self;
        }
        let data = self.data.iter().flat_map(|&v| [v, v, v]).collect();
        Self {
            layout: PixelLayout::Rgb8,
            data,
            ..self
        }
    }

    /// RGBA is composited over white; grey is expanded; RGB is unchanged.
    /// CMYK is returned unchanged (convert it with [`crate::colour`] first).
    pub fn to_opaque_rgb(self) -> Self {
        match self.layout {
            PixelLayout::Gray8 => self.gray_to_rgb(),
            PixelLayout::Rgba8 => {
                let data = self
                    .data
                    .chunks_exact(4)
                    .flat_map(|p| {
                        let a = u32::from(p[3]);
                        let over_white =
                            |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
                        [over_white(p[0]), over_white(p[1]), over_white(p[2])]
                    })
                    .collect();
                Self {
                    layout: PixelLayout::Rgb8,
                    data,
                    ..self
                }
            }
            PixelLayout::Rgb8 | PixelLayout::Cmyk8 => self,
        }
    }

    /// Mean of each channel (for tests and plausibility checks).
    pub fn mean(&self) -> Vec<f64> {
        let n = self.layout.channels();
        let mut sums = vec![0u64; n];
        for px in self.data.chunks_exact(n) {
            for (s, &v) in sums.iter_mut().zip(px) {
                *s += u64::from(v);
            }
        }
        let count = (self.width as u64 * self.height as u64).max(1) as f64;
        sums.into_iter().map(|s| s as f64 / count).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_length() {
        assert!(Raster::new(2, 2, PixelLayout::Rgb8, vec![0; 12]).is_some());
        assert!(Raster::new(2, 2, PixelLayout::Rgb8, vec![0; 11]).is_none());
        assert!(Raster::new(u32::MAX, u32::MAX, PixelLayout::Cmyk8, vec![]).is_none());
    }

    #[test]
    fn transparent_pixels_become_white() {
        let r = Raster::new(2, 1, PixelLayout::Rgba8, vec![0, 0, 0, 0, 10, 20, 30, 255]).unwrap();
        assert!(r.has_transparency());
        let rgb = r.to_opaque_rgb();
        assert_eq!(rgb.layout, PixelLayout::Rgb8);
        assert_eq!(rgb.data, vec![255, 255, 255, 10, 20, 30]);
    }
}
