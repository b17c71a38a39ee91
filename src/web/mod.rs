//! The HTTP layer: routes, the per-request language, and security middleware.

mod api;
mod assets;
mod body_limit;
mod debug;
mod error;
pub mod form;
mod front_door;
mod guard;
mod health;
mod pages;
pub mod paths;
mod proxy;
mod request_log;
mod signup;
mod verify;

use std::sync::Arc;

use poem::http::{HeaderMap, HeaderName, HeaderValue, header};
use poem::{EndpointExt, Request, Route, get, post};
use url::Url;

use crate::limits::HourlyLimit;
use crate::metrics::Metrics;
use std::net::{IpAddr, Ipv4Addr};

use crate::i18n::{Catalogs, Tr};
use crate::mail::Outbox;
use crate::signup::Signups;
use crate::store::Store;
pub use signup::HomePages;

/// Shared state of every handler. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub signups: Arc<Signups>,
    pub catalogs: Catalogs,
    pub store: Store,
    pub support_email: String,
    pub public_url: Url,
    /// The e-mail filter as the input's `pattern`, when it restricts anything.
    pub email_pattern: Option<String>,
    /// Set when mails are captured (`DEBUG_DONT_SEND_MAIL`): `/debug/mails` lists them.
    pub outbox: Option<Outbox>,
    /// `REVERSE_PROXY_COUNT`.
    pub trusted_proxies: usize,
    /// `RATE_LIMIT_PER_IP_PER_HOUR`, for sign-up posts (form and API).
    pub signup_limit: Arc<HourlyLimit<IpAddr>>,
    /// Ten times that, for the inline address check and `email-verification`.
    pub check_limit: Arc<HourlyLimit<IpAddr>>,
    pub metrics: Metrics,
    /// Serve `/metrics` with the pages (`METRICS_ENABLED` without `METRICS_BIND`).
    pub metrics_route: bool,
    /// The empty form, pre-rendered; see [`AppState::with_home_pages`].
    pub home_pages: Arc<HomePages>,
}

impl AppState {
    /// Renders the empty form once in every language, with links under `PUBLIC_URL`'s path.
    pub fn with_home_pages(mut self) -> Self {
        let links = paths::Links::new(self.public_url.path());
        self.home_pages = Arc::new(HomePages::render(&self, links));
        self
    }

    /// Counts a sign-up post from the request's client; `Err` is the time to wait.
    pub fn limit_signup(&self, req: &Request) -> Result<(), std::time::Duration> {
        self.signup_limit.check(&client_ip(req))
    }

    /// Counts an address check from the request's client.
    pub fn limit_check(&self, req: &Request) -> Result<(), std::time::Duration> {
        self.check_limit.check(&client_ip(req))
    }

    /// Forgets recovered rate-limit state.
    pub fn prune_limits(&self) {
        self.signup_limit.prune();
        self.check_limit.prune();
        self.signups.prune_limits();
    }

    /// The request's language: `explicit` (URL or form), the `lang` header,
    /// `Accept-Language`, then `DEFAULT_LANGUAGE`.
    pub fn tr(&self, req: &Request, explicit: Option<&str>) -> Tr {
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
        self.catalogs.negotiate(
            explicit,
            header("lang"),
            header(header::ACCEPT_LANGUAGE.as_str()),
        )
    }
}

/// `/metrics` alone, for `METRICS_BIND`: kept off the public address.
pub fn metrics_routes(state: AppState) -> impl poem::Endpoint {
    Route::new()
        .at(paths::METRICS, get(health::metrics))
        .data(state)
}

/// The client address after proxy resolution (unspecified when unknown, e.g. Unix sockets).
fn client_ip(req: &Request) -> IpAddr {
    proxy::client_info(req)
        .ip
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Largest request body accepted (the sign-up form is well under 2 KiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub use front_door::BodyLimits;

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            max_bytes: MAX_BODY_BYTES,
            read_timeout: std::time::Duration::from_secs(20),
        }
    }
}

/// Every route, behind the front door: request log, proxy resolution, same-origin check,
/// body limits, error pages, security headers.
pub fn routes(state: AppState, body_limits: BodyLimits) -> impl poem::Endpoint {
    let mut route = Route::new()
        .at(paths::HOME, get(signup::index))
        .at("/:lang", get(signup::index_in))
        .at(paths::SIGNUP, post(signup::submit).get(signup::index))
        .at(paths::CHECK_EMAIL, post(signup::check_email))
        .at("/verify/:token", get(verify::show).post(verify::confirm))
        .at(paths::HEALTHZ, get(health::healthz))
        .at(paths::READYZ, get(health::readyz))
        .at("/assets/:name", get(assets::asset))
        .at(paths::FAVICON, get(assets::favicon))
        .at(api::SPEC_PATH, api::service().spec_endpoint())
        .nest("/api/v1", api::endpoint());
    if state.metrics_route {
        route = route.at(paths::METRICS, get(health::metrics));
    }
    if state.outbox.is_some() {
        route = route.at(paths::DEBUG_MAILS, get(debug::mails));
    }
    let headers = security_headers(state.public_url.scheme() == "https");
    front_door::FrontDoor::new(route.map_to_response().boxed(), state, headers, body_limits)
}

/// Headers on every response. HSTS only when the service is reached over https, so a
/// plain-http test or DEBUG setup does not pin browsers to https.
fn security_headers(https: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
}
