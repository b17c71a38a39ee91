//! Turning the `MAIL_*` settings into lettre's pieces, refusing what cannot work with a
//! message that names the setting and the fix.

use std::fmt;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// How the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TlsMode {
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
        "MAIL_SERVER_SSL and MAIL_SERVER_STARTTLS are both set to true, but a connection uses one of them: for implicit TLS (usually port 465) set MAIL_SERVER_STARTTLS = false; for STARTTLS (usually port 587) set MAIL_SERVER_SSL = false"
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

pub(super) fn sending_address(raw: &str) -> Result<Mailbox, SmtpSetupError> {
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
pub(super) fn reply_to(support_email: &str) -> Option<Mailbox> {
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

pub(super) fn tls_for(
    mode: TlsMode,
    host: &str,
    ca_file: Option<&Path>,
) -> Result<Tls, SmtpSetupError> {
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
