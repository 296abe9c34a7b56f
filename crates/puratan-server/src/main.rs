use clap::Parser;

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
