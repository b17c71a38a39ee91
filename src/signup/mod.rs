//! The sign-up flow and the provisioning state machine, callable without HTTP (the
//! `signups retry` command uses it too).

pub mod form;
mod links;
pub mod password;
mod provision;
mod queue;
mod reset;
mod settings;
pub mod token;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use url::Url;

use crate::directory::Directory;
pub use crate::domain::Step;
use crate::domain::{MailNickname, Mailbox, PersonName};
use crate::i18n::{Catalogs, Tr};
use crate::ids::random_id;
use crate::limits::HourlyLimit;
use crate::mail::{MailError, Mailer, verification_mail};
use crate::metrics::{Metrics, SignupOutcome};
use crate::store::{Claim, Lookup, PendingSignup, RegistryKey, Store, StoreError};
use form::{Field, FieldError, FieldErrors, SignupForm};
pub use provision::{ProvisionError, Provisioned};
pub use queue::Confirmed;
pub use reset::{PasswordReset, ResetError, ResetRequestError};
pub use settings::{FlowSettings, MailLinks, PasswordDelivery, UnknownDelivery};
use token::{TokenError, TokenSigner};

/// Seconds since the Unix epoch; a function so tests can move time.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// A failure the person cannot fix by changing the form.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("no random numbers available")]
    Random,
}

/// Why a submission was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the form has errors")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// Too many submissions from this client in the last hour.
    #[error("too many submissions; retry in {0:?}")]
    RateLimited(Duration),
    /// Too many verification mails in total in the last hour (`RATE_LIMIT_MAILS_PER_HOUR`).
    #[error("too many verification mails from the service; retry in {0:?}")]
    MailCap(Duration),
    /// Too many verification mails to this mailbox in the last hour. Nothing was cancelled:
    /// the links already sent work on.
    #[error("too many mails to this mailbox; retry in {wait:?}")]
    MailboxLimited {
        /// Until another mail may go to the mailbox.
        wait: Duration,
        /// How long the mailbox's newest link stays valid.
        link_valid_for: Duration,
    },
}

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
    /// Confirmed and waiting in the provisioning queue (or being provisioned now).
    Queued { username: String },
    /// The account exists; its temporary password waits to be shown on the page, which
    /// the confirm button does.
    PasswordWaiting { username: String },
    /// The account exists; the link is used up.
    Used { username: String },
    /// The mailbox had its account already (found in the directory by its tag); nothing
    /// was created for this link.
    Existing { username: String },
}

/// Why a link leads nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has expired")]
    Expired,
    #[error("the link is not valid")]
    Invalid,
    /// Its sign-up no longer exists (purged, or forgotten on request).
    #[error("the link's sign-up is unknown")]
    Unknown,
    #[error("the link was already used")]
    Used,
    #[error("the address was registered by another sign-up")]
    AddressTaken,
}

/// The sign-up service: validation, pending sign-ups, links and provisioning.
pub struct Signups {
    store: Store,
    directory: Arc<dyn Directory>,
    mailer: Mailer,
    catalogs: Catalogs,
    tokens: TokenSigner,
    settings: FlowSettings,
    clock: Clock,
    /// Registrations being provisioned by this process: a second confirm waits its turn.
    in_flight: Mutex<HashSet<RegistryKey>>,
    /// Temporary passwords set on a user but not yet delivered, by address: kept in memory
    /// only, so that resuming after a failed step in this process (Graph busy, SMTP down)
    /// delivers the password the user has instead of setting another one.
    /// Each with the registration's `password_version` it belongs to.
    undelivered: Mutex<HashMap<RegistryKey, (u32, SecretString)>>,
    /// `RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR`, per mailbox: no mail bombing through the
    /// form, not even with a new tag for every mail.
    mail_limit: HourlyLimit<Mailbox>,
    /// `RATE_LIMIT_MAILS_PER_HOUR`, for all mailboxes together: no mass mailing to
    /// enumerable addresses from many clients.
    all_mails_limit: HourlyLimit<()>,
    metrics: Metrics,
    /// The queue worker's people waiting at the button and runs in progress.
    queue: queue::QueueState,
}

