//! Builds the application from settings and binds before serving, so tests can ask for port
//! 0 and read the real port back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use url::Url;

use crate::config::Settings;
use crate::directory::Directory;
use crate::housekeeping::Background;
use crate::i18n::Catalogs;
use crate::lifecycle::Lifecycle;
use crate::limits::HourlyLimit;
use crate::mail::{Mailer, Outbox};
use crate::metrics::Metrics;
use crate::signup::{self, Clock, KeepLinks, MailLinks, Parts, Signups, system_clock};
use crate::store::Store;
use crate::web::{self, AppState, BodyLimits, ConnectionLimits, ProxyTrust};

mod outside;

use outside::{account_control, directories_from, mailer_from};

/// Replacements for tests: a directory that fails on purpose, a clock that jumps.
#[derive(Default)]
pub struct Overrides {
    pub directory: Option<Arc<dyn Directory>>,
    pub clock: Option<Clock>,
    /// How often housekeeping runs (default ten minutes).
    pub housekeeping_every: Option<Duration>,
    /// Slow-client and size limits on connections (defaults: [`ConnectionLimits::default`]).
    pub connection_limits: Option<ConnectionLimits>,
    /// Request body limits (defaults: [`BodyLimits::default`]).
    pub body_limits: Option<BodyLimits>,
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
    /// `METRICS_BIND`: a second listener that serves only `/metrics`.
    metrics_listener: Option<(TcpListener, SocketAddr)>,
    /// The sign-up service's parts; the queue worker runs provisioning.
    signups: Signups,
    /// The accounts' lifecycle, run once a day (`LIFECYCLE_RUN_HOUR`).
    lifecycle: Lifecycle,
    housekeeping_every: Duration,
    connection_limits: ConnectionLimits,
    body_limits: BodyLimits,
}

