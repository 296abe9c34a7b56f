//! The `puratan` command line.

mod keys;
mod preflight;
mod users;

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::{backends, catalog, http, server, telemetry};

#[derive(Debug, Parser)]
#[command(name = "puratan", version, about = "Puratan web-to-print server")]
pub struct Cli {
    /// Configuration file (TOML). Defaults to ./puratan.toml if it exists.
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve,
    /// Create database indexes / apply migrations (idempotent).
    Migrate,
    /// Print the effective configuration, secrets redacted.
    CheckConfig,
    /// Import, export or check catalog files.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Price requests offline (no server): one request file, or one JSON
    /// request per line on stdin with one result per line on stdout.
    Quote {
        /// The pricing catalog (JSON or TOML; a `storefront` section is ignored).
        #[arg(long)]
        catalog: PathBuf,
        /// A request file; without it, requests are read from stdin.
        request: Option<PathBuf>,
    },
    /// Print generated documentation.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Generate keys; re-encrypt protected data under the active data key.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Check print files (PDF, images) offline and print the preflight report.
    Preflight(preflight::PreflightArgs),
    /// Run file-processing workers (preflight, previews) on the job queue;
    /// start as many as you like next to `serve` (needs `events = "rabbitmq"`).
    Worker {
        /// Competing workers in this process (default: `processing.workers`, at least 1).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Internal: run one isolated processing job in DIR (started by a worker).
    #[command(hide = true)]
    ProcessFile {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Create accounts and grant or revoke roles (bootstrap of the first admin).
    #[command(subcommand, long_about = users::USERS_ABOUT)]
    Users(users::UsersCommand),
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Validate and store a catalog (JSON or TOML). Nothing changes if invalid.
    Import { file: PathBuf },
    /// Print the stored catalog in import format.
    Export {
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Validate a catalog file without storing it.
    Check { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// The error-code reference (docs/error-codes.md).
    ErrorCodes,
    /// The OpenAPI document.
    Openapi,
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let (path, explicit) = match &cli.config {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from("puratan.toml"), false),
    };
    Ok(Config::load(Some(&path), explicit, std::env::vars())?)
}

fn read_catalog(file: &PathBuf) -> anyhow::Result<catalog::ParsedCatalog> {
    let meta = std::fs::metadata(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if meta.len() > catalog::MAX_CATALOG_BYTES as u64 {
        anyhow::bail!(
            "{}: larger than {} bytes",
            file.display(),
            catalog::MAX_CATALOG_BYTES
        );
    }
    let bytes = std::fs::read(file)?;
    Ok(catalog::parse(&bytes, catalog::Format::from_path(file))?)
}

/// A write that lost an optimistic-concurrency race (re-read and retry).
fn is_stale(e: &puratan_core::Error) -> bool {
    matches!(
        e,
        puratan_core::Error::Conflict {
            reason: puratan_core::ConflictReason::StaleVersion,
            ..
        }
    )
}

fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    Ok(())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Docs(DocsCommand::ErrorCodes) => return out(&http::error::error_code_reference()),
        Command::Docs(DocsCommand::Openapi) => return out(&http::openapi().to_pretty_json()?),
        Command::Quote { catalog, request } => return quote(catalog, request.as_deref()),
        Command::Preflight(args) => return preflight::run(args),
        Command::ProcessFile { dir } => {
            return Ok(crate::processing::sandbox::child_main(dir)?);
        }
        Command::Keys(keys::KeysCommand::Generate { id, purpose }) => {
            return keys::generate(id.as_deref(), *purpose);
        }
        Command::Catalog(CatalogCommand::Check { file }) => {
            let parsed = read_catalog(file)?;
            return out(&format!(
                "ok: catalog {} with {} products",
                parsed.version,
                parsed.products.len()
            ));
        }
        _ => {}
    }
    let config = load_config(&cli)?;
    match cli.command {
        Command::CheckConfig => out(&config.redacted()),
        Command::Migrate => {
            backends::storage(&config).await?;
            out("migrations and indexes are up to date")
        }
        Command::Serve => {
            let _guard = telemetry::init(&config.log);
            let addr = std::net::SocketAddr::new(config.server.host, config.server.port);
            let app = backends::build(config).await?;
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let running = server::start_on(app, listener).await?;
            tracing::info!(addr = %running.addr, "puratan listening");
            server::termination_signal().await;
            running.shutdown().await
        }
        Command::Worker { workers } => {
            let _guard = telemetry::init(&config.log);
            let n = workers.unwrap_or(config.processing.workers).max(1);
            let app = backends::build(config).await?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let handles = crate::processing::worker::start(app, n, stop_rx).await?;
            tracing::info!(workers = n, "puratan worker running");
            server::termination_signal().await;
            let _ = stop_tx.send(true);
            for h in handles {
                let _ = h.await;
            }
            Ok(())
        }
        Command::Catalog(CatalogCommand::Import { file }) => {
            let parsed = read_catalog(&file)?;
            let app = backends::build(config).await?;
            let report = catalog::store(&app, parsed).await?;
            out(&serde_json::to_string(&report)?)
        }
        Command::Catalog(CatalogCommand::Export { output }) => {
            let app = backends::build(config).await?;
            let doc = serde_json::to_string_pretty(&catalog::export(&app).await?)?;
            match output {
                Some(path) => Ok(std::fs::write(path, doc)?),
                None => out(&doc),
            }
        }
        Command::Keys(keys::KeysCommand::Rotate { dry_run, json }) => {
            let app = backends::build(config).await?;
            keys::rotate(&app, dry_run, json).await
        }
        Command::Users(command) => {
            let app = backends::build(config).await?;
            users::run(&app, command).await
        }
        Command::Catalog(CatalogCommand::Check { .. })
        | Command::Docs(_)
        | Command::Quote { .. }
        | Command::Preflight(_)
        | Command::ProcessFile { .. }
        | Command::Keys(keys::KeysCommand::Generate { .. }) => Ok(()),
    }
}

/// One result line: the engine's quote JSON, or `{"error": {code, field?, message}}`.
fn quote_line(catalog: &puratan_pricing::Catalog, text: &str) -> (String, bool) {
    use puratan_pricing::QuoteRequest;
    let request = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut v) => {
            // Scripts may omit the pricing instant: "now" is what they mean.
            if let Some(obj) = v.as_object_mut() {
                obj.entry("at").or_insert_with(|| {
                    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    serde_json::Value::String(now)
                });
            }
            QuoteRequest::from_value(v)
        }
        // Not JSON at all: let the engine word the `invalid_request`.
        Err(_) => QuoteRequest::from_json(text),
    };
    match request.and_then(|r| catalog.quote(&r)) {
        Ok(q) => (q.to_json(), true),
        Err(e) => (serde_json::json!({ "error": e }).to_string(), false),
    }
}

fn quote(catalog: &std::path::Path, request: Option<&std::path::Path>) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    let parsed = read_catalog(&catalog.to_path_buf())?;
    let engine = puratan_pricing::Catalog::from_value(&parsed.pricing)
        .map_err(|e| anyhow::anyhow!("invalid catalog at {}: {e}", e.field().unwrap_or("$")))?;
    if let Some(path) = request {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let (line, ok) = quote_line(&engine, &text);
        out(&line)?;
        if !ok {
            std::process::exit(1);
        }
        return Ok(());
    }
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let (result, _) = quote_line(&engine, &line);
        stdout.write_all(result.as_bytes())?;
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(())
}
