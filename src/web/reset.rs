//! `GET/POST /password` (ask for a reset link), `GET /{lang}/password`, and
//! `GET/POST /password/{token}` (the link's page, read-only, and its button). Routed only
//! when `PASSWORD_RESET_ENABLED`; otherwise these paths are not found.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Response, handler};

use super::context::RequestContext;
use super::form::{FormError, read_form};
use super::pages::reset::{self as page, RequestView};
use super::paths::plausible_token;
use super::refusal::{self, ClientLimited, Refusal};
use super::{AppState, response};
use crate::domain::Mailbox;
use crate::i18n::{Tr, n_};
use crate::signup::{LinkError, ResetError, ResetRequestError};

const ADDRESS_DAMAGED: &str = n_("The address arrived damaged. Please enter it again.");

/// The request form, as a page or (HTMX) the section alone.
fn form_page(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    status: StatusCode,
    view: &RequestView<'_>,
) -> Response {
    let page = page::request_form(tr, ctx.links(), view);
    let title = page::request_title(tr, view.pass);
    response::html(ctx, state, tr, status, title, page)
}

fn empty_form(ctx: &RequestContext, state: &AppState) -> Response {
    let view = RequestView {
        email: "",
        pass: state.passes(),
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
                pass: state.passes(),
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
            pass: state.passes(),
            error,
            general_error,
        };
        form_page(ctx, state, &tr, status, &view)
    };
    if let Err(wait) = state.limit_signup(ctx) {
        let limited = ClientLimited(wait);
        let message = limited.message(&tr);
        let page = again(limited.status(), None, Some(&message));
        return Ok(refusal::answered(&limited, page));
    }
    let err = match state.resets.request(&form.email, &tr).await {
        Ok(email) => return Ok(link_sent(ctx, state, &tr, &email)),
        Err(err) => err,
    };
    let message = err.message(&tr);
    let page = match err {
        // The address's error stands next to it.
        ResetRequestError::Invalid(_) => again(err.status(), Some(&message), None),
        _ => again(err.status(), None, Some(&message)),
    };
    Ok(refusal::answered(&err, page))
}

/// The answer to a request taken, whether or not the address has an account.
fn link_sent(ctx: &RequestContext, state: &AppState, tr: &Tr, email: &Mailbox) -> Response {
    let minutes = state
        .resets
        .settings()
        .ttl
        .unwrap_or_default()
        .as_secs()
        .div_ceil(60);
    let pass = state.passes();
    let page = page::request_sent(tr, ctx.links(), email.as_str(), minutes, pass);
    let title = tr.t("Check your mailbox");
    response::html(ctx, state, tr, StatusCode::OK, title, page)
}

fn problem(ctx: &RequestContext, state: &AppState, tr: &Tr, err: LinkError) -> Response {
    let page = page::link_problem(tr, ctx.links(), err, state.passes());
    response::html(ctx, state, tr, err.status(), tr.t("Link problem"), page)
}

/// The link's page: changes nothing.
#[handler]
pub async fn show(
    ctx: &RequestContext,
    Path(token): Path<String>,
    Data(state): Data<&AppState>,
) -> Response {
    let tr = ctx.tr();
    let outcome = if plausible_token(&token) {
        state.resets.inspect(&token).await
    } else {
        Err(LinkError::Invalid)
    };
    match outcome {
        Ok(username) => {
            let pass = state.passes();
            let page = page::confirm(tr, ctx.links(), &token, &username, pass);
            let title = page::confirm_title(tr, pass);
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
pub async fn new_password(
    ctx: &RequestContext,
    Path(token): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Response {
    // A damaged or doubled `lang` only costs the chosen language: the headers decide.
    let form: ButtonForm = read_form(body).await.unwrap_or_default();
    let tr = ctx.tr_with(&state.catalogs, form.lang.as_deref());
    if !plausible_token(&token) {
        return problem(ctx, state, &tr, LinkError::Invalid);
    }
    match state.resets.reset(&token, &tr).await {
        Ok(result) => {
            let page = page::done(&tr, &result, &state.sign_in_url);
            let title = if result.pass.is_some() {
                tr.t("Your new Temporary Access Pass")
            } else {
                tr.t("Your new temporary password")
            };
            response::html(ctx, state, &tr, StatusCode::OK, title, page)
        }
        Err(ResetError::Link(err)) => problem(ctx, state, &tr, err),
        Err(err) => {
            let (title, page) = match err {
                ResetError::Forbidden(_) => (
                    tr.t("Please contact support"),
                    page::forbidden(&tr, &state.support_email, state.passes()),
                ),
                _ => {
                    let (mail, pass) = (matches!(err, ResetError::Mail(_)), state.passes());
                    let page = page::failed(&tr, ctx.links(), &token, mail, pass);
                    (page::failed_title(&tr, pass), page)
                }
            };
            let page = response::html(ctx, state, &tr, err.status(), title, page);
            refusal::answered(&err, page)
        }
    }
}