impl Application {
    pub async fn build(settings: &Settings, overrides: Overrides) -> anyhow::Result<Self> {
        let catalogs = Catalogs::load(
            settings.translations_dir.as_deref(),
            &settings.default_language,
        )?;
        let store = open_serving_store(settings)?;
        let (listener, local_addr) = bind(&settings.bind, "BIND").await?;
        let public_url = match &settings.public_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{local_addr}/"))
                .context("the bound address makes no URL")?,
        };
        let housekeeping_every = overrides
            .housekeeping_every
            .unwrap_or(Duration::from_secs(600));
        let metrics = Metrics::new();
        let connection_limits = overrides.connection_limits.unwrap_or_default();
        let body_limits = overrides.body_limits.unwrap_or_default();
        let mut overrides = overrides;
        let accounts = account_control(settings, &store, &metrics, &mut overrides)?;
        let (signups, outbox) = build_signups(
            settings,
            &store,
            &catalogs,
            public_url.clone(),
            overrides,
            &metrics,
        )?;
        let mailer = match &outbox {
            Some(outbox) => Mailer::Capture(outbox.clone()),
            None => mailer_from(settings)?,
        };
        let keep_links = Arc::new(keep_links(settings, &public_url)?);
        let lifecycle = Lifecycle::new(
            store.clone(),
            accounts,
            mailer,
            catalogs.clone(),
            settings.lifecycle_settings(),
        )
        .with_links(keep_links.clone())
        .with_metrics(metrics.clone());
        let clock: web::ConsoleClock = {
            let flow = signups.flow.clone();
            Arc::new(move || flow.now())
        };
        let console = web::Console::from_settings(
            settings,
            &public_url,
            clock,
            &metrics,
            &signups.provisioning,
            &lifecycle,
        )?;
        let state = AppState {
            console,
            keep: Some(web::KeepAccounts {
                links: keep_links,
                lifecycle: lifecycle.clone(),
            }),
            ..app_state(
                settings, store, catalogs, public_url, &signups, outbox, &metrics,
            )
        };
        let metrics_listener = match (&settings.metrics_bind, settings.metrics_enabled) {
            (Some(address), true) => Some(bind(address, "METRICS_BIND").await?),
            _ => None,
        };
        Ok(Application {
            listener,
            local_addr,
            state,
            metrics_listener,
            signups,
            lifecycle,
            housekeeping_every,
            connection_limits,
            body_limits,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn public_url(&self) -> &Url {
        &self.state.public_url
    }

    /// Every route behind the front door, to drive requests in-process without serving
    /// (the fuzz target); the listener stays bound, unused.
    pub fn endpoint(&self) -> impl poem::Endpoint<Output = poem::Response> + use<> {
        web::routes(self.state.clone(), self.body_limits)
    }

    /// Where `/metrics` is served separately, when `METRICS_BIND` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|(_, addr)| *addr)
    }

    /// Serves until `shutdown` completes, lets in-flight requests finish, then flushes the store.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        let pages = self.state.home_pages.clone();
        // Off the way to the first answer: the empty form goes out uncompressed until then.
        tokio::task::spawn_blocking(move || pages.compress());
        let background = Background::start(
            &self.state,
            &self.signups,
            &self.lifecycle,
            self.housekeeping_every,
        );
        let limits = self.connection_limits;
        let metrics_server = self.metrics_listener.map(|(listener, _)| {
            let app = web::metrics_routes(self.state.clone());
            let forever = std::future::pending();
            tokio::spawn(web::serve(listener, app, limits, forever, Duration::ZERO))
        });
        let app = web::routes(self.state, self.body_limits);
        // A store that can no longer be written stays so until it is opened again (sled), and
        // every sign-up would fail meanwhile: stop, so the service manager restarts the
        // server, which starts once the store is usable.
        let store_failed = async {
            let reason = store.failed().await;
            tracing::error!(%reason, "the store can no longer be written; stopping");
        };
        let stop = async {
            tokio::select! {
                () = shutdown => {}
                () = store_failed => {}
            }
        };
        web::serve(self.listener, app, limits, stop, Duration::from_secs(30)).await;
        background.stop().await;
        if let Some(metrics_server) = metrics_server {
            metrics_server.abort();
            let _ = metrics_server.await;
        }
        if let Some(reason) = store.failure() {
            anyhow::bail!(
                "stopped because the store at DATABASE_PATH can no longer be written: {reason}"
            );
        }
        store.close().await.context("cannot flush the store")?;
        tracing::info!("stopped; store flushed");
        Ok(())
    }
}

/// The state every handler shares.
fn app_state(
    settings: &Settings,
    store: Store,
    catalogs: Catalogs,
    public_url: Url,
    signups: &Signups,
    outbox: Option<Outbox>,
    metrics: &Metrics,
) -> AppState {
    let proxies = ProxyTrust::new(
        settings.reverse_proxy_count,
        settings.trusted_proxies.clone(),
    );
    if proxies.trusts_anyone() {
        tracing::warn!(
            "REVERSE_PROXY_COUNT is set without TRUSTED_PROXIES: a client that reaches BIND directly can choose its own address and escape the rate limits; set TRUSTED_PROXIES to the proxies' addresses"
        );
    }
    AppState {
        flow: signups.flow.clone(),
        resets: signups.resets.clone(),
        catalogs,
        store,
        support_email: settings.support_email.clone(),
        sign_in_url: settings.sign_in_url.clone(),
        public_url,
        email_pattern: (!settings.email_address_filter.allows_everything())
            .then(|| settings.email_address_filter.as_pattern().to_owned()),
        // Kept mails hold links and temporary passwords: in PRODUCTION no page lists them.
        outbox: outbox.filter(|_| settings.mode != crate::config::Mode::Production),
        proxies,
        ipv6_prefix: settings.rate_limit_ipv6_prefix,
        signup_limit: Arc::new(HourlyLimit::new(settings.rate_limit_per_ip_per_hour)),
        metrics: metrics.clone(),
        metrics_route: settings.metrics_enabled && settings.metrics_bind.is_none(),
        check_limit: Arc::new(HourlyLimit::new(
            settings.rate_limit_per_ip_per_hour.saturating_mul(10),
        )),
        home_pages: Default::default(),
        console: None,
        keep: None,
    }
    .with_home_pages()
}

