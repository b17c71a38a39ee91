//! Starting a test server: `spawn_app()` with the defaults, `TestApp::builder()` with
//! anything else — settings, a directory of the test's own, another store, a PostgreSQL
//! database — so that no test needs a starting function of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ms365_accountcreator::directory::Directory;
use ms365_accountcreator::startup::{Application, Overrides};

use crate::support::helpers::{TestApp, init, test_settings};
use crate::support::routes::paths;
use crate::support::smtp::SmtpServer;

/// What a test server starts with; [`AppBuilder::spawn`] starts it.
#[derive(Default)]
#[must_use = "a builder starts nothing until `spawn`"]
pub struct AppBuilder {
    env: Vec<(String, String)>,
    overrides: Overrides,
    store_dir: Option<tempfile::TempDir>,
    wait_until_ready: bool,
}

impl TestApp {
    /// A server with the test defaults, to be changed before [`AppBuilder::spawn`].
    pub fn builder() -> AppBuilder {
        AppBuilder::default()
    }
}

impl AppBuilder {
    /// One setting, as an environment variable would give it.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Settings, as environment variables would give them; later ones win.
    pub fn envs<K: AsRef<str>, V: AsRef<str>>(mut self, settings: &[(K, V)]) -> Self {
        let owned = settings.iter().map(|(key, value)| {
            let (key, value) = (key.as_ref(), value.as_ref());
            (key.to_owned(), value.to_owned())
        });
        self.env.extend(owned);
        self
    }

    /// Password resets on (`PASSWORD_RESET_ENABLED`).
    pub fn resets(self) -> Self {
        self.env("PASSWORD_RESET_ENABLED", "true")
    }

    /// Mails go out over SMTP to `server` instead of into `/debug/mails`.
    pub fn smtp(self, server: &SmtpServer) -> Self {
        self.envs(&server.app_settings())
    }

    /// Replaces the test overrides (a directory set before stays unless `overrides` has one).
    pub fn overrides(mut self, overrides: Overrides) -> Self {
        let directory = self.overrides.directory.take();
        self.overrides = overrides;
        self.overrides.directory = self.overrides.directory.take().or(directory);
        self
    }

    /// The directory accounts are made in (a fake Graph client, a directory that fails).
    pub fn directory(mut self, directory: Arc<dyn Directory>) -> Self {
        self.overrides.directory = Some(directory);
        self
    }

    /// Housekeeping every `every` instead of every ten minutes.
    pub fn housekeeping_every(mut self, every: Duration) -> Self {
        self.overrides.housekeeping_every = Some(every);
        self
    }

    /// Opens the store a stopped server left (see [`TestApp::stop`]).
    pub fn store(mut self, store_dir: tempfile::TempDir) -> Self {
        self.store_dir = Some(store_dir);
        self
    }

    /// Keeps everything in the PostgreSQL database at `url`; `spawn` returns once the server
    /// is ready (the schema is migrated in the background).
    pub fn database(mut self, url: &str) -> Self {
        self.wait_until_ready = true;
        self.env("DATABASE_URL", url)
    }

    /// Starts the server on a random port; its clock starts at a fixed time.
    pub async fn spawn(self) -> TestApp {
        init();
        let store_dir = self
            .store_dir
            .unwrap_or_else(|| tempfile::tempdir().expect("temporary directory"));
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (&**k, &**v)).collect();
        let settings = test_settings(store_dir.path(), &env);
        let mut overrides = self.overrides;
        let clock = Arc::new(AtomicU64::new(1_800_000_000));
        if overrides.clock.is_none() {
            let shared = clock.clone();
            overrides.clock = Some(Arc::new(move || shared.load(Ordering::SeqCst)));
        }
        let app = Application::build(&settings, overrides)
            .await
            .expect("the application builds");
        let address = format!("http://{}", app.local_addr());
        let metrics_address = app.metrics_addr().map(|addr| format!("http://{addr}"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        let app = TestApp::running(address, clock, store_dir, metrics_address, tx, server);
        if self.wait_until_ready {
            app.wait_until_ready().await;
        }
        app
    }
}

impl TestApp {
    /// Polls `/readyz` until it answers 200.
    pub async fn wait_until_ready(&self) {
        for _ in 0..300 {
            if self.get_readyz().await.status() == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} never became ready", self.address);
    }

    /// Waits until the empty forms have their compressed forms: the server makes them in the
    /// background once it answers, and sends the forms uncompressed until then.
    pub async fn wait_until_pages_compressed(&self) {
        for lang in ["de", "en"] {
            for htmx in ["false", "true"] {
                self.wait_until_compressed(&paths::home_in(lang), htmx)
                    .await;
            }
        }
    }

    async fn wait_until_compressed(&self, path: &str, htmx: &str) {
        for _ in 0..600 {
            let response = self
                .client
                .get(self.url(path))
                .header("accept-encoding", "br")
                .header("hx-request", htmx)
                .send()
                .await
                .expect("GET");
            if response.headers().contains_key("content-encoding") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{path} (hx-request: {htmx}) was never compressed");
    }
}
