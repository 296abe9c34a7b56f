//! Focused synthetic fixtures for format detection: every format, truncation,
//! wrong names, polyglots, hostile SVGs, tiny inputs; and a property test
//! that detection never panics.

use proptest::prelude::*;
use puratan_files::{
    AllowList, FilesError, FindingKind, Format, check_allowed, detect, detect_declared,
};

// ---- fixture builders ------------------------------------------------------

fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n\
trailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n"
        .to_vec()
}

fn ai_pdf() -> Vec<u8> {
    b"%PDF-1.5\n1 0 obj\n<< /PieceInfo << /Illustrator 7 0 R >> >>\nendobj\n\
7 0 obj\n<< /Private << /AIPrivateData1 8 0 R >> >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
        .to_vec()
}

fn jpeg() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    // APP0 JFIF
    v.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    // SOF0: 8-bit, 1x1, 1 component
    v.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
    // SOS
    v.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0]);
    v.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56]);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut v = (data.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(data);
    v.extend_from_slice(&[0, 0, 0, 0]); // CRC is not checked by detection
    v
}

fn png_with(extra: &[Vec<u8>]) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
    for c in extra {
        v.extend_from_slice(c);
    }
    v.extend(chunk(b"IDAT", &[0x78, 0x9C, 0, 0]));
    v.extend(chunk(b"IEND", &[]));
    v
}

fn png() -> Vec<u8> {
    png_with(&[])
}

fn tiff() -> Vec<u8> {
    let mut v = b"II*\0".to_vec();
    v.extend_from_slice(&8u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&[0x00, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0]); // ImageWidth = 1
    v.extend_from_slice(&0u32.to_le_bytes());
    v
}

fn webp() -> Vec<u8> {
    let payload = [
        0x2F, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xFE, 0x07, 0,
    ];
    let mut body = b"WEBPVP8L".to_vec();
    body.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    body.extend_from_slice(&payload);
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(body.len() as u32).to_le_bytes());
    v.extend(body);
    v
}

fn zip_bytes(prefix: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_vec();
    let local_at = v.len() as u32;
    let data = b"hello";
    v.extend_from_slice(b"PK\x03\x04");
    v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method, time, date
    v.extend_from_slice(&[0; 4]); // crc
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&0u16.to_le_bytes());
    v.extend_from_slice(b"a");
    v.extend_from_slice(data);
    let cd_at = v.len() as u32;
    v.extend_from_slice(b"PK\x01\x02");
    v.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(&[0; 4]);
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes()); // name len
    v.extend_from_slice(&[0; 12]); // extra, comment, disk, int attr, ext attr (4)
    v.extend_from_slice(&local_at.to_le_bytes());
    v.extend_from_slice(b"a");
    let cd_size = v.len() as u32 - cd_at;
    v.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&cd_size.to_le_bytes());
    v.extend_from_slice(&cd_at.to_le_bytes());
    v.extend_from_slice(&0u16.to_le_bytes());
    v
}

fn zip() -> Vec<u8> {
    zip_bytes(&[])
}

fn eps() -> Vec<u8> {
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n%%EndComments\nshowpage\n%%EOF\n"
        .to_vec()
}

fn ps() -> Vec<u8> {
    b"%!PS-Adobe-3.0\n%%Pages: 1\n%%EndComments\nshowpage\n".to_vec()
}

fn ai_legacy() -> Vec<u8> {
    b"%!PS-Adobe-3.0 \n%%Creator: Adobe Illustrator(R) 8.0\n%%AI8_CreatorVersion: 8.0\n%%EndComments\n".to_vec()
}

fn dos_eps() -> Vec<u8> {
    let ps = eps();
    let mut v = b"\xC5\xD0\xD3\xC6".to_vec();
    v.extend_from_slice(&30u32.to_le_bytes());
    v.extend_from_slice(&(ps.len() as u32).to_le_bytes());
    v.extend_from_slice(&[0; 16]);
    v.extend_from_slice(&[0xFF, 0xFF]);
    v.extend_from_slice(&ps);
    v
}

fn gif() -> Vec<u8> {
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec()
}

