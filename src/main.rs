#![forbid(unsafe_code)]
// Input, the network and the disk must not crash the server; tests may unwrap (clippy.toml).
#![deny(clippy::unwrap_used)]

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let outcome = ms365_accountcreator::cli::run().await;
    // Queued log lines first, so the error is the last line.
    ms365_accountcreator::telemetry::flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
