//! `puratan preflight FILE…`: the same preflight the workers run, offline,
//! with the same JSON report (`--json`: one report per line, JSON Lines).
//!
//! Exit status: 0 when every file passes (warnings allowed), 1 when a file
//! fails preflight or cannot be read.

use std::path::{Path, PathBuf};

use puratan_files::preflight::{self, Intent, Profile, Report, Severity, Size};

use crate::processing::config::builtin_profile;

/// Largest file the CLI reads (the server's `uploads.max_size` default).
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct PreflightArgs {
    /// Files to check (PDF, JPEG, PNG, TIFF, WebP).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print the JSON reports (one per line) instead of text.
    #[arg(long)]
    pub json: bool,
    /// A built-in profile by id (default: gwg2015_sheetfed).
    #[arg(long, conflicts_with = "profile_file")]
    pub profile: Option<String>,
    /// A profile file (TOML or JSON) with the same keys as `[processing.profiles.<id>]`.
    #[arg(long)]
    pub profile_file: Option<PathBuf>,
    /// The ordered finished size in mm, e.g. `210x297`.
    #[arg(long, value_parser = parse_trim)]
    pub trim: Option<Size>,
    /// Bleed the product needs on every side, in mm (default: the profile's).
    #[arg(long)]
    pub bleed: Option<f64>,
}

fn parse_trim(s: &str) -> Result<Size, String> {
    let (w, h) = s
        .split_once(['x', 'X', '×'])
        .ok_or("use WIDTHxHEIGHT in mm, e.g. 210x297")?;
    let num = |v: &str| -> Result<f64, String> {
        let n: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("{v:?} is not a number"))?;
        if n.is_finite() && (1.0..=10_000.0).contains(&n) {
            Ok(n)
        } else {
            Err("sizes are 1 to 10000 mm".into())
        }
    };
    Ok(Size {
        width_mm: num(w)?,
        height_mm: num(h)?,
    })
}

fn load_profile(args: &PreflightArgs) -> anyhow::Result<Profile> {
    if let Some(path) = &args.profile_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let is_json = path.extension().is_some_and(|e| e == "json");
        let profile: Profile = if is_json {
            serde_json::from_str(&text)?
        } else {
            toml::from_str(&text)?
        };
        return Ok(profile);
    }
    let id = args.profile.as_deref().unwrap_or("gwg2015_sheetfed");
    builtin_profile(id).ok_or_else(|| anyhow::anyhow!("no built-in preflight profile {id:?}"))
}

pub fn run(args: &PreflightArgs) -> anyhow::Result<()> {
    if let Some(b) = args.bleed
        && !(b.is_finite() && (0.0..=50.0).contains(&b))
    {
        anyhow::bail!("--bleed: use 0 to 50 mm");
    }
    let profile = load_profile(args)?;
    let intent = Intent {
        trim: args.trim,
        bleed_mm: args.bleed,
        pages: None,
    };
    let mut failed = 0;
    for path in &args.files {
        match check(path, &intent, &profile) {
            Ok(report) => {
                if report.summary.errors > 0 {
                    failed += 1;
                }
                if args.json {
                    super::out(&serde_json::to_string(&report)?)?;
                } else {
                    super::out(&text(path, &report))?;
                }
            }
            Err(e) => {
                failed += 1;
                if args.json {
                    let line = serde_json::json!({
                        "file": path.display().to_string(),
                        "error": { "code": e.0, "message": e.1 },
                    });
                    super::out(&line.to_string())?;
                } else {
                    super::out(&format!(
                        "{}: cannot check: {} ({})",
                        path.display(),
                        e.1,
                        e.0
                    ))?;
                }
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} files failed preflight", args.files.len());
    }
    Ok(())
}

/// The report, or (code, message) when the file cannot be checked.
fn check(path: &Path, intent: &Intent, profile: &Profile) -> Result<Report, (String, String)> {
    let io = |e: std::io::Error| ("io_error".to_owned(), e.to_string());
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err((
            "file_too_large".into(),
            "the file is larger than 2 GiB".into(),
        ));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let name = path.file_name().and_then(|n| n.to_str());
    let files_err = |e: puratan_files::FilesError| (e.code().to_owned(), e.to_string());
    let detected = puratan_files::detect(&bytes, name).map_err(files_err)?;
    preflight::run(
        &bytes,
        detected.format,
        intent,
        profile,
        &preflight::Limits::default(),
    )
    .map_err(files_err)
}

fn text(path: &Path, r: &Report) -> String {
    let verdict = serde_json::to_value(r.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut s = format!(
        "{}: {verdict} ({} errors, {} warnings, {} pages, profile {})\n",
        path.display(),
        r.summary.errors,
        r.summary.warnings,
        r.page_count,
        r.profile
    );
    for f in &r.findings {
        let sev = match f.severity {
            Severity::Error => "error  ",
            Severity::Warning => "warning",
            Severity::Info => "info   ",
        };
        let page = f.page.map(|p| format!("p.{p} ")).unwrap_or_default();
        s.push_str(&format!("  {sev} {page}{}: {}", f.check, f.message));
        if let Some(fix) = &f.fix {
            s.push_str(&format!(" — {fix}"));
        }
        s.push('\n');
    }
    s
}
