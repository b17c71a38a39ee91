//! Sending over SMTP with lettre (tokio, rustls with ring): TLS mode, login, an extra trusted
//! root, timeouts and a connection pool, all from the `MAIL_*` settings.

mod hint;
mod refusal;
mod setup;

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::{Error as SmtpError, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use super::message::{self, Envelope};
use super::{MailError, MailSettings, OutgoingMail};
pub use setup::SmtpSetupError;
use setup::{TlsMode, reply_to, sending_address, tls_for};

/// For connecting and for each SMTP command: long enough for a slow relay, short enough that
/// a person waiting for the page gets an answer.
const TIMEOUT: Duration = Duration::from_secs(15);

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
        self.transport.send(message).await.map_err(|err| {
            let code = err.status().map(|code| code.to_string());
            if refusal::mailbox_gone(code.as_deref(), &err.to_string()) {
                MailError::Refused(self.scrub(format!("SMTP {}: {err}", self.endpoint())))
            } else {
                self.explain(&err)
            }
        })?;
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
        let hint = hint::hint(err, self.tls);
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

#[cfg(test)]
mod tests;
