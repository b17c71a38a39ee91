//! What the SMTP mailer is configured with (the `MAIL_*` keys); `config` fills it in.

use std::path::PathBuf;

use secrecy::SecretString;

/// SMTP settings. Checked by [`super::SmtpMailer::from_settings`].
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `MAIL_SERVER_HOST`.
    pub host: String,
    /// `MAIL_SERVER_PORT`.
    pub port: u16,
    /// `MAIL_SERVER_SSL`: implicit TLS.
    pub ssl: bool,
    /// `MAIL_SERVER_STARTTLS`, already off when implicit TLS replaced its default.
    pub starttls: bool,
    /// `MAIL_SERVER_LOGIN`.
    pub login: bool,
    /// `MAIL_SERVER_USER`.
    pub user: String,
    /// `MAIL_SERVER_PW` (or `MAIL_SERVER_PW_FILE`).
    pub password: SecretString,
    /// `MAIL_SENDING_ADDRESS`.
    pub sending_address: String,
    /// `MAIL_SERVER_CA_FILE`: an extra trusted root (PEM).
    pub ca_file: Option<PathBuf>,
}
