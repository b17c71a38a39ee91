//! Typed settings, loaded in layers (see [`load`]) and checked once at start-up.

mod admin;
mod credential;
pub mod keys;
mod lifecycle;
pub mod load;
mod signup;
mod tag;
mod vouchers;

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::domain::{EmailFilter, IpRange, SubaddressSeparator, VoucherMode};
use crate::graph::GraphSettings;
use crate::mail::MailSettings;
use crate::signup::PasswordDelivery;
use crate::telemetry::LogFormat;
pub use admin::AdminSettings;
pub use credential::CredentialSettings;
pub use lifecycle::LifecycleKeys;
pub use load::{Layers, Locations, Mode, Source, Value};

/// Why the configuration cannot be used. Each message says where and what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("MODE={0:?} is not a mode: use PRODUCTION, DEBUG or TEST")]
    Mode(String),
    #[error("cannot read configuration file {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("{}:{line}:{column}: not valid TOML: {reason}\n  hint: {hint}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        reason: String,
        hint: String,
    },
    #[error("{key} from {from}: {reason}")]
    Invalid {
        key: &'static str,
        from: Source,
        reason: String,
    },
    #[error(
        "JWT_SECRET_KEY is empty: set it (or JWT_SECRET_KEY_FILE) to a long random secret, e.g. the output of `openssl rand -base64 48`"
    )]
    EmptySecret,
    #[error(
        "JWT_SECRET_KEY has only {bytes} bytes: in PRODUCTION it needs at least 32, because a short one can be guessed offline from any mailed link (and it also keys the stored data); make one with `openssl rand -base64 48`"
    )]
    WeakSecret { bytes: usize },
    #[error(
        "MAILBOX_TAG_SECRET is empty: set it (or MAILBOX_TAG_SECRET_FILE) to a long random secret of its own, e.g. the output of `openssl rand -base64 48`, and keep it for good"
    )]
    EmptyTagSecret,
    #[error(
        "MAILBOX_TAG_SECRET has only {bytes} bytes: in PRODUCTION it needs at least 32, because with a short one whoever reads the directory can guess mailboxes from their tags; make one with `openssl rand -base64 48`"
    )]
    WeakTagSecret { bytes: usize },
    #[error(
        "PUBLIC_URL is not set: in PRODUCTION it must be the address people open, e.g. PUBLIC_URL=\"https://signup.example.edu\", because links in mails are built from it"
    )]
    MissingPublicUrl,
}

/// The shortest `JWT_SECRET_KEY` PRODUCTION accepts: 256 bits, HS256's key size.
pub const MIN_SECRET_BYTES: usize = 32;

/// Everything the program is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub jwt_secret_key: SecretString,
    /// `MAILBOX_TAG_SECRET`: keys the mailbox tags on users.
    pub mailbox_tag_secret: SecretString,
    /// `None` only outside PRODUCTION: then the bound address is used.
    pub public_url: Option<Url>,
    pub bind: String,
    pub database_path: PathBuf,
    /// `DATABASE_URL`: the shared PostgreSQL store, instead of sled at `database_path`.
    pub database_url: Option<SecretString>,
    /// DEBUG mode without `DATABASE_PATH` set: `serve` keeps its store for one run only,
    /// like the mails it lists at `/debug/mails`.
    pub store_per_run: bool,
    pub reverse_proxy_count: usize,
    /// `TRUSTED_PROXIES`: empty believes every connection's forwarded headers.
    pub trusted_proxies: Vec<IpRange>,
    pub log_level: String,
    pub log_format: LogFormat,
    pub debug_dont_connect_to_api: bool,
    pub debug_dont_send_mail: bool,
    pub generated_password_bytes: usize,
    pub password_delivery: PasswordDelivery,
    /// `CREDENTIAL`, `TAP_LIFETIME_MINUTES`, `TAP_USABLE_ONCE`.
    pub credential: CredentialSettings,
    pub email_address_filter: EmailFilter,
    pub email_subaddress_separator: SubaddressSeparator,
    pub support_email: String,
    pub sign_in_url: Url,
    pub default_language: String,
    pub translations_dir: Option<PathBuf>,
    pub verification_token_ttl: Duration,
    /// `PASSWORD_RESET_TOKEN_TTL_MINUTES` when `PASSWORD_RESET_ENABLED`; `None` when off.
    pub password_reset_ttl: Option<Duration>,
    pub rate_limit_per_ip_per_hour: u32,
    pub rate_limit_mails_per_address_per_hour: u32,
    pub rate_limit_mails_per_hour: u32,
    pub rate_limit_ipv6_prefix: u8,
    pub graph: GraphSettings,
    pub mail: MailSettings,
    pub metrics_enabled: bool,
    pub metrics_bind: Option<String>,
    /// `PROVISION_WAIT_SECONDS`.
    pub provision_wait: Duration,
    /// `ADMIN_ENABLED` and `ADMIN_GROUP_IDS`: the operator console, `None` when it is off.
    pub admin: Option<AdminSettings>,
    pub vouchers: VoucherMode,
    /// The accounts' lifecycle (`ACCOUNT_LIFETIME_DAYS`, …); see [`Settings::lifecycle_settings`].
    pub lifecycle: LifecycleKeys,
}

