//! Runs a job's steps where a hostile file cannot take the worker down.
//!
//! [`Isolation::Process`] (the default) writes the original and the step
//! spec to a private temporary directory and runs `<exe> process-file`
//! under `sh -c 'ulimit -v …; ulimit -t …; exec …'` — an address-space and
//! a CPU-time limit the kernel enforces — with a wall-clock timeout and
//! `kill_on_drop`. The child writes `result.json` and the derivative files
//! into the directory. A child that dies (stack overflow, abort, SIGXCPU,
//! SIGKILL) fails that job with a typed code; the worker lives on.
//! `sh` and `ulimit` are POSIX, so no util-linux `prlimit` is needed.
//!
//! [`Isolation::Thread`] runs the same function on a blocking thread
//! under `catch_unwind`: panics become failures, but a stack overflow or
//! abort would end the process, and a timed-out thread cannot be stopped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

use super::config::{Isolation, ProcessingConfig};
use super::steps::{self, Failure, StepSpec, StepsResult};

/// The finished job's outputs, in a directory removed on drop.
#[derive(Debug)]
pub struct Outputs {
    pub result: StepsResult,
    dir: tempfile::TempDir,
}

impl Outputs {
    /// A derivative file the steps wrote (names come from `result`).
    pub fn path(&self, file: &str) -> Option<PathBuf> {
        // Only plain names the steps chose; never a path from elsewhere.
        let plain = !file.is_empty()
            && file
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && !file.starts_with('.');
        plain.then(|| self.dir.path().join(file))
    }
}

pub const RESULT_FILE: &str = "result.json";
const INPUT_FILE: &str = "input.bin";
const SPEC_FILE: &str = "spec.json";

/// Runs `spec` over `input` with the configured isolation. Infrastructure
/// problems (temp dir, spawn) are `Err`; anything the file causes is an
/// `Ok` result whose `failure` is set.
pub async fn run(
    config: &ProcessingConfig,
    input: Bytes,
    spec: &StepSpec,
) -> std::io::Result<Outputs> {
    let dir = tempfile::Builder::new().prefix("puratan-job-").tempdir()?;
    let result = match config.isolation {
        Isolation::Process => in_child(config, dir.path(), input, spec).await?,
        Isolation::Thread => in_thread(config, dir.path(), input, spec).await,
    };
    Ok(Outputs { result, dir })
}

async fn in_child(
    config: &ProcessingConfig,
    dir: &Path,
    input: Bytes,
    spec: &StepSpec,
) -> std::io::Result<StepsResult> {
    let exe = match &config.worker_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe()?,
    };
    tokio::fs::write(dir.join(INPUT_FILE), &input).await?;
    tokio::fs::write(dir.join(SPEC_FILE), serde_json::to_vec(spec)?).await?;
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v "$1" && ulimit -t "$2" && shift 2 && exec "$@""#)
        .arg("sh")
        .arg((config.memory_limit_mb * 1024).to_string())
        .arg(config.cpu_secs.to_string())
        .arg(exe)
        .arg("process-file")
        .arg("--dir")
        .arg(dir)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stderr = child.stderr.take();
    let stderr_text = tokio::spawn(async move {
        use tokio::io::AsyncReadExt as _;
        let mut buf = Vec::new();
        if let Some(s) = stderr {
            // The tail is what matters; bound what a child can make us hold.
            let _ = s.take(64 * 1024).read_to_end(&mut buf).await;
        }
        String::from_utf8_lossy(&buf).into_owned()
    });
    let waited = tokio::time::timeout(Duration::from_secs(config.timeout_secs), child.wait()).await;
    let status = match waited {
        Ok(status) => status?,
        Err(_) => {
            let _ = child.kill().await;
            return Ok(StepsResult::failed(Failure::limit(
                "processing took longer than the time limit",
            )));
        }
    };
    let stderr_text = stderr_text.await.unwrap_or_default();
    if status.success() {
        return match tokio::fs::read(dir.join(RESULT_FILE)).await {
            Ok(bytes) if bytes.len() <= steps::MAX_RESULT_BYTES => {
                Ok(serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                    StepsResult::failed(Failure::crashed("the worker wrote an unreadable result"))
                }))
            }
            _ => Ok(StepsResult::failed(Failure::crashed(
                "the worker wrote no result",
            ))),
        };
    }
    tracing::warn!(?status, stderr = %tail(&stderr_text), "isolated worker process failed");
    Ok(StepsResult::failed(classify_exit(&status, &stderr_text)))
}

/// The last lines of a child's stderr, for the log.
fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(2000);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}

fn classify_exit(status: &std::process::ExitStatus, stderr: &str) -> Failure {
    use std::os::unix::process::ExitStatusExt as _;
    // SIGXCPU (24): the CPU-time limit; SIGKILL (9): the hard limit or OOM.
    let limit_signal = matches!(status.signal(), Some(24 | 9));
    if limit_signal || stderr.contains("memory allocation of") {
        Failure::limit("processing the file needed more memory or CPU time than allowed")
    } else {
        Failure::crashed("the file made the isolated worker crash")
    }
}

async fn in_thread(
    config: &ProcessingConfig,
    dir: &Path,
    input: Bytes,
    spec: &StepSpec,
) -> StepsResult {
    let dir = dir.to_owned();
    let spec = spec.clone();
    let work = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            steps::run(&input, &spec, &dir)
        }))
    });
    match tokio::time::timeout(Duration::from_secs(config.timeout_secs), work).await {
        Err(_) => StepsResult::failed(Failure::limit("processing took longer than the time limit")),
        Ok(Err(_)) | Ok(Ok(Err(_))) => {
            StepsResult::failed(Failure::crashed("processing the file panicked"))
        }
        Ok(Ok(Ok(result))) => result,
    }
}

/// `puratan process-file --dir DIR`: the child side. Reads the input and
/// spec from `dir`, runs the steps, writes `result.json`.
pub fn child_main(dir: &Path) -> std::io::Result<()> {
    let input = std::fs::read(dir.join(INPUT_FILE))?;
    let spec: StepSpec = serde_json::from_slice(&std::fs::read(dir.join(SPEC_FILE))?)
        .map_err(std::io::Error::other)?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        steps::run(&input, &spec, dir)
    }))
    .unwrap_or_else(|_| StepsResult::failed(Failure::crashed("processing the file panicked")));
    std::fs::write(dir.join(RESULT_FILE), serde_json::to_vec(&result)?)
}
