//! Building the console from the settings at start-up.

use std::sync::Arc;

use anyhow::Context;
use url::Url;

use super::{Clock, Console, SeatsSource, SignInMode, SkuSeats};
use crate::config::Settings;
use crate::graph::GraphClient;
use crate::graph::signin::{SignInClient, SignInSettings};
use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::signup::Provisioning;
use crate::web::paths;

impl Console {
    /// The console, when `ADMIN_ENABLED`: operators sign in with Microsoft through the
    /// Graph client's app registration, or (DEBUG without Graph) with the debug sign-in.
    /// The overview shows the seats of `GRAPH_API_LICENSE_SKUS` as `provisioning`'s
    /// directory counts them.
    pub fn from_settings(
        settings: &Settings,
        public_url: &Url,
        clock: Clock,
        metrics: &Metrics,
        provisioning: &Arc<Provisioning>,
        lifecycle: &Lifecycle,
    ) -> anyhow::Result<Option<Arc<Console>>> {
        let Some(admin) = &settings.admin else {
            return Ok(None);
        };
        let sign_in = if settings.debug_dont_connect_to_api {
            // Configuration refuses the console without Graph outside DEBUG.
            tracing::warn!(
                "DEBUG: the operator console signs in a made-up operator; there is no sign-in with Microsoft without Graph"
            );
            SignInMode::Debug
        } else {
            let graph = GraphClient::from_settings(&settings.graph)
                .context("cannot set up the Microsoft Graph client")?
                .with_metrics(metrics.clone());
            let redirect_uri = paths::absolute(public_url, paths::ADMIN_CALLBACK);
            let client = SignInClient::new(
                Arc::new(graph),
                SignInSettings {
                    groups: admin.groups.clone(),
                    redirect_uri,
                },
            )
            .context("cannot set up the operator sign-in")?;
            SignInMode::Microsoft(Arc::new(client))
        };
        let console = Console::new(
            sign_in,
            &settings.jwt_secret_key,
            public_url,
            clock,
            settings.email_subaddress_separator,
        )
        .with_lifecycle(lifecycle.clone());
        let skus = settings.graph.license_skus.clone();
        let console = if skus.is_empty() {
            console
        } else {
            console.with_seats(seats_of(provisioning.clone(), skus))
        };
        Ok(Some(Arc::new(console)))
    }
}

/// The seats of `skus`, read through the directory (Graph keeps one read for a minute).
fn seats_of(provisioning: Arc<Provisioning>, skus: Vec<String>) -> SeatsSource {
    let skus = Arc::new(skus);
    Arc::new(move || {
        let (provisioning, skus) = (provisioning.clone(), skus.clone());
        Box::pin(async move {
            let seats = provisioning
                .licence_seats(&skus)
                .await
                .map_err(|err| err.to_string())?;
            Ok(seats
                .into_iter()
                .map(|seats| SkuSeats {
                    name: seats.part_number,
                    prepaid: seats.prepaid,
                    consumed: seats.consumed,
                })
                .collect())
        })
    })
}
