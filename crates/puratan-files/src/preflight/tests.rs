//! Focused fixtures, generated here: each one PDF feature or defect.

use std::time::{Duration, Instant};

use super::testing::{MM, PdfBuilder, one_page};
use super::*;

fn check(pdf: &[u8], intent: &Intent) -> Report {
    run(
        pdf,
        Format::Pdf,
        intent,
        &Profile::gwg2015_sheetfed(),
        &Limits::default(),
    )
    .expect("preflight runs")
}

fn a4_box() -> String {
    format!("/MediaBox [0 0 {:.4} {:.4}]", 210.0 * MM, 297.0 * MM)
}

/// An A4 page with 3 mm bleed declared by TrimBox/BleedBox.
fn a4_with_bleed() -> String {
    let b = 3.0 * MM;
    let (w, h) = (210.0 * MM, 297.0 * MM);
    format!(
        "/MediaBox [0 0 {:.4} {:.4}] /BleedBox [0 0 {:.4} {:.4}] /TrimBox [{b:.4} {b:.4} {:.4} {:.4}]",
        w + 2.0 * b,
        h + 2.0 * b,
        w + 2.0 * b,
        h + 2.0 * b,
        w + b,
        h + b
    )
}

fn image_xobject(b: &mut PdfBuilder, n: u32, w: u32, h: u32, cs: &str) {
    // Pixel data is never decoded by preflight; a few bytes suffice.
    b.stream(n, &format!("/Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {cs} /BitsPerComponent 8"), b"\0\0\0");
}

fn ppi(report: &Report) -> Vec<(f64, f64)> {
    report.images.iter().map(|i| (i.ppi_x, i.ppi_y)).collect()
}

#[test]
fn clean_file_with_bleed_passes_apart_from_infos() {
    let r = check(
        &one_page(&a4_with_bleed(), "", b"0 0 1 0 k 0 0 100 100 re f", |_| {}),
        &Intent::a4(),
    );
    assert!(
        !r.has("bleed_missing") && !r.has("page_size_mismatch"),
        "{:#?}",
        r.findings
    );
    assert!(r.has("output_intent_missing"));
    assert_eq!(r.verdict, Verdict::Pass);
    let p = &r.pages[0];
    assert!(p.has_trim_box && p.has_bleed_box);
    assert!((p.trim_width_mm - 210.0).abs() < 0.01 && (p.bleed_mm.min() - 3.0).abs() < 0.01);
    assert_eq!(r.colour_spaces[0].space, "DeviceCMYK");
}

#[test]
fn unembedded_font_is_an_error_and_embedded_is_not() {
    let pdf = one_page(
        &a4_with_bleed(),
        "/Font << /F1 5 0 R /F2 6 0 R >>",
        b"BT /F1 12 Tf (Hi) Tj /F2 9 Tf (x) Tj ET",
        |b| {
            b.obj(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
            .obj(6, "<< /Type /Font /Subtype /TrueType /BaseFont /ABCDEF+Embedded /FontDescriptor 7 0 R >>")
            .obj(7, "<< /Type /FontDescriptor /FontName /ABCDEF+Embedded /FontFile2 8 0 R >>")
            .stream(8, "", b"\0\x01\0\0");
        },
    );
    let r = check(&pdf, &Intent::a4());
    let helv = r.fonts.iter().find(|f| f.name == "Helvetica").unwrap();
    assert!(!helv.embedded);
    assert_eq!(helv.object.as_deref(), Some("5 0"));
    let emb = r
        .fonts
        .iter()
        .find(|f| f.name == "ABCDEF+Embedded")
        .unwrap();
    assert!(emb.embedded && emb.subset);
    let f: Vec<_> = r.findings_of("font_not_embedded").collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Error);
    assert!(f[0].message.contains("Helvetica"));
    assert_eq!(r.verdict, Verdict::Fail);
}

#[test]
fn type0_font_embedding_comes_from_its_descendant() {
    let pdf = one_page(
        &a4_box(),
        "/Font << /F1 5 0 R >>",
        b"BT /F1 12 Tf <0001> Tj ET",
        |b| {
            b.obj(5, "<< /Type /Font /Subtype /Type0 /BaseFont /Noto /Encoding /Identity-H /DescendantFonts [6 0 R] >>")
            .obj(6, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Noto /FontDescriptor 7 0 R >>")
            .obj(7, "<< /Type /FontDescriptor /FontName /Noto >>");
        },
    );
    let r = check(&pdf, &Intent::default());
    assert_eq!(r.fonts.len(), 1);
    assert_eq!(r.fonts[0].subtype, "Type0");
    assert!(!r.fonts[0].embedded);
}

#[test]
fn a_72_ppi_image_placed_at_300_percent_is_an_error() {
    // 100 px at 100 % = 100 pt (72 ppi); at 300 % it is 300 pt → 24 ppi.
    let pdf = one_page(
        &a4_with_bleed(),
        "/XObject << /Im1 5 0 R >>",
        b"q 300 0 0 300 50 50 cm /Im1 Do Q",
        |b| image_xobject(b, 5, 100, 100, "/DeviceRGB"),
    );
    let r = check(&pdf, &Intent::a4());
    assert_eq!(ppi(&r), vec![(24.0, 24.0)]);
    let f: Vec<_> = r.findings_of("image_ppi_too_low").collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].measured, Some(Value::Number(24.0)));
    assert_eq!(f[0].threshold, Some(Value::Number(149.0)));
    assert_eq!(f[0].object.as_deref(), Some("image 5 0"));
    assert!(r.has("rgb_colour"));
    assert_eq!(r.verdict, Verdict::Fail);
}

#[test]
fn resolution_between_thresholds_warns_and_tiny_images_are_ignored() {
    // 600 px over 200 pt = 216 ppi (warning); 16 px image at 1 pt ignored.
    let pdf = one_page(
        &a4_box(),
        "/XObject << /Im1 5 0 R /Im2 6 0 R >>",
        b"q 200 0 0 200 0 0 cm /Im1 Do Q q 500 0 0 500 0 0 cm /Im2 Do Q",
        |b| {
            image_xobject(b, 5, 600, 600, "/DeviceCMYK");
            image_xobject(b, 6, 16, 400, "/DeviceCMYK");
        },
    );
    let r = check(&pdf, &Intent::default());
    assert_eq!(r.findings_of("image_ppi_low").count(), 1);
    assert!(!r.has("image_ppi_too_low"));
    assert!(r.images[1].ignored);
}

#[test]
fn image_in_form_xobject_with_scaling_matrix() {
    // Page scales 1.5, the form's /Matrix 2, the image CTM 100 → 300 pt for 300 px = 72 ppi.
    let pdf = one_page(
        &a4_box(),
        "/XObject << /Fm1 5 0 R >>",
        b"q 1.5 0 0 1.5 0 0 cm /Fm1 Do Q",
        |b| {
            b.stream(
            5,
            "/Type /XObject /Subtype /Form /BBox [0 0 200 200] /Matrix [2 0 0 2 0 0] /Resources << /XObject << /Im1 6 0 R >> >>",
            b"q 100 0 0 100 0 0 cm /Im1 Do Q",
        );
            image_xobject(b, 6, 300, 300, "/DeviceGray");
        },
    );
    let r = check(&pdf, &Intent::default());
    assert_eq!(r.images.len(), 1);
    assert!(r.images[0].in_form);
    assert_eq!(ppi(&r), vec![(72.0, 72.0)]);
    assert_eq!(r.images[0].ctm, [300.0, 0.0, 0.0, 300.0, 0.0, 0.0]);
}

