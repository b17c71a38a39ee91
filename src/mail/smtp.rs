//! Sending over SMTP with lettre (tokio, rustls with ring): TLS mode, login, an extra trusted
//! root, timeouts and a connection pool, all from the `MAIL_*` settings.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{Error as SmtpError, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};

use super::message::{self, Envelope};
use super::{MailError, OutgoingMail};
use crate::config::MailSettings;

/// For connecting and for each SMTP command: long enough for a slow relay, short enough that
/// a person waiting for the page gets an answer.
const TIMEOUT: Duration = Duration::from_secs(15);

/// How the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    Implicit,
    StartTls,
    Plain,
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::Implicit => "implicit TLS (MAIL_SERVER_SSL)",
            TlsMode::StartTls => "STARTTLS (MAIL_SERVER_STARTTLS)",
            TlsMode::Plain => "no TLS",
        })
    }
}

/// Why the `MAIL_*` settings cannot make an SMTP mailer. Each message names the setting and
/// the fix.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error(
        "MAIL_SERVER_HOST is empty: set it to your SMTP server, e.g. MAIL_SERVER_HOST = \"smtp.example.edu\", or set DEBUG_DONT_SEND_MAIL = true to list mails at /debug/mails instead of sending them"
    )]
    NoHost,
    #[error(
        "MAIL_SERVER_SSL and MAIL_SERVER_STARTTLS are both true, but a connection uses one of them (MAIL_SERVER_STARTTLS is true by default): for implicit TLS (usually port 465) set MAIL_SERVER_STARTTLS = false; for STARTTLS (usually port 587) set MAIL_SERVER_SSL = false"
    )]
    BothTlsModes,
    #[error(
        "MAIL_SENDING_ADDRESS is empty: set it to the address mails come from, e.g. MAIL_SENDING_ADDRESS = \"accounts@example.edu\" (MAIL_SERVER_USER must be allowed to send as it)"
    )]
    NoSendingAddress,
    #[error(
        "MAIL_SENDING_ADDRESS = {value:?} is not an e-mail address ({reason}): use e.g. \"accounts@example.edu\" or \"Accounts <accounts@example.edu>\""
    )]
    BadSendingAddress { value: String, reason: String },
    #[error(
        "MAIL_SERVER_LOGIN is true but MAIL_SERVER_USER is empty: set MAIL_SERVER_USER and MAIL_SERVER_PW (or MAIL_SERVER_PW_FILE), or set MAIL_SERVER_LOGIN = false if the server accepts mail without login"
    )]
    NoUser,
    #[error(
        "MAIL_SERVER_LOGIN is true but MAIL_SERVER_PW is empty: set MAIL_SERVER_PW or MAIL_SERVER_PW_FILE, or set MAIL_SERVER_LOGIN = false if the server accepts mail without login"
    )]
    NoPassword,
    #[error(
        "cannot read MAIL_SERVER_CA_FILE = {}: {reason}: point it to a readable PEM file with the CA certificate of your SMTP server, or remove the setting to trust only the public CAs",
        path.display()
    )]
    CaFileUnreadable { path: PathBuf, reason: String },
    #[error(
        "MAIL_SERVER_CA_FILE = {} holds no usable certificate ({reason}): it must be PEM with at least one \"-----BEGIN CERTIFICATE-----\" block",
        path.display()
    )]
    CaFileInvalid { path: PathBuf, reason: String },
    #[error("the TLS settings for MAIL_SERVER_HOST = {host:?} cannot be used: {reason}")]
    Tls { host: String, reason: String },
}

