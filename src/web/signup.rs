//! `GET /`, `GET /{lang}`, `POST /signup` and the inline address check.

use std::collections::HashMap;

use bytes::Bytes;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use super::context::RequestContext;
use super::encoding::{self, Precompressed};
use super::form::{FormError, read_form};
use super::pages::signup::{FormView, check_mailbox, email_status, email_status_message, intro};
use super::paths::Links;
use super::refusal::{self, CheckFailed, ClientLimited, Refusal};
use super::signup_form::{form_again, form_as_sent, render_home, signup_page};
use super::{AppState, response, signup_form, voucher};
use crate::domain::Mailbox;
use crate::i18n::{Tr, n_};
use crate::signup::SubmitError;
use crate::signup::form::{Field, FieldErrors, SignupForm};

fn empty_view(state: &AppState) -> FormView<'_> {
    static NOTHING_ENTERED: SignupForm = SignupForm::EMPTY;
    static NO_ERRORS: FieldErrors = FieldErrors::NONE;
    FormView {
        values: &NOTHING_ENTERED,
        errors: &NO_ERRORS,
        email_ok: false,
        general_error: None,
        pattern: state.email_pattern.as_deref(),
        vouchers: state.flow.voucher_mode(),
        voucher_ok: false,
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
/// request, far more again, so the brotli and gzip forms are made once too, by
/// [`HomePages::compress`] once the server answers: made at start-up, brotli alone was 73 % of
/// the instructions before the first answer (callgrind, bench/results.md).
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

    /// Makes the compressed forms of every page (tens of milliseconds of CPU); until then
    /// the pages go out uncompressed.
    pub fn compress(&self) {
        for page in self.pages.values().flatten() {
            page.compress();
        }
    }

    /// The stored forms, when the request matches what was rendered.
    pub(super) fn get(&self, lang: &str, htmx: bool, links: &Links) -> Option<&Precompressed> {
        if *links != self.links {
            return None;
        }
        self.pages.get(lang).map(|pages| &pages[usize::from(htmx)])
    }
}

/// `/`: the stored empty form, or with a voucher's link (`?voucher=CODE`) the form with the
/// voucher filled in.
#[handler]
pub async fn index(ctx: &RequestContext, Data(state): Data<&AppState>, req: &Request) -> Response {
    match voucher::linked_code(state, req) {
        Some(code) => voucher::prefilled(ctx, state, code).await,
        None => empty_form(ctx, state, req),
    }
}

/// `/{lang}`: the page in that language (the context took it from the path); other
/// one-segment paths are not found.
#[handler]
pub async fn index_in(
    ctx: &RequestContext,
    Path(lang): Path<String>,
    Data(state): Data<&AppState>,
    req: &Request,
) -> poem::Result<Response> {
    if state.catalogs.get(&lang).is_none() {
        return Err(poem::Error::from_status(StatusCode::NOT_FOUND));
    }
    Ok(match voucher::linked_code(state, req) {
        Some(code) => voucher::prefilled(ctx, state, code).await,
        None => empty_form(ctx, state, req),
    })
}

/// Shown when a field arrived damaged (bad `%` escape, not UTF-8): nothing is judged or stored.
const FORM_DAMAGED: &str = n_(
    "The form arrived damaged, so nothing was done. Please check your entries and send it again.",
);
/// The inline check's variant of [`FORM_DAMAGED`].
const ADDRESS_DAMAGED: &str = n_("The address arrived damaged. Please enter it again.");

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
            let status = StatusCode::BAD_REQUEST;
            return Ok(form_as_sent(ctx, state, &tr, &clean, message, status));
        }
        Err(FormError::Unreadable(status)) => return Err(poem::Error::from_status(status)),
    };
    let tr = ctx.tr_with(&state.catalogs, values.lang.as_deref());
    let outcome = match state.limit_signup(ctx) {
        Err(wait) => Err(SubmitError::RateLimited(wait)),
        Ok(()) => state.flow.submit(&values, &tr).await,
    };
    let err = match outcome {
        Ok(email) => return Ok(mail_sent(ctx, state, &tr, &email)),
        Err(err) => err,
    };
    let status = err.status();
    Ok(match &err {
        // Each field's error stands next to it.
        SubmitError::Invalid(errors) => {
            form_again(ctx, state, &tr, &values, errors, None, status).await
        }
        SubmitError::RateLimited(_) => {
            let page = form_as_sent(ctx, state, &tr, &values, Some(err.message(&tr)), status);
            refusal::answered(&err, page)
        }
        _ => {
            let (no_field_errors, message) = (FieldErrors::default(), Some(err.message(&tr)));
            let page = form_again(ctx, state, &tr, &values, &no_field_errors, message, status);
            let page = page.await;
            refusal::answered(&err, page)
        }
    })
}

/// The answer to a sign-up taken: check your mailbox. As a page, it stands where the form
/// stood, under the same heading.
fn mail_sent(ctx: &RequestContext, state: &AppState, tr: &Tr, email: &Mailbox) -> Response {
    let hours = state.flow.settings().token_ttl.as_secs().div_ceil(3600);
    let answer = check_mailbox(tr, ctx.links(), email.as_str(), hours);
    let content = if ctx.htmx {
        answer
    } else {
        let reset_page = state.reset_page(ctx.links(), tr.lang());
        maud::html! { (intro(tr, &state.support_email, reset_page.as_deref(), state.passes())) (answer) }
    };
    response::html(
        ctx,
        state,
        tr,
        StatusCode::OK,
        tr.t("Check your mailbox"),
        content,
    )
}

#[derive(Debug, Default, serde::Deserialize)]
struct EmailOnly {
    #[serde(default)]
    email: String,
    #[serde(default)]
    lang: Option<String>,
    /// The form's voucher field (HTMX sends the whole form): its filter judges the address.
    #[serde(default)]
    voucher: String,
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
        let limited = ClientLimited(wait);
        let page = response::error(ctx, state, limited.status());
        return Ok(refusal::answered(&limited, page));
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
    let voucher = signup_form::admitted(state, &form.voucher).await;
    let filter = state.flow.filter_for(voucher.as_ref());
    let fragment = match state.flow.check_email_under(&form.email, &filter).await {
        Ok(Ok(_)) => email_status(&tr, None, true),
        Ok(Err(error)) => email_status(&tr, Some(error), false),
        Err(err) => {
            let failed = CheckFailed(err);
            refusal::log(&failed);
            return Err(poem::Error::from_status(failed.status()));
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
        voucher: form.voucher,
        ..SignupForm::EMPTY
    };
    let mut errors = FieldErrors::default();
    if !values.email.trim().is_empty() {
        let voucher = signup_form::admitted(state, &values.voucher).await;
        let filter = state.flow.filter_for(voucher.as_ref());
        // A store failure shows as an address not confirmed, as the HTMX path's 500 would.
        if let Ok(Err(error)) = state.flow.check_email_under(&values.email, &filter).await {
            errors.add(Field::Email, error);
        }
    }
    form_again(ctx, state, tr, &values, &errors, None, StatusCode::OK).await
}
