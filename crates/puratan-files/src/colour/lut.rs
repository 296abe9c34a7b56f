//! A precomputed RGB → CMYK device link: a 33³ grid sampled once through
//! the full ICC pipeline, then tetrahedral interpolation in fixed point.
//!
//! This is what LittleCMS does for 8-bit transforms ("optimisation" into a
//! device link); moxcms evaluates sRGB → Lab → the profile's B2A table per
//! pixel instead, which measured 110–180 ms for 3 MP here. Sampling the
//! grid costs ~36k float transforms; each pixel then costs four grid reads
//! and a branch-free weighted sum (about 3× faster than the per-pixel ICC
//! pipeline on one core; see BENCHMARKS.md). Grid nodes sit exactly on 0
//! and 255, so white and black map exactly to what the ICC pipeline gives.

use moxcms::{ColorProfile, Layout, TransformOptions};

use super::profile::colour_error;
use crate::error::FilesError;

const N: usize = 33;
const FRAC_BITS: u32 = 12;
const ONE: i32 = 1 << FRAC_BITS;

#[derive(Clone)]
pub(crate) struct Lut3 {
    /// (r * N + g) * N + b → C, M, Y, K in 8.8 fixed point (0..=255·256).
    grid: Vec<[i32; 4]>,
    /// Per 8-bit input value and channel (R, G, B): the grid offset of the
    /// cell's low corner along that axis…
    offset: [[u32; 256]; 3],
    /// …and the position inside the cell (0..=ONE).
    frac: [[i32; 256]; 3],
}

impl std::fmt::Debug for Lut3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lut3").field("grid", &N).finish()
    }
}

impl Lut3 {
    pub(crate) fn build(
        src: &ColorProfile,
        dst: &ColorProfile,
        options: TransformOptions,
    ) -> Result<Self, FilesError> {
        let t = src
            .create_transform_f32(Layout::Rgb, dst, Layout::Rgba, options)
            .map_err(colour_error)?;
        let mut input = Vec::with_capacity(N * N * N * 3);
        for r in 0..N {
            for g in 0..N {
                for b in 0..N {
                    let step = |i: usize| i as f32 / (N - 1) as f32;
                    input.extend_from_slice(&[step(r), step(g), step(b)]);
                }
            }
        }
        let mut out = vec![0f32; N * N * N * 4];
        t.transform(&input, &mut out).map_err(colour_error)?;
        let grid = out
            .chunks_exact(4)
            .map(|c| {
                let q = |v: f32| (v.clamp(0.0, 1.0) * 255.0 * 256.0).round() as i32;
                [q(c[0]), q(c[1]), q(c[2]), q(c[3])]
            })
            .collect();
        let mut offset = [[0u32; 256]; 3];
        let mut frac = [[0i32; 256]; 3];
        for v in 0..256usize {
            // Position on the grid in 1/ONE steps.
            let pos = (v as i64 * (N as i64 - 1) * i64::from(ONE) + 127) / 255;
            let (mut i, mut f) = (pos / i64::from(ONE), pos % i64::from(ONE));
            if i as usize >= N - 1 {
                (i, f) = (N as i64 - 2, i64::from(ONE));
            }
            let i = i as u32;
            offset[0][v] = i * (N * N) as u32;
            offset[1][v] = i * N as u32;
            offset[2][v] = i;
            for axis in &mut frac {
                axis[v] = f as i32;
            }
        }
        Ok(Self { grid, offset, frac })
    }

    /// Converts interleaved RGB (3 bytes) to CMYK (4 bytes) for as many
    /// pixels as both slices hold.
    pub(crate) fn apply_rgb(&self, rgb: &[u8], cmyk: &mut [u8]) {
        for (s, d) in rgb.chunks_exact(3).zip(cmyk.chunks_exact_mut(4)) {
            d.copy_from_slice(&self.lookup(s[0], s[1], s[2]));
        }
    }

    #[inline]
    pub(crate) fn lookup(&self, r: u8, g: u8, b: u8) -> [u8; 4] {
        const SR: usize = N * N;
        const SG: usize = N;
        const SB: usize = 1;
        let (r, g, b) = (usize::from(r), usize::from(g), usize::from(b));
        let base = (self.offset[0][r] + self.offset[1][g] + self.offset[2][b]) as usize;
        let (rx, ry, rz) = (self.frac[0][r], self.frac[1][g], self.frac[2][b]);
        // The tetrahedron containing the point: walk from c000 to c111 along
        // the axes in decreasing order of their fractions. Chosen with
        // selects rather than nested branches: photo noise makes the order
        // unpredictable, and mispredictions dominated the per-pixel cost.
        let r_ge_g = rx >= ry;
        let g_ge_b = ry >= rz;
        let r_ge_b = rx >= rz;
        let (first, f1) = if r_ge_g && r_ge_b {
            (SR, rx)
        } else if !r_ge_g && g_ge_b {
            (SG, ry)
        } else {
            (SB, rz)
        };
        let (last, f3) = if !r_ge_g && !r_ge_b {
            (SR, rx)
        } else if r_ge_g && !g_ge_b {
            (SG, ry)
        } else {
            (SB, rz)
        };
        // The middle axis is the one that is neither first nor last.
        let second = (SR + SG + SB) - first - last;
        let f2 = rx + ry + rz - f1 - f3;
        let grid = &self.grid;
        let at = |o: usize| grid.get(base + o).copied().unwrap_or([0; 4]);
        let (c000, a1, a2, c111) = (at(0), at(first), at(first + second), at(SR + SG + SB));
        // Barycentric weights, all ≥ 0 and summing to ONE: the result stays
        // within the corners' range, so no clamping; the channel loop has no
        // division and vectorises.
        let (w0, w1, w2, w3) = (ONE - f1, f1 - f2, f2 - f3, f3);
        let mut acc = [0i32; 4];
        for k in 0..4 {
            acc[k] = c000[k] * w0 + a1[k] * w1 + a2[k] * w2 + c111[k] * w3 + (1 << (FRAC_BITS + 7));
        }
        acc.map(|v| (v >> (FRAC_BITS + 8)) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colour::profile::CmykProfile;

    #[test]
    fn matches_the_direct_icc_transform() {
        let src = ColorProfile::new_srgb();
        let dst = &CmykProfile::default_profile().profile;
        let opts = TransformOptions::default();
        let lut = Lut3::build(&src, dst, opts).unwrap();
        let direct = src
            .create_transform_8bit(Layout::Rgb, dst, Layout::Rgba, opts)
            .unwrap();
        // A deterministic spread of colours incl. the cube corners.
        let mut rgb = vec![0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255];
        let mut x = 12345u32;
        for _ in 0..5000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            rgb.extend_from_slice(&x.to_le_bytes()[..3]);
        }
        let n = rgb.len() / 3;
        let mut a = vec![0u8; n * 4];
        let mut b = vec![0u8; n * 4];
        lut.apply_rgb(&rgb, &mut a);
        direct.transform(&rgb, &mut b).unwrap();
        let mut max = 0i32;
        let mut sum = 0i64;
        for (p, q) in a.iter().zip(&b) {
            let d = (i32::from(*p) - i32::from(*q)).abs();
            max = max.max(d);
            sum += i64::from(d);
        }
        let mean = sum as f64 / a.len() as f64;
        // Corners sit on grid nodes: white and black are exact.
        assert_eq!(a[..8], b[..8]);
        assert!(mean < 1.0, "mean difference {mean}");
        assert!(max <= 8, "max difference {max} of 255");
    }
}