/// Sends mails over SMTP. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    envelope: Envelope,
    host: String,
    port: u16,
    tls: TlsMode,
    /// The login name, for messages; `None` without `MAIL_SERVER_LOGIN`.
    user: Option<String>,
    /// Only to scrub it out of error texts, in case a server echoes what it was sent.
    password: Option<SecretString>,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.endpoint())
            .field("from", &self.envelope.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Checks the settings and builds the transport; connects to nothing yet. Reads
    /// `MAIL_SERVER_CA_FILE`. Must run inside the tokio runtime (the pool starts a task).
    /// `support_email`, when it is an address, becomes the `Reply-To` of every mail.
    pub fn from_settings(
        settings: &MailSettings,
        support_email: &str,
    ) -> Result<Self, SmtpSetupError> {
        let host = settings.host.trim().to_owned();
        if host.is_empty() {
            return Err(SmtpSetupError::NoHost);
        }
        let tls = match (settings.ssl, settings.starttls) {
            (true, true) => return Err(SmtpSetupError::BothTlsModes),
            (true, false) => TlsMode::Implicit,
            (false, true) => TlsMode::StartTls,
            (false, false) => TlsMode::Plain,
        };
        let envelope = Envelope {
            from: sending_address(&settings.sending_address)?,
            reply_to: reply_to(support_email),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
            .port(settings.port)
            .timeout(Some(TIMEOUT))
            .tls(tls_for(tls, &host, settings.ca_file.as_deref())?)
            .pool_config(
                PoolConfig::new()
                    .max_size(4)
                    .idle_timeout(Duration::from_secs(60)),
            );
        let (user, password) = if settings.login {
            if settings.user.trim().is_empty() {
                return Err(SmtpSetupError::NoUser);
            }
            if settings.password.expose_secret().is_empty() {
                return Err(SmtpSetupError::NoPassword);
            }
            builder = builder
                .credentials(Credentials::new(
                    settings.user.trim().to_owned(),
                    settings.password.expose_secret().to_owned(),
                ))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
            if tls == TlsMode::Plain {
                tracing::warn!(
                    "MAIL_SERVER_LOGIN without MAIL_SERVER_SSL or MAIL_SERVER_STARTTLS sends the SMTP password unencrypted"
                );
            }
            (
                Some(settings.user.trim().to_owned()),
                Some(settings.password.clone()),
            )
        } else {
            (None, None)
        };
        Ok(SmtpMailer {
            transport: builder.build(),
            envelope,
            host,
            port: settings.port,
            tls,
            user,
            password,
        })
    }

    /// `host:port (TLS mode, login)`, for log lines and `check` output.
    pub fn endpoint(&self) -> String {
        let login = match &self.user {
            Some(user) => format!("login as {user}"),
            None => "no login".to_owned(),
        };
        format!("{}:{} ({}, {login})", self.host, self.port, self.tls)
    }

    /// Sends one mail, reusing a pooled connection when there is one.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = message::build(&self.envelope, mail, SystemTime::now())?;
        let message_id = message
            .headers()
            .get_raw("Message-ID")
            .unwrap_or_default()
            .to_owned();
        self.transport
            .send(message)
            .await
            .map_err(|err| self.explain(&err))?;
        // The recipient's domain only: the address is personal data, the body may hold a secret.
        tracing::info!(
            to_domain = %mail.to.as_str().rsplit('@').next().unwrap_or_default(),
            message_id = %message_id,
            lang = %mail.lang,
            "mail sent over SMTP"
        );
        Ok(())
    }

    /// Connects, says EHLO, starts TLS and logs in as configured, and checks the server
    /// answers; sends no mail. For `ms365-accountcreator check`.
    pub async fn check(&self) -> Result<(), MailError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::Send(format!(
                "SMTP {}: connected and logged in, but the server did not answer NOOP",
                self.endpoint()
            ))),
            Err(err) => Err(self.explain(&err)),
        }
    }

    /// An operator-facing description of a lettre error: where, what, and what to try.
    fn explain(&self, err: &SmtpError) -> MailError {
        let hint = hint(err, self.tls);
        MailError::Send(self.scrub(format!("SMTP {}: {err}. {hint}", self.endpoint())))
    }

    /// Removes the password, also in the base64 forms AUTH PLAIN and LOGIN send, from a text
    /// that may quote a server's answer.
    fn scrub(&self, mut text: String) -> String {
        let Some(password) = &self.password else {
            return text;
        };
        let password = password.expose_secret();
        // Replacing a password of one to three characters would blank out ordinary letters
        // and words all over the message; such a password protects nothing anyway.
        if password.len() < 4 {
            return text;
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let user = self.user.as_deref().unwrap_or_default();
        for secret in [
            password.to_owned(),
            b64.encode(password),
            b64.encode(format!("\0{user}\0{password}")),
        ] {
            text = text.replace(&secret, "[redacted]");
        }
        text
    }
}

const PORTS: &str =
    "Try TLS (MAIL_SERVER_SSL) with port 465 or STARTTLS (MAIL_SERVER_STARTTLS) with port 587.";

