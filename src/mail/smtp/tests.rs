//! Setup errors, and sending against a scripted SMTP server on loopback: what reaches the
//! wire, what the errors say, and what the log shows.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::*;
use crate::domain::EmailAddress;

const PASSWORD: &str = "s3cret-Pa55word";

fn settings(host: &str, port: u16) -> MailSettings {
    MailSettings {
        host: host.to_owned(),
        port,
        ssl: false,
        starttls: false,
        login: true,
        user: "mailer".to_owned(),
        password: SecretString::from(PASSWORD),
        sending_address: "accounts@uni.example".to_owned(),
        ca_file: None,
    }
}

fn setup_error(change: impl FnOnce(&mut MailSettings)) -> String {
    let mut settings = settings("smtp.uni.example", 587);
    change(&mut settings);
    match SmtpMailer::from_settings(&settings, "") {
        Ok(_) => panic!("the settings were accepted"),
        Err(err) => err.to_string(),
    }
}

#[tokio::test]
async fn unusable_settings_name_the_setting_and_the_fix() {
    let garbage = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(garbage.path(), "not a certificate").unwrap();
    let garbage_path = garbage.path().to_owned();
    type Change = Box<dyn FnOnce(&mut MailSettings)>;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "empty host",
            Box::new(|s| s.host = " ".into()),
            "MAIL_SERVER_HOST is empty",
        ),
        (
            "both TLS modes",
            Box::new(|s| (s.ssl, s.starttls) = (true, true)),
            "set MAIL_SERVER_STARTTLS = false",
        ),
        (
            "no sending address",
            Box::new(|s| s.sending_address = String::new()),
            "MAIL_SENDING_ADDRESS is empty",
        ),
        (
            "bad sending address",
            Box::new(|s| s.sending_address = "accounts at uni".into()),
            "MAIL_SENDING_ADDRESS = \"accounts at uni\" is not an e-mail address",
        ),
        (
            "login without user",
            Box::new(|s| s.user = String::new()),
            "MAIL_SERVER_USER is empty",
        ),
        (
            "login without password",
            Box::new(|s| s.password = SecretString::from("")),
            "MAIL_SERVER_PW is empty",
        ),
        (
            "missing CA file",
            Box::new(|s| {
                s.starttls = true;
                s.ca_file = Some("/nonexistent/ca.pem".into());
            }),
            "cannot read MAIL_SERVER_CA_FILE = /nonexistent/ca.pem",
        ),
        (
            "CA file without certificate",
            Box::new(move |s| {
                s.ssl = true;
                s.ca_file = Some(garbage_path);
            }),
            "holds no usable certificate",
        ),
    ];
    for (case, change, expected) in cases {
        let message = setup_error(change);
        assert!(message.contains(expected), "{case}: {message}");
        assert!(!message.contains(PASSWORD), "{case}: {message}");
    }
}

#[tokio::test]
async fn the_test_ca_is_accepted_as_an_extra_root() {
    let mut settings = settings("localhost", 465);
    settings.ssl = true;
    settings.ca_file =
        Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp/ca.pem"));
    let mailer = SmtpMailer::from_settings(&settings, "it-support@uni.example").unwrap();
    assert_eq!(
        mailer.endpoint(),
        "localhost:465 (implicit TLS (MAIL_SERVER_SSL), login as mailer)"
    );
    assert!(!format!("{mailer:?}").contains(PASSWORD));
}

/// What the scripted server saw.
#[derive(Default)]
struct Seen {
    lines: Vec<String>,
    data: Vec<String>,
}

/// A minimal SMTP server: offers AUTH, answers `auth_reply` to AUTH (echoing what it got, as
/// a careless server might), accepts everything else and records the DATA.
async fn scripted_server(auth_reply: &'static str) -> (u16, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    record.lock().unwrap().lines.push(line.clone());
                    let verb = line
                        .split(' ')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_uppercase();
                    let reply = match verb.as_str() {
                        "EHLO" => "250-fake\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME".to_owned(),
                        "AUTH" => format!("{auth_reply} {line}"),
                        "DATA" => {
                            write.write_all(b"354 go on\r\n").await.unwrap();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            record.lock().unwrap().data.push(data);
                            "250 queued".to_owned()
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => "250 ok".to_owned(),
                    };
                    write
                        .write_all(format!("{reply}\r\n").as_bytes())
                        .await
                        .unwrap();
                }
            });
        }
    });
    (port, seen)
}

/// Collects what is logged on the current thread (a `#[tokio::test]` runs its tasks there).
///
/// One global TRACE subscriber routes each line to the buffer of the thread that logged it.
/// A scoped subscriber per test (`set_default`) missed events when another test thread hit
/// the same call site first, because tracing caches a call site's interest globally.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<LogBuffer>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the current thread's [`LogBuffer`], if any.
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(buffer) = capture.borrow().as_ref() {
                buffer.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing when dropped.
struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

impl LogBuffer {
    fn install(&self) -> Capturing {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(|| ThreadWriter)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the unit tests");
        });
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(self.clone()));
        Capturing
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn password_mail() -> OutgoingMail {
    OutgoingMail {
        to: EmailAddress::parse("ada.private@uni.example").unwrap(),
        subject: "Your new account".into(),
        text: "Your temporary password is:\n\n    !1AaTOPSECRET\n".into(),
        lang: "en".into(),
        carries_secret: true,
    }
}