fn bmp() -> Vec<u8> {
    let mut v = b"BM".to_vec();
    v.extend_from_slice(&58u32.to_le_bytes());
    v.extend_from_slice(&[0; 4]);
    v.extend_from_slice(&54u32.to_le_bytes());
    v.extend_from_slice(&40u32.to_le_bytes());
    v.extend_from_slice(&[0; 36]);
    v
}

const SVG: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<!-- made by hand -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10mm" height="10mm">
  <a xlink:href="https://example.com/"><rect width="10" height="10" fill="#f00" data-online="no"/></a>
  <style><![CDATA[ rect { stroke: black } ]]></style>
  <text>click on = this</text>
</svg>
"##;

fn fmt(bytes: &[u8]) -> Result<Format, FilesError> {
    detect(bytes, None).map(|d| d.format)
}

// ---- every format ----------------------------------------------------------

#[test]
fn detects_every_format() {
    let cases: Vec<(Vec<u8>, Format, &str)> = vec![
        (pdf(), Format::Pdf, "a.pdf"),
        (ai_pdf(), Format::Illustrator, "a.ai"),
        (jpeg(), Format::Jpeg, "a.jpg"),
        (png(), Format::Png, "a.png"),
        (tiff(), Format::Tiff, "a.tif"),
        (webp(), Format::WebP, "a.webp"),
        (zip(), Format::Zip, "a.zip"),
        (eps(), Format::Eps, "a.eps"),
        (ps(), Format::PostScript, "a.ps"),
        (ai_legacy(), Format::Illustrator, "a.ai"),
        (dos_eps(), Format::Eps, "a.eps"),
        (gif(), Format::Gif, "a.gif"),
        (bmp(), Format::Bmp, "a.bmp"),
        (SVG.as_bytes().to_vec(), Format::Svg, "a.svg"),
    ];
    for (bytes, want, name) in cases {
        let d = detect(&bytes, Some(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(d.format, want, "{name}");
        assert_eq!(d.mime, want.mime());
        assert!(
            !d.has(FindingKind::ExtensionMismatch),
            "{name}: {:?}",
            d.findings
        );
        assert!(
            !d.has(FindingKind::TrailingData),
            "{name}: {:?}",
            d.findings
        );
    }
}

#[test]
fn big_endian_tiff_and_bigtiff() {
    let mut be = b"MM\0*".to_vec();
    be.extend_from_slice(&8u32.to_be_bytes());
    be.extend_from_slice(&1u16.to_be_bytes());
    be.extend_from_slice(&[0; 16]);
    assert_eq!(fmt(&be).unwrap(), Format::Tiff);

    let mut big = b"II+\0".to_vec();
    big.extend_from_slice(&8u16.to_le_bytes());
    big.extend_from_slice(&0u16.to_le_bytes());
    big.extend_from_slice(&16u64.to_le_bytes());
    big.extend_from_slice(&1u64.to_le_bytes());
    big.extend_from_slice(&[0; 28]);
    let d = detect(&big, None).unwrap();
    assert_eq!(d.format, Format::Tiff);
    assert!(d.has(FindingKind::BigTiff));
}

#[test]
fn illustrator_findings_say_which_kind() {
    assert!(
        detect(&ai_pdf(), None)
            .unwrap()
            .has(FindingKind::PdfCompatibleIllustrator)
    );
    assert!(
        detect(&ai_legacy(), None)
            .unwrap()
            .has(FindingKind::LegacyIllustrator)
    );
    // A PDF-compatible AI named .pdf is not a mismatch.
    assert!(
        !detect(&ai_pdf(), Some("x.pdf"))
            .unwrap()
            .has(FindingKind::ExtensionMismatch)
    );
}

#[test]
fn pdf_header_after_junk_is_allowed_with_a_finding() {
    let mut v = b"garbage line\n".to_vec();
    v.extend(pdf());
    let d = detect(&v, None).unwrap();
    assert_eq!(d.format, Format::Pdf);
    assert!(d.has(FindingKind::LeadingData));
    // Beyond 1024 bytes readers do not find it.
    let mut far = vec![b' '; 2000];
    far.extend(pdf());
    assert!(matches!(fmt(&far), Err(FilesError::UnknownFormat)));
}

// ---- tiny, empty, truncated -------------------------------------------------

#[test]
fn empty_and_one_byte() {
    assert!(matches!(detect(&[], None), Err(FilesError::Empty)));
    assert_eq!(detect(&[], None).unwrap_err().code(), "file_empty");
    for b in 0..=255u8 {
        let r = detect(&[b], Some("x.pdf"));
        assert!(r.is_err(), "{b}: {r:?}");
    }
}

#[test]
fn truncated_files_are_reported_as_truncated() {
    let cases: Vec<(Vec<u8>, usize)> = vec![
        (pdf(), 40),               // no %%EOF
        (jpeg(), 10),              // inside APP0
        (jpeg(), 3),               // SOI + FF only
        (png(), 20),               // inside IHDR
        (png(), png().len() - 6),  // inside IEND
        (tiff(), 12),              // inside the IFD
        (webp(), 24),              // RIFF size beyond the end
        (zip(), zip().len() - 10), // EOCD cut
        (dos_eps(), 40),
        (gif(), 8),
        (b"%PDF-".to_vec(), 5),
    ];
    for (bytes, len) in cases {
        let cut = &bytes[..len];
        match detect(cut, None) {
            Err(FilesError::Truncated { .. }) => {}
            other => panic!("{:?}… cut at {len}: {other:?}", &bytes[..4]),
        }
    }
}

#[test]
fn malformed_structures() {
    let mut bad_png = png();
    bad_png[12..16].copy_from_slice(b"IDAT");
    assert!(matches!(
        fmt(&bad_png),
        Err(FilesError::Malformed {
            format: Format::Png,
            ..
        })
    ));

    let mut bad_jpeg = jpeg();
    bad_jpeg[4..6].copy_from_slice(&[0, 1]); // segment length 1
    assert!(matches!(
        fmt(&bad_jpeg),
        Err(FilesError::Malformed {
            format: Format::Jpeg,
            ..
        })
    ));

    let mut bad_tiff = tiff();
    bad_tiff[4..8].copy_from_slice(&2u32.to_le_bytes()); // IFD inside the header
    assert!(matches!(
        fmt(&bad_tiff),
        Err(FilesError::Malformed {
            format: Format::Tiff,
            ..
        })
    ));

    let mut bad_webp = webp();
    bad_webp[12..16].copy_from_slice(b"JUNK");
    assert!(matches!(
        fmt(&bad_webp),
        Err(FilesError::Malformed {
            format: Format::WebP,
            ..
        })
    ));

    let mut bad_zip = zip();
    let n = bad_zip.len();
    bad_zip[n - 6..n - 2].copy_from_slice(&3u32.to_le_bytes()); // CD offset wrong
    assert!(matches!(
        fmt(&bad_zip),
        Err(FilesError::Malformed {
            format: Format::Zip,
            ..
        })
    ));

    assert!(matches!(
        fmt(b"%PDF-x.y\n%%EOF"),
        Err(FilesError::Malformed { .. })
    ));
    assert!(matches!(
        fmt(b"hello world"),
        Err(FilesError::UnknownFormat)
    ));
    assert!(matches!(
        fmt(b"<html><body>hi</body></html>"),
        Err(FilesError::UnknownFormat)
    ));
    assert!(matches!(
        fmt(b"<?xml version=\"1.0\"?><root/>"),
        Err(FilesError::UnknownFormat)
    ));
}

// ---- names and media types --------------------------------------------------

#[test]
fn wrong_extension_is_a_finding_and_a_policy_error() {
    let d = detect(&jpeg(), Some("artwork.PDF")).unwrap();
    assert_eq!(d.format, Format::Jpeg);
    assert!(d.has(FindingKind::ExtensionMismatch));
    let strict = AllowList::print_artwork();
    let err = check_allowed(&d, &strict).unwrap_err();
    assert_eq!(err.code(), "file_type_mismatch");
    assert!(err.to_string().contains(".pdf"), "{err}");
    let lenient = AllowList {
        reject_mismatch: false,
        ..AllowList::print_artwork()
    };
    check_allowed(&d, &lenient).unwrap();

    // Upper-case and multi-dot names, names without extension.
    assert!(
        !detect(&png(), Some("my.file.PNG"))
            .unwrap()
            .has(FindingKind::ExtensionMismatch)
    );
    assert!(
        !detect(&png(), Some("README"))
            .unwrap()
            .has(FindingKind::ExtensionMismatch)
    );
    assert!(
        !detect(&png(), Some(".png"))
            .unwrap()
            .has(FindingKind::ExtensionMismatch)
    );
    assert!(
        !detect(&jpeg(), Some("photo.jpeg"))
            .unwrap()
            .has(FindingKind::ExtensionMismatch)
    );
}

#[test]
fn declared_mime_mismatch() {
    let d = detect_declared(&png(), Some("a.png"), Some("image/jpeg")).unwrap();
    assert!(d.has(FindingKind::MimeMismatch));
    let d = detect_declared(&png(), Some("a.png"), Some("image/png; charset=binary")).unwrap();
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    let d = detect_declared(&png(), None, Some("application/octet-stream")).unwrap();
    assert!(d.findings.is_empty());
}

#[test]
fn allow_list_rejects_other_formats() {
    let d = detect(&zip(), Some("job.zip")).unwrap();
    let err = check_allowed(&d, &AllowList::print_artwork()).unwrap_err();
    assert!(matches!(
        err,
        FilesError::NotAllowed {
            format: Format::Zip
        }
    ));
    assert_eq!(err.code(), "file_type_not_allowed");
    check_allowed(&d, &AllowList::new([Format::Zip])).unwrap();
    let d = detect(&bmp(), None).unwrap();
    assert!(check_allowed(&d, &AllowList::print_artwork()).is_err());
    for f in Format::ALL {
        assert_eq!(Format::from_id(f.id()), Some(f));
    }
}

// ---- polyglots ---------------------------------------------------------------

fn assert_polyglot(bytes: &[u8], what: &str) {
    match detect(bytes, None) {
        Err(e @ FilesError::Polyglot { .. }) => {
            assert_eq!(e.code(), "file_polyglot");
        }
        other => panic!("{what}: expected polyglot, got {other:?}"),
    }
}

#[test]
fn polyglots_are_rejected() {
    // PDF that is also a ZIP (ZIP appended).
    let mut pdf_zip = pdf();
    pdf_zip.extend(zip());
    assert_polyglot(&pdf_zip, "pdf+zip");
    // ZIP with prepended PDF (offsets relative to the ZIP part).
    assert_polyglot(&zip_bytes(&pdf()), "pdf-then-zip with absolute offsets");
    // GIFAR: a GIF with a JAR (ZIP) appended.
    let mut gifar = gif();
    gifar.extend(zip());
    assert_polyglot(&gifar, "gifar");
    // JPEG with an appended ZIP.
    let mut jz = jpeg();
    jz.extend(zip());
    assert_polyglot(&jz, "jpeg+zip");
    // JPEG with an appended PDF.
    let mut jp = jpeg();
    jp.extend(pdf());
    assert_polyglot(&jp, "jpeg+pdf");
    // JPEG whose comment carries a PDF header in the first 1024 bytes.
    let mut jc = vec![0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x0C];
    jc.extend_from_slice(b"%PDF-1.4\n\n");
    jc.extend_from_slice(&jpeg()[2..]);
    assert_polyglot(&jc, "jpeg comment with pdf header");
    // PNG with HTML in a text chunk in the first bytes.
    let html = png_with(&[chunk(b"tEXt", b"c\0<html><script>alert(1)</script>")]);
    assert_polyglot(&html, "png+html");
    // PNG with SVG markup early.
    let svg = png_with(&[chunk(b"tEXt", b"c\0<svg onload=alert(1)>")]);
    assert_polyglot(&svg, "png+svg");
    // PNG with a script appended after IEND.
    let mut tail = png();
    tail.extend(vec![b'A'; 4096]);
    tail.extend_from_slice(b"<script>alert(1)</script>");
    assert_polyglot(&tail, "png with appended script");
    // TIFF starting a PDF in its first KiB.
    let mut tp = tiff();
    tp.extend(pdf());
    assert_polyglot(&tp, "tiff+pdf");
    // A PostScript file that PDF readers would open as PDF.
    let mut pp = ps();
    pp.extend(pdf());
    assert_polyglot(&pp, "ps+pdf");
}

#[test]
fn harmless_trailing_data_is_only_a_finding() {
    let mut v = png();
    v.extend_from_slice(b"some trailing bytes");
    let d = detect(&v, None).unwrap();
    assert!(d.has(FindingKind::TrailingData));
    let mut z = png();
    z.extend_from_slice(&[0; 64]);
    assert!(detect(&z, None).unwrap().findings.is_empty());
    // A ZIP that stores a PDF is just a ZIP (entries are checked later).
    let mut stored = b"PK\x03\x04".to_vec();
    stored.extend_from_slice(&[0; 26]);
    stored.extend(pdf());
    let zip_of_pdf = zip_bytes(&stored);
    assert_eq!(fmt(&zip_of_pdf).unwrap(), Format::Zip);
}

// ---- SVG -------------------------------------------------------------------

#[test]
fn safe_svg_variants() {
    let variants = [
        "<svg xmlns='http://www.w3.org/2000/svg'/>",
        "\u{FEFF}<?xml version='1.0'?>\n<svg/>",
        "  <!-- c --><!-- d -->\n<svg:svg xmlns:svg='http://www.w3.org/2000/svg'></svg:svg>",
        "<svg><a href='#frag'>x</a><image href='data:image/png;base64,AAAA'/></svg>",
    ];
    for v in variants {
        assert_eq!(fmt(v.as_bytes()).unwrap(), Format::Svg, "{v}");
    }
}

#[test]
fn hostile_svgs_are_rejected() {
    let hostile = [
        "<svg><script>alert(1)</script></svg>",
        "<svg><SCRIPT>alert(1)</SCRIPT></svg>",
        "<svg xmlns:s='http://www.w3.org/2000/svg'><s:script>x</s:script></svg>",
        "<svg onload='alert(1)'/>",
        "<svg><rect ONCLICK=\"alert(1)\"/></svg>",
        "<svg><rect\nonmouseover\n=\nalert(1)/></svg>",
        "<svg><a xlink:href='javascript:alert(1)'>x</a></svg>",
        "<svg><a href='  JaVa\nScRiPt:alert(1)'>x</a></svg>",
        "<svg><a href='java&#x09;script:alert(1)'>x</a></svg>",
        "<svg><a href=javascript:alert(1)>x</a></svg>",
        "<svg><iframe src='data:text/html,<b>'/></svg>",
        "<svg><foreignObject><body xmlns='http://www.w3.org/1999/xhtml'>x</body></foreignObject></svg>",
        "<svg><set attributeName='onmouseover' to='alert(1)'/></svg>",
        "<svg><animate attributeName='href' values='javascript:alert(1)'/></svg>",
        "<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;'>]><svg>&b;</svg>",
        "<?xml-stylesheet type='text/xsl' href='evil.xsl'?><svg/>",
        "<svg><style><![CDATA[ a { background: url(javascript:alert(1)) } ]]></style></svg>",
        "<svg><handler type='application/ecmascript'>alert(1)</handler></svg>",
        "<svg><animate attributeName='href' values='&#106;avascript:alert(1)'/></svg>",
        // Found by the fuzzer: an odd element name that is `script` to a
        // lenient (HTML) parser; and form feed as an HTML separator.
        "<SvG\rY<SCrIPTt\x19h>x</svg>",
        "<svg><rect\x0conclick='alert(1)'/></svg>",
        "<svg><text title='<script>'>x</text></svg>",
    ];
    for h in hostile {
        match detect(h.as_bytes(), Some("x.svg")) {
            Err(e @ FilesError::UnsafeSvg { .. }) => assert_eq!(e.code(), "file_unsafe_svg"),
            other => panic!("{h}: {other:?}"),
        }
    }
}

#[test]
fn svg_lookalikes_are_not_svg() {
    for v in [
        "<svgx/>",
        "<html><svg/></html>",
        "<!-- unterminated",
        "<svg",
        "text <svg/>",
    ] {
        assert!(
            matches!(fmt(v.as_bytes()), Err(FilesError::UnknownFormat)),
            "{v}"
        );
    }
}

#[test]
fn error_codes_are_stable_and_distinct() {
    let errs = [
        FilesError::Empty,
        FilesError::UnknownFormat,
        FilesError::Truncated {
            format: Format::Pdf,
        },
        FilesError::Malformed {
            format: Format::Pdf,
            reason: "x",
        },
        FilesError::Polyglot {
            primary: Format::Pdf,
            other: "ZIP",
            reason: "x",
        },
        FilesError::UnsafeSvg { reason: "x" },
        FilesError::NotAllowed {
            format: Format::Pdf,
        },
        FilesError::Mismatch {
            declared: ".png".into(),
            detected: Format::Pdf,
        },
    ];
    let codes: std::collections::BTreeSet<_> = errs.iter().map(FilesError::code).collect();
    assert_eq!(codes.len(), errs.len());
}

// ---- never panics ----------------------------------------------------------

fn seeds() -> Vec<Vec<u8>> {
    vec![
        pdf(),
        ai_pdf(),
        jpeg(),
        png(),
        tiff(),
        webp(),
        zip(),
        eps(),
        dos_eps(),
        gif(),
        bmp(),
        SVG.as_bytes().to_vec(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn detect_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048), name in proptest::option::of(".{0,20}")) {
        let _ = detect(&bytes, name.as_deref());
    }

    #[test]
    fn detect_never_panics_on_mutated_fixtures(
        which in 0usize..12,
        cut in any::<proptest::sample::Index>(),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..8),
        extra in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut v = seeds().swap_remove(which);
        for (i, b) in flips {
            let at = i.index(v.len());
            v[at] = b;
        }
        v.truncate(cut.index(v.len() + 1));
        v.extend(extra);
        let _ = detect(&v, Some("x.pdf"));
    }
}

// ---- bounded work on hostile sizes -----------------------------------------

#[test]
fn large_hostile_inputs_are_linear() {
    let n = 4 * 1024 * 1024;
    let start = std::time::Instant::now();
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    // JPEG header then a sea of markup-looking bytes after the end marker.
    let mut j = jpeg();
    j.extend(std::iter::repeat_n(b'<', n));
    inputs.push(j);
    // Endless fill bytes / stuffed bytes before a marker.
    let mut f = vec![0xFF, 0xD8];
    f.extend(std::iter::repeat_n(0xFF, n));
    inputs.push(f);
    // An SVG made of unclosed tags and attributes.
    let mut s = b"<svg ".to_vec();
    s.extend(std::iter::repeat_n(b"a=<", n / 3).flatten());
    inputs.push(s);
    let mut s2 = b"<svg>".to_vec();
    s2.extend(std::iter::repeat_n(b"<!", n / 2).flatten());
    inputs.push(s2);
    // PNG with many empty chunks.
    let mut p = png_with(&[]);
    p.truncate(p.len() - 12);
    for _ in 0..(n / 12) {
        p.extend(chunk(b"tEXt", &[]));
    }
    inputs.push(p);
    // All percent signs (PDF header search), all `P` (ZIP search).
    inputs.push(vec![b'%'; n]);
    inputs.push(vec![b'P'; n]);
    for i in &inputs {
        let _ = detect(i, Some("x.svg"));
    }
    // Generous even for a debug build; quadratic behaviour would take minutes.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn detection_serialises_with_stable_ids() {
    let d = detect(&jpeg(), Some("a.png")).unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["format"], "jpeg");
    assert_eq!(json["mime"], "image/jpeg");
    assert_eq!(json["findings"][0]["kind"], "extension_mismatch");
    assert_eq!(json["findings"][0]["severity"], "warning");
    assert_eq!(json["findings"][0]["declared"], ".png");
}
