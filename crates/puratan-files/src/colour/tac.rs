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
    let mut histogram = [0u64; 1021];
    let mut total = 0u64;
    for px in cmyk.chunks_exact(4) {
        let sum = usize::from(px[0]) + usize::from(px[1]) + usize::from(px[2]) + usize::from(px[3]);
        histogram[sum] += 1;
        total += sum as u64;
    }
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
        mean_percent: total as f64 * 100.0 / 255.0 / pixels as f64,
        pixels,
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
}