async fn bind(address: &str, key: &str) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {key}={address}"))?;
    let local_addr = listener
        .local_addr()
        .with_context(|| format!("{key}={address} has no local address"))?;
    Ok((listener, local_addr))
}

/// The sign-up service with the configured directory and mailer; also the debug outbox when
/// mails are captured.
pub fn build_signups(
    settings: &Settings,
    store: &Store,
    catalogs: &Catalogs,
    public_url: Url,
    overrides: Overrides,
    metrics: &Metrics,
) -> anyhow::Result<(Signups, Option<Outbox>)> {
    let directory = match overrides.directory {
        Some(directory) => directory,
        None => directories_from(settings, store, metrics)?.0,
    };
    let mailer = mailer_from(settings)?;
    let outbox = mailer.outbox().cloned();
    let mut links = MailLinks::new(web::paths::absolute(&public_url, web::paths::VERIFY_PREFIX));
    if settings.password_reset_ttl.is_some() {
        links = links.with_password_reset(
            web::paths::absolute(&public_url, web::paths::PASSWORD),
            web::paths::absolute(&public_url, web::paths::PASSWORD_PREFIX),
        );
    }
    let context = signup::Context {
        store: store.clone(),
        mailer,
        catalogs: catalogs.clone(),
        clock: overrides.clock.unwrap_or_else(system_clock),
        metrics: metrics.clone(),
    };
    let signups = Signups::build(Parts {
        context,
        directory,
        secret: settings.jwt_secret_key.clone(),
        settings: settings.signup(links),
    })
    .context("JWT_SECRET_KEY cannot be used as a signing key")?;
    Ok((signups, outbox))
}

/// The re-verification links under `public_url` (`…/keep/{token}`), sealed with
/// `JWT_SECRET_KEY`; the server's pages open what its lifecycle (or `lifecycle run`) mails.
pub fn keep_links(settings: &Settings, public_url: &Url) -> anyhow::Result<KeepLinks> {
    let prefix = web::paths::absolute(public_url, web::paths::KEEP_PREFIX);
    KeepLinks::new(&settings.jwt_secret_key, prefix)
        .context("JWT_SECRET_KEY cannot be used as a signing key")
}

/// The configured store, ready for a command: PostgreSQL (`DATABASE_URL`, migrated now)
/// or sled (`DATABASE_PATH`).
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    use secrecy::ExposeSecret;
    match &settings.database_url {
        Some(url) => Store::connect_migrated(url.expose_secret())
            .await
            .context("cannot prepare the database at DATABASE_URL (DATABASE_PATH is ignored while it is set)"),
        None => open_sled(settings),
    }
}

/// The configured store for the server. PostgreSQL is migrated in the background, retried
/// until the database answers: the server starts meanwhile, and `/readyz` says it is not
/// ready.
fn open_serving_store(settings: &Settings) -> anyhow::Result<Store> {
    use secrecy::ExposeSecret;
    let store = match &settings.database_url {
        Some(url) => Store::connect_migrating(url.expose_secret())
            .context("cannot use DATABASE_URL (DATABASE_PATH is ignored while it is set)")?,
        None => open_sled(settings)?,
    };
    tracing::info!(store = %store.describe(), "store opened");
    Ok(store)
}

fn open_sled(settings: &Settings) -> anyhow::Result<Store> {
    Store::open(&settings.database_path).with_context(|| {
        format!(
            "cannot open the store at DATABASE_PATH={}",
            settings.database_path.display()
        )
    })
}