#[tokio::test]
async fn a_refused_login_says_what_to_check_and_never_shows_the_password() {
    let log = LogBuffer::default();
    let _guard = log.install();
    let (port, _) = scripted_server("535 5.7.8 bad credentials:").await;
    let mailer = SmtpMailer::from_settings(&settings("127.0.0.1", port), "").unwrap();

    let err = mailer.send(&password_mail()).await.unwrap_err().to_string();
    let check = mailer.check().await.unwrap_err().to_string();

    for message in [&err, &check] {
        assert!(
            message.contains(&format!("127.0.0.1:{port} (no TLS, login as mailer)")),
            "{message}"
        );
        assert!(message.contains("535"), "{message}");
        assert!(
            message.contains("check MAIL_SERVER_USER and MAIL_SERVER_PW"),
            "{message}"
        );
        assert!(
            message.contains("[redacted]"),
            "the echo is scrubbed: {message}"
        );
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let everything = format!("{err}\n{check}\n{}", log.text());
    for secret in [
        PASSWORD.to_owned(),
        b64.encode(PASSWORD),
        b64.encode(format!("\0mailer\0{PASSWORD}")),
        "TOPSECRET".to_owned(),
    ] {
        assert!(
            !everything.contains(&secret),
            "{secret} leaked:\n{everything}"
        );
    }
}

#[tokio::test]
async fn a_sent_mail_is_logged_with_the_recipients_domain_only() {
    let log = LogBuffer::default();
    let _guard = log.install();
    let (port, seen) = scripted_server("235 2.7.0 ok").await;
    let mailer = SmtpMailer::from_settings(&settings("127.0.0.1", port), "").unwrap();

    // The pool takes a connection back in a task of its own: give it a moment, as the time
    // between two sign-ups does.
    let settle = || tokio::time::sleep(Duration::from_millis(100));
    mailer.send(&password_mail()).await.unwrap();
    settle().await;
    mailer.send(&password_mail()).await.unwrap();
    settle().await;
    mailer.check().await.unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.data.len(), 2);
    assert!(
        seen.data[0].contains("TOPSECRET"),
        "the mail carries the password"
    );
    assert_eq!(
        seen.lines.iter().filter(|l| l.starts_with("EHLO")).count(),
        1,
        "one pooled connection for both mails and the check: {:?}",
        seen.lines
    );
    assert!(
        seen.lines
            .contains(&"MAIL FROM:<accounts@uni.example>".to_owned()),
        "{:?}",
        seen.lines
    );
    assert!(
        seen.lines
            .contains(&"RCPT TO:<ada.private@uni.example>".to_owned())
    );
    let log = log.text();
    assert_eq!(log.matches("mail sent over SMTP").count(), 2, "{log}");
    assert!(log.contains("to_domain=uni.example"), "{log}");
    assert!(!log.contains("ada.private"), "{log}");
    assert!(!log.contains("TOPSECRET"), "{log}");
    assert!(!log.contains(PASSWORD), "{log}");
}

#[tokio::test]
async fn nothing_listening_names_the_server_and_suggests_the_usual_ports() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut settings = settings("127.0.0.1", port);
    settings.login = false;
    let mailer = SmtpMailer::from_settings(&settings, "").unwrap();
    let err = mailer.send(&password_mail()).await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("127.0.0.1:{port} (no TLS, no login)")),
        "{err}"
    );
    assert!(err.contains("Try TLS (MAIL_SERVER_SSL) with port 465 or STARTTLS (MAIL_SERVER_STARTTLS) with port 587"), "{err}");
}

#[tokio::test]
async fn a_tls_mode_the_port_does_not_speak_gets_a_hint_about_the_other_mode() {
    let (port, _) = scripted_server("235 2.7.0 ok").await;
    let cases = [
        (
            (true, false),
            "The TLS handshake failed; the port may expect another TLS mode.",
        ),
        ((false, true), "The server offers no STARTTLS on this port"),
    ];
    for ((ssl, starttls), expected) in cases {
        let mut settings = settings("127.0.0.1", port);
        (settings.ssl, settings.starttls) = (ssl, starttls);
        let mailer = SmtpMailer::from_settings(&settings, "").unwrap();
        let err = mailer.send(&password_mail()).await.unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
    }
}

#[tokio::test]
async fn a_line_with_a_single_dot_cannot_end_the_mail_early() {
    let (port, seen) = scripted_server("235 2.7.0 ok").await;
    let mailer = SmtpMailer::from_settings(&settings("127.0.0.1", port), "").unwrap();
    let mut mail = password_mail();
    mail.text = "before\r\n.\r\nMAIL FROM:<evil@attacker.example>\r\n.\nafter\n".into();

    mailer.send(&mail).await.unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.data.len(), 1);
    assert!(seen.data[0].contains("after"), "{}", seen.data[0]);
    let mail_from: Vec<&String> = seen
        .lines
        .iter()
        .filter(|l| l.starts_with("MAIL FROM"))
        .collect();
    assert_eq!(mail_from, ["MAIL FROM:<accounts@uni.example>"]);
}
