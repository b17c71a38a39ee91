//! A verification link: its page (read-only, as mail scanners open every link) and its
//! confirm button, which claims the address and hands the registration to provisioning.

use super::Flow;
use crate::domain::{PersonName, Step, VoucherCode, VoucherRefusal};
use crate::metrics::SignupOutcome;
use crate::signup::links::LinkError;
use crate::signup::provision::{ConfirmError, Confirmed, Provisioned};
use crate::signup::token::VerificationClaims;
use crate::store::{Claim, Lookup, Registration};

/// What a verification link leads to (read-only).
#[derive(Debug, Clone)]
pub enum LinkState {
    /// Waiting for the confirm button.
    Pending {
        first_name: String,
        last_name: String,
        username: String,
    },
    /// Confirmed before but not finished, and not queued (a failure): confirming resumes.
    Unfinished {
        first_name: String,
        last_name: String,
        username: String,
    },
    /// Confirmed and waiting in the provisioning queue (or being provisioned now);
    /// `waiting_for_licence` while every seat of a licence it needs is taken.
    Queued {
        username: String,
        waiting_for_licence: bool,
    },
    /// The account exists; its temporary password waits to be shown on the page, which
    /// the confirm button does. `pass_minutes`: a Temporary Access Pass is made instead,
    /// valid this long from the button.
    PasswordWaiting {
        username: String,
        pass_minutes: Option<u32>,
    },
    /// The account exists; the link is used up. `pass`: a Temporary Access Pass was
    /// delivered rather than a password; `pass_expires_at`: when it stops working, while
    /// that is still to come (reckoned from the record's last change, which the delivery
    /// made).
    Used {
        username: String,
        pass: bool,
        pass_expires_at: Option<u64>,
    },
    /// The mailbox had its account already (found in the directory by its tag); nothing
    /// was created for this link.
    Existing { username: String },
}

impl Flow {
    fn open(&self, token: &str) -> Result<VerificationClaims, LinkError> {
        self.links.open(token, self.now())
    }

    /// What a link leads to, changing nothing (mail scanners open every link).
    pub async fn inspect(&self, token: &str) -> Result<LinkState, LinkError> {
        let claims = self.open(token)?;
        let lookup = self.context.store.lookup(&claims.signup_id).await;
        match lookup {
            Ok(Lookup::Pending(pending)) if pending.nonce == claims.nonce => {
                let username = self
                    .provisioning
                    .username_preview(&pending.first_name, &pending.last_name);
                Ok(LinkState::Pending {
                    username,
                    first_name: shown_name(pending.first_name),
                    last_name: shown_name(pending.last_name),
                })
            }
            Ok(Lookup::Registered(registration)) => Ok(self.registered(registration).await),
            Ok(Lookup::AddressTaken) => Err(LinkError::AddressTaken),
            // A wrong nonce: not this sign-up's link.
            Ok(Lookup::Unknown | Lookup::Pending(_)) => Err(LinkError::Unknown),
            Err(err) => {
                tracing::error!(error = %err, "store lookup failed");
                Err(LinkError::Invalid)
            }
        }
    }

    /// What a link whose sign-up was claimed leads to: how its registration stands.
    async fn registered(&self, registration: Registration) -> LinkState {
        let upn = registration.upn.clone().unwrap_or_default();
        if registration.step == Step::Done {
            return match registration.existing_account {
                true => LinkState::Existing { username: upn },
                false => LinkState::Used {
                    username: upn,
                    pass: self.provisioning.pass_minutes().is_some(),
                    pass_expires_at: self.pass_expires_at(&registration),
                },
            };
        }
        let username = registration.upn.clone().unwrap_or_else(|| {
            self.provisioning
                .username_preview(&registration.first_name, &registration.last_name)
        });
        if self.provisioning.is_queued(&registration.email).await {
            let waiting_for_licence = self
                .provisioning
                .waiting_for_seat(&registration.email)
                .await
                .is_some();
            return LinkState::Queued {
                username,
                waiting_for_licence,
            };
        }
        if registration.step >= Step::GroupsAdded
            && registration.last_error.is_none()
            && self.provisioning.password_on_page()
        {
            return LinkState::PasswordWaiting {
                username: upn,
                pass_minutes: self.provisioning.pass_minutes(),
            };
        }
        LinkState::Unfinished {
            username,
            first_name: shown_name(registration.first_name),
            last_name: shown_name(registration.last_name),
        }
    }

