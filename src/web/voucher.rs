//! The voucher on the sign-up page (`VOUCHERS`): the form prefilled from a voucher's link
//! (`/?voucher=CODE`, `/{lang}?voucher=CODE`), the inline check under its field, and the
//! address pattern a voucher's own filter gives the form.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, Response, handler};

use super::context::RequestContext;
use super::form::{FormError, read_form};
use super::pages::signup::voucher_status;
use super::refusal::{self, CheckFailed, ClientLimited, Refusal};
use super::signup_form::{form_again, form_as_sent};
use super::{AppState, response};
use crate::signup::form::{Field, FieldErrors, SignupForm};

/// The code in a voucher link's query, when the form has a voucher field.
pub(super) fn linked_code(state: &AppState, req: &Request) -> Option<String> {
    if !state.flow.voucher_mode().is_on() {
        return None;
    }
    let query = req.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "voucher")
        .map(|(_, code)| code.into_owned())
        .filter(|code| !code.trim().is_empty())
}

/// The form with the voucher of a link filled in and checked (rate-limited like the
/// inline check: a link is a guess like any other), its address pattern the voucher's.
pub(super) async fn prefilled(ctx: &RequestContext, state: &AppState, code: String) -> Response {
    let tr = ctx.tr();
    let values = SignupForm {
        voucher: code,
        ..SignupForm::EMPTY
    };
    if state.limit_check(ctx).is_err() {
        // Over the limit the link still fills the field, but says nothing of the code.
        return form_as_sent(ctx, state, tr, &values, None, StatusCode::OK);
    }
    let mut errors = FieldErrors::default();
    if let Ok(Err(error)) = state.flow.check_voucher(&values.voucher).await {
        errors.add(Field::Voucher, error);
    }
    form_again(ctx, state, tr, &values, &errors, None, StatusCode::OK).await
}

#[derive(Debug, Default, serde::Deserialize)]
struct VoucherOnly {
    #[serde(default)]
    voucher: String,
    #[serde(default)]
    lang: Option<String>,
}

/// The inline check: the status line under the voucher input; without HTMX, the whole
/// form with the voucher as entered.
#[handler]
pub async fn check_voucher(
    ctx: &RequestContext,
    body: Body,
    Data(state): Data<&AppState>,
) -> poem::Result<Response> {
    let form: VoucherOnly = match read_form(body).await {
        Ok(form) => form,
        Err(FormError::Damaged(clean)) => clean,
        Err(FormError::Unreadable(status)) => return Err(poem::Error::from_status(status)),
    };
    let tr = ctx.tr_with(&state.catalogs, form.lang.as_deref());
    if let Err(wait) = state.limit_check(ctx) {
        let limited = ClientLimited(wait);
        let page = response::error(ctx, state, limited.status());
        return Ok(refusal::answered(&limited, page));
    }
    let checked = match state.flow.check_voucher(&form.voucher).await {
        Ok(checked) => checked,
        Err(err) => {
            let failed = CheckFailed(err);
            refusal::log(&failed);
            return Err(poem::Error::from_status(failed.status()));
        }
    };
    if !ctx.htmx {
        let values = SignupForm {
            voucher: form.voucher,
            lang: form.lang,
            ..SignupForm::EMPTY
        };
        let mut errors = FieldErrors::default();
        if let Err(error) = checked {
            errors.add(Field::Voucher, error);
        }
        return Ok(form_again(ctx, state, &tr, &values, &errors, None, StatusCode::OK).await);
    }
    let fragment = match checked {
        Ok(Some(_)) => voucher_status(&tr, None, true),
        Ok(None) => voucher_status(&tr, None, false),
        Err(error) => voucher_status(&tr, Some(error), false),
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
