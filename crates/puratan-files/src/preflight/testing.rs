//! Hand-built PDFs for tests, doc examples and benchmarks (not part of the
//! stable API).

use std::fmt::Write as _;

/// Builds a PDF from numbered objects with a correct cross-reference table.
#[derive(Debug, Default)]
pub struct PdfBuilder {
    objects: Vec<(u32, Vec<u8>)>,
}

impl PdfBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Object `n` with the given body (`<< … >>`, `[ … ]`, …).
    pub fn obj(&mut self, n: u32, body: &str) -> &mut Self {
        self.objects.push((n, body.as_bytes().to_vec()));
        self
    }

    /// Stream object `n`; `/Length` is added to `dict_entries`.
    pub fn stream(&mut self, n: u32, dict_entries: &str, data: &[u8]) -> &mut Self {
        let mut body =
            format!("<< {dict_entries} /Length {} >>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.objects.push((n, body));
        self
    }

    /// The file, with `/Root 1 0 R` plus `trailer_extra` in the trailer.
    pub fn finish(&self, trailer_extra: &str) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let max = self.objects.iter().map(|(n, _)| *n).max().unwrap_or(0);
        let mut offsets = vec![None; max as usize + 1];
        for (n, body) in &self.objects {
            offsets[*n as usize] = Some(out.len());
            out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", max + 1);
        for off in offsets.iter().skip(1) {
            match off {
                Some(o) => {
                    let _ = writeln!(table, "{o:010} 00000 n ");
                }
                None => table.push_str("0000000000 65535 f \n"),
            }
        }
        let _ = write!(
            table,
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            max + 1
        );
        out.extend_from_slice(table.as_bytes());
        out
    }
}

/// Points per millimetre.
pub const MM: f64 = 72.0 / 25.4;

/// A one-page PDF: catalog 1, pages 2, page 3 (with `page_extra` entries and
/// `resources`), content 4; further objects from `extra` (numbered from 5).
pub fn one_page(
    page_extra: &str,
    resources: &str,
    content: &[u8],
    extra: impl FnOnce(&mut PdfBuilder),
) -> Vec<u8> {
    let mut b = PdfBuilder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        .obj(3, &format!("<< /Type /Page /Parent 2 0 R {page_extra} /Resources << {resources} >> /Contents 4 0 R >>"))
        .stream(4, "", content);
    extra(&mut b);
    b.finish("")
}

/// An A4 page (no bleed) with nothing on it.
pub fn minimal_pdf() -> Vec<u8> {
    one_page(
        &format!("/MediaBox [0 0 {:.3} {:.3}]", 210.0 * MM, 297.0 * MM),
        "",
        b"",
        |_| {},
    )
}
