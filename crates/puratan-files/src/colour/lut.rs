//! A precomputed RGB → CMYK device link: a 33³ grid sampled once through
//! the full ICC pipeline, then tetrahedral interpolation in fixed point.
//!
//! This is what LittleCMS does for 8-bit transforms ("optimisation" into a
//! device link); moxcms evaluates sRGB → Lab → the profile's B2A table per
//! pixel instead, which measured ~45 ns/pixel (130 ms for 3 MP). Sampling
//! the grid costs ~36k float transforms; each pixel then costs a few integer
//! multiply-adds. Grid nodes sit exactly on 0 and 255, so white and black
//! map exactly to what the ICC pipeline gives.

use moxcms::{ColorProfile, Layout, TransformOptions};

use super::profile::colour_error;
use crate::error::FilesError;

const N: usize = 33;
const FRAC_BITS: u32 = 12;
const ONE: i32 = 1 << FRAC_BITS;

#[derive(Clone)]
pub(crate) struct Lut3 {
    /// (r * N + g) * N + b → C, M, Y, K scaled to 0..=65535.
    grid: Vec<[i32; 4]>,
    /// For each 8-bit input: grid index (0..N-1) and fraction (0..=ONE).
    index: [(u16, u16); 256],
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
                let q = |v: f32| (v.clamp(0.0, 1.0) * 65535.0).round() as i32;
                [q(c[0]), q(c[1]), q(c[2]), q(c[3])]
            })
            .collect();
        let mut index = [(0u16, 0u16); 256];
        for (v, slot) in index.iter_mut().enumerate() {
            // Position on the grid in 1/ONE steps.
            let pos = (v as i64 * (N as i64 - 1) * i64::from(ONE) + 127) / 255;
            let mut i = pos / i64::from(ONE);
            let mut frac = pos % i64::from(ONE);
            if i as usize >= N - 1 {
                i = N as i64 - 2;
                frac = i64::from(ONE);
            }
            *slot = (i as u16, frac as u16);
        }
        Ok(Self { grid, index })
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
        let (ri, rx) = self.index[usize::from(r)];
        let (gi, gy) = self.index[usize::from(g)];
        let (bi, bz) = self.index[usize::from(b)];
        let (rx, ry, rz) = (i32::from(rx), i32::from(gy), i32::from(bz));
        let base = (usize::from(ri) * N + usize::from(gi)) * N + usize::from(bi);
        const SR: usize = N * N;
        const SG: usize = N;
        const SB: usize = 1;
        let g = &self.grid;
        let at = |o: usize| g.get(base + o).copied().unwrap_or([0; 4]);
        let c000 = at(0);
        let c111 = at(SR + SG + SB);
        // The tetrahedron containing the point: walk from c000 to c111 along
        // the axes in decreasing order of their fractions.
        let (a1, a2, f1, f2, f3) = if rx >= ry {
            if ry >= rz {
                (at(SR), at(SR + SG), rx, ry, rz)
            } else if rx >= rz {
                (at(SR), at(SR + SB), rx, rz, ry)
            } else {
                (at(SB), at(SR + SB), rz, rx, ry)
            }
        } else if rz >= ry {
            (at(SB), at(SG + SB), rz, ry, rx)
        } else if rz >= rx {
            (at(SG), at(SG + SB), ry, rz, rx)
        } else {
            (at(SG), at(SR + SG), ry, rx, rz)
        };
        let mut out = [0u8; 4];
        for k in 0..4 {
            let v = c000[k] * ONE
                + (a1[k] - c000[k]) * f1
                + (a2[k] - a1[k]) * f2
                + (c111[k] - a2[k]) * f3;
            // 0..=65535·ONE → 0..=255, rounded.
            let v16 = (v + ONE / 2) >> FRAC_BITS;
            out[k] = ((v16.clamp(0, 65535) * 255 + 32767) / 65535) as u8;
        }
        out
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