impl Settings {
    /// Loads from the real environment and the standard file locations.
    pub fn load() -> Result<(Self, Vec<String>), ConfigError> {
        let layers = Layers::load(&|name| std::env::var(name).ok(), &Locations::default())?;
        let warnings = layers.warnings.clone();
        Ok((Settings::from_layers(&layers)?, warnings))
    }

    /// Builds typed settings from merged layers and checks what start-up needs: one step
    /// per owner's settings, the rest read key by key.
    pub fn from_layers(layers: &Layers) -> Result<Self, ConfigError> {
        let get = Getter(layers);
        let mode = layers.mode.unwrap_or(Mode::Production);
        let (jwt_secret_key, public_url) = get.start_up(mode)?;
        let (email_address_filter, email_subaddress_separator) = get.addresses()?;
        let (reverse_proxy_count, trusted_proxies) = get.proxies()?;
        Ok(Settings {
            mode,
            jwt_secret_key,
            mailbox_tag_secret: get.mailbox_tag_secret(mode)?,
            public_url,
            bind: get.string("BIND")?,
            database_path: PathBuf::from(get.string("DATABASE_PATH")?),
            database_url: get.optional("DATABASE_URL")?.map(SecretString::from),
            store_per_run: mode == Mode::Debug
                && matches!(get.entry("DATABASE_PATH"), Some((_, Source::Mode(_)))),
            reverse_proxy_count,
            trusted_proxies,
            log_level: get.string("LOG_LEVEL")?,
            log_format: get.parsed("LOG_FORMAT", LogFormat::parse)?,
            debug_dont_connect_to_api: get.bool("DEBUG_DONT_CONNECT_TO_API")?,
            debug_dont_send_mail: get.bool("DEBUG_DONT_SEND_MAIL")?,
            generated_password_bytes: get.int_in("GENERATED_PASSWORD_BYTES", 6, 64)? as usize,
            password_delivery: get.parsed("PASSWORD_DELIVERY", PasswordDelivery::parse)?,
            credential: get.credential()?,
            email_address_filter,
            email_subaddress_separator,
            support_email: get.string("SUPPORT_EMAIL")?,
            sign_in_url: get.url("SIGN_IN_URL", &get.string("SIGN_IN_URL")?)?,
            default_language: get.string("DEFAULT_LANGUAGE")?.trim().to_ascii_lowercase(),
            translations_dir: get.optional("TRANSLATIONS_DIR")?.map(PathBuf::from),
            verification_token_ttl: Duration::from_secs(
                get.int_in("VERIFICATION_TOKEN_TTL_MINUTES", 1, 60 * 24 * 365)? as u64 * 60,
            ),
            password_reset_ttl: get.password_reset()?,
            rate_limit_per_ip_per_hour: get.int_in("RATE_LIMIT_PER_IP_PER_HOUR", 1, 1_000_000)?
                as u32,
            rate_limit_mails_per_address_per_hour: get.int_in(
                "RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR",
                1,
                1_000,
            )? as u32,
            rate_limit_mails_per_hour: get.int_in("RATE_LIMIT_MAILS_PER_HOUR", 1, 10_000_000)?
                as u32,
            rate_limit_ipv6_prefix: get.int_in("RATE_LIMIT_IPV6_PREFIX", 16, 128)? as u8,
            graph: get.graph()?,
            mail: get.mail()?,
            metrics_enabled: get.bool("METRICS_ENABLED")?,
            metrics_bind: get.optional("METRICS_BIND")?,
            provision_wait: Duration::from_secs(
                get.int_in("PROVISION_WAIT_SECONDS", 0, 300)? as u64
            ),
            admin: get.admin(mode)?,
            vouchers: get.vouchers()?,
            lifecycle: get.lifecycle()?,
        })
    }
}

