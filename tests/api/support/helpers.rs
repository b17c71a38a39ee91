//! `spawn_app()`: the real server on a random port with a temporary store, driven over HTTP
//! (`TestApp::builder()` in `spawn` for other settings, a method per route in `routes`, the
//! kept mails in `mails`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use ms365_accountcreator::config::{Layers, Locations, Settings};
use ms365_accountcreator::startup::Overrides;
use scraper::{Html, Selector};

pub use crate::support::mails::ListedMail;

static INIT: LazyLock<()> = LazyLock::new(|| {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if std::env::var_os("TEST_LOG").is_some() {
        ms365_accountcreator::telemetry::init(
            "debug",
            ms365_accountcreator::telemetry::LogFormat::Text,
        );
    } else {
        let _ = tracing::subscriber::set_global_default(Undecided);
    }
});

/// The global subscriber of the test binary: logs nothing itself and never lets tracing
/// cache a call site as unwanted. tracing caches each call site's interest globally, and
/// while only one scoped subscriber ([`Logs::capture`]) is registered it asks the *current
/// thread's* subscriber alone: a call site first hit on another test's thread (with no
/// subscriber, so "never") was then lost to the capturing test for good. Answering
/// "sometimes" here makes every event ask the subscriber of the thread it happens on.
struct Undecided;

impl tracing::Subscriber for Undecided {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub clock: Arc<AtomicU64>,
    pub store_dir: tempfile::TempDir,
    /// `http://…` of the separate metrics listener (`METRICS_BIND`).
    pub metrics_address: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The settings a test server starts with, plus `extra` variables (as the environment).
pub fn test_settings(store_dir: &std::path::Path, extra: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = HashMap::from([
        ("MODE".into(), "test".into()),
        ("BIND".into(), "127.0.0.1:0".into()),
        (
            "DATABASE_PATH".into(),
            store_dir.to_string_lossy().into_owned(),
        ),
        ("SUPPORT_EMAIL".into(), "it-support@uni.example".into()),
        ("GRAPH_API_USER_MAIL_DOMAIN".into(), "tenant.example".into()),
    ]);
    for (key, value) in extra {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    let nowhere = store_dir.join("no-such-config.conf");
    let locations = Locations {
        system_file: nowhere.clone(),
        instance_file: nowhere,
    };
    let layers =
        Layers::load(&|name| env.get(name).cloned(), &locations).expect("test configuration loads");
    Settings::from_layers(&layers).expect("test configuration is valid")
}

/// Installs the crypto provider (and the test log, with TEST_LOG) once per test binary.
pub fn init() {
    LazyLock::force(&INIT);
}

/// A server with the test defaults.
pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

/// Starts a server with extra settings and overrides; the test clock starts at a fixed time.
pub async fn spawn_app_with(extra: &[(&str, &str)], overrides: Overrides) -> TestApp {
    TestApp::builder()
        .envs(extra)
        .overrides(overrides)
        .spawn()
        .await
}

/// Starts a server on an existing store directory (restart tests).
pub async fn spawn_app_in(
    store_dir: tempfile::TempDir,
    extra: &[(&str, &str)],
    overrides: Overrides,
) -> TestApp {
    TestApp::builder()
        .store(store_dir)
        .envs(extra)
        .overrides(overrides)
        .spawn()
        .await
}

impl TestApp {
    /// The handle of a server `spawn` started.
    pub(super) fn running(
        address: String,
        clock: Arc<AtomicU64>,
        store_dir: tempfile::TempDir,
        metrics_address: Option<String>,
        shutdown: tokio::sync::oneshot::Sender<()>,
        server: tokio::task::JoinHandle<anyhow::Result<()>>,
    ) -> TestApp {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        TestApp {
            address,
            client,
            clock,
            store_dir,
            metrics_address,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn advance_clock(&self, seconds: u64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("GET")
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_with(path, fields, &[]).await
    }

    pub async fn post_form_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).form(fields);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("POST")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(&mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
        std::mem::replace(
            &mut self.store_dir,
            tempfile::tempdir().expect("temporary directory"),
        )
    }
}

/// The temporary password in a password mail's text: the second indented line (the first is
/// the username), found by the mail's layout rather than by the password's look, which is
/// random in every position.
pub fn password_in(text: &str) -> Option<String> {
    text.lines()
        .filter(|line| line.starts_with("    ") && !line.trim().is_empty())
        .nth(1)
        .map(|line| line.trim().to_owned())
}

/// Parses HTML and returns the texts of the elements matching `selector`.
pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(selector).expect("a valid selector");
    document
        .select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

/// A response header as text, when it is text.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The value of `attribute` on the first element matching `selector`.
pub fn attr(html: &str, selector: &str, attribute: &str) -> Option<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(selector).expect("a valid selector");
    document
        .select(&selector)
        .next()
        .and_then(|e| e.value().attr(attribute).map(str::to_owned))
}

/// The values of `attribute` on every element matching `selector`, in document order.
pub fn attrs(html: &str, selector: &str, attribute: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(selector).expect("a valid selector");
    document
        .select(&selector)
        .filter_map(|e| e.value().attr(attribute).map(str::to_owned))
        .collect()
}

/// Log lines written while the capture guard lives. Tests run on one thread, the server's
/// tasks included, so a thread-local subscriber sees everything the server logs (see
/// [`Undecided`] for why that needs a global subscriber beside it).
#[derive(Clone, Default)]
pub struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    /// Captures INFO and above.
    pub fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        Self::capture_at(tracing::Level::INFO)
    }

    /// Captures everything at `level` and above, from every crate.
    pub fn capture_at(level: tracing::Level) -> (Logs, tracing::subscriber::DefaultGuard) {
        LazyLock::force(&INIT);
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_max_level(level)
            .finish();
        (logs.clone(), tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