#[test]
fn form_resources_fall_back_to_the_page() {
    // The form has no /Resources: its image is found in the page's.
    let pdf = one_page(
        &a4_box(),
        "/XObject << /Fm1 5 0 R /Im1 6 0 R >>",
        b"/Fm1 Do",
        |b| {
            b.stream(
                5,
                "/Type /XObject /Subtype /Form /BBox [0 0 200 200]",
                b"72 0 0 72 0 0 cm /Im1 Do",
            );
            image_xobject(b, 6, 300, 300, "/DeviceGray");
        },
    );
    assert_eq!(ppi(&check(&pdf, &Intent::default())), vec![(300.0, 300.0)]);
}

#[test]
fn rotated_ctm_keeps_the_geometric_resolution() {
    // 300×150 px drawn 150×75 pt (144 ppi), rotated by 90° and by 45°.
    let (c, s) = (
        std::f64::consts::FRAC_1_SQRT_2,
        std::f64::consts::FRAC_1_SQRT_2,
    );
    let content = format!(
        "q 0 150 -75 0 300 100 cm /Im1 Do Q q {:.6} {:.6} {:.6} {:.6} 100 400 cm /Im1 Do Q",
        150.0 * c,
        150.0 * s,
        -75.0 * s,
        75.0 * c
    );
    let pdf = one_page(
        &a4_box(),
        "/XObject << /Im1 5 0 R >>",
        content.as_bytes(),
        |b| image_xobject(b, 5, 300, 150, "/DeviceCMYK"),
    );
    let r = check(&pdf, &Intent::default());
    assert_eq!(r.images.len(), 2);
    for img in &r.images {
        assert!(
            (img.ppi_x - 144.0).abs() < 0.05 && (img.ppi_y - 144.0).abs() < 0.05,
            "{img:?}"
        );
    }
    assert!(r.has("image_ppi_too_low"));
}

#[test]
fn inline_images_are_found_and_measured() {
    // A filtered inline image (lopdf's own content parser gives up on these).
    let content = b"q 50 0 0 50 10 10 cm BI /W 50 /H 50 /BPC 8 /CS /G /F /AHx ID 00ff00 > EI Q q 10 0 0 10 0 0 cm BI /W 20 /H 20 /BPC 8 /CS /RGB ID ";
    let mut content = content.to_vec();
    content.extend_from_slice(&[b'E'; 20 * 20 * 3]); // raw data with "E"s, no false EI
    content.extend_from_slice(b"\nEI Q 0 0 1 rg");
    let r = check(
        &one_page(&a4_box(), "", &content, |_| {}),
        &Intent::default(),
    );
    assert_eq!(r.images.len(), 2, "{:?}", r.images);
    assert_eq!(r.images[0].object, "inline");
    assert_eq!(r.images[0].colour_space, "DeviceGray");
    assert_eq!((r.images[0].ppi_x, r.images[1].ppi_x), (72.0, 144.0));
    // The operator after the second image's data was still read.
    assert!(
        r.colour_spaces
            .iter()
            .any(|c| c.usage == "fill" && c.space == "DeviceRGB")
    );
}

#[test]
fn spot_colour_separation_is_reported_by_name() {
    let pdf = one_page(
        &a4_box(),
        "/ColorSpace << /CS1 [/Separation /PANTONE#20185#20C /DeviceCMYK 5 0 R] >>",
        b"/CS1 cs 1 scn 0 0 100 100 re f",
        |b| {
            b.obj(
                5,
                "<< /FunctionType 2 /Domain [0 1] /C0 [0 0 0 0] /C1 [0 0.91 0.76 0] /N 1 >>",
            );
        },
    );
    let r = check(&pdf, &Intent::default());
    assert_eq!(r.spot_colours, vec!["PANTONE 185 C".to_owned()]);
    assert!(
        r.colour_spaces
            .iter()
            .any(|c| c.space == "Separation(PANTONE 185 C)" && c.model == "spot")
    );
    let f: Vec<_> = r.findings_of("spot_colour").collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Info);
}

#[test]
fn devicen_and_icc_and_indexed_colour_spaces() {
    let pdf = one_page(
        &a4_box(),
        "/ColorSpace << /DN [/DeviceN [/Cyan /Gold] /DeviceCMYK 5 0 R] /ICC [/ICCBased 6 0 R] >> /XObject << /Im1 7 0 R >>",
        b"/DN cs /ICC CS q 100 0 0 100 0 0 cm /Im1 Do Q",
        |b| {
            b.obj(
                5,
                "<< /FunctionType 2 /Domain [0 1] /C0 [0 0 0 0] /C1 [0 0 1 0] /N 1 >>",
            );
            b.stream(6, "/N 3", b"");
            b.stream(7, "/Subtype /Image /Width 20 /Height 20 /BitsPerComponent 8 /ColorSpace [/Indexed /DeviceRGB 1 <000000ffffff>]", b"");
        },
    );
    let r = check(&pdf, &Intent::default());
    let spaces: Vec<&str> = r.colour_spaces.iter().map(|c| c.space.as_str()).collect();
    assert!(spaces.contains(&"DeviceN(Cyan,Gold)"), "{spaces:?}");
    assert!(spaces.contains(&"ICCBased(N=3)"));
    assert!(spaces.contains(&"Indexed(DeviceRGB)"));
    assert_eq!(r.spot_colours, vec!["Gold".to_owned()]);
    assert!(r.has("rgb_colour"));
}

#[test]
fn missing_bleed_wrong_size_and_inferred_trim() {
    // A4 without bleed, ordered A4: bleed missing.
    let r = check(&one_page(&a4_box(), "", b"", |_| {}), &Intent::a4());
    let f: Vec<_> = r.findings_of("bleed_missing").collect();
    assert_eq!((f.len(), f[0].severity), (1, Severity::Error));
    assert!(!r.has("page_size_mismatch"));
    // Landscape A4 for an A4 order: either orientation is fine.
    let landscape = format!("/MediaBox [0 0 {:.4} {:.4}]", 297.0 * MM, 210.0 * MM);
    assert!(
        !check(&one_page(&landscape, "", b"", |_| {}), &Intent::a4()).has("page_size_mismatch")
    );
    // A5 for an A4 order: wrong size.
    let a5 = format!("/MediaBox [0 0 {:.4} {:.4}]", 148.0 * MM, 210.0 * MM);
    let r = check(&one_page(&a5, "", b"", |_| {}), &Intent::a4());
    let f: Vec<_> = r.findings_of("page_size_mismatch").collect();
    assert_eq!((f.len(), f[0].severity), (1, Severity::Error));
    assert_eq!(f[0].measured, Some(Value::Text("148 × 210 mm".into())));
    // 216 × 303 mm without TrimBox for an A4 order: bleed included, trim inferred.
    let with_bleed = format!("/MediaBox [0 0 {:.4} {:.4}]", 216.0 * MM, 303.0 * MM);
    let r = check(&one_page(&with_bleed, "", b"", |_| {}), &Intent::a4());
    assert!(
        r.has("trim_box_missing") && !r.has("page_size_mismatch") && !r.has("bleed_missing"),
        "{:#?}",
        r.findings
    );
    // 1 mm bleed declared where 3 mm are needed.
    let b = MM;
    let thin = format!(
        "/MediaBox [0 0 {:.4} {:.4}] /TrimBox [{b:.4} {b:.4} {:.4} {:.4}]",
        212.0 * MM,
        299.0 * MM,
        211.0 * MM,
        298.0 * MM
    );
    let r = check(&one_page(&thin, "", b"", |_| {}), &Intent::a4());
    let f: Vec<_> = r.findings_of("bleed_insufficient").collect();
    assert_eq!(f[0].measured, Some(Value::Number(1.0)));
}

