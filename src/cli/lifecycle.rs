//! `lifecycle plan | run | extend | restore` (PRODUCT.md §9.4): what is due for the
//! accounts, doing it, and an operator's corrections. `--as-of DATE` looks at (and acts on)
//! another day than today: what an operator sees of next month, and how tests get there.

use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::audit::local_actor;
use super::timestamp;
use crate::config::Settings;
use crate::directory::{AccountControl, SimulatedDirectory};
use crate::domain::{Day, Mailbox};
use crate::graph::GraphClient;
use crate::i18n::Catalogs;
use crate::lifecycle::Lifecycle;
use crate::lifecycle::plan::Due;
use crate::mail::{Mailer, Outbox, SmtpMailer};
use crate::startup::{keep_links, open_store};
use crate::store::{RegistryKey, Store};

#[derive(Debug, Subcommand)]
pub enum LifecycleCommand {
    /// Lists what is due (re-verification mails, warnings, disabling, deleting) and changes
    /// nothing.
    Plan {
        #[command(flatten)]
        as_of: AsOf,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Does what is due: the server does this by itself once a day (LIFECYCLE_RUN_HOUR).
    Run {
        #[command(flatten)]
        as_of: AsOf,
    },
    /// Postpones the end of an account by D days (from today, if its end has passed).
    Extend {
        /// The mailbox the account was made for.
        address: String,
        #[arg(long, value_name = "D")]
        days: u32,
    },
    /// Brings back an account the lifecycle disabled or deleted: enabled, its licences
    /// given back (a deleted user comes back from the directory's deleted items, which
    /// keep it for 30 days).
    Restore {
        /// The mailbox the account was made for.
        address: String,
    },
}

/// `--as-of DATE`.
#[derive(Debug, Args)]
pub struct AsOf {
    /// Act as if it were the end of this day (YYYY-MM-DD, UTC) instead of now.
    #[arg(long = "as-of", value_name = "DATE", value_parser = Day::parse)]
    day: Option<Day>,
}

impl AsOf {
    /// The moment it names: the day's last second, or now.
    fn time(&self) -> u64 {
        self.day.map_or_else(now, Day::end)
    }
}

pub async fn run(command: LifecycleCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let lifecycle = lifecycle(&store, settings)?;
    let result = match command {
        LifecycleCommand::Plan { as_of, json } => plan(&lifecycle, as_of.time(), json).await,
        LifecycleCommand::Run { as_of } => run_once(&lifecycle, as_of.time()).await,
        LifecycleCommand::Extend { address, days } => {
            let extended = lifecycle
                .extend(&key(settings, &address), days, local_actor(), now())
                .await?;
            println!("{} now ends on {}", extended.upn, Day::of(extended.end));
            Ok(())
        }
        LifecycleCommand::Restore { address } => {
            let restored = lifecycle
                .restore(&key(settings, &address), local_actor(), now())
                .await?;
            let from = if restored.undeleted {
                "undeleted, "
            } else {
                ""
            };
            println!(
                "{} restored: {from}enabled, {} licences given back",
                restored.upn,
                restored.licences.len()
            );
            Ok(())
        }
    };
    store.close().await?;
    result
}

/// The lifecycle as the server runs it, against Graph (or the simulated directory) and
/// mailing as the server does.
fn lifecycle(store: &Store, settings: &Settings) -> anyhow::Result<Lifecycle> {
    let catalogs = Catalogs::load(
        settings.translations_dir.as_deref(),
        &settings.default_language,
    )?;
    let directory: Arc<dyn AccountControl> = if settings.debug_dont_connect_to_api {
        Arc::new(SimulatedDirectory::new(&settings.graph.user_mail_domain))
    } else {
        // The deployment's one write budget (PostgreSQL: shared with every running
        // instance, and held by their throttling pauses), as `emails tag-existing` takes it.
        Arc::new(
            GraphClient::from_settings(&settings.graph)
                .context("cannot set up the Microsoft Graph client")?
                .with_shared_budget(crate::shared_budget::shared_budget(store)),
        )
    };
    let mailer = if settings.debug_dont_send_mail {
        Mailer::Capture(Outbox::default())
    } else {
        Mailer::Smtp(SmtpMailer::from_settings(
            &settings.mail,
            &settings.support_email,
        )?)
    };
    let lifecycle = Lifecycle::new(
        store.clone(),
        directory,
        mailer,
        catalogs,
        settings.lifecycle_settings(),
    );
    // Re-verification links lead to the server's pages: without `PUBLIC_URL` there is no
    // address to mail, and the mails stay due for the server's own run.
    Ok(match &settings.public_url {
        Some(public_url) => lifecycle.with_links(Arc::new(keep_links(settings, public_url)?)),
        None => lifecycle,
    })
}

/// One line of `lifecycle plan --json`.
#[derive(Serialize)]
struct PlanLine<'a> {
    email: &'a str,
    upn: &'a str,
    object_id: &'a str,
    action: &'static str,
    date: String,
    reason: Option<&'static str>,
    step: Option<&'static str>,
    last_error: Option<&'a str>,
}

impl<'a> From<&'a Due> for PlanLine<'a> {
    fn from(due: &'a Due) -> Self {
        PlanLine {
            email: due.email.as_str(),
            upn: &due.upn,
            object_id: &due.object_id,
            action: due.action.name(),
            date: Day::of(due.at).to_string(),
            reason: due.reason.map(|reason| reason.name()),
            step: due.step.map(|step| step.name()),
            last_error: due.last_error.as_deref(),
        }
    }
}

async fn plan(lifecycle: &Lifecycle, as_of: u64, json: bool) -> anyhow::Result<()> {
    let due = lifecycle.plan(as_of).await?;
    if json {
        for item in &due {
            println!("{}", serde_json::to_string(&PlanLine::from(item))?);
        }
        return Ok(());
    }
    println!("{} actions due by {}", due.len(), timestamp(as_of));
    for item in &due {
        let line = PlanLine::from(item);
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            line.upn,
            line.action,
            line.date,
            line.reason.unwrap_or("-"),
            line.step.unwrap_or("-"),
            line.last_error.unwrap_or("")
        );
    }
    Ok(())
}

async fn run_once(lifecycle: &Lifecycle, as_of: u64) -> anyhow::Result<()> {
    let report = lifecycle
        .run(as_of, None)
        .await?
        .context("the run did not start")?;
    for (action, due) in &report.due {
        let done = report.done.get(action).copied().unwrap_or(0);
        println!("{action}: {due} due, {done} done");
    }
    if report.mailbox_gone > 0 {
        println!(
            "{} mailboxes refused mail for good: their accounts are ended",
            report.mailbox_gone
        );
    }
    for (action, count) in &report.not_sent {
        println!(
            "{action}: {count} not sent: re-verification links need PUBLIC_URL (the server's address); they stay due for the server's daily run"
        );
    }
    for (upn, action, error) in &report.failed {
        eprintln!("{upn}\t{action}\tfailed: {error}");
    }
    anyhow::ensure!(
        report.failed.is_empty(),
        "{} actions failed; they stay due, and the next run tries them again",
        report.failed.len()
    );
    Ok(())
}

/// The registry key of an address as an operator writes it: its mailbox, else as written.
fn key(settings: &Settings, address: &str) -> RegistryKey {
    Mailbox::parse_recorded(address, settings.email_subaddress_separator).map_or_else(
        |_| RegistryKey::as_recorded(address),
        |m| RegistryKey::from(&m),
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
