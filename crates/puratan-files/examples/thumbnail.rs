//! Thumbnail one file, as a whole process (for timing against vipsthumbnail
//! and ImageMagick in `benches/thumbnail-vs-vips.sh`).
//!
//! ```text
//! thumbnail INPUT OUTPUT [MAX_EDGE]    # JPEG quality 85, format detected from content
//! thumbnail --make-test-jpeg PATH      # the 8000×6000 benchmark photo
//! ```

#[path = "../benches/support/photo.rs"]
mod photo;

use std::path::Path;
use std::process::ExitCode;

use puratan_files::detect;
use puratan_files::preview::{Limits, OutputFormat, ThumbnailSpec, thumbnail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, path] if flag == "--make-test-jpeg" => match photo::make(Path::new(path)) {
            Ok(real) => {
                let what = if real { "corpus photo" } else { "synthetic" };
                eprintln!("wrote {path} ({what}, 8000×6000, q90)");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        [input, output, rest @ ..] if rest.len() <= 1 => {
            let max_edge = match rest.first().map(|s| s.parse::<u32>()) {
                None => 400,
                Some(Ok(v)) => v,
                Some(Err(e)) => {
                    eprintln!("error: bad MAX_EDGE: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let result = std::fs::read(input)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    let format = detect(&bytes, Some(input))
                        .map_err(|e| e.to_string())?
                        .format;
                    let spec = ThumbnailSpec {
                        max_edge,
                        output: OutputFormat::Jpeg { quality: 85 },
                    };
                    thumbnail(&bytes, format, &spec, &Limits::default()).map_err(|e| e.to_string())
                })
                .and_then(|p| {
                    std::fs::write(output, &p.bytes)
                        .map(|()| p)
                        .map_err(|e| e.to_string())
                });
            match result {
                Ok(p) => {
                    eprintln!("{output}: {}×{} {}", p.width, p.height, p.mime);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("usage: thumbnail INPUT OUTPUT [MAX_EDGE] | thumbnail --make-test-jpeg PATH");
            ExitCode::from(2)
        }
    }
}