#[test]
fn boxes_and_rotation_are_inherited_from_the_page_tree() {
    let mut b = PdfBuilder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .obj(
            2,
            "<< /Type /Pages /Kids [5 0 R] /Count 1 /MediaBox [0 0 500 800] /Rotate 450 >>",
        )
        .obj(
            5,
            "<< /Type /Pages /Parent 2 0 R /Kids [3 0 R] /Count 1 /CropBox [10 10 490 790] >>",
        )
        .obj(
            3,
            "<< /Type /Page /Parent 5 0 R /TrimBox [20 20 600 780] /Contents 4 0 R >>",
        )
        .stream(4, "", b"");
    let r = check(&b.finish(""), &Intent::default());
    let p = &r.pages[0];
    assert_eq!(p.media_box, [0.0, 0.0, 500.0, 800.0]);
    assert_eq!(p.crop_box, [10.0, 10.0, 490.0, 790.0]);
    assert_eq!(p.trim_box, [20.0, 20.0, 500.0, 780.0]); // clipped to the media box
    assert_eq!(p.bleed_box, p.crop_box); // defaults to the crop box
    assert_eq!(p.rotate, 90);
    // Displayed size: rotated.
    assert!((p.trim_width_mm - 760.0 * 25.4 / 72.0).abs() < 0.01);
}

#[test]
fn transparency_is_detected_when_used() {
    let pdf = one_page(
        &a4_box(),
        "/ExtGState << /GS1 5 0 R /GS2 6 0 R /Unused 7 0 R >>",
        b"/GS1 gs 0 0 10 10 re f /GS2 gs",
        |b| {
            b.obj(5, "<< /Type /ExtGState /ca 0.5 >>")
                .obj(6, "<< /Type /ExtGState /BM /Multiply /SMask /None >>")
                .obj(7, "<< /Type /ExtGState /SMask << /S /Luminosity >> >>");
        },
    );
    let r = check(&pdf, &Intent::default());
    let kinds: Vec<&str> = r.transparency.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, vec!["blend_mode", "constant_alpha"]);
    assert_eq!(
        r.findings_of("transparency").next().unwrap().severity,
        Severity::Warning
    );
    assert!(
        !check(
            &one_page(&a4_box(), "/ExtGState << /G 7 0 R >>", b"", |b| {
                b.obj(7, "<< /ca 0.5 >>");
            }),
            &Intent::default()
        )
        .has("transparency")
    );
}

#[test]
fn pdfx_output_intent_is_reported() {
    let mut b = PdfBuilder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R /OutputIntents [5 0 R] >>")
        .obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        .obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>")
        .stream(4, "", b"")
        .obj(5, "<< /Type /OutputIntent /S /GTS_PDFX /OutputConditionIdentifier (FOGRA39) /DestOutputProfile 6 0 R >>")
        .stream(6, "/N 4", b"");
    let r = check(&b.finish(""), &Intent::default());
    let oi = r.output_intent.as_ref().unwrap();
    assert_eq!(
        (
            oi.subtype.as_str(),
            oi.output_condition_identifier.as_deref(),
            oi.has_profile
        ),
        ("GTS_PDFX", Some("FOGRA39"), true)
    );
    assert!(!r.has("output_intent_missing"));
}

fn encrypted(user_password: &str) -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(&one_page(&a4_box(), "", b"0 0 1 rg", |_| {})).unwrap();
    doc.trailer.set(
        "ID",
        lopdf::Object::Array(vec![
            lopdf::Object::string_literal("0123456789abcdef"),
            lopdf::Object::string_literal("0123456789abcdef"),
        ]),
    );
    let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password,
        key_length: 128,
        permissions: lopdf::Permissions::all(),
    })
    .unwrap();
    doc.encrypt(&state).unwrap();
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn encrypted_files() {
    let err = run(
        &encrypted("secret"),
        Format::Pdf,
        &Intent::default(),
        &Profile::default(),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "preflight_encrypted");
    // Only an owner password: readable, but reported.
    let r = check(&encrypted(""), &Intent::default());
    assert!(r.encrypted);
    assert!(r.has("pdf_encrypted"));
    assert!(
        r.colour_spaces.iter().any(|c| c.space == "DeviceRGB"),
        "decrypted content was read"
    );
}

/// A zlib stream of `matches` × 258 zero bytes using fixed Huffman codes
/// (13 bits per 258 bytes), built without ever holding the output.
fn deflate_bomb(matches: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u32,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u32, bits: u32) {
            // LSB-first for header fields.
            self.acc |= value << self.n;
            self.n += bits;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        fn code(&mut self, code: u32, bits: u32) {
            // Huffman codes are packed MSB-first.
            for i in (0..bits).rev() {
                self.put((code >> i) & 1, 1);
            }
        }
    }
    let mut b = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    b.put(1, 1); // BFINAL
    b.put(1, 2); // fixed Huffman
    b.code(0x30, 8); // literal 0
    for _ in 0..matches {
        b.code(0b1100_0101, 8); // length 258 (code 285)
        b.code(0, 5); // distance 1
    }
    b.code(0, 7); // end of block
    b.put(0, 7);
    b.out.extend_from_slice(&[0, 0, 0, 0]);
    b.out
}

