//! Writes a one-page print PDF around one image XObject (lopdf).

use lopdf::{Dictionary, Document, Object, Stream, dictionary};

use crate::error::FilesError;

/// The image to embed, already encoded for its PDF filter.
#[derive(Debug)]
pub(crate) struct ImageXObject {
    pub width: u32,
    pub height: u32,
    /// 1, 3 or 4 colour components.
    pub components: u8,
    /// `DCTDecode` (JPEG bytes) or `FlateDecode` (zlib bytes).
    pub filter: &'static str,
    pub data: Vec<u8>,
    /// Adobe-inverted CMYK JPEG: needs `/Decode [1 0 1 0 1 0 1 0]`.
    pub inverted_cmyk: bool,
    /// ICC profile for an `ICCBased` colour space (must match `components`).
    pub icc: Option<Vec<u8>>,
}

/// Page geometry in points: the MediaBox (= BleedBox) is `0 0 media_w
/// media_h`, the TrimBox is inset by `bleed` on every side.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageGeometry {
    pub media_w: f64,
    pub media_h: f64,
    pub bleed: f64,
}

fn real(v: f64) -> Object {
    // Three decimals: 1/1000 pt is far below any press tolerance.
    Object::Real(((v * 1000.0).round() / 1000.0) as f32)
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Object {
    Object::Array(vec![real(x0), real(y0), real(x1), real(y1)])
}

fn fmt(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

pub(crate) fn write(
    image: ImageXObject,
    geometry: PageGeometry,
    matrix: [f64; 6],
) -> Result<Vec<u8>, FilesError> {
    let mut doc = Document::with_version("1.6");
    let device = match image.components {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        _ => "DeviceCMYK",
    };
    let colour_space: Object = match image.icc {
        Some(icc) => {
            let mut icc_stream = Stream::new(
                dictionary! { "N" => i64::from(image.components), "Alternate" => device },
                icc,
            );
            // ICC profiles compress well; failure just leaves it uncompressed.
            let _ = icc_stream.compress();
            let id = doc.add_object(icc_stream);
            Object::Array(vec![
                Object::Name(b"ICCBased".to_vec()),
                Object::Reference(id),
            ])
        }
        None => Object::Name(device.as_bytes().to_vec()),
    };
    let mut image_dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => i64::from(image.width),
        "Height" => i64::from(image.height),
        "ColorSpace" => colour_space,
        "BitsPerComponent" => 8,
        "Filter" => image.filter,
    };
    if image.inverted_cmyk {
        image_dict.set(
            "Decode",
            Object::Array(
                [1, 0, 1, 0, 1, 0, 1, 0]
                    .into_iter()
                    .map(Object::Integer)
                    .collect(),
            ),
        );
    }
    // The stream is already encoded: Stream::new would not re-filter it.
    let image_id = doc.add_object(Stream::new(image_dict, image.data).with_compression(false));

    let PageGeometry {
        media_w,
        media_h,
        bleed,
    } = geometry;
    let [a, b, c, d, e, f] = matrix;
    // Clip to the media box, place the image.
    let content = format!(
        "q 0 0 {} {} re W n {} {} {} {} {} {} cm /Im0 Do Q\n",
        fmt(media_w),
        fmt(media_h),
        fmt(a),
        fmt(b),
        fmt(c),
        fmt(d),
        fmt(e),
        fmt(f)
    );
    let content_id = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
    let pages_id = doc.new_object_id();
    let media = rect(0.0, 0.0, media_w, media_h);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => media.clone(),
        "BleedBox" => media,
        "TrimBox" => rect(bleed, bleed, media_w - bleed, media_h - bleed),
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![Object::Reference(page_id)],
            "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    let info_id = doc.add_object(dictionary! {
        "Producer" => Object::string_literal("Puratan"),
    });
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("Info", info_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| FilesError::Encode {
        what: "PDF",
        reason: e.to_string(),
    })?;
    Ok(out)
}
