#![forbid(unsafe_code)]
// Input, the network and the disk must not crash the server; tests may unwrap (clippy.toml).
#![deny(clippy::unwrap_used)]

use std::process::ExitCode;
use std::time::Duration;

/// Threads for blocking work (the store's flushes to disk, name lookups). Every thread that
/// allocates gets a glibc arena of its own, which keeps what it freed: after 160 sign-ups
/// tokio's default (up to 512 threads, each kept 10 s) had 12 of them and 15 arenas holding
/// 4 MiB. The store's flushes wait for one another inside sled anyway.
const BLOCKING_THREADS: usize = 4;

fn main() -> ExitCode {
    ms365_accountcreator::jwt_crypto::install();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .thread_keep_alive(Duration::from_secs(2))
        .build();
    let outcome = match runtime {
        Ok(runtime) => runtime.block_on(run()),
        Err(err) => Err(anyhow::Error::new(err).context("cannot start the async runtime")),
    };
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

async fn run() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    ms365_accountcreator::cli::run().await
}
