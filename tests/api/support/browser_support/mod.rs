//! Headless Chromium driven through chromedriver (WebDriver) for the browser tests: one driver
//! process and one session per test, JavaScript on or off, and what the tests read from the
//! page besides the DOM: console and CSP problems, axe-core results, the layout at a width,
//! and screenshots under `target/screenshots/`.

mod checks;
mod page;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// Installed before any page script runs (JavaScript on): records CSP violations, script
/// errors and HTMX failures, which a listener added after the page loaded would miss.
const RECORDER: &str = r#"
window.__problems = [];
const note = (text) => window.__problems.push(text);
document.addEventListener("securitypolicyviolation", (e) =>
  note(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"} (${e.sourceFile}:${e.lineNumber})`), true);
window.addEventListener("error", (e) =>
  note(`error: ${e.message || (e.target && (e.target.src || e.target.href)) || e.type}`), true);
window.addEventListener("unhandledrejection", (e) => note(`unhandled rejection: ${e.reason}`));
for (const name of ["htmx:responseError", "htmx:sendError", "htmx:swapError", "htmx:targetError",
                    "htmx:evalDisallowedError", "htmx:onLoadError", "htmx:invalidPath"]) {
  document.addEventListener(name, () => note(name), true);
}
"#;

/// Whether the browser runs the page's scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Js {
    On,
    Off,
}

/// The widths every step is checked and photographed at: a small phone and a desktop.
pub const PHONE: u32 = 320;
pub const DESKTOP: u32 = 1280;

/// A chromedriver process (its own process group, killed on drop with the Chromium it
/// started) and one WebDriver session.
pub struct Browser {
    pub client: Client,
    pub js: Js,
    driver: Child,
    /// The fresh Chromium profile (and chromedriver's log), removed after the driver ends.
    _profile: tempfile::TempDir,
    /// Browser-log lines read so far and not yet judged.
    log: std::sync::Mutex<Vec<String>>,
}

/// The chromedriver to run: `CHROMEDRIVER`, else the one on `PATH`.
fn driver_program() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("chromedriver"))
}

/// Debian's Chromium unless `CHROME_BIN` names another; `None` lets chromedriver search.
fn chrome_binary() -> Option<String> {
    std::env::var("CHROME_BIN").ok().or_else(|| {
        Path::new("/usr/bin/chromium")
            .exists()
            .then(|| "/usr/bin/chromium".to_owned())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
}

/// A chromedriver-specific endpoint under the session (`goog/cdp/execute`, `se/log`).
#[derive(Debug)]
struct SessionPost {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for SessionPost {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a session exists");
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _url: &url::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(self.body.to_string()))
    }
}

impl Browser {
    pub async fn start(js: Js) -> Browser {
        Browser::start_with(&driver_program(), js).await
    }

    /// Starts `program` as chromedriver on a free port and opens a session. Panics with the
    /// fix when the driver is missing: a browser test that cannot run must fail, not pass.
    pub async fn start_with(program: &Path, js: Js) -> Browser {
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let driver_log = profile.path().join("chromedriver.log");
        let port = free_port();
        let driver = Command::new(program)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", driver_log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that dropping the browser ends Chromium too.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start chromedriver ({}): {err}. The browser tests need Chromium and \
                     chromedriver: run tests/run (it installs them), or `apt-get install chromium \
                     chromium-driver`, or set CHROMEDRIVER to the driver's path",
                    program.display()
                )
            });
        let mut guard = DriverGuard(Some(driver));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = guard.child().try_wait() {
                panic!(
                    "chromedriver exited at start ({status}): {}",
                    read_log(&driver_log)
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "chromedriver did not listen on port {port} within 15 s: {}",
                read_log(&driver_log)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-extensions".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--window-size={DESKTOP},900"),
            format!(
                "--user-data-dir={}",
                profile.path().join("chrome").display()
            ),
        ];
        let mut prefs = json!({ "intl.accept_languages": "en-US,en" });
        if js == Js::Off {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let mut chrome_options = json!({ "args": args, "prefs": prefs });
        if let Some(binary) = chrome_binary() {
            chrome_options["binary"] = json!(binary);
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": chrome_options,
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("built as an object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "chromedriver could not start Chromium: {err}. Is it installed (tests/run installs \
                     it; CHROME_BIN names another)?\n{}",
                    read_log(&driver_log)
                )
            });
        let browser = Browser {
            client,
            js,
            driver: guard.0.take().expect("the driver process"),
            _profile: profile,
            log: std::sync::Mutex::new(Vec::new()),
        };
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": RECORDER }),
            )
            .await;
        browser.set_width(DESKTOP).await;
        browser
    }

    /// Ends the session (Chromium quits); the driver process ends on drop.
    pub async fn close(self) {
        let client = self.client.clone();
        let _ = client.close().await;
    }

    async fn session_post(&self, path: &'static str, body: Value) -> Value {
        self.client
            .issue_cmd(SessionPost { path, body })
            .await
            .unwrap_or_else(|err| panic!("{path} failed: {err}"))
    }

    /// A Chrome DevTools Protocol command through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.session_post("goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
    }
}

fn read_log(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(30).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// Kills the driver's process group if starting the session fails half-way.
struct DriverGuard(Option<Child>);

impl DriverGuard {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("the driver process")
    }
}

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            kill_group(child);
        }
    }
}

/// Ends chromedriver and everything it started (the group it leads), then reaps it.
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}