#[test]
fn flate_bomb_is_rejected_quickly_by_the_stream_limit() {
    // About 1 MB compressed that inflates to ~160 MB.
    let bomb = deflate_bomb(640_000);
    assert!(bomb.len() > 1_000_000 && bomb.len() < 1_100_000);
    let mut b = PdfBuilder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        .obj(
            3,
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>",
        )
        .stream(4, "/Filter /FlateDecode", &bomb);
    let limits = Limits {
        max_stream_bytes: 8 << 20,
        ..Limits::default()
    };
    let start = Instant::now();
    let err = run(
        &b.finish(""),
        Format::Pdf,
        &Intent::default(),
        &Profile::default(),
        &limits,
    )
    .unwrap_err();
    assert_eq!(err.code(), "preflight_limit_exceeded");
    assert!(
        matches!(
            err,
            FilesError::PreflightLimit {
                limit: "max_stream_bytes",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn self_referencing_and_mutually_recursive_forms_do_not_hang() {
    let pdf = one_page(
        &a4_box(),
        "/XObject << /Fm1 5 0 R /Fm2 6 0 R >>",
        b"/Fm1 Do /Fm2 Do",
        |b| {
            b.stream(
                5,
                "/Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /Fm1 5 0 R >> >>",
                b"/Fm1 Do",
            );
            b.stream(
                6,
                "/Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /Fm3 7 0 R >> >>",
                b"/Fm3 Do",
            );
            b.stream(
                7,
                "/Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /Fm2 6 0 R >> >>",
                b"/Fm2 Do",
            );
        },
    );
    let start = Instant::now();
    let r = check(&pdf, &Intent::default());
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        r.findings_of("content_damaged").count(),
        2,
        "{:#?}",
        r.findings
    );
}

#[test]
fn exponential_form_fan_out_hits_the_operator_limit() {
    // Each form draws the next one 10 times: 10^12 draws if followed.
    let mut b = PdfBuilder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        .obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << /XObject << /F 10 0 R >> >> /Contents 4 0 R >>")
        .stream(4, "", b"/F Do");
    for i in 10..22 {
        b.stream(
            i,
            &format!(
                "/Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /F {} 0 R >> >>",
                i + 1
            ),
            b"/F Do /F Do /F Do /F Do /F Do /F Do /F Do /F Do /F Do /F Do",
        );
    }
    b.stream(22, "/Subtype /Form /BBox [0 0 1 1]", b"0 0 1 1 re f");
    let limits = Limits {
        max_operators: 1_000_000,
        ..Limits::default()
    };
    let start = Instant::now();
    let err = run(
        &b.finish(""),
        Format::Pdf,
        &Intent::default(),
        &Profile::default(),
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            FilesError::PreflightLimit {
                limit: "max_operators",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn hidden_layers_are_skipped() {
    let mut b = PdfBuilder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R /OCProperties << /OCGs [6 0 R] /D << /OFF [6 0 R] >> >> >>")
        .obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        .obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << /Properties << /L 6 0 R >> /XObject << /Im 5 0 R >> >> /Contents 4 0 R >>")
        .stream(4, "", b"/OC /L BDC q 10 0 0 10 0 0 cm /Im Do Q EMC q 50 0 0 50 0 0 cm /Im Do Q")
        .obj(6, "<< /Type /OCG /Name (hidden) >>");
    image_xobject(&mut b, 5, 100, 100, "/DeviceGray");
    let r = check(&b.finish(""), &Intent::default());
    assert_eq!(ppi(&r), vec![(144.0, 144.0)]);
}

#[test]
fn page_count_and_limits() {
    let pdf = one_page(&a4_box(), "", b"", |_| {});
    assert!(
        check(
            &pdf,
            &Intent {
                pages: Some(2),
                ..Intent::default()
            }
        )
        .has("page_count_mismatch")
    );
    let tiny = Limits {
        max_input_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(
        run(
            &pdf,
            Format::Pdf,
            &Intent::default(),
            &Profile::default(),
            &tiny
        )
        .unwrap_err()
        .code(),
        "preflight_limit_exceeded"
    );
    assert_eq!(
        run(
            b"<svg/>",
            Format::Svg,
            &Intent::default(),
            &Profile::default(),
            &Limits::default()
        )
        .unwrap_err()
        .code(),
        "preflight_unsupported_format"
    );
    assert_eq!(
        run(
            b"%PDF-1.4 garbage",
            Format::Pdf,
            &Intent::default(),
            &Profile::default(),
            &Limits::default()
        )
        .unwrap_err()
        .code(),
        "preflight_unreadable"
    );
}

#[test]
fn findings_are_capped_per_check() {
    let mut content = String::new();
    for _ in 0..200 {
        content.push_str("q 500 0 0 500 0 0 cm /Im Do Q ");
    }
    let pdf = one_page(
        &a4_box(),
        "/XObject << /Im 5 0 R >>",
        content.as_bytes(),
        |b| image_xobject(b, 5, 100, 100, "/DeviceGray"),
    );
    let r = check(&pdf, &Intent::default());
    assert_eq!(r.images.len(), 200);
    assert_eq!(r.findings_of("image_ppi_too_low").count(), 51); // 50 + "150 more"
}

#[test]
fn report_json_has_a_stable_schema_and_round_trips() {
    let pdf = one_page(
        &a4_box(),
        "/XObject << /Im1 5 0 R >>",
        b"q 300 0 0 300 0 0 cm /Im1 Do Q",
        |b| image_xobject(b, 5, 100, 100, "/DeviceRGB"),
    );
    let r = check(&pdf, &Intent::a4());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["schema"], "puratan.preflight/v1");
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["format"], "pdf");
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "image_ppi_too_low")
        .unwrap();
    assert_eq!(f["severity"], "error");
    assert_eq!(f["page"], 1);
    assert_eq!(f["unit"], "ppi");
    assert!(f["fix"].is_string() && f["message"].is_string());
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn profiles_deserialise_with_defaults() {
    let p: Profile =
        serde_json::from_str(r#"{"id": "newsprint", "image_ppi_error": 100, "rgb": "off"}"#)
            .unwrap();
    assert_eq!(p.image_ppi_error, 100.0);
    assert_eq!(p.image_ppi_warning, 224.0);
    assert_eq!(p.rgb, Level::Off);
    assert!(
        serde_json::from_str::<Profile>(r#"{"imgae_ppi_error": 1}"#).is_err(),
        "typos are rejected"
    );
    let pdf = one_page(&a4_box(), "", b"1 0 0 rg", |_| {});
    let r = run(
        &pdf,
        Format::Pdf,
        &Intent::default(),
        &p,
        &Limits::default(),
    )
    .unwrap();
    assert!(!r.has("rgb_colour"));
    assert_eq!(r.profile, "newsprint");
}

// ---- raster

fn png(w: u32, h: u32, color: image::ExtendedColorType) -> Vec<u8> {
    use image::ImageEncoder;
    let n = usize::from(color.channel_count());
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&vec![128u8; w as usize * h as usize * n], w, h, color)
        .unwrap();
    out
}

#[test]
fn raster_resolution_at_the_ordered_size() {
    // 100 × 100 mm ordered + 3 mm bleed = 106 mm: 1252 px ≈ 300 ppi.
    let bytes = png(1252, 1252, image::ExtendedColorType::Rgba8);
    let r = run(
        &bytes,
        Format::Png,
        &Intent::trim_mm(100.0, 100.0),
        &Profile::default(),
        &Limits::default(),
    )
    .unwrap();
    let info = r.raster.as_ref().unwrap();
    assert!((info.ppi_x.unwrap() - 300.0).abs() < 0.1, "{info:?}");
    assert_eq!(
        (info.colour_mode.as_str(), info.alpha, info.icc_profile),
        ("rgb", true, false)
    );
    assert!(r.has("rgb_colour") && r.has("raster_alpha") && r.has("raster_no_icc_profile"));
    assert!(!r.has("image_ppi_low") && !r.has("image_ppi_too_low"));
    // The same pixels for an A3 poster: too low, and the wrong shape.
    let r = run(
        &bytes,
        Format::Png,
        &Intent::trim_mm(297.0, 420.0),
        &Profile::default(),
        &Limits::default(),
    )
    .unwrap();
    assert!(r.has("image_ppi_too_low") && r.has("raster_aspect_mismatch"));
    assert_eq!(r.verdict, Verdict::Fail);
}

#[test]
fn raster_limits_and_garbage() {
    let bytes = png(300, 200, image::ExtendedColorType::L8);
    let limits = Limits {
        max_image_dimension: 100,
        ..Limits::default()
    };
    let err = run(
        &bytes,
        Format::Png,
        &Intent::default(),
        &Profile::default(),
        &limits,
    )
    .unwrap_err();
    assert_eq!(err.code(), "preflight_limit_exceeded");
    let r = run(
        &bytes,
        Format::Png,
        &Intent::default(),
        &Profile::default(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(r.raster.as_ref().unwrap().colour_mode, "gray");
    assert!(r.has("print_size_unknown"));
    let err = run(
        b"\x89PNG\r\n\x1a\nnope",
        Format::Png,
        &Intent::default(),
        &Profile::default(),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "preflight_unreadable");
}

/// A JPEG whose frame says 4 components (CMYK, or YCCK with Adobe
/// transform 2): a real RGB JPEG from `image`'s encoder with a fourth
/// component added to its frame and scan headers and an Adobe APP14 marker
/// (only headers are read, so the entropy data need not match).
fn four_component_jpeg(adobe_transform: Option<u8>) -> Vec<u8> {
    let mut rgb = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut rgb)
        .encode(
            &[200u8; 16 * 16 * 3],
            16,
            16,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let mut out = vec![0xff, 0xd8];
    if let Some(t) = adobe_transform {
        out.extend_from_slice(&[0xff, 0xee, 0x00, 0x0e]);
        out.extend_from_slice(b"Adobe\x00\x64\x00\x00\x00\x00");
        out.push(t);
    }
    let mut pos = 2;
    while pos + 4 <= rgb.len() {
        let marker = rgb[pos + 1];
        let len = usize::from(u16::from_be_bytes([rgb[pos + 2], rgb[pos + 3]]));
        let seg = &rgb[pos + 4..pos + 2 + len];
        match marker {
            0xc0 => {
                let mut s = seg.to_vec();
                s[5] = 4;
                s.extend_from_slice(&[4, 0x11, 0]);
                out.extend_from_slice(&[0xff, 0xc0]);
                out.extend_from_slice(&((s.len() + 2) as u16).to_be_bytes());
                out.extend_from_slice(&s);
            }
            0xda => {
                let mut s = vec![4];
                s.extend_from_slice(&seg[1..7]);
                s.extend_from_slice(&[4, 0x00]);
                s.extend_from_slice(&seg[7..]);
                out.extend_from_slice(&[0xff, 0xda]);
                out.extend_from_slice(&((s.len() + 2) as u16).to_be_bytes());
                out.extend_from_slice(&s);
                out.extend_from_slice(&rgb[pos + 2 + len..]);
                return out;
            }
            _ => out.extend_from_slice(&rgb[pos..pos + 2 + len]),
        }
        pos += 2 + len;
    }
    out
}

#[test]
fn cmyk_and_ycck_jpegs_are_detected_although_image_reports_rgb() {
    let mut rgb = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut rgb)
        .encode(
            &[200u8; 16 * 16 * 3],
            16,
            16,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let r = run(
        &rgb,
        Format::Jpeg,
        &Intent::default(),
        &Profile::default(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(r.raster.as_ref().unwrap().colour_mode, "rgb");
    assert!(r.has("rgb_colour"));
    for (transform, mode) in [(Some(0), "cmyk"), (None, "cmyk"), (Some(2), "ycck")] {
        let jpeg = four_component_jpeg(transform);
        assert_eq!(
            super::raster::jpeg_frame(&jpeg).map(|f| f.components),
            Some(4)
        );
        let r = run(
            &jpeg,
            Format::Jpeg,
            &Intent::trim_mm(10.0, 10.0),
            &Profile::default(),
            &Limits::default(),
        )
        .unwrap();
        let info = r.raster.as_ref().unwrap();
        assert_eq!(
            (info.colour_mode.as_str(), info.width),
            (mode, 16),
            "{transform:?}"
        );
        assert!(!r.has("rgb_colour"));
    }
}

// ---- hostile content streams: our lexer and interpreter never panic

fn content_vocabulary() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let token = prop_oneof![
        Just(&b"q "[..]),
        Just(&b"Q "[..]),
        Just(&b"1e308 0 0 1e308 0 0 cm "[..]),
        Just(&b"0 0 0 0 0 0 cm "[..]),
        Just(&b"/Im1 Do "[..]),
        Just(&b"/Fm1 Do "[..]),
        Just(&b"/Missing Do "[..]),
        Just(&b"/Im2 Do /Im3 Do "[..]),
        Just(&b"BI /W 3 /H 2 /CS /RGB /BPC 8 ID "[..]),
        Just(&b"BI /W 99999999999 /H 99999999999 /BPC 99 /CS [/I /RGB 1 <00>] ID "[..]),
        Just(&b"BI /F /Fl ID "[..]),
        Just(&b" EI "[..]),
        Just(&b"/OC /L BDC "[..]),
        Just(&b"EMC "[..]),
        Just(&b"[[[[[ "[..]),
        Just(&b"<<< >> "[..]),
        Just(&b"(unbalanced \\( "[..]),
        Just(&b"/GS1 gs /CS1 cs /Sh sh 1 0 0 rg "[..]),
        Just(&b"-- 1.2.3 +-.5 "[..]),
        Just(&b"% comment\n"[..]),
        Just(&b"0.9 0.9 0.9 0.9 k 1e999 -3 0 1 K /CS1 cs 1 1 1 1 scn 9 Tr "[..]),
        Just(&b"0 0 5 5 re f B* S BT (x) Tj ET "[..]),
        Just(&b"BI /W 2 /H 2 /CS /CMYK /BPC 8 /F /DCT ID \xff\xd8\xff "[..]),
        Just(&b"BI /W 9 /H 9 /CS /CMYK /BPC 8 /F /Fl /D [1 0 nan] ID x\x9c "[..]),
        Just(&b"BI /W 2 /H 1 /CS /CMYK /BPC 8 /D [1 0 1 0 1 0 1 0] ID "[..]),
    ];
    proptest::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

fn hostile_page(content: &[u8]) -> Vec<u8> {
    one_page(
        &a4_box(),
        "/XObject << /Im1 5 0 R /Fm1 6 0 R /Im2 7 0 R /Im3 8 0 R >> /ExtGState << /GS1 << /ca 0.2 /BM [/Screen] >> >> /ColorSpace << /CS1 [/DeviceN [/A /B] /DeviceCMYK 5 0 R] >> /Properties << /L << /Type /OCMD /OCGs [] >> >>",
        content,
        |b| {
            image_xobject(b, 5, 40, 40, "/CS1");
            b.stream(6, "/Subtype /Form /BBox [0 0 1 1] /Matrix [1 2 3]", content);
            b.stream(7, "/Subtype /Image /Width 99999 /Height 3 /ColorSpace [/Indexed /DeviceCMYK 300 <00>] /BitsPerComponent 8 /Decode [9 -9]", b"\x01\x02");
            b.stream(8, "/Subtype /Image /Width 4 /Height 4 /ColorSpace /DeviceCMYK /BitsPerComponent 8 /Filter /DCTDecode", &[0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0xff, 0xff, 0xff, 0xff, 4]);
        },
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, ..Default::default() })]

    #[test]
    fn arbitrary_content_bytes_never_fail(content in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let r = run(&hostile_page(&content), Format::Pdf, &Intent::a4(), &Profile::default(), &Limits::default());
        proptest::prop_assert!(r.is_ok(), "{:?}", r.err());
    }

    #[test]
    fn operator_soup_never_fails(content in content_vocabulary()) {
        let r = run(&hostile_page(&content), Format::Pdf, &Intent::a4(), &Profile::default(), &Limits::default());
        proptest::prop_assert!(r.is_ok(), "{:?}", r.err());
        let json = serde_json::to_string(&r.unwrap()).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        proptest::prop_assert_eq!(back.schema.as_str(), SCHEMA);
    }

    #[test]
    fn truncated_files_never_panic(cut in 0usize..2000) {
        let pdf = hostile_page(b"q 10 0 0 10 0 0 cm /Im1 Do Q /Fm1 Do");
        let cut = cut.min(pdf.len());
        let r = run(&pdf[..cut], Format::Pdf, &Intent::default(), &Profile::default(), &Limits::default());
        proptest::prop_assert!(!matches!(r, Err(FilesError::PreflightInternal)));
    }
}

// ---- total area coverage

/// A `w × h` CMYK image XObject filled with one ink value, Flate-compressed.
fn cmyk_image(b: &mut PdfBuilder, n: u32, w: u32, h: u32, ink: [u8; 4], cs: &str) {
    use std::io::Write as _;
    let px: Vec<u8> = ink
        .iter()
        .copied()
        .cycle()
        .take((w * h * 4) as usize)
        .collect();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&px).unwrap();
    b.stream(
        n,
        &format!("/Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {cs} /BitsPerComponent 8 /Filter /FlateDecode"),
        &z.finish().unwrap(),
    );
}

fn tac_page(content: &[u8], resources: &str, extra: impl FnOnce(&mut PdfBuilder)) -> Report {
    check(
        &one_page(&a4_with_bleed(), resources, content, extra),
        &Intent::a4(),
    )
}

fn tac_findings(r: &Report) -> Vec<&Finding> {
    r.findings_of("total_area_coverage").collect()
}

#[test]
fn a_cmyk_image_at_400_percent_is_an_error_and_280_percent_passes() {
    let r = tac_page(
        b"q 200 0 0 200 50 50 cm /Im1 Do Q",
        "/XObject << /Im1 5 0 R >>",
        |b| cmyk_image(b, 5, 40, 30, [255, 255, 255, 255], "/DeviceCMYK"),
    );
    let f = tac_findings(&r);
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].page, Some(1));
    assert_eq!(f[0].object.as_deref(), Some("image 5 0"));
    assert_eq!(f[0].measured, Some(Value::Number(400.0)));
    assert_eq!(f[0].threshold, Some(Value::Number(320.0)));
    assert_eq!(f[0].unit.as_deref(), Some("%"));
    assert!(f[0].message.contains("400 %"), "{}", f[0].message);
    assert!(f[0].fix.as_deref().unwrap().contains("FOGRA39"));
    assert_eq!(r.images[0].tac_percent, Some(400.0));
    assert_eq!(r.images[0].tac_max_percent, Some(400.0));
    assert_eq!(r.verdict, Verdict::Fail);

    // 100 + 80 + 100 + 0 = 280 %.
    let r = tac_page(
        b"q 200 0 0 200 50 50 cm /Im1 Do Q",
        "/XObject << /Im1 5 0 R >>",
        |b| cmyk_image(b, 5, 40, 30, [255, 204, 255, 0], "/DeviceCMYK"),
    );
    assert!(tac_findings(&r).is_empty(), "{:#?}", r.findings);
    assert_eq!(r.images[0].tac_percent, Some(280.0));
}

#[test]
fn tac_is_judged_on_the_999th_percentile_like_tac_exceeds() {
    // 1000 pixels, one of them at 400 %: the max is 400, the p99.9 is 0.
    use std::io::Write as _;
    let mut px = vec![0u8; 1000 * 4];
    px[..4].copy_from_slice(&[255; 4]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&px).unwrap();
    let data = z.finish().unwrap();
    let r = tac_page(
        b"q 100 0 0 100 0 0 cm /Im1 Do Q",
        "/XObject << /Im1 5 0 R >>",
        |b| {
            b.stream(5, "/Subtype /Image /Width 100 /Height 10 /ColorSpace /DeviceCMYK /BitsPerComponent 8 /Filter /FlateDecode", &data);
        },
    );
    assert!(tac_findings(&r).is_empty(), "{:#?}", r.findings);
    assert_eq!(r.images[0].tac_max_percent, Some(400.0));
    assert_eq!(r.images[0].tac_percent, Some(0.0));
}

#[test]
fn vector_fills_count_when_painted() {
    let r = tac_page(b"0.9 0.9 0.9 0.9 k 0 0 100 100 re f", "", |_| {});
    let f = tac_findings(&r);
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].measured, Some(Value::Number(360.0)));
    assert_eq!(
        f[0].object.as_deref(),
        Some("fill colour C 90 M 90 Y 90 K 90")
    );
    // Set but never painted, restored by Q before painting, painted in
    // invisible text mode 3, or inside hidden optional content: nothing.
    for content in [
        &b"0.9 0.9 0.9 0.9 k 0 0 100 100 re n"[..],
        b"q 0.9 0.9 0.9 0.9 k Q 0 0 100 100 re f",
        b"0.9 0.9 0.9 0.9 k BT 3 Tr (x) Tj ET",
        b"0.9 0.9 0.9 0.9 K 0 0 100 100 re f",
        b"1 1 1 1 k 0 g 0 0 100 100 re f",
    ] {
        let r = tac_page(content, "", |_| {});
        assert!(
            tac_findings(&r).is_empty(),
            "{}: {:#?}",
            String::from_utf8_lossy(content),
            r.findings
        );
    }
    // Strokes, text and stencil masks count; sc/scn in an ICCBased CMYK space.
    for (content, object) in [
        (
            &b"1 1 1 0.5 K 0 0 m 10 10 l S"[..],
            "stroke colour C 100 M 100 Y 100 K 50",
        ),
        (
            b"BT /F1 9 Tf 1 1 1 1 k (x) Tj ET",
            "fill colour C 100 M 100 Y 100 K 100",
        ),
        (
            b"BT 1 Tr 1 1 1 1 K [(x)] TJ ET",
            "stroke colour C 100 M 100 Y 100 K 100",
        ),
        (
            b"/CS1 cs 1 1 1 0.25 scn 0 0 5 5 re f",
            "fill colour C 100 M 100 Y 100 K 25",
        ),
        (
            b"/CS1 CS 1 1 0.5 1 SC 0 0 5 5 re b*",
            "stroke colour C 100 M 100 Y 50 K 100",
        ),
        (
            b"1 1 1 1 k q 10 0 0 10 0 0 cm /Mask Do Q",
            "fill colour C 100 M 100 Y 100 K 100",
        ),
    ] {
        let r = tac_page(
            content,
            "/Font << /F1 6 0 R >> /ColorSpace << /CS1 [/ICCBased 7 0 R] >> /XObject << /Mask 8 0 R >>",
            |b| {
                b.obj(6, "<< /Type /Font /Subtype /Type3 >>")
                    .stream(7, "/N 4", b"")
                    .stream(
                        8,
                        "/Subtype /Image /Width 8 /Height 1 /ImageMask true",
                        b"\xff",
                    );
            },
        );
        let f = tac_findings(&r);
        assert_eq!(
            f.len(),
            1,
            "{}: {:#?}",
            String::from_utf8_lossy(content),
            r.findings
        );
        assert_eq!(f[0].object.as_deref(), Some(object));
    }
    // `cs` sets the initial colour: black (100 %) in DeviceCMYK, no ink in ICCBased.
    let r = tac_page(
        b"/CS1 cs 0 0 5 5 re f /DeviceCMYK cs 0 0 5 5 re f",
        "/ColorSpace << /CS1 [/ICCBased 5 0 R] >>",
        |b| {
            b.stream(5, "/N 4", b"");
        },
    );
    assert!(tac_findings(&r).is_empty());
}

#[test]
fn forms_inherit_the_colour_and_the_worst_object_of_the_page_wins() {
    let resources = "/XObject << /Fm1 5 0 R /Im1 6 0 R >>";
    let objects = |form: &'static [u8]| {
        move |b: &mut PdfBuilder| {
            b.stream(5, "/Subtype /Form /BBox [0 0 10 10]", form);
            cmyk_image(b, 6, 4, 4, [255, 255, 255, 0], "/DeviceCMYK");
        }
    };
    // The form paints with the colour it inherits (360 %), worse than the
    // image (300 %).
    let r = tac_page(
        b"0.9 0.9 0.9 0.9 k /Fm1 Do q 100 0 0 100 0 0 cm /Im1 Do Q",
        resources,
        objects(b"0 0 1 1 re f"),
    );
    let f = tac_findings(&r);
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].measured, Some(Value::Number(360.0)));
    assert_eq!(
        f[0].object.as_deref(),
        Some("fill colour C 90 M 90 Y 90 K 90")
    );
    // A colour set inside the form does not leak out (implicit q … Q).
    let r = tac_page(
        b"0.1 0.1 0.1 0.1 k /Fm1 Do 0 0 5 5 re f",
        resources,
        objects(b"1 1 1 1 k"),
    );
    assert!(tac_findings(&r).is_empty(), "{:#?}", r.findings);
    // Exactly at the limit is not over it; the image is the worst object.
    let r = tac_page(
        b"0.8 0.8 0.8 0.8 k 0 0 5 5 re f q 100 0 0 100 0 0 cm /Im1 Do Q",
        resources,
        objects(b""),
    );
    assert!(tac_findings(&r).is_empty(), "{:#?}", r.findings);
    let strict = Profile {
        tac_limit_percent: 280.0,
        ..Profile::gwg2015_sheetfed()
    };
    let pdf = one_page(
        &a4_with_bleed(),
        resources,
        b"0.1 0 0 0 k 0 0 5 5 re f q 100 0 0 100 0 0 cm /Im1 Do Q",
        objects(b""),
    );
    let r = run(
        &pdf,
        Format::Pdf,
        &Intent::a4(),
        &strict,
        &Limits::default(),
    )
    .unwrap();
    let f = tac_findings(&r);
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].object.as_deref(), Some("image 6 0"));
    assert_eq!(f[0].measured, Some(Value::Number(300.0)));
    assert_eq!(f[0].threshold, Some(Value::Number(280.0)));
}

