//! The loopback SMTP sink the mails go to: `tests/smtp_server.py`, its mails counted.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The loopback SMTP sink: the process, its port and its mail directory.
pub(crate) struct Sink {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
}

impl Sink {
    pub(crate) fn start(maildir: &Path) -> Sink {
        std::fs::create_dir_all(maildir).expect("the mail directory");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", "0", "--mode", "plain", "--maildir"])
            .arg(maildir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs tests/smtp_server.py (needs aiosmtpd)");
        let stdout = child.stdout.take().expect("its standard output");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the sink says READY");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("the sink did not start: {line:?}"));
        Sink {
            child,
            port,
            maildir: maildir.to_owned(),
        }
    }

    /// Mails received so far.
    pub(crate) fn received(&self) -> usize {
        std::fs::read_dir(&self.maildir)
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
                    .count()
            })
            .unwrap_or_default()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
