//! Prints the preflight report (`puratan.preflight/v1` JSON, one line per
//! file) for the given files.
//!
//! ```text
//! cargo run --release -p puratan-files --example preflight -- [--trim 210x297] [--bleed 3] [--pretty] FILE…
//! ```
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use puratan_files::preflight::{self, Intent, Limits, Profile};

fn main() -> ExitCode {
    let mut intent = Intent::default();
    let mut pretty = false;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--trim" => {
                let v = args.next().unwrap_or_default();
                let Some((w, h)) = v
                    .split_once('x')
                    .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
                else {
                    eprintln!("--trim WIDTHxHEIGHT in mm, e.g. 210x297");
                    return ExitCode::from(2);
                };
                intent.trim = Some(preflight::Size {
                    width_mm: w,
                    height_mm: h,
                });
            }
            "--bleed" => intent.bleed_mm = args.next().and_then(|b| b.parse().ok()),
            "--pretty" => pretty = true,
            _ => files.push(arg),
        }
    }
    let profile = Profile::gwg2015_sheetfed();
    let limits = Limits::default();
    let mut failed = false;
    for file in files {
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{file}: {e}");
                failed = true;
                continue;
            }
        };
        let format = match puratan_files::detect(&bytes, Some(&file)) {
            Ok(d) => d.format,
            Err(e) => {
                println!(
                    "{}",
                    serde_json::json!({"file": file, "error": e.code(), "message": e.to_string()})
                );
                continue;
            }
        };
        match preflight::run(&bytes, format, &intent, &profile, &limits) {
            Ok(report) => {
                let mut value = serde_json::to_value(&report).unwrap_or_default();
                value["file"] = serde_json::Value::String(file);
                let text = if pretty {
                    serde_json::to_string_pretty(&value)
                } else {
                    serde_json::to_string(&value)
                };
                println!("{}", text.unwrap_or_default());
            }
            Err(e) => println!(
                "{}",
                serde_json::json!({"file": file, "error": e.code(), "message": e.to_string()})
            ),
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