impl std::fmt::Debug for Signups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signups")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Signups {
    /// The service over its parts; fails only when `secret` cannot sign tokens.
    pub fn new(
        store: Store,
        directory: Arc<dyn Directory>,
        mailer: Mailer,
        catalogs: Catalogs,
        secret: &SecretString,
        settings: FlowSettings,
        clock: Clock,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Signups {
            tokens: TokenSigner::new(secret)?,
            mail_limit: HourlyLimit::new(settings.mails_per_address_per_hour),
            all_mails_limit: HourlyLimit::new(settings.mails_per_hour),
            store,
            directory,
            mailer,
            catalogs,
            settings,
            clock,
            in_flight: Mutex::new(HashSet::new()),
            undelivered: Mutex::new(HashMap::new()),
            metrics: Metrics::new(),
            queue: queue::QueueState::default(),
        })
    }

    /// Counts into `metrics` (the registry `/metrics` serves).
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Forgets rate-limit state that has recovered (called periodically).
    pub fn prune_limits(&self) {
        self.mail_limit.prune();
    }

    pub fn settings(&self) -> &FlowSettings {
        &self.settings
    }

    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// The username a name would get if `nickname` is free.
    fn username_preview(&self, first: &str, last: &str) -> String {
        let nickname = PersonName::parse(first)
            .and_then(|first| Ok((first, PersonName::parse(last)?)))
            .ok()
            .and_then(|(first, last)| MailNickname::derive(&first, &last).ok());
        match nickname {
            Some(nickname) => format!("{nickname}@{}", self.directory.domain()),
            None => String::new(),
        }
    }

    /// The inline check: syntax, filter and whether the mailbox is used already.
    pub async fn check_email(&self, raw: &str) -> Result<Result<Mailbox, FieldError>, FlowError> {
        let email = match form::check_email(raw, &self.settings.filter, self.settings.separator) {
            Ok(email) => email,
            Err(err) => return Ok(Err(err)),
        };
        if self.store.is_registered(&email).await? {
            return Ok(Err(FieldError::EmailAlreadyUsed));
        }
        Ok(Ok(email))
    }

    /// Validates a submission, stores it as pending under its mailbox (beside any earlier
    /// ones, which keep working) and sends the verification mail to that mailbox in `tr`'s
    /// language. Returns the mailbox.
    pub async fn submit(&self, form: &SignupForm, tr: &Tr) -> Result<Mailbox, SubmitError> {
        let valid = form
            .validate(&self.settings.filter, self.settings.separator)
            .map_err(SubmitError::Invalid)?;
        let already_used = || {
            let mut errors = FieldErrors::default();
            errors.add(Field::Email, FieldError::EmailAlreadyUsed);
            SubmitError::Invalid(errors)
        };
        let registered = self.store.is_registered(&valid.email).await;
        if registered.map_err(FlowError::from)? {
            return Err(already_used());
        }
        let now = self.now();
        let mailbox_key = format!("mailbox:{}", valid.email.as_str());
        let per_mailbox = self.settings.mails_per_address_per_hour;
        if let Err(wait) = self
            .count_mail(&self.mail_limit, &valid.email, &mailbox_key, per_mailbox)
            .await?
        {
            let key = RegistryKey::from(&valid.email);
            let expires_at = self.store.latest_expiry(&key).await;
            let expires_at = expires_at.map_err(FlowError::from)?;
            // No pending link left (forgotten meanwhile): say how long a new one would last.
            let link_valid_for = expires_at.map_or(self.settings.token_ttl, |at| {
                Duration::from_secs(at.saturating_sub(now))
            });
            return Err(SubmitError::MailboxLimited {
                wait,
                link_valid_for,
            });
        }
        let per_hour = self.settings.mails_per_hour;
        self.count_mail(&self.all_mails_limit, &(), "all", per_hour)
            .await?
            .map_err(|wait| {
                self.metrics.rate_limited("mails_per_hour");
                SubmitError::MailCap(wait)
            })?;
        let expires_at = now + self.settings.token_ttl.as_secs();
        let pending = PendingSignup {
            id: random_id(16).map_err(|_| FlowError::Random)?,
            nonce: random_id(16).map_err(|_| FlowError::Random)?,
            email: RegistryKey::from(&valid.email),
            first_name: valid.first_name.as_str().to_owned(),
            last_name: valid.last_name.as_str().to_owned(),
            lang: tr.lang().to_owned(),
            created_at: now,
            expires_at,
            consent_email_at: now,
            consent_name_at: now,
        };
        match self.store.insert_pending(&pending).await {
            Err(StoreError::AlreadyRegistered) => return Err(already_used()),
            other => other.map_err(FlowError::from)?,
        }
        // On disk before the mail goes out: a link in a mailbox must never lead nowhere after
        // a crash. Concurrent submissions share sled's flushes (group commit).
        self.store.flush().await.map_err(FlowError::from)?;
        tracing::info!(signup = %pending.id, "pending sign-up stored");
        let token = self
            .tokens
            .sign(&pending.id, &pending.nonce, now, expires_at)
            .map_err(|_| FlowError::Random)?;
        let link = self.verify_url(&token);
        let mail = verification_mail(
            tr,
            &valid.email,
            link.as_str(),
            &self.settings.support_email,
            self.settings.token_ttl.as_secs().div_ceil(3600),
        );
        let sent = self.mailer.send(mail).await;
        self.metrics.mail("verification", sent.is_ok());
        sent.map_err(FlowError::from)?;
        self.metrics.signup(SignupOutcome::Started);
        tracing::info!(signup = %pending.id, "verification mail sent");
        Ok(valid.email)
    }

    /// Counts one mail against a limit: in the database when instances share one
    /// (PostgreSQL), so the limit holds for all of them together, else in `local`.
    async fn count_mail<K: std::hash::Hash + Eq + Clone>(
        &self,
        local: &HourlyLimit<K>,
        key: &K,
        shared_key: &str,
        per_hour: u32,
    ) -> Result<Result<(), Duration>, FlowError> {
        match self
            .store
            .count_mail(shared_key, per_hour, self.now())
            .await?
        {
            Some(counted) => Ok(counted),
            None => Ok(local.check(key)),
        }
    }

    /// The verification link for `token` (`{PUBLIC_URL}/verify/{token}`).
    pub fn verify_url(&self, token: &str) -> Url {
        self.settings.links.verify(token)
    }

    /// What a link leads to, changing nothing (mail scanners open every link).
    pub async fn inspect(&self, token: &str) -> Result<LinkState, LinkError> {
        let claims = self.verify_token(token)?;
        let lookup = self.store.lookup(&claims.signup_id).await;
        let queued = match &lookup {
            Ok(Lookup::Registered(registration)) if registration.step != Step::Done => {
                self.is_queued(&registration.email).await
            }
            _ => false,
        };
        match lookup {
            Ok(Lookup::Pending(pending)) if pending.nonce == claims.nonce => {
                Ok(LinkState::Pending {
                    username: self.username_preview(&pending.first_name, &pending.last_name),
                    first_name: links::shown_name(pending.first_name),
                    last_name: links::shown_name(pending.last_name),
                })
            }
            Ok(Lookup::Registered(registration))
                if registration.step == Step::Done && registration.existing_account =>
            {
                Ok(LinkState::Existing {
                    username: registration.upn.unwrap_or_default(),
                })
            }
            Ok(Lookup::Registered(registration)) if registration.step == Step::Done => {
                Ok(LinkState::Used {
                    username: registration.upn.unwrap_or_default(),
                })
            }
            Ok(Lookup::Registered(registration)) if queued => Ok(LinkState::Queued {
                username: registration.upn.clone().unwrap_or_else(|| {
                    self.username_preview(&registration.first_name, &registration.last_name)
                }),
            }),
            Ok(Lookup::Registered(registration))
                if registration.step >= Step::GroupsAdded
                    && registration.last_error.is_none()
                    && self.settings.password_delivery.on_page() =>
            {
                Ok(LinkState::PasswordWaiting {
                    username: registration.upn.unwrap_or_default(),
                })
            }
            Ok(Lookup::Registered(registration)) => Ok(LinkState::Unfinished {
                username: registration.upn.clone().unwrap_or_else(|| {
                    self.username_preview(&registration.first_name, &registration.last_name)
                }),
                first_name: links::shown_name(registration.first_name),
                last_name: links::shown_name(registration.last_name),
            }),
            Ok(Lookup::AddressTaken) => Err(LinkError::AddressTaken),
            // A wrong nonce: not this sign-up's link.
            Ok(Lookup::Unknown | Lookup::Pending(_)) => Err(LinkError::Unknown),
            Err(err) => {
                tracing::error!(error = %err, "store lookup failed");
                Err(LinkError::Invalid)
            }
        }
    }

    /// The language the person signed up in, for the pages behind their link (read-only).
    pub async fn link_language(&self, token: &str) -> Option<String> {
        let claims = self.verify_token(token).ok()?;
        let lang = match self.store.lookup(&claims.signup_id).await.ok()? {
            Lookup::Pending(pending) => pending.lang,
            Lookup::Registered(registration) => registration.lang,
            Lookup::AddressTaken | Lookup::Unknown => return None,
        };
        (!lang.is_empty()).then_some(lang)
    }

    fn verify_token(&self, token: &str) -> Result<token::VerificationClaims, LinkError> {
        self.tokens
            .verify(token, self.now())
            .map_err(|err| match err {
                TokenError::Expired => LinkError::Expired,
                TokenError::Invalid => LinkError::Invalid,
            })
    }

    /// The confirm button: claims the address and queues the account's provisioning (or
    /// resumes an earlier attempt at the step that failed), waiting for it up to
    /// `PROVISION_WAIT_SECONDS`.
    pub async fn confirm(&self, token: &str) -> Result<Confirmed, ConfirmError> {
        let claims = self.verify_token(token)?;
        let registration = match self
            .store
            .claim(&claims.signup_id, &claims.nonce, self.now())
            .await?
        {
            Claim::Claimed(registration) => {
                self.metrics.signup(SignupOutcome::Verified);
                tracing::info!(signup = %registration.signup_id, "address claimed");
                registration
            }
            Claim::Resume(registration) => registration,
            // Pressed again after the mailbox's account was found: the same answer.
            Claim::AlreadyDone(registration) if registration.existing_account => {
                return Ok(Confirmed::Ready(Provisioned::existing(&registration)));
            }
            Claim::AlreadyDone(_) => return Err(LinkError::Used.into()),
            Claim::AddressTaken => return Err(LinkError::AddressTaken.into()),
            Claim::Unknown => return Err(LinkError::Unknown.into()),
            Claim::Expired => return Err(LinkError::Expired.into()),
        };
        self.queue_and_wait(&registration).await
    }

    /// `signups retry`: resumes the unfinished registration of an address.
    pub async fn retry(&self, email: &RegistryKey) -> Result<Provisioned, ConfirmError> {
        match self.store.registration(email).await? {
            Some(registration) if registration.step != Step::Done => {
                let provisioned = self
                    .provision(registration, &mut queue::Presence::Absent)
                    .await?;
                self.store.dequeue(email).await?;
                Ok(provisioned)
            }
            Some(_) => Err(LinkError::Used.into()),
            None => Err(LinkError::Unknown.into()),
        }
    }

    /// The translator for a stored language, falling back to the default.
    fn tr_for(&self, lang: &str) -> Tr {
        self.catalogs
            .get(lang)
            .unwrap_or_else(|| self.catalogs.default_tr())
    }
}

/// Why confirming did not produce an account.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
