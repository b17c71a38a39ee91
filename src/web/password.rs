//! `GET/POST /password` (ask for a reset link), `GET /{lang}/password`, and
//! `GET/POST /password/{token}` (the link's page, read-only, and its button). Routed only
//! when `PASSWORD_RESET_ENABLED`; otherwise these paths are not found.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Response, handler};

use super::context::RequestContext;
use super::form::{FormError, read_form};
use super::pages::password::{self, RequestView};
use super::{AppState, response};
use crate::i18n::{Tr, n_};
use crate::signup::form::Field;
use crate::signup::{FlowError, LinkError, ResetError, ResetRequestError};

/// A token is a JWT: three base64url parts. Anything else is refused before any work.
fn plausible(token: &str) -> bool {
    token.len() <= 2048
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

const ADDRESS_DAMAGED: &str = n_("The address arrived damaged. Please enter it again.");

/// The request form, as a page or (HTMX) the section alone.
fn form_page(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    status: StatusCode,
    view: &RequestView<'_>,
) -> Response {
    let page = password::request_form(tr, ctx.links(), view);
    let title = tr.t("Lost your temporary password?");
    response::html(ctx, state, tr, status, title, page)
}

fn empty_form(ctx: &RequestContext, state: &AppState) -> Response {
    let view = RequestView {
        email: "",
        error: None,
        general_error: None,
    };
    form_page(ctx, state, ctx.tr(), StatusCode::OK, &view)
}

#[handler]
pub fn index(ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    empty_form(ctx, state)
}

/// `/{lang}/password`: the page in that language (the context took it from the path).
#[handler]
pub fn index_in(
    ctx: &RequestContext,
    Path(lang): Path<String>,
    Data(state): Data<&AppState>,
) -> poem::Result<Response> {
    if state.catalogs.get(&lang).is_none() {
        return Err(poem::Error::from_status(StatusCode::NOT_FOUND));
    }
    Ok(empty_form(ctx, state))
}

#[derive(Debug, Default, serde::Deserialize)]
struct RequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    lang: Option<String>,
}

#[handler]
pub async fn request(
    ctx: &RequestContext,
    body: Body,
    Data(state): Data<&AppState>,
) -> poem::Result<Response> {
    let form: RequestForm = match read_form(body).await {
        Ok(form) => form,
        Err(FormError::Damaged(clean)) => {
            let tr = ctx.tr_with(&state.catalogs, clean.lang.as_deref());
            let view = RequestView {
                email: "",
                error: Some(tr.t(ADDRESS_DAMAGED)),
                general_error: None,
            };
            return Ok(form_page(ctx, state, &tr, StatusCode::BAD_REQUEST, &view));
        }
        Err(FormError::Unreadable(status)) => return Err(poem::Error::from_status(status)),
    };
    let tr = ctx.tr_with(&state.catalogs, form.lang.as_deref());
    let again = |status, error: Option<&str>, general_error: Option<&str>| {
        let view = RequestView {
            email: &form.email,
            error,
            general_error,
        };
        form_page(ctx, state, &tr, status, &view)
    };
    if let Err(wait) = state.limit_signup(ctx) {
        let message = super::signup::limited_message(&tr, wait, false);
        let page = again(StatusCode::TOO_MANY_REQUESTS, None, Some(&message));
        return Ok(response::with_retry_after(page, wait));
    }
    match state.signups.request_password_reset(&form.email, &tr).await {
        Ok(email) => {
            let minutes = state
                .signups
                .settings()
                .password_reset_ttl
                .unwrap_or_default()
                .as_secs()
                .div_ceil(60);
            let page = password::request_sent(&tr, ctx.links(), email.as_str(), minutes);
            let title = tr.t("Check your mailbox");
            Ok(response::html(ctx, state, &tr, StatusCode::OK, title, page))
        }
        Err(ResetRequestError::Invalid(error)) => Ok(again(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(tr.t(error.msgid(Field::Email))),
            None,
        )),
        Err(ResetRequestError::MailboxLimited(wait)) => {
            let message = super::signup::limited_message(&tr, wait, false);
            let page = again(StatusCode::TOO_MANY_REQUESTS, None, Some(&message));
            Ok(response::with_retry_after(page, wait))
        }
        Err(ResetRequestError::MailCap(wait)) => {
            let message = super::signup::limited_message(&tr, wait, true);
            let page = again(StatusCode::TOO_MANY_REQUESTS, None, Some(&message));
            Ok(response::with_retry_after(page, wait))
        }
        Err(ResetRequestError::Flow(err)) => {
            tracing::error!(error = %err, "password reset request could not be completed");
            let (message, status) = match err {
                FlowError::Mail(_) => (
                    tr.t("We could not send the mail just now. Please try again in a few minutes."),
                    StatusCode::SERVICE_UNAVAILABLE,
                ),
                _ => (
                    tr.t("Something went wrong. Please try again in a few minutes."),
                    StatusCode::INTERNAL_SERVER_ERROR,
                ),
            };
            Ok(again(status, None, Some(message)))
        }
    }
}

