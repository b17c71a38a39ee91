//! `signups list | retry | purge-expired`.

use anyhow::{Context, bail};
use clap::Subcommand;
use url::Url;

use super::timestamp;
use crate::config::Settings;
use crate::domain::AuditAction;
use crate::i18n::Catalogs;
use crate::signup::{Signups, Step};
use crate::startup::{Overrides, build_signups, open_store};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum SignupsCommand {
    /// Pending sign-ups (waiting for the link) and unfinished registrations with their step
    /// (or `waiting for a licence` while every seat of a licence is taken: it goes on by
    /// itself once one is free); a queued registration also with its attempts and the time
    /// of its next attempt (`-` when it is not queued: it failed for good, see the detail,
    /// and waits for `retry`).
    List,
    /// Resumes an unfinished registration at the step that failed.
    Retry {
        /// The sign-up id from `signups list`.
        id: String,
    },
    /// Deletes pending sign-ups whose link has expired.
    PurgeExpired,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs one `signups` subcommand on the store.
pub async fn run(command: SignupsCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    match command {
        SignupsCommand::List => list(&store).await,
        SignupsCommand::Retry { id } => retry(&store, settings, &id).await,
        SignupsCommand::PurgeExpired => purge_expired(&store).await,
    }
}

/// Pending sign-ups, then the registrations not yet done, one tab-separated line each.
async fn list(store: &Store) -> anyhow::Result<()> {
    println!("id\tstate\temail\tsince\tattempts\tnext attempt\tdetail");
    for pending in store.pending_signups().await? {
        let pending = pending?;
        let state = if pending.expires_at <= now() {
            "expired"
        } else {
            "pending"
        };
        println!(
            "{}\t{state}\t{}\t{}\t-\t-\texpires {}",
            pending.id,
            pending.email,
            timestamp(pending.created_at),
            timestamp(pending.expires_at)
        );
    }
    for registration in store.registrations().await? {
        let registration = registration?;
        if registration.step == Step::Done {
            continue;
        }
        let entry = store.queue_entry(&registration.email).await?;
        let (attempts, next) = match &entry {
            Some(entry) => (entry.attempts.to_string(), timestamp(entry.next_attempt_at)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let step = format!("{:?}", registration.step).to_lowercase();
        let (state, detail) = match entry.and_then(|entry| entry.waiting_for_seat) {
            Some(sku) => (
                "waiting for a licence".to_owned(),
                format!(
                    "at step {step}: every seat of licence {sku} is taken; goes on by itself once one is free"
                ),
            ),
            None => (step, registration.last_error.unwrap_or_default()),
        };
        println!(
            "{}\t{state}\t{}\t{}\t{attempts}\t{next}\t{detail}",
            registration.signup_id,
            registration.email,
            timestamp(registration.claimed_at),
        );
    }
    Ok(())
}

/// Resumes the registration of sign-up `id` at the step that failed.
async fn retry(store: &Store, settings: &Settings, id: &str) -> anyhow::Result<()> {
    let Some(registration) = store.registration_by_signup(id).await? else {
        bail!(
            "no confirmed sign-up has the id {id}: `signups list` shows the ids (a pending one needs its link first)"
        );
    };
    if registration.step == Step::Done {
        println!(
            "{} is finished already ({})",
            registration.email,
            registration.upn.as_deref().unwrap_or("-")
        );
        return Ok(());
    }
    let signups = signups_for_retry(store, settings)?;
    let subject = Some(registration.signup_id.clone());
    super::audit::record(store, AuditAction::Retry, subject, None).await?;
    let result = signups
        .provisioning
        .retry(&registration.email)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    store.close().await?;
    if result.awaiting_person {
        println!(
            "created {} for {}; the password is shown when the person opens their link and confirms again",
            result.user_principal_name, registration.email
        );
    } else {
        println!(
            "created {} for {}",
            result.user_principal_name, registration.email
        );
    }
    Ok(())
}

/// The sign-up service as the server builds it; links in mails point at `PUBLIC_URL`, or
/// at `BIND` when that is not set.
fn signups_for_retry(store: &Store, settings: &Settings) -> anyhow::Result<Signups> {
    let catalogs = Catalogs::load(
        settings.translations_dir.as_deref(),
        &settings.default_language,
    )?;
    let public_url = match &settings.public_url {
        Some(url) => url.clone(),
        None => Url::parse(&format!("http://{}/", settings.bind)).context("BIND makes no URL")?,
    };
    let (signups, _) = build_signups(
        settings,
        store,
        &catalogs,
        public_url,
        Overrides::default(),
        &crate::metrics::Metrics::new(),
    )?;
    Ok(signups)
}

/// Deletes the pending sign-ups whose link has expired.
async fn purge_expired(store: &Store) -> anyhow::Result<()> {
    let purged = store.purge_expired(now()).await?;
    store.close().await?;
    println!("{} expired pending sign-ups deleted", purged.deleted);
    for record in &purged.unreadable {
        eprintln!(
            "skipped an unreadable {} record ({}): {}",
            record.kind, record.key, record.error
        );
    }
    Ok(())
}
