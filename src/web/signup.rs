//! `GET /`, `GET /{lang}`, `POST /signup` and the inline address check.

use std::collections::HashMap;

use bytes::Bytes;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use super::context::RequestContext;
use super::encoding::{self, Precompressed};
use super::form::{FormError, read_form};
use super::pages::layout;
use super::pages::signup::{
    FormView, check_mailbox, email_status, email_status_message, form, intro,
};
use super::paths::{Links, SwitchTo};
use super::{AppState, response};
use crate::i18n::{Tr, n_};
use crate::signup::form::{Field, FieldErrors, SignupForm};
use crate::signup::{FlowError, SubmitError};

/// The sign-up form: the fragment for HTMX, the whole page with the introduction otherwise.
fn render_home(
    state: &AppState,
    tr: &Tr,
    links: &Links,
    htmx: bool,
    view: &FormView<'_>,
) -> maud::Markup {
    let fragment = form(tr, links, view);
    if htmx {
        return fragment;
    }
    let reset_page = state.reset_page(links, tr.lang());
    let content =
        maud::html! { (intro(tr, &state.support_email, reset_page.as_deref())) (fragment) };
    let title = tr.t("Sign up");
    layout::page(tr, &state.catalogs, links, &SwitchTo::Home, title, content)
}

fn signup_page(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    status: StatusCode,
    view: &FormView<'_>,
) -> Response {
    let markup = render_home(state, tr, ctx.links(), ctx.htmx, view);
    response::html_body(status, markup.into_string().into())
}

fn empty_view(state: &AppState) -> FormView<'_> {
    static NOTHING_ENTERED: SignupForm = SignupForm::EMPTY;
    static NO_ERRORS: FieldErrors = FieldErrors::NONE;
    FormView {
        values: &NOTHING_ENTERED,
        errors: &NO_ERRORS,
        email_ok: false,
        general_error: None,
        pattern: state.email_pattern.as_deref(),
    }
}

fn empty_form(ctx: &RequestContext, state: &AppState, req: &Request) -> Response {
    let tr = ctx.tr();
    match state.home_pages.get(tr.lang(), ctx.htmx, ctx.links()) {
        Some(page) => {
            let (encoding, body) = page.pick(encoding::accepted(req.headers()));
            response::html_encoded(StatusCode::OK, encoding, body)
        }
        None => signup_page(ctx, state, tr, StatusCode::OK, &empty_view(state)),
    }
}

/// The empty sign-up form in every language, as page and as HTMX fragment, rendered once: it
/// is what nearly every visitor asks for, and nothing else in the request changes it. Rendered
/// per request, it cost more CPU than everything hyper does for the request; compressed per
/// request, far more again, so the brotli and gzip forms are made here too.
#[derive(Default)]
pub struct HomePages {
    /// The links the pages were rendered with; a request under another prefix (a proxy's
    /// `X-Forwarded-Prefix`) gets a fresh rendering.
    links: Links,
    /// By language code, then page (`false`) or fragment (`true`).
    pages: HashMap<String, [Precompressed; 2]>,
}

impl HomePages {
    pub fn render(state: &AppState, links: Links) -> Self {
        let view = empty_view(state);
        let pages = state
            .catalogs
            .all()
            .map(|tr| {
                let page = |htmx| {
                    let html = render_home(state, &tr, &links, htmx, &view).into_string();
                    Precompressed::new(Bytes::from(html))
                };
                (tr.lang().to_owned(), [page(false), page(true)])
            })
            .collect();
        HomePages { links, pages }
    }

    /// The stored forms, when the request matches what was rendered.
    pub(super) fn get(&self, lang: &str, htmx: bool, links: &Links) -> Option<&Precompressed> {
        if *links != self.links {
            return None;
        }
        self.pages.get(lang).map(|pages| &pages[usize::from(htmx)])
    }
}

#[handler]
pub fn index(ctx: &RequestContext, Data(state): Data<&AppState>, req: &Request) -> Response {
    empty_form(ctx, state, req)
}

/// `/{lang}`: the page in that language (the context took it from the path); other
/// one-segment paths are not found.
#[handler]
pub fn index_in(
    ctx: &RequestContext,
    Path(lang): Path<String>,
    Data(state): Data<&AppState>,
    req: &Request,
) -> poem::Result<Response> {
    if state.catalogs.get(&lang).is_none() {
        return Err(poem::Error::from_status(StatusCode::NOT_FOUND));
    }
    Ok(empty_form(ctx, state, req))
}