    /// When the pass that finished `registration` stops working, if passes are the first
    /// credential and that is still to come. The record was last changed when the pass was
    /// delivered (the run's last step, or a reset's), so its pass lived from about then.
    fn pass_expires_at(&self, registration: &Registration) -> Option<u64> {
        let minutes = self.provisioning.pass_minutes()?;
        let expires_at = registration.updated_at + u64::from(minutes) * 60;
        (expires_at > self.now()).then_some(expires_at)
    }

    /// The language the person signed up in, for the pages behind their link (read-only).
    pub async fn link_language(&self, token: &str) -> Option<String> {
        let claims = self.open(token).ok()?;
        let lang = match self.context.store.lookup(&claims.signup_id).await.ok()? {
            Lookup::Pending(pending) => pending.lang,
            Lookup::Registered(registration) => registration.lang,
            Lookup::AddressTaken | Lookup::Unknown => return None,
        };
        (!lang.is_empty()).then_some(lang)
    }

    /// The confirm button: claims the address and queues the account's provisioning (or
    /// resumes an earlier attempt at the step that failed), waiting for it up to
    /// `PROVISION_WAIT_SECONDS`.
    /// `instead`: a voucher typed on the page when the sign-up's own no longer admits it
    /// (empty: the sign-up's own). The voucher's use is taken with the claim, atomically.
    pub async fn confirm(&self, token: &str, instead: &str) -> Result<Confirmed, ConfirmError> {
        let claims = self.open(token)?;
        let instead = match instead.trim() {
            "" => None,
            typed => Some(
                VoucherCode::parse(typed)
                    .map_err(|_| ConfirmError::Voucher(VoucherRefusal::Unknown))?,
            ),
        };
        let claimed = self
            .context
            .store
            .claim_with_voucher(
                &claims.signup_id,
                &claims.nonce,
                self.now(),
                self.claim_voucher(instead.as_ref()),
            )
            .await?;
        let claim = claimed.map_err(|refusal| {
            tracing::info!(signup = %claims.signup_id, %refusal, "the voucher refused the confirm");
            ConfirmError::Voucher(refusal)
        })?;
        let registration = match claim {
            Claim::Claimed(registration) => {
                self.context.metrics.signup(SignupOutcome::Verified);
                tracing::info!(signup = %registration.signup_id, "address claimed");
                registration
            }
            Claim::Resume(registration) => self.retaken(registration, instead.as_ref()).await?,
            // Pressed again after the mailbox's account was found: the same answer.
            Claim::AlreadyDone(registration) if registration.existing_account => {
                return Ok(Confirmed::Ready(Provisioned::existing(&registration)));
            }
            Claim::AlreadyDone(_) => return Err(LinkError::Used.into()),
            Claim::AddressTaken => return Err(LinkError::AddressTaken.into()),
            Claim::Unknown => return Err(LinkError::Unknown.into()),
            Claim::Expired => return Err(LinkError::Expired.into()),
        };
        self.provisioning.queue_and_wait(&registration).await
    }
}

impl Flow {
    /// A resumed registration whose voucher use was given back (no account came of it)
    /// takes a use again before it goes on: of `instead` if typed, else of its own voucher.
    async fn retaken(
        &self,
        registration: Registration,
        instead: Option<&VoucherCode>,
    ) -> Result<Registration, ConfirmError> {
        let Some(held) = registration.voucher.as_ref().filter(|held| held.returned) else {
            return Ok(registration);
        };
        let code = instead.unwrap_or(&held.code);
        self.context
            .store
            .retake_voucher_use(&registration.email, code, self.now())
            .await?
            .map_err(ConfirmError::Voucher)
    }
}

/// A stored name as the link's page shows it: folded as [`PersonName::parse`] folds it, so
/// a sign-up stored before names were folded shows what Entra will get.
fn shown_name(stored: String) -> String {
    match PersonName::parse(&stored) {
        Ok(name) => name.as_str().to_owned(),
        Err(_) => stored,
    }
}