/// What an operator should check for `err`, as far as the error tells.
fn hint(err: &SmtpError, mode: TlsMode) -> String {
    let code = err.status().map(|code| code.to_string());
    let text = err.to_string();
    if let Some(tls) = rustls_error(err) {
        return if matches!(tls, rustls::Error::InvalidCertificate(_)) {
            "The server's certificate is not trusted: if it comes from a private CA, set MAIL_SERVER_CA_FILE to that CA's PEM file; MAIL_SERVER_HOST must be a name the certificate is issued for.".to_owned()
        } else {
            format!("The TLS handshake failed; the port may expect another TLS mode. {PORTS}")
        };
    }
    if err.is_tls() {
        return format!("TLS failed. {PORTS}");
    }
    if text.contains("STARTTLS is not supported") {
        return "The server offers no STARTTLS on this port: try TLS (MAIL_SERVER_SSL) with port 465, or STARTTLS with port 587.".to_owned();
    }
    if text.contains("No compatible authentication mechanism") {
        let tls = if mode == TlsMode::Plain {
            " Many servers offer login only over TLS: set MAIL_SERVER_STARTTLS or MAIL_SERVER_SSL."
        } else {
            ""
        };
        return format!(
            "The server offers neither AUTH PLAIN nor AUTH LOGIN here.{tls} If it needs no login, set MAIL_SERVER_LOGIN = false."
        );
    }
    match code.as_deref() {
        Some("535" | "534") => {
            return "The server refused the login: check MAIL_SERVER_USER and MAIL_SERVER_PW (or MAIL_SERVER_PW_FILE).".to_owned();
        }
        Some("530") => {
            return "The server requires a login (or TLS first): set MAIL_SERVER_LOGIN = true with MAIL_SERVER_USER and MAIL_SERVER_PW, and MAIL_SERVER_STARTTLS or MAIL_SERVER_SSL.".to_owned();
        }
        _ => {}
    }
    if err.is_permanent() {
        "The server refused the mail: check that MAIL_SERVER_USER may send as MAIL_SENDING_ADDRESS and that the server relays to the recipient's domain.".to_owned()
    } else if err.is_transient() {
        "The server is refusing mail for now; submitting or confirming again later retries."
            .to_owned()
    } else if err.is_timeout() {
        format!(
            "No answer in time: check that MAIL_SERVER_HOST and MAIL_SERVER_PORT are reachable from here, and that the TLS mode fits the port. {PORTS}"
        )
    } else {
        format!("Check MAIL_SERVER_HOST and MAIL_SERVER_PORT, and that the server is up. {PORTS}")
    }
}

/// The rustls error behind a lettre error, if any: lettre reports most handshake failures
/// as connection errors, with the rustls error inside an `io::Error`.
fn rustls_error(err: &SmtpError) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(err);
    while let Some(current) = source {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner = current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if inner.is_some() {
            return inner;
        }
        source = current.source();
    }
    None
}

fn sending_address(raw: &str) -> Result<lettre::message::Mailbox, SmtpSetupError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(SmtpSetupError::NoSendingAddress);
    }
    value.parse().map_err(
        |err: lettre::address::AddressError| SmtpSetupError::BadSendingAddress {
            value: value.to_owned(),
            reason: err.to_string(),
        },
    )
}

/// `SUPPORT_EMAIL` as `Reply-To`, so answers reach people rather than a sending-only box.
fn reply_to(support_email: &str) -> Option<lettre::message::Mailbox> {
    let support_email = support_email.trim();
    if support_email.is_empty() {
        return None;
    }
    match support_email.parse() {
        Ok(mailbox) => Some(mailbox),
        Err(err) => {
            tracing::warn!(%support_email, error = %err, "SUPPORT_EMAIL is not an address; mails go out without Reply-To");
            None
        }
    }
}

fn tls_for(mode: TlsMode, host: &str, ca_file: Option<&Path>) -> Result<Tls, SmtpSetupError> {
    if mode == TlsMode::Plain {
        if let Some(path) = ca_file {
            tracing::warn!(ca_file = %path.display(), "MAIL_SERVER_CA_FILE is ignored: neither MAIL_SERVER_SSL nor MAIL_SERVER_STARTTLS is set");
        }
        return Ok(Tls::None);
    }
    // The default store (webpki roots) plus the extra root, so a public certificate still works.
    let mut parameters = TlsParameters::builder(host.to_owned());
    if let Some(path) = ca_file {
        for root in read_roots(path)? {
            parameters = parameters.add_root_certificate(root);
        }
    }
    let parameters = parameters.build_rustls().map_err(|err| match ca_file {
        Some(path) => SmtpSetupError::CaFileInvalid {
            path: path.to_owned(),
            reason: err.to_string(),
        },
        None => SmtpSetupError::Tls {
            host: host.to_owned(),
            reason: err.to_string(),
        },
    })?;
    Ok(match mode {
        TlsMode::Implicit => Tls::Wrapper(parameters),
        _ => Tls::Required(parameters),
    })
}

/// Every certificate of a PEM file; refuses a file with none, which lettre would accept silently.
fn read_roots(path: &Path) -> Result<Vec<Certificate>, SmtpSetupError> {
    let pem = std::fs::read(path).map_err(|err| SmtpSetupError::CaFileUnreadable {
        path: path.to_owned(),
        reason: err.to_string(),
    })?;
    let invalid = |reason: String| SmtpSetupError::CaFileInvalid {
        path: path.to_owned(),
        reason,
    };
    let ders = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid(err.to_string()))?;
    if ders.is_empty() {
        return Err(invalid("no certificate found".into()));
    }
    ders.into_iter()
        .map(|der| Certificate::from_der(der.to_vec()).map_err(|err| invalid(err.to_string())))
        .collect()
}

#[cfg(test)]
mod tests;
