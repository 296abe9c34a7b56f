//! The `puratan` command line.

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
    /// Print generated documentation.
    #[command(subcommand)]
    Docs(DocsCommand),
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
        Command::Catalog(CatalogCommand::Check { .. }) | Command::Docs(_) => Ok(()),
    }
}