#[test]
fn rgb_pages_off_level_and_budgets_give_no_tac_finding() {
    let r = tac_page(
        b"1 0 0 rg 0 0 5 5 re f q 100 0 0 100 0 0 cm /Im1 Do Q",
        "/XObject << /Im1 5 0 R >>",
        |b| {
            // 255 255 255 as RGB: white, no ink.
            b.stream(
                5,
                "/Subtype /Image /Width 2 /Height 1 /ColorSpace /DeviceRGB /BitsPerComponent 8",
                &[255; 6],
            );
        },
    );
    assert!(tac_findings(&r).is_empty(), "{:#?}", r.findings);
    assert_eq!(r.images[0].tac_percent, None);
    let pdf = one_page(
        &a4_with_bleed(),
        "/XObject << /Im1 5 0 R >>",
        b"1 1 1 1 k 0 0 5 5 re f q 100 0 0 100 0 0 cm /Im1 Do Q",
        |b| cmyk_image(b, 5, 40, 30, [255; 4], "/DeviceCMYK"),
    );
    let off = Profile {
        total_area_coverage: Level::Off,
        ..Profile::gwg2015_sheetfed()
    };
    let r = run(&pdf, Format::Pdf, &Intent::a4(), &off, &Limits::default()).unwrap();
    assert!(tac_findings(&r).is_empty());
    assert_eq!(r.images[0].tac_percent, None, "not even decoded");
    let warn = Profile {
        total_area_coverage: Level::Warning,
        ..Profile::gwg2015_sheetfed()
    };
    let r = run(&pdf, Format::Pdf, &Intent::a4(), &warn, &Limits::default()).unwrap();
    assert_eq!(tac_findings(&r)[0].severity, Severity::Warning);
    // Over the per-image pixel budget: the image is skipped, the fill still counts.
    let small = Limits {
        max_tac_image_pixels: 1000,
        ..Limits::default()
    };
    let r = run(
        &pdf,
        Format::Pdf,
        &Intent::a4(),
        &Profile::default(),
        &small,
    )
    .unwrap();
    assert_eq!(r.images[0].tac_percent, None);
    assert_eq!(
        tac_findings(&r)[0].object.as_deref(),
        Some("fill colour C 100 M 100 Y 100 K 100")
    );
    let spent = Limits {
        max_tac_total_pixels: 10,
        ..Limits::default()
    };
    let r = run(
        &pdf,
        Format::Pdf,
        &Intent::a4(),
        &Profile::default(),
        &spent,
    )
    .unwrap();
    assert_eq!(r.images[0].tac_percent, None);
}

