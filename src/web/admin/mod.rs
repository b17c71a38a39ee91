//! The operator console (`ADMIN_ENABLED`, PRODUCT.md §9.3): operators sign in with
//! Microsoft (`sign_in.rs`), hold a session (`session.rs`), and see and act on the running
//! server's sign-ups, accounts, vouchers and audit log — through this process, so nothing
//! needs stopping, on sled too.
//!
//! Every action is written to the audit log ([`Granted::record`]) before it takes effect;
//! one that cannot be written is not done. Actions are POSTs (the front door's same-origin
//! check applies to each, and the session cookie is `SameSite=Strict`); GETs change
//! nothing but the language the session shows pages in. An action reads its form only
//! through [`action::Action`], which checks origin and session first.

pub(super) mod accounts;
mod action;
pub(super) mod audit;
pub(super) mod extend;
pub(super) mod overview;
mod session;
mod setup;
pub(super) mod sign_in;
pub(super) mod signups;
pub(super) mod vouchers;

use std::sync::Arc;

use poem::http::{Method, StatusCode, header};
use poem::{Request, Response};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::context::RequestContext;
use super::pages::admin as pages;
use super::{AppState, paths, response};
use crate::domain::{AuditAction, AuditActor, AuditEntry, AuditSource, SubaddressSeparator};
use crate::graph::signin::{Operator, SignInClient};
use crate::i18n::Tr;
use crate::lifecycle::Lifecycle;
use session::{Cookies, Session, Sessions};

pub use accounts::Found;
pub use audit::Filter as AuditFilter;
pub use extend::MAX_DAYS as MAX_EXTEND_DAYS;
pub use overview::{Overview, SeatsSource, SkuSeats};
pub use signups::Unfinished;

/// The time as the server's clock tells it (Unix seconds); tests move it.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// How operators sign in.
pub enum SignInMode {
    /// OpenID Connect with Microsoft Entra (every mode with a Graph connection).
    Microsoft(Arc<SignInClient>),
    /// DEBUG without a Graph connection (`DEBUG_DONT_CONNECT_TO_API`): a button signs in a
    /// made-up operator, so `MODE=debug cargo run` shows the console. Never in PRODUCTION
    /// (start-up refuses the console without Graph there).
    Debug,
}

/// The console: its sign-in, its sessions and its cookies.
pub struct Console {
    sign_in: SignInMode,
    sessions: Sessions,
    cookies: Cookies,
    clock: Clock,
    /// `{PUBLIC_URL's path}/admin/callback`, where the sign-in's cookie goes.
    callback_path: String,
    /// Licence seats for the overview, where the directory can count them.
    seats: Option<SeatsSource>,
    /// `EMAIL_SUBADDRESS_SEPARATOR`: any spelling of a mailbox finds its account.
    separator: SubaddressSeparator,
    /// The accounts' lifecycle: their ends, and extending them.
    lifecycle: Option<Lifecycle>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("debug_sign_in", &matches!(self.sign_in, SignInMode::Debug))
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

impl Console {
    /// The console at `public_url`, its cookies keyed by `secret` (`JWT_SECRET_KEY`).
    pub fn new(
        sign_in: SignInMode,
        secret: &SecretString,
        public_url: &Url,
        clock: Clock,
        separator: SubaddressSeparator,
    ) -> Self {
        let https = public_url.scheme() == "https";
        if !https {
            tracing::warn!(
                public_url = %public_url,
                "the operator console is served over plain http: its session cookie cannot be Secure, and Microsoft Entra accepts an http redirect URI only for localhost; use https"
            );
        }
        let links = paths::Links::new(public_url.path());
        Console {
            sign_in,
            sessions: Sessions::default(),
            cookies: Cookies::new(
                secret.expose_secret().as_bytes(),
                https,
                links.path(paths::ADMIN),
            ),
            clock,
            callback_path: links.path(paths::ADMIN_CALLBACK),
            seats: None,
            separator,
            lifecycle: None,
        }
    }

    /// Shows licence seats on the overview, read from `seats`.
    pub fn with_seats(mut self, seats: SeatsSource) -> Self {
        self.seats = Some(seats);
        self
    }

    /// Shows accounts' ends, and extends them, through `lifecycle`.
    pub fn with_lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = Some(lifecycle);
        self
    }

    fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Whether the debug sign-in is on (DEBUG without Graph).
    pub fn debug_sign_in(&self) -> bool {
        matches!(self.sign_in, SignInMode::Debug)
    }

