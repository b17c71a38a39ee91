//! The sign-up service's parts, built in one place and handed to the web layer, the queue
//! worker and the commands.

use std::sync::Arc;

use secrecy::SecretString;

use super::caps::MailCaps;
use super::{Context, Flow, Links, Provisioning, Resets, SignupSettings};
use crate::directory::Directory;

/// What the service is built from.
pub struct Parts {
    pub context: Context,
    pub directory: Arc<dyn Directory>,
    /// `JWT_SECRET_KEY`: keys the links.
    pub secret: SecretString,
    pub settings: SignupSettings,
}

/// The sign-up service: the flow, provisioning and resets, sharing what they share.
#[derive(Debug, Clone)]
pub struct Signups {
    pub flow: Arc<Flow>,
    pub provisioning: Arc<Provisioning>,
    pub resets: Arc<Resets>,
}

impl Signups {
    /// Builds every part; fails only when the secret cannot key the links.
    pub fn build(parts: Parts) -> Result<Self, jsonwebtoken::errors::Error> {
        let Parts {
            context,
            directory,
            secret,
            settings,
        } = parts;
        let links = Arc::new(Links::new(
            &secret,
            settings.links,
            settings.flow.token_ttl,
        )?);
        let caps = Arc::new(MailCaps::new(
            settings.flow.mails_per_address_per_hour,
            settings.flow.mails_per_hour,
            context.metrics.clone(),
        ));
        let provisioning = Arc::new(Provisioning::new(
            context.clone(),
            directory.clone(),
            links.clone(),
            settings.provision,
        ));
        let flow = Arc::new(Flow::new(
            context.clone(),
            provisioning.clone(),
            links.clone(),
            caps.clone(),
            settings.flow,
        ));
        let resets = Arc::new(Resets::new(context, directory, links, caps, settings.reset));
        Ok(Signups {
            flow,
            provisioning,
            resets,
        })
    }

    /// Forgets rate-limit state that has recovered (called periodically).
    pub fn prune_limits(&self) {
        self.flow.prune_limits();
    }
}