#[test]
fn profiles_without_tac_fields_still_parse() {
    let p: Profile = serde_json::from_str(r#"{"id": "old", "rgb": "off"}"#).unwrap();
    assert_eq!(p.total_area_coverage, Level::Error);
    assert_eq!(p.tac_limit_percent, 320.0);
    let p: Profile =
        serde_json::from_str(r#"{"total_area_coverage": "warning", "tac_limit_percent": 300}"#)
            .unwrap();
    assert_eq!(
        (p.total_area_coverage, p.tac_limit_percent),
        (Level::Warning, 300.0)
    );
    let l: Limits = serde_json::from_str(r#"{"max_pages": 3}"#).unwrap();
    assert_eq!(
        l.max_tac_image_pixels,
        Limits::default().max_tac_image_pixels
    );
}

#[test]
fn indexed_inline_and_decode_arrays() {
    // Indexed over DeviceCMYK: palette entry 1 is 100/100/100/50 = 350 %.
    let r = tac_page(
        b"q 100 0 0 100 0 0 cm /Im1 Do Q",
        "/XObject << /Im1 5 0 R >>",
        |b| {
            b.stream(5, "/Subtype /Image /Width 4 /Height 1 /ColorSpace [/Indexed /DeviceCMYK 1 <00000000ffffff80>] /BitsPerComponent 8", &[1, 1, 1, 0]);
        },
    );
    assert_eq!(r.images[0].tac_max_percent, Some(350.2), "{:#?}", r.images);
    assert!(tac_findings(&r).len() == 1);
    // Indexed through a named resource with a lookup stream.
    let r = tac_page(
        b"q 100 0 0 100 0 0 cm /Im1 Do Q",
        "/XObject << /Im1 5 0 R >> /ColorSpace << /P [/Indexed [/ICCBased 6 0 R] 0 7 0 R] >>",
        |b| {
            b.stream(
                5,
                "/Subtype /Image /Width 2 /Height 1 /ColorSpace /P /BitsPerComponent 8",
                &[0, 0],
            );
            b.stream(6, "/N 4", b"");
            b.stream(7, "", &[255, 0, 255, 0]);
        },
    );
    assert_eq!(r.images[0].tac_max_percent, Some(200.0), "{:#?}", r.images);
    // Inline CMYK image (unfiltered, with EI bytes inside the data) and an
    // inverting Decode array: stored 0 0 0 0 prints 400 %.
    let r = tac_page(
        b"q 10 0 0 10 0 0 cm BI /W 2 /H 1 /CS /CMYK /BPC 8 /D [1 0 1 0 1 0 1 0] ID \0\0\0\0EI \0\0 EI Q",
        "",
        |_| {},
    );
    assert_eq!(r.images[0].tac_max_percent, Some(400.0), "{:#?}", r.images);
    let f = tac_findings(&r);
    assert_eq!(f[0].object.as_deref(), Some("inline image"));
    // Filters we do not decode and 16-bit samples are skipped.
    let r = tac_page(
        b"q 100 0 0 100 0 0 cm /Im1 Do /Im2 Do Q",
        "/XObject << /Im1 5 0 R /Im2 6 0 R >>",
        |b| {
            b.stream(5, "/Subtype /Image /Width 2 /Height 1 /ColorSpace /DeviceCMYK /BitsPerComponent 8 /Filter /JPXDecode", &[255; 8]);
            b.stream(
                6,
                "/Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceCMYK /BitsPerComponent 16",
                &[255; 8],
            );
        },
    );
    assert!(
        r.images.iter().all(|i| i.tac_percent.is_none()),
        "{:#?}",
        r.images
    );
    assert!(tac_findings(&r).is_empty());
}

fn cmyk_jpeg(w: u16, h: u16, ink: [u8; 4], color: jpeg_encoder::ColorType) -> Vec<u8> {
    let px: Vec<u8> = ink
        .iter()
        .copied()
        .cycle()
        .take(usize::from(w) * usize::from(h) * 4)
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(&px, w, h, color)
        .unwrap();
    out
}

#[test]
fn dct_cmyk_images_honour_the_adobe_inversion_and_decode() {
    // jpeg-encoder stores Adobe-inverted CMYK (APP14), as Photoshop does.
    let ink = [230u8, 204, 178, 255]; // 90 + 80 + 70 + 100 = 340 %
    for color in [
        jpeg_encoder::ColorType::Cmyk,
        jpeg_encoder::ColorType::CmykAsYcck,
    ] {
        let jpeg = cmyk_jpeg(32, 16, ink, color);
        assert!(super::raster::jpeg_frame(&jpeg).is_some_and(|f| f.adobe_transform.is_some()));
        let image = |decode: &'static str| {
            let jpeg = jpeg.clone();
            move |b: &mut PdfBuilder| {
                b.stream(5, &format!("/Subtype /Image /Width 32 /Height 16 /ColorSpace /DeviceCMYK /BitsPerComponent 8 /Filter /DCTDecode {decode}"), &jpeg);
            }
        };
        // With /Decode [1 0 …] (what Acrobat and our converter write) the real ink.
        let r = tac_page(
            b"q 100 0 0 100 0 0 cm /Im1 Do Q",
            "/XObject << /Im1 5 0 R >>",
            image("/Decode [1 0 1 0 1 0 1 0]"),
        );
        let t = r.images[0].tac_max_percent.unwrap();
        assert!((t - 340.0).abs() < 3.0, "{color:?}: {t}");
        assert_eq!(tac_findings(&r).len(), 1);
        // Without it a PDF reader shows the stored (inverted) values: 60 %.
        let r = tac_page(
            b"q 100 0 0 100 0 0 cm /Im1 Do Q",
            "/XObject << /Im1 5 0 R >>",
            image(""),
        );
        let t = r.images[0].tac_max_percent.unwrap();
        assert!((t - 60.0).abs() < 3.0, "{color:?}: {t}");
        assert!(tac_findings(&r).is_empty());
    }
    // An RGB JPEG declared as DeviceCMYK is not measured (no guessing).
    let mut rgb = Vec::new();
    jpeg_encoder::Encoder::new(&mut rgb, 90)
        .encode(&[0u8; 8 * 8 * 3], 8, 8, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let r = tac_page(
        b"q 100 0 0 100 0 0 cm /Im1 Do Q",
        "/XObject << /Im1 5 0 R >>",
        |b| {
            b.stream(5, "/Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceCMYK /BitsPerComponent 8 /Filter /DCTDecode", &rgb);
        },
    );
    assert_eq!(r.images[0].tac_percent, None);
}

#[test]
fn cmyk_jpeg_uploads_get_the_tac_check() {
    let over = cmyk_jpeg(64, 48, [255, 255, 255, 255], jpeg_encoder::ColorType::Cmyk);
    let r = run(
        &over,
        Format::Jpeg,
        &Intent::default(),
        &Profile::default(),
        &Limits::default(),
    )
    .unwrap();
    let info = r.raster.as_ref().unwrap();
    assert_eq!(info.colour_mode, "cmyk");
    assert!(info.tac_percent.unwrap() > 395.0, "{info:?}");
    let f = tac_findings(&r);
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].threshold, Some(Value::Number(320.0)));
    let ok = cmyk_jpeg(
        64,
        48,
        [153, 128, 128, 255],
        jpeg_encoder::ColorType::CmykAsYcck,
    );
    let r = run(
        &ok,
        Format::Jpeg,
        &Intent::default(),
        &Profile::default(),
        &Limits::default(),
    )
    .unwrap();
    let info = r.raster.as_ref().unwrap();
    assert_eq!(info.colour_mode, "ycck");
    let t = info.tac_percent.unwrap();
    assert!((t - 260.4).abs() < 3.0, "{t}");
    assert!(tac_findings(&r).is_empty());
    // Over the pixel budget: not measured, no finding, no error.
    let small = Limits {
        max_tac_image_pixels: 100,
        ..Limits::default()
    };
    let r = run(
        &over,
        Format::Jpeg,
        &Intent::default(),
        &Profile::default(),
        &small,
    )
    .unwrap();
    assert_eq!(r.raster.as_ref().unwrap().tac_percent, None);
    assert!(tac_findings(&r).is_empty());
    // A truncated CMYK JPEG: no error from the TAC step.
    let sos = over.windows(2).rposition(|w| w == [0xff, 0xda]).unwrap();
    let cut = &over[..sos + 20];
    let r = run(
        cut,
        Format::Jpeg,
        &Intent::default(),
        &Profile::default(),
        &Limits::default(),
    );
    assert!(r.is_ok(), "{r:?}");
}
