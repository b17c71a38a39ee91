//! A real SMTP server on loopback: `tests/smtp_server.py` (Python `aiosmtpd`) as a child
//! process, killed on drop. It writes each accepted mail into a temporary directory before it
//! answers 250, so once the application has answered, its mails can be read and parsed here.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mail_parser::{MessageParser, PartType};

use crate::support::routes::paths;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_server.py");
const INSTALL_HINT: &str = "the SMTP tests need python3 with aiosmtpd: pip install aiosmtpd==1.4.6 (tests check first with `require_tool!(Aiosmtpd)`)";

/// How the server expects clients to encrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    StartTls,
    Tls,
    Plain,
}

impl SmtpMode {
    fn arg(self) -> &'static str {
        match self {
            SmtpMode::StartTls => "starttls",
            SmtpMode::Tls => "tls",
            SmtpMode::Plain => "plain",
        }
    }
}

/// A user and password the server requires (AUTH PLAIN/LOGIN); others get 535.
pub type Login = (&'static str, &'static str);

/// The test CA that signed the server's certificate (`MAIL_SERVER_CA_FILE`).
pub fn ca_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp/ca.pem")
}

/// A port nothing listens on (for "the SMTP server is down").
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a local address").port()
}

/// The application's `MAIL_*` settings for a server on `port`.
pub fn app_settings(port: u16, mode: SmtpMode, login: Option<Login>) -> Vec<(String, String)> {
    let (user, password) = login.unwrap_or(("", ""));
    [
        ("DEBUG_DONT_SEND_MAIL", "false".to_owned()),
        ("MAIL_SERVER_HOST", "127.0.0.1".to_owned()),
        ("MAIL_SERVER_PORT", port.to_string()),
        ("MAIL_SERVER_SSL", (mode == SmtpMode::Tls).to_string()),
        (
            "MAIL_SERVER_STARTTLS",
            (mode == SmtpMode::StartTls).to_string(),
        ),
        ("MAIL_SERVER_LOGIN", login.is_some().to_string()),
        ("MAIL_SERVER_USER", user.to_owned()),
        ("MAIL_SERVER_PW", password.to_owned()),
        (
            "MAIL_SENDING_ADDRESS",
            "Accounts <accounts@uni.example>".to_owned(),
        ),
        (
            "MAIL_SERVER_CA_FILE",
            ca_file().to_string_lossy().into_owned(),
        ),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

/// Borrows owned settings in the shape `spawn_app_with` takes.
pub fn pairs(settings: &[(String, String)]) -> Vec<(&str, &str)> {
    settings
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect()
}

/// The running server. Mails survive restarts: they stay in the same directory.
pub struct SmtpServer {
    mode: SmtpMode,
    login: Option<Login>,
    port: u16,
    maildir: tempfile::TempDir,
    child: Option<Child>,
}

impl SmtpServer {
    /// Starts on a port the OS picks.
    pub fn start(mode: SmtpMode, login: Option<Login>) -> Self {
        Self::start_on(0, mode, login)
    }

    /// Starts on `port` (0: any) and returns once it accepts connections.
    pub fn start_on(port: u16, mode: SmtpMode, login: Option<Login>) -> Self {
        let mut server = SmtpServer {
            mode,
            login,
            port,
            maildir: tempfile::tempdir().expect("a temporary directory"),
            child: None,
        };
        server.launch();
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The application's settings for this server, with the credentials it accepts.
    pub fn app_settings(&self) -> Vec<(String, String)> {
        app_settings(self.port, self.mode, self.login)
    }

    /// Kills the server; connections are refused until [`SmtpServer::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port, keeping the received mails.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Starts again on the same port, now accepting `login`.
    pub fn restart_with_login(&mut self, login: Option<Login>) {
        self.login = login;
        self.restart();
    }

    fn launch(&mut self) {
        let log_path = self.maildir.path().join("server.log");
        let log = std::fs::File::create(&log_path).expect("a log file for the SMTP server");
        let mut command = Command::new("python3");
        command
            .arg(SCRIPT)
            .args(["--port", &self.port.to_string(), "--mode", self.mode.arg()])
            .arg("--maildir")
            .arg(self.maildir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        if let Some((user, password)) = self.login {
            command.args(["--user", user, "--password", password]);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run python3 ({err}); {INSTALL_HINT}"));
        let stdout = child.stdout.take().expect("piped stdout");
        // The server prints `READY <port>` once it listens; read it off the test's thread so a
        // server that hangs cannot hang the test.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let ready = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        let Some(port) = ready
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            let status = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("the test SMTP server did not start ({status:?}):\n{log}\n{INSTALL_HINT}");
        };
        self.port = port;
        self.child = Some(child);
    }

    /// From now on the server refuses `address` for good at `RCPT TO` (550 5.1.1), as a
    /// mail server does for a mailbox that no longer exists.
    pub fn refuse(&self, address: &str) {
        use std::io::Write;
        let mut listed = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.maildir.path().join("refused"))
            .expect("the refused list");
        writeln!(listed, "{address}").expect("a line in the refused list");
    }

    /// Every mail received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.maildir.path())
            .expect("the maildir")
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        files.sort();
        files.iter().map(|path| ReceivedMail::read(path)).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A received mail, parsed without lettre (so the tests do not check lettre with itself).
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// `MAIL FROM` and `RCPT TO` of the SMTP session.
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub from: String,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    /// The raw `Date` header and its Unix time, if it parses.
    pub date: String,
    pub date_unix: Option<i64>,
    /// Without angle brackets.
    pub message_id: String,
    pub content_language: Option<String>,
    pub text: String,
    pub html: Option<String>,
    /// The message as received.
    pub raw: String,
}

impl ReceivedMail {
    fn read(path: &Path) -> Self {
        let raw = std::fs::read(path).expect("a received mail");
        let envelope: serde_json::Value = serde_json::from_slice(
            &std::fs::read(path.with_extension("json")).expect("the envelope of a mail"),
        )
        .expect("an envelope in JSON");
        let message = MessageParser::default()
            .parse(&raw)
            .unwrap_or_else(|| panic!("{} does not parse as a mail", path.display()));
        let first_address = |address: Option<&mail_parser::Address>| {
            address
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(str::to_owned)
        };
        let mut text = String::new();
        let mut html = None;
        for part in &message.parts {
            match &part.body {
                PartType::Text(body) if text.is_empty() => text = body.to_string(),
                PartType::Html(body) => html = Some(body.to_string()),
                _ => {}
            }
        }
        ReceivedMail {
            envelope_from: envelope["mail_from"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            envelope_to: envelope["rcpt_tos"]
                .as_array()
                .map(|to| {
                    to.iter()
                        .filter_map(|a| a.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            from: first_address(message.from()).unwrap_or_default(),
            from_name: message
                .from()
                .and_then(|a| a.first())
                .and_then(|a| a.name())
                .map(str::to_owned),
            to: message
                .to()
                .map(|to| {
                    to.iter()
                        .filter_map(|a| a.address().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            reply_to: first_address(message.reply_to()),
            subject: message.subject().unwrap_or_default().to_owned(),
            date: message
                .header_raw("Date")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            date_unix: message.date().map(|d| d.to_timestamp()),
            message_id: message.message_id().unwrap_or_default().to_owned(),
            content_language: message
                .header_raw("Content-Language")
                .map(|v| v.trim().to_owned()),
            text,
            html,
            raw: String::from_utf8_lossy(&raw).into_owned(),
        }
    }

    /// The path (from `prefix` on: `/verify/…`, `/password/…`) of the first link to it in
    /// the text.
    pub fn link_path(&self, prefix: &str) -> String {
        let link = self
            .text
            .split_whitespace()
            .find(|word| word.starts_with("http") && word.contains(prefix))
            .unwrap_or_else(|| panic!("no {prefix} link in:\n{}", self.text));
        let start = link.find(prefix).expect("a path under the prefix");
        link[start..].to_owned()
    }

    /// The path (`/verify/…`) of the verification link in the text.
    pub fn verification_path(&self) -> String {
        self.link_path(paths::VERIFY)
    }

    /// The temporary password in a password mail.
    pub fn password(&self) -> Option<String> {
        crate::support::helpers::password_in(&self.text)
    }
}