/// Shown when a field arrived damaged (bad `%` escape, not UTF-8): nothing is judged or stored.
const FORM_DAMAGED: &str = n_(
    "The form arrived damaged, so nothing was done. Please check your entries and send it again.",
);
/// The 429 message of a limit: the per-client and per-mailbox limits ("too many attempts"),
/// or `RATE_LIMIT_MAILS_PER_HOUR`, which is nobody's fault, with the minutes in the plural
/// form the language needs.
pub(super) fn limited_message(tr: &Tr, wait: std::time::Duration, mail_cap: bool) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    if mail_cap {
        // Translators: {count} is a number of minutes, at least 1.
        tr.nf(
            "So many people are signing up just now that we have paused sending mails. Please try again in {count} minute.",
            "So many people are signing up just now that we have paused sending mails. Please try again in {count} minutes.",
            minutes,
            &[],
        )
    } else {
        // Translators: {count} is a number of minutes, at least 1.
        tr.nf(
            "Too many attempts. Please try again in {count} minute.",
            "Too many attempts. Please try again in {count} minutes.",
            minutes,
            &[],
        )
    }
}
/// The inline check's variant of [`FORM_DAMAGED`].
const ADDRESS_DAMAGED: &str = n_("The address arrived damaged. Please enter it again.");

/// The form again, with the values as entered and what is wrong.
async fn form_again(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    values: &SignupForm,
    errors: &FieldErrors,
    general_error: Option<String>,
    status: StatusCode,
) -> Response {
    let email_ok = errors.get(Field::Email).is_none()
        && matches!(state.signups.check_email(&values.email).await, Ok(Ok(_)));
    let view = FormView {
        values,
        errors,
        email_ok,
        general_error,
        pattern: state.email_pattern.as_deref(),
    };
    signup_page(ctx, state, tr, status, &view)
}

#[handler]
pub async fn submit(
    ctx: &RequestContext,
    body: Body,
    Data(state): Data<&AppState>,
) -> poem::Result<Response> {
    let values: SignupForm = match read_form(body).await {
        Ok(values) => values,
        Err(FormError::Damaged(clean)) => {
            let tr = ctx.tr_with(&state.catalogs, clean.lang.as_deref());
            let message = Some(tr.t(FORM_DAMAGED).to_owned());
            let (errors, status) = (FieldErrors::default(), StatusCode::BAD_REQUEST);
            return Ok(form_again(ctx, state, &tr, &clean, &errors, message, status).await);
        }
        Err(FormError::Unreadable(status)) => return Err(poem::Error::from_status(status)),
    };
    let tr = ctx.tr_with(&state.catalogs, values.lang.as_deref());
    let failure = |errors: FieldErrors, general_error: Option<String>, status: StatusCode| {
        let (tr, values) = (&tr, &values);
        async move { form_again(ctx, state, tr, values, &errors, general_error, status).await }
    };
    let limited = state.limit_signup(ctx).err().map(SubmitError::RateLimited);
    let outcome = match limited {
        Some(limited) => Err(limited),
        None => state.signups.submit(&values, &tr).await,
    };
    match outcome {
        Ok(email) => {
            let hours = state.signups.settings().token_ttl.as_secs().div_ceil(3600);
            let answer = check_mailbox(&tr, ctx.links(), email.as_str(), hours);
            // As a page, the answer stands where the form stood, under the same heading.
            let content = if ctx.htmx {
                answer
            } else {
                let reset_page = state.reset_page(ctx.links(), tr.lang());
                maud::html! { (intro(&tr, &state.support_email, reset_page.as_deref())) (answer) }
            };
            Ok(response::html(
                ctx,
                state,
                &tr,
                StatusCode::OK,
                tr.t("Check your mailbox"),
                content,
            ))
        }
        Err(SubmitError::Invalid(errors)) => {
            Ok(failure(errors, None, StatusCode::UNPROCESSABLE_ENTITY).await)
        }
        Err(SubmitError::RateLimited(wait) | SubmitError::MailCap(wait)) => {
            let message =
                limited_message(&tr, wait, matches!(outcome, Err(SubmitError::MailCap(_))));
            let page = failure(
                FieldErrors::default(),
                Some(message),
                StatusCode::TOO_MANY_REQUESTS,
            );
            Ok(response::with_retry_after(page.await, wait))
        }
        Err(SubmitError::MailboxLimited {
            wait,
            link_valid_for,
        }) => {
            let message = link_already_sent(&tr, wait, link_valid_for);
            let page = failure(
                FieldErrors::default(),
                Some(message),
                StatusCode::TOO_MANY_REQUESTS,
            );
            Ok(response::with_retry_after(page.await, wait))
        }
        Err(SubmitError::Flow(err)) => {
            tracing::error!(error = %err, "sign-up could not be completed");
            let (message, status) = match err {
                FlowError::Mail(_) => (tr.t("We could not send the confirmation mail just now. Please try again in a few minutes."), StatusCode::SERVICE_UNAVAILABLE),
                _ => (tr.t("Your sign-up could not be saved just now. Please try again in a few minutes."), StatusCode::INTERNAL_SERVER_ERROR),
            };
            Ok(failure(FieldErrors::default(), Some(message.to_owned()), status).await)
        }
    }
}

