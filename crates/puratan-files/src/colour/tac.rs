//! Total area coverage (TAC): the sum of C + M + Y + K ink in percent.

use serde::Serialize;

/// Ink coverage statistics of a CMYK raster, in percent (0–400).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tac {
    /// Highest C+M+Y+K of any pixel.
    pub max_percent: f64,
    /// 99.9th percentile: ignores a few stray pixels (antialiasing,
    /// resampling ringing) that rarely matter on press.
    pub p999_percent: f64,
    /// Mean C+M+Y+K.
    pub mean_percent: f64,
    /// Pixels measured.
    pub pixels: u64,
}

impl Tac {
    /// Whether the coverage exceeds `limit_percent` (judged on the 99.9th
    /// percentile, like the GWG check for images).
    pub fn exceeds(&self, limit_percent: f64) -> bool {
        self.p999_percent > limit_percent + 0.5
    }
}

/// TAC of interleaved 8-bit CMYK ink amounts (0 = no ink). Trailing bytes
/// that do not make a whole pixel are ignored.
pub fn tac_of_cmyk(cmyk: &[u8]) -> Tac {
    let mut h = TacHistogram::new();
    h.add_cmyk(cmyk);
    h.finish()
}

/// Accumulates [`Tac`] statistics over pixels that arrive in pieces (rows,
/// chunks of a decoded stream), in constant memory.
#[derive(Debug, Clone)]
pub struct TacHistogram {
    /// Pixels per C+M+Y+K sum (0‥=1020).
    histogram: Box<[u64; 1021]>,
    total: u64,
}

impl Default for TacHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl TacHistogram {
    pub fn new() -> Self {
        Self {
            histogram: Box::new([0; 1021]),
            total: 0,
        }
    }

    /// Adds interleaved 8-bit CMYK pixels; trailing bytes that do not make
    /// a whole pixel are ignored.
    pub fn add_cmyk(&mut self, cmyk: &[u8]) {
        for px in cmyk.chunks_exact(4) {
            let sum =
                usize::from(px[0]) + usize::from(px[1]) + usize::from(px[2]) + usize::from(px[3]);
            self.histogram[sum] += 1;
            self.total += sum as u64;
        }
    }

    /// The statistics of everything added so far.
    pub fn finish(&self) -> Tac {
        let histogram = &self.histogram;
        let pixels: u64 = histogram.iter().sum();
        let to_percent = |sum: usize| sum as f64 * 100.0 / 255.0;
        if pixels == 0 {
            return Tac {
                max_percent: 0.0,
                p999_percent: 0.0,
                mean_percent: 0.0,
                pixels: 0,
            };
        }
        let max = histogram.iter().rposition(|&c| c > 0).unwrap_or(0);
        // Smallest sum s with at least 99.9 % of the pixels at or below s.
        let needed = pixels - pixels / 1000;
        let mut seen = 0u64;
        let mut p999 = max;
        for (sum, &count) in histogram.iter().enumerate() {
            seen += count;
            if seen >= needed {
                p999 = sum;
                break;
            }
        }
        Tac {
            max_percent: to_percent(max),
            p999_percent: to_percent(p999),
            mean_percent: self.total as f64 * 100.0 / 255.0 / pixels as f64,
            pixels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_percentile_and_mean() {
        let mut px = [0u8, 0, 0, 0].repeat(9_990);
        px.extend([255u8, 255, 255, 255].repeat(10)); // 0.1 % at 400 %
        let t = tac_of_cmyk(&px);
        assert_eq!(t.pixels, 10_000);
        assert!((t.max_percent - 400.0).abs() < 1e-9);
        assert_eq!(t.p999_percent, 0.0);
        assert!((t.mean_percent - 0.4).abs() < 1e-9);
        px.extend([255u8, 255, 0, 0].repeat(20));
        let t = tac_of_cmyk(&px);
        assert!((t.p999_percent - 200.0).abs() < 1e-9, "{t:?}");
        assert!(t.exceeds(180.0) && !t.exceeds(200.0));
        assert_eq!(tac_of_cmyk(&[1, 2, 3]).pixels, 0);
    }

    #[test]
    fn histogram_in_pieces_equals_one_pass() {
        let px: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut h = TacHistogram::new();
        for chunk in px.chunks(4 * 333) {
            h.add_cmyk(chunk);
        }
        assert_eq!(h.finish(), tac_of_cmyk(&px));
    }
}
