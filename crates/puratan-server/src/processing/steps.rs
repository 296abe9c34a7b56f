//! The work of one job, as a plain function of bytes → files in a
//! directory. It runs inside the isolation [`super::sandbox`] picks, so
//! it takes no `App`, opens no connection and reads no configuration:
//! everything it needs is in the [`StepSpec`].

use std::path::Path;

use puratan_files::Format;
use puratan_files::preflight::{self, Profile};
use puratan_files::{colour, convert, preview};
use serde::{Deserialize, Serialize};

use super::job::OrderedSize;

/// Bound on `result.json` read back from a child.
pub const MAX_RESULT_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepSpec {
    /// The detected format id (`pdf`, `jpeg`, …).
    pub format: String,
    pub preflight: Option<PreflightSpec>,
    pub previews: Option<PreviewSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreflightSpec {
    pub profile: Profile,
    pub ordered: Option<OrderedSize>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PreviewSpec {
    pub thumbnail_edge: u32,
    pub page_preview_edge: u32,
    pub page_previews: u32,
}

/// Why a job failed for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Stable: `processing_limit`, `processing_crashed`, or the library
    /// error's code (`unreadable_file`, …).
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn limit(message: &str) -> Self {
        Self {
            code: "processing_limit".into(),
            message: message.into(),
        }
    }
    pub fn crashed(message: &str) -> Self {
        Self {
            code: "processing_crashed".into(),
            message: message.into(),
        }
    }
    fn from_files(e: &puratan_files::FilesError) -> Self {
        Self {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreflightOut {
    pub verdict: String,
    pub errors: u32,
    pub warnings: u32,
    /// The JSON report's file name in the output directory.
    pub report_file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DerivativeOut {
    pub name: String,
    pub file: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    #[serde(default)]
    pub ink_coverage_percent: Option<u16>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepsResult {
    pub pages: Option<u32>,
    pub preflight: Option<PreflightOut>,
    pub derivatives: Vec<DerivativeOut>,
    pub failure: Option<Failure>,
}

impl StepsResult {
    pub fn failed(failure: Failure) -> Self {
        Self {
            failure: Some(failure),
            ..Self::default()
        }
    }
}

/// Runs the steps of `spec` over `input`, writing the report and
/// derivatives into `out`.
pub fn run(input: &[u8], spec: &StepSpec, out: &Path) -> StepsResult {
    let Some(format) = Format::from_id(&spec.format) else {
        return StepsResult::failed(Failure {
            code: "unsupported_format".into(),
            message: format!("{} files are not processed", spec.format),
        });
    };
    match run_steps(input, format, spec, out) {
        Ok(result) => result,
        Err(failure) => StepsResult::failed(failure),
    }
}

fn run_steps(
    input: &[u8],
    format: Format,
    spec: &StepSpec,
    out: &Path,
) -> Result<StepsResult, Failure> {
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(out.join(name), bytes)
            .map_err(|e| Failure::crashed(&format!("could not write {name}: {e}")))
    };
    let mut result = StepsResult::default();
    if let Some(p) = &spec.preflight {
        let report = preflight::run(
            input,
            format,
            &intent(p.ordered),
            &p.profile,
            &preflight::Limits::default(),
        )
        .map_err(|e| Failure::from_files(&e))?;
        let json = serde_json::to_vec_pretty(&report)
            .map_err(|e| Failure::crashed(&format!("report encoding: {e}")))?;
        write("report.json", &json)?;
        result.pages = Some(report.page_count);
        result.preflight = Some(PreflightOut {
            verdict: verdict_name(report.verdict).to_owned(),
            errors: report.summary.errors,
            warnings: report.summary.warnings,
            report_file: "report.json".into(),
        });
    }
    if let Some(p) = &spec.previews {
        let limits = preview::Limits::default();
        let output = preview::OutputFormat::Jpeg { quality: 85 };
        let thumb = preview::thumbnail(
            input,
            format,
            &preview::ThumbnailSpec {
                max_edge: p.thumbnail_edge,
                output,
            },
            &limits,
        )
        .map_err(|e| Failure::from_files(&e))?;
        write("thumbnail.jpg", &thumb.bytes)?;
        result
            .derivatives
            .push(derivative("thumbnail", "thumbnail.jpg", &thumb));
        if format == Format::Pdf {
            let pages = result.pages.unwrap_or(1).min(p.page_previews);
            for page in 1..=pages {
                let img = preview::render_pdf_page(
                    input,
                    &preview::PageRenderSpec {
                        page_index: page - 1,
                        size: preview::PageSize::MaxEdge(p.page_preview_edge),
                        output,
                    },
                    &limits,
                )
                .map_err(|e| Failure::from_files(&e))?;
                let file = format!("page-{page}.jpg");
                write(&file, &img.bytes)?;
                result
                    .derivatives
                    .push(derivative(&format!("page-{page}"), &file, &img));
            }
        }
    }
    let raster = matches!(
        format,
        Format::Jpeg | Format::Png | Format::Tiff | Format::WebP
    );
    if let Some(ordered) = spec.preflight.as_ref().and_then(|p| p.ordered)
        && raster
    {
        print_pdf(input, format, ordered, out, &mut result)?;
    }
    Ok(result)
}

/// A raster upload with a known ordered size becomes a print-ready PDF:
/// the image covers trim + bleed, converted to CMYK (FOGRA39, perceptual),
/// with its ink coverage measured.
fn print_pdf(
    input: &[u8],
    format: Format,
    ordered: OrderedSize,
    out: &Path,
    result: &mut StepsResult,
) -> Result<(), Failure> {
    let spec = convert::PrintSpec {
        trim_width_mm: ordered.trim_width_mm,
        trim_height_mm: ordered.trim_height_mm,
        bleed_mm: ordered.bleed_mm,
        convert_to_cmyk: Some(colour::Intent::Perceptual),
    };
    let pdf = convert::raster_to_pdf(input, format, &spec, &preview::Limits::default())
        .map_err(|e| Failure::from_files(&e))?;
    std::fs::write(out.join("print.pdf"), &pdf.bytes)
        .map_err(|e| Failure::crashed(&format!("could not write print.pdf: {e}")))?;
    result.derivatives.push(DerivativeOut {
        name: "print-pdf".into(),
        file: "print.pdf".into(),
        mime: "application/pdf".into(),
        width: pdf.image_width,
        height: pdf.image_height,
        ink_coverage_percent: pdf
            .tac
            .map(|t| t.p999_percent.round().clamp(0.0, 400.0) as u16),
    });
    Ok(())
}

fn derivative(name: &str, file: &str, p: &preview::Preview) -> DerivativeOut {
    DerivativeOut {
        name: name.to_owned(),
        file: file.to_owned(),
        mime: p.mime.to_owned(),
        width: p.width,
        height: p.height,
        ink_coverage_percent: None,
    }
}

fn verdict_name(v: preflight::Verdict) -> &'static str {
    match v {
        preflight::Verdict::Pass => "pass",
        preflight::Verdict::Warnings => "warnings",
        preflight::Verdict::Fail => "fail",
    }
}

fn intent(ordered: Option<OrderedSize>) -> preflight::Intent {
    match ordered {
        Some(o) => preflight::Intent {
            trim: Some(preflight::Size {
                width_mm: o.trim_width_mm,
                height_mm: o.trim_height_mm,
            }),
            bleed_mm: Some(o.bleed_mm),
            pages: None,
        },
        None => preflight::Intent::default(),
    }
}
