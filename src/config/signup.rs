//! The sign-up service's settings, a slice for each of its parts, from the typed settings.

use super::Settings;
use crate::directory::MailboxTagger;
use crate::signup::{FlowSettings, MailLinks, ProvisionSettings, ResetSettings, SignupSettings};

impl Settings {
    /// The sign-up service's settings, a slice for each of its parts; `links` are the URLs
    /// its mails link to.
    pub fn signup(&self, links: MailLinks) -> SignupSettings {
        SignupSettings {
            flow: FlowSettings {
                filter: self.email_address_filter.clone(),
                separator: self.email_subaddress_separator,
                token_ttl: self.verification_token_ttl,
                mails_per_address_per_hour: self.rate_limit_mails_per_address_per_hour,
                mails_per_hour: self.rate_limit_mails_per_hour,
                support_email: self.support_email.clone(),
                vouchers: self.vouchers,
            },
            provision: ProvisionSettings {
                password_bytes: self.generated_password_bytes,
                password_delivery: self.password_delivery,
                support_email: self.support_email.clone(),
                sign_in_url: self.sign_in_url.clone(),
                provision_wait: self.provision_wait,
                mailbox_tags: MailboxTagger::new(&self.mailbox_tag_secret),
                lifetime_days: self.lifecycle.lifetime_days,
                pass: self.credential.temporary_access_pass(),
            },
            reset: ResetSettings {
                filter: self.email_address_filter.clone(),
                separator: self.email_subaddress_separator,
                ttl: self.password_reset_ttl,
                password_bytes: self.generated_password_bytes,
                password_delivery: self.password_delivery,
                support_email: self.support_email.clone(),
                sign_in_url: self.sign_in_url.clone(),
                pass: self.credential.temporary_access_pass(),
            },
            links,
        }
    }
}
