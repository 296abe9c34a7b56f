use clap::Parser;

// glibc malloc showed up at ~10% of CPU under load; mimalloc is the usual
// drop-in fix for allocation-heavy async servers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = puratan_server::cli::Cli::parse();
    match puratan_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
