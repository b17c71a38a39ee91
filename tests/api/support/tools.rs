//! Programs some tests need beyond cargo: Python's `aiosmtpd` (the SMTP test server) and the
//! `sqlite3` tool (the original's database). A plain `cargo test` skips those tests with a
//! message saying what to install; `tests/run` installs them and sets `TESTS_REQUIRE_TOOLS`,
//! so there a missing tool fails instead of silently shrinking the suite.

use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// A program a test needs.
#[derive(Debug, Clone, Copy)]
pub enum Tool {
    /// `python3` with `aiosmtpd` (`tests/smtp_server.py`).
    Aiosmtpd,
    /// `python3` (with its `sqlite3` module) and the `sqlite3` command line tool.
    Sqlite3,
}

impl Tool {
    fn install_hint(self) -> &'static str {
        match self {
            Tool::Aiosmtpd => {
                "python3 -m pip install aiosmtpd==1.4.6 (or apt-get install python3-aiosmtpd)"
            }
            Tool::Sqlite3 => "apt-get install sqlite3 (and python3)",
        }
    }

    fn present(self) -> bool {
        static AIOSMTPD: OnceLock<bool> = OnceLock::new();
        static SQLITE3: OnceLock<bool> = OnceLock::new();
        match self {
            Tool::Aiosmtpd => *AIOSMTPD.get_or_init(|| runs("python3", &["-c", "import aiosmtpd"])),
            Tool::Sqlite3 => *SQLITE3.get_or_init(|| {
                runs("python3", &["-c", "import sqlite3"]) && runs("sqlite3", &["-version"])
            }),
        }
    }
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// True when `tool` is missing and the calling test should return at once; says so on
/// stderr. Panics instead when `TESTS_REQUIRE_TOOLS` is set (`tests/run` sets it).
pub fn skip_without(tool: Tool, test: &str) -> bool {
    if tool.present() {
        return false;
    }
    let message = format!(
        "{test}: needs {tool:?}; install it with: {}",
        tool.install_hint()
    );
    if std::env::var_os("TESTS_REQUIRE_TOOLS").is_some() {
        panic!("{message}");
    }
    eprintln!("SKIPPED {message}");
    true
}

/// Returns from the calling test when `tool` is missing (see [`skip_without`]).
macro_rules! require_tool {
    ($tool:ident) => {
        if $crate::support::tools::skip_without(
            $crate::support::tools::Tool::$tool,
            concat!(file!(), ":", line!()),
        ) {
            return;
        }
    };
}
pub(crate) use require_tool;
