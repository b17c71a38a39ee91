//! Building the console from the settings at start-up.

use std::sync::Arc;

use anyhow::Context;
use url::Url;

use super::{Clock, Console, SignInMode};
use crate::config::Settings;
use crate::graph::GraphClient;
use crate::graph::signin::{SignInClient, SignInSettings};
use crate::metrics::Metrics;
use crate::web::paths;

impl Console {
    /// The console, when `ADMIN_ENABLED`: operators sign in with Microsoft through the
    /// Graph client's app registration, or (DEBUG without Graph) with the debug sign-in.
    /// Licence seats are not shown until a source is given ([`Console::with_seats`]).
    pub fn from_settings(
        settings: &Settings,
        public_url: &Url,
        clock: Clock,
        metrics: &Metrics,
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
        Ok(Some(Arc::new(Console::new(
            sign_in,
            &settings.jwt_secret_key,
            public_url,
            clock,
            settings.email_subaddress_separator,
        ))))
    }
}
