//! The HTTP layer: the handlers (`signup`, `verify`, `reset`, `api`, …) and their `pages`, the one
//! renderer (`response`), each request's `context`, and the `front_door` every request
//! passes through (the accept loop, proxies, the same-origin check, body limits, the log).

mod admin;
mod api;
mod assets;
mod compress;
mod context;
mod debug;
mod encoding;
pub mod form;
pub mod front_door;
mod health;
mod keep;
mod pages;
pub mod paths;
mod refusal;
mod reset;
mod response;
mod routes;
mod signup;
mod signup_form;
mod verify;
mod voucher;

use std::sync::Arc;

use poem::http::{HeaderMap, HeaderName, HeaderValue, header};
use poem::{EndpointExt, Route, get};
use url::Url;

use crate::domain::IpRange;
use crate::i18n::Catalogs;
use crate::limits::HourlyLimit;
use crate::mail::Outbox;
use crate::metrics::Metrics;
use crate::signup::{Flow, Resets};
use crate::store::Store;
pub use admin::{Clock as ConsoleClock, Console, SeatsSource, SignInMode, SkuSeats};
pub use context::RequestContext;
pub use front_door::body_limit::{BodyLimits, MAX_BODY_BYTES};
pub use front_door::proxy::ProxyTrust;
pub use front_door::server::{ConnectionLimits, serve};
pub use keep::KeepAccounts;
use routes::{Line, RouteTable, nest, route};
pub use signup::HomePages;

/// Shared state of every handler. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The sign-up flow: the form, the link's page and its button.
    pub flow: Arc<Flow>,
    /// Password resets (routed only when enabled).
    pub resets: Arc<Resets>,
    pub catalogs: Catalogs,
    pub store: Store,
    pub support_email: String,
    /// `SIGN_IN_URL`, linked from the result page.
    pub sign_in_url: Url,
    pub public_url: Url,
    /// The e-mail filter as the input's `pattern`, when it restricts anything.
    pub email_pattern: Option<String>,
    /// Set when mails are captured (`DEBUG_DONT_SEND_MAIL`) outside PRODUCTION: `/debug/mails`
    /// lists them.
    pub outbox: Option<Outbox>,
    /// `REVERSE_PROXY_COUNT` and `TRUSTED_PROXIES`.
    pub proxies: ProxyTrust,
    /// `RATE_LIMIT_IPV6_PREFIX`: the bits of an IPv6 client's address that make it one client.
    pub ipv6_prefix: u8,
    /// `RATE_LIMIT_PER_IP_PER_HOUR`, for sign-up posts (form and API), per client network.
    pub signup_limit: Arc<HourlyLimit<IpRange>>,
    /// Ten times that, for the inline address check and `email-verification`.
    pub check_limit: Arc<HourlyLimit<IpRange>>,
    pub metrics: Metrics,
    /// Serve `/metrics` with the pages (`METRICS_ENABLED` without `METRICS_BIND`).
    pub metrics_route: bool,
    /// The empty form, pre-rendered; see [`AppState::with_home_pages`].
    pub home_pages: Arc<HomePages>,
    /// The operator console, when `ADMIN_ENABLED`.
    pub console: Option<Arc<Console>>,
    /// Re-verification links' pages (`/keep/{token}`), when the server keeps accounts.
    pub keep: Option<KeepAccounts>,
}

impl AppState {
    /// Renders the empty form once in every language, with links under `PUBLIC_URL`'s path.
    pub fn with_home_pages(mut self) -> Self {
        let links = paths::Links::new(self.public_url.path());
        self.home_pages = Arc::new(HomePages::render(&self, links));
        self
    }

    /// The password reset page in `lang` under `links`, when resets are enabled: pages
    /// link to it only then.
    pub fn reset_page(&self, links: &paths::Links, lang: &str) -> Option<String> {
        self.resets.enabled().then(|| links.password_in(lang))
    }

    /// Whether people get a Temporary Access Pass rather than a temporary password
    /// (`CREDENTIAL` = `temporary_access_pass`), so that the pages speak of a pass.
    pub fn passes(&self) -> bool {
        self.resets.settings().pass.is_some()
    }

    /// Counts a sign-up post from the request's client; `Err` is the time to wait.
    pub fn limit_signup(&self, ctx: &RequestContext) -> Result<(), std::time::Duration> {
        let checked = self.signup_limit.check(&self.client_key(ctx));
        if checked.is_err() {
            self.metrics.rate_limited("client_signups");
        }
        checked
    }

    /// Counts an address check from the request's client.
    pub fn limit_check(&self, ctx: &RequestContext) -> Result<(), std::time::Duration> {
        let checked = self.check_limit.check(&self.client_key(ctx));
        if checked.is_err() {
            self.metrics.rate_limited("client_checks");
        }
        checked
    }

    /// Who counts as one client: an IPv4 address, or an IPv6 network of `ipv6_prefix` bits
    /// (one household or machine holds a whole /64).
    fn client_key(&self, ctx: &RequestContext) -> IpRange {
        IpRange::around(ctx.client_ip(), self.ipv6_prefix)
    }

    /// Forgets recovered rate-limit state.
    pub fn prune_limits(&self) {
        self.signup_limit.prune();
        self.check_limit.prune();
        self.flow.prune_limits();
    }
}