fn link_status(problem: LinkError) -> StatusCode {
    match problem {
        LinkError::Invalid => StatusCode::NOT_FOUND,
        LinkError::Expired | LinkError::Unknown | LinkError::Used | LinkError::AddressTaken => {
            StatusCode::GONE
        }
    }
}

fn problem(ctx: &RequestContext, state: &AppState, tr: &Tr, err: LinkError) -> Response {
    let page = password::link_problem(tr, ctx.links(), err);
    response::html(ctx, state, tr, link_status(err), tr.t("Link problem"), page)
}

/// The link's page: changes nothing.
#[handler]
pub async fn show(
    ctx: &RequestContext,
    Path(token): Path<String>,
    Data(state): Data<&AppState>,
) -> Response {
    let tr = ctx.tr();
    let outcome = if plausible(&token) {
        state.signups.inspect_reset(&token).await
    } else {
        Err(LinkError::Invalid)
    };
    match outcome {
        Ok(username) => {
            let page = password::confirm(tr, ctx.links(), &token, &username);
            let title = tr.t("Set a new temporary password");
            response::html(ctx, state, tr, StatusCode::OK, title, page)
        }
        Err(err) => problem(ctx, state, tr, err),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct ButtonForm {
    #[serde(default)]
    lang: Option<String>,
}

/// The link's button: a new temporary password.
#[handler]
pub async fn reset(
    ctx: &RequestContext,
    Path(token): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Response {
    // A damaged or doubled `lang` only costs the chosen language: the headers decide.
    let form: ButtonForm = read_form(body).await.unwrap_or_default();
    let tr = ctx.tr_with(&state.catalogs, form.lang.as_deref());
    if !plausible(&token) {
        return problem(ctx, state, &tr, LinkError::Invalid);
    }
    let not_yet = |status, mail| {
        let page = password::failed(&tr, ctx.links(), &token, mail);
        response::html(ctx, state, &tr, status, tr.t("No new password yet"), page)
    };
    match state.signups.reset_password(&token, &tr).await {
        Ok(result) => {
            let page = password::done(&tr, &result, &state.sign_in_url);
            let title = tr.t("Your new temporary password");
            response::html(ctx, state, &tr, StatusCode::OK, title, page)
        }
        Err(ResetError::Link(err)) => problem(ctx, state, &tr, err),
        Err(ResetError::Forbidden(_)) => {
            let page = password::forbidden(&tr, &state.support_email);
            let title = tr.t("Please contact support");
            response::html(ctx, state, &tr, StatusCode::FORBIDDEN, title, page)
        }
        Err(err @ ResetError::Mail(_)) => {
            tracing::error!(error = %err, "the new temporary password could not be mailed");
            not_yet(StatusCode::SERVICE_UNAVAILABLE, true)
        }
        Err(err) => {
            tracing::error!(error = %err, "no new temporary password");
            not_yet(StatusCode::SERVICE_UNAVAILABLE, false)
        }
    }
}
