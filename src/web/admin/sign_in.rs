//! Signing in and out: `GET /admin/sign-in` (and any console page without a session) sends
//! the browser to Microsoft, `GET /admin/callback` completes the sign-in, `POST
//! /admin/sign-out` ends the session here and in the browser.
//!
//! The callback answers with a page of our own (which moves on to the overview by itself)
//! rather than a redirect: it comes at the end of a cross-site chain of redirects that
//! began at Microsoft, and a browser does not send a `SameSite=Strict` cookie on any
//! request of that chain — the session cookie it has just set would be missing on the
//! overview, which would send the browser to Microsoft again. From our own page the next
//! navigation is same-site.

use poem::http::{HeaderName, HeaderValue, StatusCode, header};
use poem::web::Data;
use poem::{Request, Response, handler};
use tracing::Level;

use super::action::{Action, NoFields};
use super::{Console, SignInMode, entry, pages, pages_answer, write};
use crate::domain::AuditAction;
use crate::graph::signin::{Callback, Operator, SignInError};
use crate::i18n::{Tr, n_};
use crate::web::context::RequestContext;
use crate::web::refusal::{self, Refusal};
use crate::web::{AppState, paths, response};

/// `GET /admin/sign-in`: to Microsoft (DEBUG without Graph: the debug sign-in's page).
#[handler]
pub async fn begin(ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    match state.console.clone() {
        Some(console) => start(ctx, state, &console),
        None => response::error(ctx, state, StatusCode::NOT_FOUND),
    }
}

/// Begins a sign-in: the browser goes to Microsoft carrying the sign-in's `state`, which
/// its Lax cookie brings back to the callback.
pub(super) fn start(ctx: &RequestContext, state: &AppState, console: &Console) -> Response {
    let client = match &console.sign_in {
        SignInMode::Microsoft(client) => client,
        SignInMode::Debug => {
            return pages_answer(ctx, state, ctx.tr(), StatusCode::OK, pages::debug_sign_in);
        }
    };
    match client.begin() {
        Ok(started) => {
            let location = HeaderValue::from_str(started.authorize_url.as_str())
                .expect("a URL is header text");
            let cookie = console
                .cookies
                .sign_in_state(&started.state, &console.callback_path);
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, location)
                .header(header::SET_COOKIE, cookie)
                .header(header::CACHE_CONTROL, "no-store")
                .finish()
        }
        Err(err) => failed(ctx, state, err),
    }
}

/// `GET /admin/callback`: Microsoft's answer. A member gets a session; anyone else a page
/// that says why, and a refused member of the tenant a line in the audit log.
#[handler]
pub async fn callback(
    req: &Request,
    ctx: &RequestContext,
    Data(state): Data<&AppState>,
) -> Response {
    let Some(console) = state.console.clone() else {
        return response::error(ctx, state, StatusCode::NOT_FOUND);
    };
    let SignInMode::Microsoft(client) = &console.sign_in else {
        return response::error(ctx, state, StatusCode::NOT_FOUND);
    };
    // A query that does not parse is a callback without code or state: refused below.
    let callback: Callback = req.params().unwrap_or_default();
    let browser_state = console.cookies.state(req.headers());
    let mut answer = match client.complete(&callback, browser_state.as_deref()).await {
        Ok(operator) => signed_in(ctx, state, &console, operator).await,
        Err(SignInError::NotMember(operator)) => not_member(ctx, state, &console, operator).await,
        Err(err) => failed(ctx, state, err),
    };
    // Whatever came of it, this sign-in is over.
    let removed = console
        .cookies
        .sign_in_state_removed(&console.callback_path);
    answer.headers_mut().append(header::SET_COOKIE, removed);
    answer
}

/// `POST /admin/sign-in`, routed in DEBUG without Graph only: signs in a made-up operator.
#[handler]
pub async fn debug(ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    let Some(console) = state
        .console
        .clone()
        .filter(|console| console.debug_sign_in())
    else {
        return response::error(ctx, state, StatusCode::NOT_FOUND);
    };
    let operator = Operator {
        upn: "debug.operator@localhost".into(),
        object_id: "00000000-0000-0000-0000-000000000000".into(),
        display_name: "DEBUG operator".into(),
    };
    signed_in(ctx, state, &console, operator).await
}

