//! Operator hints for SMTP failures: what lettre's error means and which setting to check.

use lettre::transport::smtp::Error as SmtpError;

use super::setup::TlsMode;

const PORTS: &str =
    "Try TLS (MAIL_SERVER_SSL) with port 465 or STARTTLS (MAIL_SERVER_STARTTLS) with port 587.";

/// What an operator should check for `err`, as far as the error tells.
pub(super) fn hint(err: &SmtpError, mode: TlsMode) -> String {
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
