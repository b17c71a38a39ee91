//! The sign-up service's parts, built in one place and handed to the web layer, the queue
//! worker and the commands.

use std::sync::Arc;

use secrecy::SecretString;

use super::caps::MailCaps;
use super::outbox::{Bell, Outbox};
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

/// The sign-up service: the flow, provisioning and resets, sharing what they share, and the
/// outbox that sends what the flow and resets owe.
#[derive(Debug, Clone)]
pub struct Signups {
    pub flow: Arc<Flow>,
    pub provisioning: Arc<Provisioning>,
    pub resets: Arc<Resets>,
    /// Sends the mails the flow and resets owe, off the request path.
    pub outbox: Arc<Outbox>,
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
        let bell = Bell::default();
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
            bell.clone(),
        ));
        let resets = Arc::new(Resets::new(
            context.clone(),
            directory,
            links,
            caps,
            settings.reset,
            bell.clone(),
        ));
        let outbox = Arc::new(Outbox::new(context, flow.clone(), resets.clone(), bell));
        Ok(Signups {
            flow,
            provisioning,
            resets,
            outbox,
        })
    }

    /// Forgets rate-limit state that has recovered (called periodically).
    pub fn prune_limits(&self) {
        self.flow.prune_limits();
    }
}