/// `POST /admin/sign-out`: the session ends here (its cookie opens nothing any more) and
/// the browser drops the cookie.
#[handler]
pub async fn sign_out(
    ctx: &RequestContext,
    Data(state): Data<&AppState>,
    action: Action<NoFields>,
) -> Response {
    let granted = match action {
        Action::Granted(granted, NoFields {}) => granted,
        Action::Refused(answer) => return answer,
    };
    if let Err(answer) = granted
        .record(ctx, state, AuditAction::SignOut, None, None)
        .await
    {
        return answer;
    }
    granted.console.sessions.end(&granted.session);
    let mut answer = pages_answer(ctx, state, &granted.tr, StatusCode::OK, pages::signed_out);
    answer.headers_mut().append(
        header::SET_COOKIE,
        granted.console.cookies.session_removed(),
    );
    answer
}

/// The session begins, once its audit line is written, with a page of our own.
async fn signed_in(
    ctx: &RequestContext,
    state: &AppState,
    console: &Console,
    operator: Operator,
) -> Response {
    let now = console.now();
    let line = entry(&operator, ctx, now, AuditAction::SignIn);
    if let Err(answer) = write(ctx, state, ctx.tr(), &line).await {
        return answer;
    }
    tracing::info!(operator = %operator.upn, "an operator signed in to the console");
    let session = match console.sessions.start(operator, now) {
        Ok(session) => session,
        Err(err) => {
            tracing::error!(error = %err, "cannot start a console session");
            return response::error(ctx, state, StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let mut answer = pages_answer(ctx, state, ctx.tr(), StatusCode::OK, |tr, links| {
        pages::signed_in(tr, links, &session.operator)
    });
    let headers = answer.headers_mut();
    headers.append(header::SET_COOKIE, console.cookies.session(&session, now));
    // On from our own page: a same-site navigation, which carries the Strict cookie.
    let overview = format!("0; url={}", ctx.links().admin(paths::ADMIN));
    if let Ok(refresh) = HeaderValue::from_str(&overview) {
        headers.insert(HeaderName::from_static("refresh"), refresh);
    }
    answer
}

/// Someone of the tenant outside the operators' groups: recorded, and told so.
async fn not_member(
    ctx: &RequestContext,
    state: &AppState,
    console: &Console,
    operator: Operator,
) -> Response {
    let line = entry(&operator, ctx, console.now(), AuditAction::SignInRefused);
    if let Err(answer) = write(ctx, state, ctx.tr(), &line).await {
        return answer;
    }
    tracing::warn!(operator = %operator.upn, object_id = %operator.object_id, "console sign-in refused: in none of the ADMIN_GROUP_IDS groups");
    pages_answer(ctx, state, ctx.tr(), StatusCode::FORBIDDEN, |tr, links| {
        pages::not_member(tr, links, &operator)
    })
}

/// A sign-in that gave nobody: the reason in the log, a page to start again.
fn failed(ctx: &RequestContext, state: &AppState, err: SignInError) -> Response {
    let status = Refusal::status(&err);
    let message = err.message(ctx.tr());
    let answer = pages_answer(ctx, state, ctx.tr(), status, |tr, links| {
        pages::sign_in_failed(tr, links, &message)
    });
    refusal::answered(&err, answer)
}

impl Refusal for SignInError {
    fn status(&self) -> StatusCode {
        StatusCode::from_u16(SignInError::status(self)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn message(&self, tr: &Tr) -> String {
        let text = match self {
            SignInError::NotMember(_) => {
                n_("Your account is in none of the groups allowed to use the console.")
            }
            SignInError::UnknownState | SignInError::StateMismatch => {
                n_("This sign-in has expired or was completed already. Please sign in again.")
            }
            SignInError::Provider { .. } => {
                n_("Microsoft did not complete the sign-in. Please sign in again.")
            }
            SignInError::BadToken(_) | SignInError::Refused { .. } => {
                n_("The sign-in could not be verified. Please sign in again.")
            }
            SignInError::Unavailable(_) => {
                n_("Microsoft could not be reached just now. Please try again in a few minutes.")
            }
            SignInError::Internal(_) => {
                n_("Something went wrong. Please try again in a few minutes.")
            }
        };
        tr.t(text).to_owned()
    }

    fn log_line(&self) -> Option<(Level, &'static str)> {
        Some(match self {
            // Someone else's link, or one opened twice: nothing to fix.
            SignInError::UnknownState | SignInError::StateMismatch => {
                (Level::INFO, "console sign-in refused")
            }
            SignInError::NotMember(_) | SignInError::BadToken(_) => {
                (Level::WARN, "console sign-in refused")
            }
            SignInError::Provider { .. } | SignInError::Refused { .. } => {
                (Level::WARN, "console sign-in not completed")
            }
            SignInError::Unavailable(_) | SignInError::Internal(_) => {
                (Level::ERROR, "console sign-in failed")
            }
        })
    }
}
