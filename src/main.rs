use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match civicline::cli::run(civicline::cli::Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("civicline: {error:#}");
            ExitCode::FAILURE
        }
    }
}
