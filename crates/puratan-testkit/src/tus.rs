//! The official tus clients, for tests of a tus server: `tus-js-client`
//! (npm, its Node build) and `tuspy` (PyPI).
//!
//! [`ensure_clients`] runs `scripts/services/tus-clients.sh` once per test
//! process (it installs both into the cache, idempotently), with
//! [`crate::service::require`] semantics: under `CI=true` a missing client
//! is a failure, otherwise a loud skip. [`TusClients::tus_js`] and
//! [`TusClients::tuspy`] run the driver scripts of `scripts/tus-clients/`
//! with a JSON description of what to do and return the JSON they print
//! (see the scripts for the fields).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::OnceCell;

/// Where the installed clients and their driver scripts are.
#[derive(Debug, Clone)]
pub struct TusClients {
    /// `$PURATAN_CACHE/tus-clients`: `node_modules/` and `venv/`.
    pub dir: PathBuf,
    /// `scripts/tus-clients` of the repository.
    pub scripts: PathBuf,
}

fn cache_dir() -> PathBuf {
    match std::env::var_os("PURATAN_CACHE") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/puratan"),
    }
}

async fn install() -> Result<TusClients, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("scripts/services/tus-clients.sh");
    let out = tokio::process::Command::new("bash")
        .arg(&script)
        .output()
        .await
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let clients = TusClients {
        dir: cache_dir().join("tus-clients"),
        scripts: root.join("scripts/tus-clients"),
    };
    for needed in [
        clients.dir.join("node_modules/tus-js-client/package.json"),
        clients.dir.join("venv/bin/python"),
    ] {
        if !needed.exists() {
            return Err(format!("{} is missing after the install", needed.display()));
        }
    }
    Ok(clients)
}

/// The clients, installed if needed (once per process). `None` means they
/// are unavailable and the test should return (a panic under `CI=true`).
pub async fn ensure_clients() -> Option<TusClients> {
    static INSTALLED: OnceCell<Result<TusClients, String>> = OnceCell::const_new();
    let result = INSTALLED.get_or_init(install).await.clone();
    crate::service::require("tus clients (scripts/services/tus-clients.sh)", result)
}

impl TusClients {
    /// Runs `tus-js-client.mjs` with `options` (`modules` is filled in).
    pub async fn tus_js(&self, mut options: Value) -> Value {
        options["modules"] = Value::from(self.dir.to_string_lossy().into_owned());
        let script = self.scripts.join("tus-js-client.mjs");
        run(
            tokio::process::Command::new("node")
                .arg(&script)
                .arg(options.to_string()),
            "tus-js-client",
        )
        .await
    }

    /// Runs `tuspy_upload.py` on the venv's Python with `options`.
    pub async fn tuspy(&self, options: Value) -> Value {
        let script = self.scripts.join("tuspy_upload.py");
        run(
            tokio::process::Command::new(self.dir.join("venv/bin/python"))
                .arg(&script)
                .arg(options.to_string()),
            "tuspy",
        )
        .await
    }
}

/// Runs a driver (at most two minutes) and parses the JSON it prints.
async fn run(cmd: &mut tokio::process::Command, what: &str) -> Value {
    cmd.kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 120 s"))
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}{stderr}",
        out.status
    );
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}):\n{stdout}{stderr}"))
}