    /// Sessions kept now (tests and the log).
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }
}

/// A request by a signed-in operator: the console, the session, the page language.
pub(super) struct Granted {
    pub console: Arc<Console>,
    pub session: Arc<Session>,
    pub tr: Tr,
}

impl Granted {
    /// The operator's request, or the answer for anyone else: a page asks them to sign in
    /// (the sign-in begins), an action is refused (the session has ended).
    pub async fn check(
        req: &Request,
        ctx: &RequestContext,
        state: &AppState,
    ) -> Result<Granted, Response> {
        let Some(console) = state.console.clone() else {
            return Err(response::error(ctx, state, StatusCode::NOT_FOUND));
        };
        let now = console.now();
        let session = console
            .cookies
            .session_id(req.headers())
            .and_then(|id| console.sessions.get(&id, now));
        let Some(session) = session else {
            return Err(if *req.method() == Method::GET {
                sign_in::start(ctx, state, &console)
            } else {
                pages_answer(ctx, state, ctx.tr(), StatusCode::FORBIDDEN, |tr, links| {
                    pages::session_ended(tr, links)
                })
            });
        };
        if ctx.language_source() == crate::i18n::LanguageSource::Chosen {
            session.choose_lang(ctx.tr().lang());
        }
        let tr = ctx.tr_preferring(&state.catalogs, session.lang().as_deref());
        Ok(Granted {
            console,
            session,
            tr,
        })
    }

    /// Who the operator is, as the audit log names them.
    pub fn actor(&self) -> AuditActor {
        actor(&self.session.operator)
    }

    /// Writes the audit line of `action` before it takes effect. `Err` is the answer when
    /// it cannot be written: then the action must not be done.
    pub async fn record(
        &self,
        ctx: &RequestContext,
        state: &AppState,
        action: AuditAction,
        subject: Option<String>,
        detail: Option<String>,
    ) -> Result<(), Response> {
        let entry = entry(&self.session.operator, ctx, self.console.now(), action);
        let entry = AuditEntry {
            subject,
            detail,
            ..entry
        };
        write(ctx, state, &self.tr, &entry).await
    }

    /// A console page: the operator's navigation around `content`, as a page or, for HTMX,
    /// the console's region alone.
    pub fn page(
        &self,
        ctx: &RequestContext,
        state: &AppState,
        section: pages::Section,
        title: &str,
        content: maud::Markup,
    ) -> Response {
        let region = pages::console(
            &self.tr,
            ctx.links(),
            section,
            &self.session.operator,
            content,
        );
        response::html(ctx, state, &self.tr, StatusCode::OK, title, region)
    }
}

/// An audit line about `operator`, from the request's client, now.
fn entry(operator: &Operator, ctx: &RequestContext, at: u64, action: AuditAction) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at,
        actor: actor(operator),
        action,
        subject: None,
        detail: None,
        client: ctx.client.ip.map(|ip| ip.to_string()),
    }
}

/// `operator` in the console, as the audit log names them.
fn actor(operator: &Operator) -> AuditActor {
    AuditActor {
        upn: operator.upn.clone(),
        object_id: Some(operator.object_id.clone()),
        source: AuditSource::Console,
    }
}

/// Writes `entry`; the answer when the store refuses it.
async fn write(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    entry: &AuditEntry,
) -> Result<(), Response> {
    match state.store.append_audit(entry).await {
        Ok(_) => Ok(()),
        Err(err) => {
            tracing::error!(error = %err, action = %entry.action, "cannot write the audit line; the action was not done");
            Err(pages_answer(
                ctx,
                state,
                tr,
                StatusCode::SERVICE_UNAVAILABLE,
                pages::not_recorded,
            ))
        }
    }
}

/// A page of the console outside a session (sign-in, refusals), in the console's region.
fn pages_answer(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    status: StatusCode,
    panel: impl FnOnce(&Tr, &paths::Links) -> (String, maud::Markup),
) -> Response {
    let (title, markup) = panel(tr, ctx.links());
    let mut answer = response::html(ctx, state, tr, status, &title, markup);
    if ctx.htmx && !status.is_success() {
        let headers = answer.headers_mut();
        headers.insert("hx-retarget", header::HeaderValue::from_static("#console"));
        headers.insert("hx-reswap", header::HeaderValue::from_static("outerHTML"));
    }
    answer
}