/// `/metrics` alone, for `METRICS_BIND`: kept off the public address.
pub fn metrics_routes(state: AppState) -> impl poem::Endpoint {
    Route::new()
        .at(paths::METRICS, get(health::metrics))
        .data(state)
}

/// Every route, behind the front door: request log, proxy resolution and the request's
/// context, same-origin check, body limits, error pages, security headers.
pub fn routes(
    state: AppState,
    body_limits: BodyLimits,
) -> impl poem::Endpoint<Output = poem::Response> {
    let table = RouteTable::new(table(&state));
    let headers = security_headers(state.public_url.scheme() == "https");
    front_door::FrontDoor::new(table, state, headers, body_limits)
}

/// Every route the server answers: its pattern and its handler for each method, one line
/// each (a pattern pages or mails link to lives in `paths`). The route names in the log and
/// `Allow` follow from this list; the front door's same-origin check and body limits apply
/// to every POST whatever its route.
fn table(state: &AppState) -> Vec<Line> {
    let resets = state.resets.enabled();
    let mut lines = vec![
        route(paths::HOME).get(signup::index),
        route(paths::HOME_IN).get(signup::index_in),
        route(paths::SIGNUP).get(signup::index).post(signup::submit),
        route(paths::CHECK_EMAIL).post(signup::check_email),
        route(paths::CHECK_VOUCHER)
            .post(voucher::check_voucher)
            .when(state.flow.voucher_mode().is_on()),
        route(paths::VERIFY).get(verify::show).post(verify::confirm),
        route(paths::PASSWORD)
            .get(reset::index)
            .post(reset::request)
            .when(resets),
        route(paths::PASSWORD_IN).get(reset::index_in).when(resets),
        route(paths::PASSWORD_LINK)
            .get(reset::show)
            .post(reset::new_password)
            .when(resets),
        // Off, `/password` would be `/{lang}`: nothing there, not even a 405.
        route(paths::PASSWORD).not_found().when(!resets),
        route(paths::KEEP)
            .get(keep::show)
            .post(keep::answer)
            .when(state.keep.is_some()),
        route(paths::HEALTHZ).get(health::healthz),
        route(paths::READYZ).get(health::readyz),
        route(paths::ASSET).get(assets::asset),
        route(paths::FAVICON).get(assets::favicon),
        route(paths::METRICS)
            .get(health::metrics)
            .when(state.metrics_route),
        route(paths::DEBUG_MAILS)
            .get(debug::mails)
            .when(state.outbox.is_some()),
    ];
    lines.extend(console_table(state));
    lines.extend([
        route(paths::API_SPEC).get(api::spec_endpoint(state)),
        nest(paths::API_V1, api::endpoint(), api::routes()),
    ]);
    lines
}

/// The operator console's routes (`ADMIN_ENABLED`); with the console off none of them
/// exists, and `/admin` is not found rather than a language.
fn console_table(state: &AppState) -> Vec<Line> {
    let console = state.console.is_some();
    let debug_sign_in = state.console.as_ref().is_some_and(|c| c.debug_sign_in());
    vec![
        route(paths::ADMIN).get(admin::overview::show).when(console),
        route(paths::ADMIN_SIGN_IN)
            .get(admin::sign_in::begin)
            .when(console && !debug_sign_in),
        route(paths::ADMIN_SIGN_IN)
            .get(admin::sign_in::begin)
            .post(admin::sign_in::debug)
            .when(debug_sign_in),
        route(paths::ADMIN_CALLBACK)
            .get(admin::sign_in::callback)
            .when(console),
        route(paths::ADMIN_SIGN_OUT)
            .post(admin::sign_in::sign_out)
            .when(console),
        route(paths::ADMIN_SIGNUPS)
            .get(admin::signups::show)
            .when(console),
        route(paths::ADMIN_RETRY)
            .post(admin::signups::retry)
            .when(console),
        route(paths::ADMIN_ACCOUNTS)
            .get(admin::accounts::find)
            .when(console),
        route(paths::ADMIN_FORGET)
            .get(admin::accounts::forget_confirm)
            .post(admin::accounts::forget)
            .when(console),
        route(paths::ADMIN_EXTEND)
            .post(admin::extend::extend)
            .when(console),
        route(paths::ADMIN_VOUCHERS)
            .get(admin::vouchers::list)
            .post(admin::vouchers::create)
            .when(console),
        route(paths::ADMIN_VOUCHER_REVOKE)
            .post(admin::vouchers::revoke)
            .when(console),
        route(paths::ADMIN_VOUCHER_SHEET)
            .post(admin::vouchers::sheet)
            .when(console),
        route(paths::ADMIN_AUDIT)
            .get(admin::audit::lines)
            .when(console),
        route(paths::ADMIN_AUDIT_EXPORT)
            .get(admin::audit::export)
            .when(console),
        // Off, `/admin` would be `/{lang}`: nothing there, not even a 405.
        route(paths::ADMIN).not_found().when(!console),
    ]
}

/// The policy for a raster image (the favicon). Opened on its own, it is shown in a document
/// the browser makes and styles inline; nothing in such an image can run, so inline style is
/// allowed there and everything else refused.
const IMAGE_CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Whether a response is a raster image (not SVG, which can hold scripts).
fn is_raster_image(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("image/") && !kind.starts_with("image/svg"))
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