/// The mailbox limit is reached: the links already sent still work, so say so, and for how
/// long the newest does.
pub(super) fn link_already_sent(
    tr: &Tr,
    wait: std::time::Duration,
    link_valid_for: std::time::Duration,
) -> String {
    let hours = link_valid_for.as_secs().div_ceil(3600).max(1);
    let minutes = wait.as_secs().div_ceil(60).max(1);
    // Translators: {count} is the number of hours the link already sent stays valid.
    let valid = tr.nf(
        "A confirmation link has already been sent to this address and stays valid for {count} more hour: please use it.",
        "A confirmation link has already been sent to this address and stays valid for {count} more hours: please use it.",
        hours,
        &[],
    );
    // Translators: {count} is a number of minutes, at least 1.
    let again = tr.nf(
        "You can ask for another link in {count} minute.",
        "You can ask for another link in {count} minutes.",
        minutes,
        &[],
    );
    format!("{valid} {again}")
}

#[derive(Debug, Default, serde::Deserialize)]
struct EmailOnly {
    #[serde(default)]
    email: String,
    #[serde(default)]
    lang: Option<String>,
}

/// The inline check: the status line under the e-mail input.
#[handler]
pub async fn check_email(
    ctx: &RequestContext,
    body: Body,
    Data(state): Data<&AppState>,
) -> poem::Result<Response> {
    let form: EmailOnly = match read_form(body).await {
        Ok(form) => form,
        Err(FormError::Damaged(clean)) => {
            let tr = ctx.tr_with(&state.catalogs, clean.lang.as_deref());
            let status_line = email_status_message(tr.t(ADDRESS_DAMAGED));
            return Ok(response::html(
                ctx,
                state,
                &tr,
                StatusCode::BAD_REQUEST,
                "",
                status_line,
            ));
        }
        Err(FormError::Unreadable(status)) => return Err(poem::Error::from_status(status)),
    };
    let tr = ctx.tr_with(&state.catalogs, form.lang.as_deref());
    if let Err(wait) = state.limit_check(ctx) {
        return Ok(response::too_many(ctx, state, wait));
    }
    if !ctx.htmx {
        return Ok(checked_form_page(ctx, state, &tr, form).await);
    }
    if form.email.trim().is_empty() {
        return Ok(response::html(
            ctx,
            state,
            &tr,
            StatusCode::OK,
            "",
            email_status(&tr, None, false),
        ));
    }
    let fragment = match state.signups.check_email(&form.email).await {
        Ok(Ok(_)) => email_status(&tr, None, true),
        Ok(Err(error)) => email_status(&tr, Some(error), false),
        Err(err) => {
            tracing::error!(error = %err, "address check failed");
            return Err(poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR));
        }
    };
    Ok(response::html(
        ctx,
        state,
        &tr,
        StatusCode::OK,
        "",
        fragment,
    ))
}

/// The inline check asked for without HTMX (a script, or a browser replaying the request):
/// the whole sign-up page, with the address as entered and what the check found.
async fn checked_form_page(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    form: EmailOnly,
) -> Response {
    let values = SignupForm {
        email: form.email,
        lang: form.lang,
        ..SignupForm::EMPTY
    };
    let mut errors = FieldErrors::default();
    if !values.email.trim().is_empty() {
        // A store failure shows as an address not confirmed, as the HTMX path's 500 would.
        if let Ok(Err(error)) = state.signups.check_email(&values.email).await {
            errors.add(Field::Email, error);
        }
    }
    form_again(ctx, state, tr, &values, &errors, None, StatusCode::OK).await
}
