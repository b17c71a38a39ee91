//! What the server talks to outside itself, built from the settings: the directory (Graph,
//! or simulated) and the mailer (SMTP, or kept in memory).

use std::sync::Arc;

use anyhow::Context;

use super::Overrides;
use crate::config::Settings;
use crate::directory::{AccountControl, Directory, SimulatedDirectory};
use crate::graph::GraphClient;
use crate::mail::{Mailer, Outbox, SmtpMailer};
use crate::metrics::Metrics;
use crate::store::Store;

/// What the lifecycle ends accounts in, with the same Graph client (so the same write
/// budget) as sign-ups. A test's directory stands in for sign-ups; the lifecycle then uses
/// the configured one, or (none usable) a simulated one.
pub(super) fn account_control(
    settings: &Settings,
    store: &Store,
    metrics: &Metrics,
    overrides: &mut Overrides,
) -> anyhow::Result<Arc<dyn AccountControl>> {
    Ok(match overrides.directory {
        Some(_) => directories_from(settings, store, metrics).map_or_else(
            |_| -> Arc<dyn AccountControl> {
                Arc::new(SimulatedDirectory::new(&settings.graph.user_mail_domain))
            },
            |(_, accounts)| accounts,
        ),
        None => {
            let (directory, accounts) = directories_from(settings, store, metrics)?;
            overrides.directory = Some(directory);
            accounts
        }
    })
}

/// The directory, for sign-ups and for the lifecycle: one client, so one write budget.
pub(super) fn directories_from(
    settings: &Settings,
    store: &Store,
    metrics: &Metrics,
) -> anyhow::Result<(Arc<dyn Directory>, Arc<dyn AccountControl>)> {
    if settings.debug_dont_connect_to_api {
        if settings.mode == crate::config::Mode::Production {
            tracing::warn!(
                "DEBUG_DONT_CONNECT_TO_API is set: accounts are only simulated, nobody gets a real account"
            );
        }
        let simulated = Arc::new(SimulatedDirectory::new(&settings.graph.user_mail_domain));
        return Ok((simulated.clone(), simulated));
    }
    let client = GraphClient::from_settings(&settings.graph)
        .context("cannot set up the Microsoft Graph client")?
        .with_metrics(metrics.clone())
        .with_shared_budget(crate::shared_budget::shared_budget(store));
    let client = Arc::new(client);
    Ok((client.clone(), client))
}

pub(super) fn mailer_from(settings: &Settings) -> anyhow::Result<Mailer> {
    if settings.debug_dont_send_mail {
        if settings.mode == crate::config::Mode::Production {
            tracing::warn!(
                "DEBUG_DONT_SEND_MAIL is set: no mail is sent, so nobody receives a link or a password; the mails are kept in memory only, and in PRODUCTION not listed at /debug/mails"
            );
        }
        return Ok(Mailer::Capture(Outbox::default()));
    }
    let smtp = SmtpMailer::from_settings(&settings.mail, &settings.support_email)?;
    tracing::info!(server = %smtp.endpoint(), "mails go out over SMTP");
    Ok(Mailer::Smtp(smtp))
}
