//! Total area coverage (C + M + Y + K ink) of placed CMYK images, measured
//! from their samples the way a RIP sees them before colour management.
//!
//! Decoded: images in `DeviceCMYK`, `ICCBased` with four components,
//! `CalCMYK`, and `Indexed` over those, with 8 bits per component, either
//! unfiltered or with filters lopdf decodes (Flate, LZW, ASCII85/Hex,
//! RunLength — through its size-limited API) or a lone `DCTDecode` (through
//! `jpeg-decoder`). `/Decode` arrays are applied, so an Adobe-inverted CMYK
//! JPEG with `/Decode [1 0 1 0 1 0 1 0]` measures its real ink. Everything
//! else (JPX, JBIG2, CCITT, 1/2/4/16-bit samples, DeviceN, damaged data,
//! images over the pixel budget) is skipped: no number, never an error.
//!
//! The DCTDecode filter hands out the component values as stored (after
//! YCC → RGB for YCCK, K untouched: libjpeg's raw output); `jpeg-decoder`
//! returns 255 minus exactly that for four-component JPEGs (it always
//! "undoes the Adobe inversion", marker or not), so the raw sample is
//! `255 − decoded` and the `/Decode` array does the rest — as in Acrobat,
//! Ghostscript and pdf.js, which invert only when `/Decode` says so.

use lopdf::{Document, Object};

use super::objects::{deref, get_num, num};
use crate::colour::{Tac, TacHistogram};

/// How an image's samples become ink amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CmykSamples {
    /// Four samples per pixel: C, M, Y, K.
    Direct,
    /// One sample per pixel indexing `hival + 1` CMYK palette entries
    /// (4 bytes each, missing entries are no ink).
    Indexed { hival: u8, palette: Vec<u8> },
}

impl CmykSamples {
    pub(crate) fn components(&self) -> usize {
        match self {
            CmykSamples::Direct => 4,
            CmykSamples::Indexed { .. } => 1,
        }
    }
}

/// Longest Indexed lookup stream read (256 entries × 4 components, with room
/// for trailing bytes).
const MAX_LOOKUP: usize = 4096;

/// The CMYK sample layout of a colour space (a device name or an array;
/// resource names must have been resolved by the caller); `None` when the
/// space is not a four-component process CMYK space.
pub(crate) fn cmyk_samples(doc: &Document, obj: &Object) -> Option<CmykSamples> {
    cmyk_at(doc, obj, true)
}

