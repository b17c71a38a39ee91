//! Command line: one function per command.

mod audit;
mod check;
mod emails;
mod lifecycle;
mod signups;
mod store;
mod vouchers;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::startup::{Application, Overrides};

/// Self-service sign-up for Microsoft 365 accounts in an Entra ID tenant.
#[derive(Debug, Parser)]
#[command(name = "ms365-accountcreator", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (the default). SIGTERM or SIGINT stop it gracefully.
    Serve,
    /// Checks the configuration, the store, Microsoft Graph and SMTP; one line per check,
    /// non-zero exit when any fails.
    Check(check::CheckArgs),
    /// Asks the running server's `/healthz` (on BIND) and exits 0 when it answers; for
    /// container health checks, where no curl is at hand.
    Healthcheck {
        /// Ask this URL instead.
        #[arg(long)]
        url: Option<String>,
    },
    /// The registry of used addresses.
    #[command(subcommand)]
    Emails(emails::EmailsCommand),
    /// The accounts' ends: re-verification, disabling, deleting (PRODUCT.md §9.4).
    #[command(subcommand)]
    Lifecycle(lifecycle::LifecycleCommand),
    /// Pending and unfinished sign-ups.
    #[command(subcommand)]
    Signups(signups::SignupsCommand),
    /// The whole store: moving it to another host (docs/migration.md), and checking it.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// The operators' audit log: what was done in the console and by these commands.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Vouchers: codes that let a course, guests or staff sign up with their own licences,
    /// groups, address filter and account end (VOUCHERS).
    #[command(subcommand)]
    Vouchers(vouchers::VouchersCommand),
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve_command().await,
        Command::Healthcheck { url } => healthcheck_command(url).await,
        Command::Check(args) => check::run(args, load_settings()).await,
        Command::Emails(command) => emails::run(command, &load_settings()?).await,
        Command::Lifecycle(command) => lifecycle::run(command, &load_settings()?).await,
        Command::Signups(command) => signups::run(command, &load_settings()?).await,
        Command::Store(command) => store::run(command, &load_settings()?).await,
        Command::Audit(command) => audit::run(command, &load_settings()?).await,
        Command::Vouchers(command) => vouchers::run(command, &load_settings()?).await,
    }
}

/// Loads the settings, sets up logging and logs the configuration warnings.
pub(crate) fn load_settings() -> anyhow::Result<Settings> {
    let (settings, warnings) = Settings::load()?;
    crate::telemetry::init(&settings.log_level, settings.log_format);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    Ok(settings)
}

async fn serve_command() -> anyhow::Result<()> {
    let mut settings = load_settings()?;
    let per_run_store = (settings.store_per_run && settings.database_url.is_none()).then(|| {
        let dir = std::env::temp_dir().join(format!(
            "ms365-accountcreator-debug-{}.sled",
            std::process::id()
        ));
        tracing::info!(store = %dir.display(), "DEBUG: a new store for this run, removed when it stops (set DATABASE_PATH to keep one)");
        settings.database_path = dir.clone();
        dir
    });
    let shutdown = shutdown_signal()?;
    let app = Application::build(&settings, Overrides::default()).await?;
    tracing::info!(address = %app.local_addr(), public_url = %app.public_url(), mode = %settings.mode, "listening");
    if settings.debug_dont_send_mail {
        let mails = crate::web::paths::absolute(app.public_url(), crate::web::paths::DEBUG_MAILS);
        tracing::info!("mails are not sent: read them at {mails}");
    }
    let stopped = app.run_until_stopped(shutdown).await;
    if let Some(dir) = per_run_store
        && let Err(err) = std::fs::remove_dir_all(&dir)
    {
        tracing::warn!(store = %dir.display(), error = %err, "cannot remove this run's store");
    }
    stopped
}

async fn healthcheck_command(url: Option<String>) -> anyhow::Result<()> {
    let url = match url {
        Some(url) => url,
        None => {
            let (settings, _) = Settings::load()?;
            // A wildcard bind is reached on loopback.
            let bind = settings
                .bind
                .replace("0.0.0.0", "127.0.0.1")
                .replace("[::]", "[::1]");
            format!("http://{bind}{}", crate::web::paths::HEALTHZ)
        }
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?;
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("no answer from {url}"))?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url} answered {}",
        response.status()
    );
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled: called before the server starts, a signal that arrives right
/// after its first answer (a service manager, a test) stops it gracefully instead of
/// meeting the default action, which kills the process.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    let stopped = {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate =
            signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
        let mut interrupt =
            signal(SignalKind::interrupt()).context("cannot install the SIGINT handler")?;
        async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
        }
    };
    #[cfg(not(unix))]
    let stopped = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Ok(async move {
        stopped.await;
        tracing::info!("shutdown requested: finishing in-flight requests");
    })
}

/// Seconds since the epoch as RFC 3339 (UTC), for listings and exports; empty for 0.
pub(crate) fn timestamp(seconds: u64) -> String {
    if seconds == 0 {
        return String::new();
    }
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds),
    )
    .to_string()
}
