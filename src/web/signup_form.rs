//! The sign-up form as a page or an HTMX fragment: empty, or again with the values as
//! entered and what is wrong; and what a voucher entered changes in it (the address filter
//! and its `pattern` hint). Shared by the sign-up handlers and the voucher's.

use std::borrow::Cow;

use poem::Response;
use poem::http::StatusCode;

use super::context::RequestContext;
use super::pages::layout;
use super::pages::signup::{FormView, form, intro};
use super::paths::{Links, SwitchTo};
use super::{AppState, response};
use crate::i18n::Tr;
use crate::signup::form::{Field, FieldErrors, SignupForm};
use crate::store::Voucher;

/// The sign-up form: the fragment for HTMX, the whole page with the introduction otherwise.
pub(super) fn render_home(
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
    let content = maud::html! {
        (intro(tr, &state.support_email, reset_page.as_deref(), state.passes())) (fragment)
    };
    let title = tr.t("Sign up");
    layout::page(tr, &state.catalogs, links, &SwitchTo::Home, title, content)
}

pub(super) fn signup_page(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    status: StatusCode,
    view: &FormView<'_>,
) -> Response {
    let markup = render_home(state, tr, ctx.links(), ctx.htmx, view);
    response::html_body(status, markup.into_string().into())
}

/// The form again, with the values as entered and what is wrong; the address is judged
/// and hinted at by the filter of the voucher entered, if it admits the person. Only for a
/// request the client's rate limit let through: the page tells a right voucher from a wrong
/// one, and a free address from a taken one.
pub(super) async fn form_again(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    values: &SignupForm,
    errors: &FieldErrors,
    general_error: Option<String>,
    status: StatusCode,
) -> Response {
    let voucher = admitted(state, &values.voucher).await;
    let filter = state.flow.filter_for(voucher.as_ref());
    let email_ok = errors.get(Field::Email).is_none()
        && matches!(
            state.flow.check_email_under(&values.email, &filter).await,
            Ok(Ok(_))
        );
    let pattern = pattern_for(state, voucher.as_ref());
    let view = FormView {
        values,
        errors,
        email_ok,
        general_error,
        pattern: pattern.as_deref(),
        vouchers: state.flow.voucher_mode(),
        voucher_ok: errors.get(Field::Voucher).is_none() && voucher.is_some(),
    };
    signup_page(ctx, state, tr, status, &view)
}

/// The form again with the values as sent, judging none of them: for a client over its rate
/// limit, or a form too damaged to count against it. Judging the voucher there would make
/// the refusal a guessing oracle that no limit holds back.
pub(super) fn form_as_sent(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    values: &SignupForm,
    general_error: Option<String>,
    status: StatusCode,
) -> Response {
    let view = FormView {
        values,
        errors: &FieldErrors::NONE,
        email_ok: false,
        general_error,
        pattern: state.email_pattern.as_deref(),
        vouchers: state.flow.voucher_mode(),
        voucher_ok: false,
    };
    signup_page(ctx, state, tr, status, &view)
}

/// The voucher `raw` names if it admits a sign-up now; anything else (none, a wrong code,
/// the store failing) is no voucher: the configured filter applies.
pub(super) async fn admitted(state: &AppState, raw: &str) -> Option<Voucher> {
    match state.flow.check_voucher(raw).await {
        Ok(Ok(voucher)) => voucher,
        _ => None,
    }
}

/// The address input's `pattern` for a sign-up with `voucher`: its own filter's, or
/// `EMAIL_ADDRESS_FILTER`'s; none when the filter allows every address.
pub(super) fn pattern_for<'a>(
    state: &'a AppState,
    voucher: Option<&Voucher>,
) -> Option<Cow<'a, str>> {
    match voucher.and_then(|voucher| voucher.terms.filter()) {
        Some(own) if own.allows_everything() => None,
        Some(own) => Some(Cow::Owned(own.as_pattern().to_owned())),
        None => state.email_pattern.as_deref().map(Cow::Borrowed),
    }
}
