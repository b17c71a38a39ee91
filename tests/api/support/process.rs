//! The server binary as its own process, for what an in-process server cannot show: its
//! real log output, and being killed with SIGKILL in the middle of a sign-up.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::routes::paths;
use crate::support::smtp::free_port;

/// Kept here too for the tests that import it from this module.
pub use crate::support::routes::sign_up_fields;

/// A running `ms365-accountcreator serve`, logging to a file; killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts the binary in TEST mode on a free port with its store in `store_dir`;
    /// `env` comes on top (e.g. the fake Graph and SMTP settings).
    pub async fn start(store_dir: &Path, env: &[(String, String)]) -> ServerProcess {
        Self::start_via(&[], store_dir, env).await
    }

    /// As [`start`](Self::start), behind `launcher`: a command that runs the binary given as
    /// its last argument, such as `SmallDisk::launcher`.
    pub async fn start_via(
        launcher: &[String],
        store_dir: &Path,
        env: &[(String, String)],
    ) -> ServerProcess {
        crate::support::helpers::init();
        let port = free_port();
        let log = store_dir.join(format!("server-{port}.log"));
        let child = command(launcher, store_dir, port, &log, env)
            .spawn()
            .expect("the server binary starts");
        let server = ServerProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        for _ in 0..400 {
            if reqwest::get(server.url(paths::HEALTHZ)).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the server did not come up:\n{}", server.log_text());
    }

    /// Runs `serve` as [`start_via`](Self::start_via) does, expecting it to refuse to start:
    /// returns its exit code and what it wrote to stderr. Fails if it is still running after
    /// ten seconds (it started after all).
    pub async fn refused_start(
        launcher: &[String],
        store_dir: &Path,
        env: &[(String, String)],
    ) -> (Option<i32>, String) {
        let port = free_port();
        let log = store_dir.join(format!("refused-{port}.log"));
        let mut child = command(launcher, store_dir, port, &log, env)
            .spawn()
            .expect("the server binary starts");
        let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
        for _ in 0..400 {
            if let Some(status) = child.try_wait().expect("the server's status") {
                return (status.code(), log_text());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server started instead of refusing:\n{}", log_text());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Polls `/readyz` until it answers 200 (on PostgreSQL, once the schema is migrated).
    pub async fn wait_until_ready(&self) {
        for _ in 0..300 {
            if self.get(paths::READYZ).await == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} never became ready:\n{}", self.base, self.log_text());
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> u16 {
        reqwest::Client::new()
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
            .status()
            .as_u16()
    }

    pub async fn get(&self, path: &str) -> u16 {
        reqwest::get(self.url(path))
            .await
            .expect("GET")
            .status()
            .as_u16()
    }

    /// Everything logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A complete sign-up without JavaScript: the status.
    pub async fn sign_up(&self, email: &str, first: &str, last: &str) -> u16 {
        self.post(paths::SIGNUP, &sign_up_fields(email, first, last))
            .await
    }

    /// Presses the button on the page behind a mailed link: the status.
    pub async fn confirm(&self, link_path: &str) -> u16 {
        self.post(link_path, &[("lang", "en")]).await
    }

    /// Ada Lovelace signs up, and the form is accepted.
    pub async fn sign_up_ada(&self) {
        self.expect(
            200,
            self.sign_up("ada@uni.example", "Ada", "Lovelace").await,
        );
    }

    /// Asserts a status, showing the server's warnings and errors when it differs.
    pub fn expect(&self, expected: u16, status: u16) {
        if status != expected {
            let logs = self.log_text();
            let problems: Vec<&str> = logs
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .collect();
            panic!(
                "answered {status}, expected {expected}; the server said:\n{}",
                problems.join("\n")
            );
        }
    }

    /// SIGTERM, then waits: the graceful path. Returns the exit code and the log.
    pub fn terminate(mut self) -> (Option<i32>, String) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().ok().and_then(|s| s.code());
        (status, self.log_text())
    }

    /// Waits up to `limit` for the process to exit by itself: its exit code and log, or
    /// `None` if it is still running.
    pub async fn exit_within(&mut self, limit: Duration) -> Option<(Option<i32>, String)> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some((status.code(), self.log_text()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// SIGKILL: the process dies wherever it is, nothing is flushed or finished.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `serve` in TEST mode on `port`, logging to `log`, with its store in `store_dir` unless
/// `env` says otherwise.
fn command(
    launcher: &[String],
    store_dir: &Path,
    port: u16,
    log: &Path,
    env: &[(String, String)],
) -> Command {
    let binary = env!("CARGO_BIN_EXE_ms365-accountcreator");
    let mut command = match launcher.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MODE", "test")
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_PATH", store_dir.join("store"))
        .env("GRAPH_API_USER_MAIL_DOMAIN", "tenant.example")
        .current_dir(store_dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("a log file"));
    for (key, value) in env {
        match value.as_str() {
            UNSET => command.env_remove(key),
            _ => command.env(key, value),
        };
    }
    command
}

/// As a value in `env`: the variable is not set at all (not even the defaults above).
pub const UNSET: &str = "\u{0}unset";

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