/// Typed access to merged values; errors name the key and where its value came from.
struct Getter<'a>(&'a Layers);

impl Getter<'_> {
    fn entry(&self, key: &'static str) -> Option<&(Value, Source)> {
        self.0.values.get(key)
    }

    fn invalid(&self, key: &'static str, reason: String) -> ConfigError {
        let source = self
            .entry(key)
            .map_or(Source::Default, |(_, source)| source.clone());
        ConfigError::Invalid {
            key,
            from: source,
            reason,
        }
    }

    /// Whether the key still has its built-in default (no file, mode or variable set it).
    fn is_default(&self, key: &'static str) -> bool {
        matches!(self.entry(key), Some((_, Source::Default)) | None)
    }

    fn optional(&self, key: &'static str) -> Result<Option<String>, ConfigError> {
        match self.entry(key) {
            None => Ok(None),
            Some((Value::Str(s), _)) if s.trim().is_empty() => Ok(None),
            Some((Value::Str(s), _)) => Ok(Some(s.trim().to_owned())),
            Some(_) => Err(self.invalid(key, "expected a string".into())),
        }
    }

    fn string(&self, key: &'static str) -> Result<String, ConfigError> {
        match self.entry(key) {
            None => Ok(String::new()),
            Some((Value::Str(s), _)) => Ok(s.clone()),
            Some(_) => Err(self.invalid(key, "expected a string".into())),
        }
    }

    fn bool(&self, key: &'static str) -> Result<bool, ConfigError> {
        match self.entry(key) {
            Some((Value::Bool(b), _)) => Ok(*b),
            _ => Err(self.invalid(key, "expected true or false".into())),
        }
    }

    fn int_in(&self, key: &'static str, min: i64, max: i64) -> Result<i64, ConfigError> {
        match self.entry(key) {
            Some((Value::Int(i), _)) if (min..=max).contains(i) => Ok(*i),
            Some((Value::Int(i), _)) => {
                Err(self.invalid(key, format!("{i} is outside {min}..={max}")))
            }
            _ => Err(self.invalid(key, "expected a whole number".into())),
        }
    }

    /// A string key read by its owner's `parse`; the owner's error says what is wrong.
    fn parsed<T, E: std::fmt::Display>(
        &self,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, ConfigError> {
        parse(&self.string(key)?).map_err(|err| self.invalid(key, err.to_string()))
    }

    fn list(&self, key: &'static str) -> Result<Vec<String>, ConfigError> {
        match self.entry(key) {
            Some((Value::List(items), _)) => Ok(items.clone()),
            _ => Err(self.invalid(key, "expected a list of strings".into())),
        }
    }

    fn url(&self, key: &'static str, raw: &str) -> Result<Url, ConfigError> {
        let url = Url::parse(raw.trim())
            .map_err(|err| self.invalid(key, format!("`{raw}` is not a URL: {err}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(self.invalid(key, format!("`{raw}` must start with https:// or http://")));
        }
        Ok(url)
    }
}

/// The steps of [`Settings::from_layers`] that build more than one value.
impl Getter<'_> {
    /// `JWT_SECRET_KEY` and `PUBLIC_URL`, refused when start-up cannot do without them.
    fn start_up(&self, mode: Mode) -> Result<(SecretString, Option<Url>), ConfigError> {
        let jwt_secret_key = SecretString::from(self.string("JWT_SECRET_KEY")?);
        if jwt_secret_key.expose_secret().trim().is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        let bytes = jwt_secret_key.expose_secret().len();
        if mode == Mode::Production && bytes < MIN_SECRET_BYTES {
            return Err(ConfigError::WeakSecret { bytes });
        }
        let public_url = self
            .optional("PUBLIC_URL")?
            .map(|raw| self.url("PUBLIC_URL", &raw))
            .transpose()?;
        if public_url.is_none() && mode == Mode::Production {
            return Err(ConfigError::MissingPublicUrl);
        }
        Ok((jwt_secret_key, public_url))
    }

    /// `PASSWORD_RESET_TOKEN_TTL_MINUTES`, when `PASSWORD_RESET_ENABLED` (the TTL is
    /// checked even when off, so turning it on later cannot fail start-up).
    fn password_reset(&self) -> Result<Option<Duration>, ConfigError> {
        let minutes = self.int_in("PASSWORD_RESET_TOKEN_TTL_MINUTES", 1, 60 * 24 * 7)? as u64;
        let enabled = self.bool("PASSWORD_RESET_ENABLED")?;
        Ok(enabled.then(|| Duration::from_secs(minutes * 60)))
    }

    /// `EMAIL_ADDRESS_FILTER` and `EMAIL_SUBADDRESS_SEPARATOR`.
    fn addresses(&self) -> Result<(EmailFilter, SubaddressSeparator), ConfigError> {
        let filter = EmailFilter::parse(&self.string("EMAIL_ADDRESS_FILTER")?)
            .map_err(|err| self.invalid("EMAIL_ADDRESS_FILTER", err.to_string()))?;
        // Not trimmed: a space is no separator, and an empty string means off.
        let separator = SubaddressSeparator::parse(&self.string("EMAIL_SUBADDRESS_SEPARATOR")?)
            .map_err(|err| self.invalid("EMAIL_SUBADDRESS_SEPARATOR", err.to_string()))?;
        Ok((filter, separator))
    }

    /// `REVERSE_PROXY_COUNT` and `TRUSTED_PROXIES`. Naming proxies means there is at least
    /// one: the count's default 0 then becomes 1; a count set explicitly is kept.
    fn proxies(&self) -> Result<(usize, Vec<IpRange>), ConfigError> {
        let trusted = self
            .list("TRUSTED_PROXIES")?
            .iter()
            .filter(|item| !item.trim().is_empty())
            .map(|item| IpRange::parse(item))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| self.invalid("TRUSTED_PROXIES", err.to_string()))?;
        let mut count = self.int_in("REVERSE_PROXY_COUNT", 0, 32)? as usize;
        if count == 0 && !trusted.is_empty() && self.is_default("REVERSE_PROXY_COUNT") {
            count = 1;
        }
        Ok((count, trusted))
    }

    /// The `GRAPH_API_*` keys.
    fn graph(&self) -> Result<GraphSettings, ConfigError> {
        Ok(GraphSettings {
            api_url: self.url("GRAPH_API_URL", &self.string("GRAPH_API_URL")?)?,
            authority: self.url(
                "GRAPH_API_AUTH_AUTHORITY",
                &self.string("GRAPH_API_AUTH_AUTHORITY")?,
            )?,
            client_id: self.string("GRAPH_API_AUTH_CLIENT_ID")?,
            pubkey_thumbprint: self.optional("GRAPH_API_AUTH_PUBKEY_THUMBPRINT")?,
            privkey_path: PathBuf::from(self.string("GRAPH_API_AUTH_PRIVKEY_PATH")?),
            cert_path: self
                .optional("GRAPH_API_AUTH_CERT_PATH")?
                .map(PathBuf::from),
            user_mail_domain: self
                .string("GRAPH_API_USER_MAIL_DOMAIN")?
                .trim()
                .to_ascii_lowercase(),
            groups_for_new_users: self.list("GRAPH_API_GROUPS_FOR_NEW_USERS")?,
            license_skus: self.list("GRAPH_API_LICENSE_SKUS")?,
            usage_location: self
                .string("GRAPH_API_USAGE_LOCATION")?
                .trim()
                .to_ascii_uppercase(),
            timeout: Duration::from_secs(self.int_in("GRAPH_API_TIMEOUT_SECONDS", 1, 600)? as u64),
            writes_per_minute: self.int_in("GRAPH_API_WRITES_PER_MINUTE", 1, 100_000)? as u32,
            mailbox_tag_attribute: self.tag_attribute()?,
        })
    }

    /// The `MAIL_*` keys.
    fn mail(&self) -> Result<MailSettings, ConfigError> {
        let ssl = self.bool("MAIL_SERVER_SSL")?;
        Ok(MailSettings {
            host: self.string("MAIL_SERVER_HOST")?,
            port: self.int_in("MAIL_SERVER_PORT", 1, 65_535)? as u16,
            ssl,
            // Implicit TLS and STARTTLS exclude each other: with SSL on, the STARTTLS
            // default gives way; only an explicit STARTTLS = true is a conflict.
            starttls: self.bool("MAIL_SERVER_STARTTLS")?
                && !(ssl && self.is_default("MAIL_SERVER_STARTTLS")),
            login: self.bool("MAIL_SERVER_LOGIN")?,
            user: self.string("MAIL_SERVER_USER")?,
            password: SecretString::from(self.string("MAIL_SERVER_PW")?),
            sending_address: self.string("MAIL_SENDING_ADDRESS")?,
            ca_file: self.optional("MAIL_SERVER_CA_FILE")?.map(PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests;