fn cmyk_at(doc: &Document, obj: &Object, allow_indexed: bool) -> Option<CmykSamples> {
    match deref(doc, obj)? {
        Object::Name(n) => {
            matches!(n.as_slice(), b"DeviceCMYK" | b"CMYK").then_some(CmykSamples::Direct)
        }
        Object::Array(a) => {
            let family = match deref(doc, a.first()?)? {
                Object::Name(n) => n.as_slice(),
                _ => return None,
            };
            match family {
                b"DeviceCMYK" | b"CMYK" | b"CalCMYK" => Some(CmykSamples::Direct),
                b"ICCBased" => {
                    let n = match deref(doc, a.get(1)?)? {
                        Object::Stream(s) => get_num(doc, &s.dict, b"N"),
                        Object::Dictionary(d) => get_num(doc, d, b"N"),
                        _ => None,
                    };
                    (n == Some(4.0)).then_some(CmykSamples::Direct)
                }
                b"Indexed" | b"I" if allow_indexed => {
                    if cmyk_at(doc, a.get(1)?, false)? != CmykSamples::Direct {
                        return None;
                    }
                    let hival = num(deref(doc, a.get(2)?)?)?;
                    if !(0.0..=255.0).contains(&hival) {
                        return None;
                    }
                    let hival = hival as u8;
                    let mut palette = match deref(doc, a.get(3)?)? {
                        Object::String(s, _) => s.iter().take(MAX_LOOKUP).copied().collect(),
                        Object::Stream(s) => s.decompressed_content_with_limit(MAX_LOOKUP).ok()?,
                        _ => return None,
                    };
                    palette.resize((usize::from(hival) + 1) * 4, 0);
                    Some(CmykSamples::Indexed { hival, palette })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Per-component table: raw 8-bit sample → ink amount (0‥255) or palette
/// index, from the `/Decode` array (`None`: the default).
fn decode_tables(samples: &CmykSamples, decode: Option<&[f64]>) -> Vec<[u8; 256]> {
    let (n, max) = match samples {
        CmykSamples::Direct => (4, 1.0),
        CmykSamples::Indexed { .. } => (1, 255.0),
    };
    (0..n)
        .map(|c| {
            let (d0, d1) = match decode {
                Some(d) if d.len() >= 2 * n => (d[2 * c], d[2 * c + 1]),
                _ => (0.0, max),
            };
            let mut t = [0u8; 256];
            for (v, slot) in t.iter_mut().enumerate() {
                let x = d0 + v as f64 * (d1 - d0) / 255.0;
                let x = if x.is_finite() { x / max } else { 0.0 };
                *slot = (x.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
            t
        })
        .collect()
}

/// TAC of 8-bit samples (`data` holds whole rows; a short stream measures
/// the pixels it has, like readers draw what they have). `inverted` means
/// each byte is 255 − the raw sample (jpeg-decoder's CMYK output).
pub(crate) fn measure(
    samples: &CmykSamples,
    decode: Option<&[f64]>,
    data: &[u8],
    pixels: u64,
    inverted: bool,
) -> Tac {
    let n = samples.components();
    let len = usize::try_from(pixels.saturating_mul(n as u64))
        .unwrap_or(usize::MAX)
        .min(data.len());
    let data = &data[..len];
    let mut tables = decode_tables(samples, decode);
    if inverted {
        for t in &mut tables {
            t.reverse();
        }
    }
    let mut h = TacHistogram::new();
    let identity = tables
        .iter()
        .all(|t| t.iter().enumerate().all(|(i, &v)| usize::from(v) == i));
    if *samples == CmykSamples::Direct && identity {
        h.add_cmyk(data);
        return h.finish();
    }
    let mut buf = Vec::with_capacity(16 * 1024);
    match samples {
        CmykSamples::Direct => {
            for chunk in data.chunks(16 * 1024) {
                buf.clear();
                buf.extend(
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| tables[i % 4][usize::from(v)]),
                );
                h.add_cmyk(&buf);
            }
        }
        CmykSamples::Indexed { hival, palette } => {
            for chunk in data.chunks(4 * 1024) {
                buf.clear();
                for &v in chunk {
                    let i = usize::from(tables[0][usize::from(v)].min(*hival)) * 4;
                    buf.extend_from_slice(palette.get(i..i + 4).unwrap_or(&[0; 4]));
                }
                h.add_cmyk(&buf);
            }
        }
    }
    h.finish()
}

/// Decodes a JPEG that a PDF image names with `DCTDecode` and measures
/// it; `None` when it is not four-component 8-bit, is larger than
/// `max_pixels`, would need more than `max_alloc` bytes or fails to decode.
pub(crate) fn measure_dct(
    jpeg: &[u8],
    samples: &CmykSamples,
    decode: Option<&[f64]>,
    max_pixels: u64,
    max_alloc: u64,
) -> Option<Tac> {
    let pixels = decode_cmyk_jpeg(jpeg, max_pixels, max_alloc)?;
    let count = (pixels.len() / 4) as u64;
    Some(measure(samples, decode, &pixels, count, true))
}

/// A four-component JPEG's pixels as jpeg-decoder returns them (255 − the
/// stored values), within the limits; `None` otherwise.
pub(crate) fn decode_cmyk_jpeg(jpeg: &[u8], max_pixels: u64, max_alloc: u64) -> Option<Vec<u8>> {
    let mut d = jpeg_decoder::Decoder::new(jpeg);
    d.set_max_decoding_buffer_size(usize::try_from(max_alloc).unwrap_or(usize::MAX));
    d.read_info().ok()?;
    let info = d.info()?;
    if info.pixel_format != jpeg_decoder::PixelFormat::CMYK32 {
        return None;
    }
    let pixels = u64::from(info.width) * u64::from(info.height);
    // Output (4 bytes per pixel) plus the coefficients of a progressive
    // decode (≤ 4 components × 2 bytes per pixel).
    if pixels > max_pixels || pixels.saturating_mul(12) > max_alloc {
        return None;
    }
    d.decode().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_arrays_and_palettes() {
        let px = [255u8, 0, 128, 255, 0, 0, 0, 0];
        let t = measure(&CmykSamples::Direct, None, &px, 2, false);
        assert!((t.max_percent - 100.0 * (255.0 + 128.0 + 255.0) / 255.0).abs() < 1e-9);
        // Inverted samples with the inverting Decode array measure the same.
        let inv: Vec<u8> = px.iter().map(|v| 255 - v).collect();
        let decode = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        assert_eq!(
            measure(&CmykSamples::Direct, Some(&decode), &inv, 2, false),
            t
        );
        assert_eq!(measure(&CmykSamples::Direct, None, &inv, 2, true), t);
        // Short data measures what is there; extra data is ignored.
        assert_eq!(measure(&CmykSamples::Direct, None, &px, 9, false).pixels, 2);
        assert_eq!(measure(&CmykSamples::Direct, None, &px, 1, false).pixels, 1);
        let palette = CmykSamples::Indexed {
            hival: 1,
            palette: vec![0, 0, 0, 0, 255, 255, 255, 255],
        };
        // Index 7 is clamped to hival.
        let t = measure(&palette, None, &[0, 1, 7, 0], 4, false);
        assert_eq!(t.pixels, 4);
        assert!((t.max_percent - 400.0).abs() < 1e-9);
        assert!((t.mean_percent - 200.0).abs() < 1e-9);
    }
}
