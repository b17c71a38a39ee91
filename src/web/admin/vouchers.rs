//! Vouchers: `GET /admin/vouchers` lists them with their uses and has the form for a new
//! one; `POST /admin/vouchers` makes it and shows its code once, with its link; `POST
//! /admin/vouchers/revoke` asks to confirm, then revokes; `POST /admin/vouchers/sheet` is
//! the printable sheet of `copies` cards, each with the QR code. Codes travel in form posts only, never in a URL
//! (URLs end up in logs and histories); the audit log names a voucher by its name and the
//! first characters of its code.

pub(in crate::web) mod copies;
pub(in crate::web) mod form;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::action::Action;
use super::{Granted, pages};
use crate::domain::{AuditAction, VoucherCode, qr_code, qr_inline_svg};
use crate::store::{StoreError, Voucher};
use crate::web::context::RequestContext;
use crate::web::pages::admin::Notice;
use crate::web::pages::admin::vouchers::{Created, Listing, Sheet};
use crate::web::{AppState, paths, response};
use copies::Copies;
use form::CreateForm;

/// A voucher named in the audit log: its name and the start of its code.
fn subject(voucher: &Voucher) -> String {
    format!("{} ({})", voucher.terms.name, voucher.code.redacted())
}

fn unavailable(ctx: &RequestContext, state: &AppState, err: &StoreError) -> Response {
    tracing::error!(error = %err, "cannot read or write the store's vouchers for the console");
    response::error(ctx, state, StatusCode::SERVICE_UNAVAILABLE)
}

/// The vouchers page: the list, the form (with what was typed into it), a notice and, right
/// after its creation, the new voucher's code.
async fn page(
    ctx: &RequestContext,
    state: &AppState,
    granted: &Granted,
    listing: Listing<'_>,
) -> Response {
    let mut vouchers = Vec::new();
    let listed = match state.store.vouchers().await {
        Ok(listed) => listed,
        Err(err) => return unavailable(ctx, state, &err),
    };
    for voucher in listed {
        match voucher {
            Ok(voucher) => vouchers.push(voucher),
            Err(err) => return unavailable(ctx, state, &err),
        }
    }
    let tr = &granted.tr;
    let now = granted.console.now();
    let content = pages::vouchers::page(tr, ctx.links(), &vouchers, now, &listing);
    let title = tr.pt("console section", "Vouchers");
    granted.page(ctx, state, pages::Section::Vouchers, title, content)
}

/// `GET /admin/vouchers`.
#[handler]
pub async fn list(req: &Request, ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    let granted = match Granted::check(req, ctx, state).await {
        Ok(granted) => granted,
        Err(answer) => return answer,
    };
    page(ctx, state, &granted, Listing::default()).await
}

/// `POST /admin/vouchers`: makes a voucher from the form, audited first.
#[handler]
pub async fn create(
    ctx: &RequestContext,
    Data(state): Data<&AppState>,
    action: Action<CreateForm>,
) -> Response {
    let (granted, form) = match action {
        Action::Granted(granted, form) => (granted, form),
        Action::Refused(answer) => return answer,
    };
    let tr = &granted.tr;
    let terms = match form.terms() {
        Ok(terms) => terms,
        Err(err) => {
            let listing = Listing {
                notice: Some(Notice::warning(err.message(tr))),
                form: Some(&form),
                created: None,
            };
            return page(ctx, state, &granted, listing).await;
        }
    };
    let code = match VoucherCode::generate() {
        Ok(code) => code,
        Err(err) => {
            tracing::error!(error = %err, "cannot make a voucher code");
            return response::error(ctx, state, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let voucher = Voucher::new(code, terms, granted.console.now());
    let action = AuditAction::VoucherCreate;
    if let Err(answer) = granted
        .record(ctx, state, action, Some(subject(&voucher)), None)
        .await
    {
        return answer;
    }
    match state.store.create_voucher(&voucher).await {
        Ok(true) => {}
        // 80 random bits met twice: nothing was made; the operator tries again.
        Ok(false) => return response::error(ctx, state, StatusCode::CONFLICT),
        Err(err) => return unavailable(ctx, state, &err),
    }
    tracing::info!(voucher = %voucher.code.redacted(), operator = %granted.session.operator.upn, "voucher created from the console");
    let link = paths::voucher_link(&state.public_url, &voucher.code.to_string()).to_string();
    let created = Created {
        voucher: &voucher,
        link: &link,
    };
    let listing = Listing {
        created: Some(created),
        ..Listing::default()
    };
    page(ctx, state, &granted, listing).await
}

#[derive(Debug, Default, Deserialize)]
struct CodeForm {
    code: Option<String>,
    confirm: Option<String>,
    /// The sheet's number of cards.
    copies: Option<String>,
}

/// The voucher the form names, if there is one.
async fn named(state: &AppState, form: &CodeForm) -> Result<Option<Voucher>, StoreError> {
    let Some(code) = form
        .code
        .as_deref()
        .and_then(|raw| VoucherCode::parse(raw).ok())
    else {
        return Ok(None);
    };
    state.store.voucher(&code).await
}

/// `POST /admin/vouchers/revoke` (`code`, `confirm=yes`): without the confirmation it asks
/// for it first.
#[handler]
pub async fn revoke(
    ctx: &RequestContext,
    Data(state): Data<&AppState>,
    action: Action<CodeForm>,
) -> Response {
    let (granted, form) = match action {
        Action::Granted(granted, form) => (granted, form),
        Action::Refused(answer) => return answer,
    };
    let tr = &granted.tr;
    let voucher = match named(state, &form).await {
        Ok(Some(voucher)) => voucher,
        Ok(None) => {
            let notice = Notice::warning(tr.t("There is no such voucher."));
            let listing = Listing {
                notice: Some(notice),
                ..Listing::default()
            };
            return page(ctx, state, &granted, listing).await;
        }
        Err(err) => return unavailable(ctx, state, &err),
    };
    if form.confirm.as_deref() != Some("yes") {
        let content = pages::vouchers::confirm_revoke(tr, ctx.links(), &voucher);
        let title = tr.t("Revoke this voucher?");
        return granted.page(ctx, state, pages::Section::Vouchers, title, content);
    }
    let action = AuditAction::VoucherRevoke;
    if let Err(answer) = granted
        .record(ctx, state, action, Some(subject(&voucher)), None)
        .await
    {
        return answer;
    }
    if let Err(err) = state
        .store
        .revoke_voucher(&voucher.code, granted.console.now())
        .await
    {
        return unavailable(ctx, state, &err);
    }
    tracing::info!(voucher = %voucher.code.redacted(), operator = %granted.session.operator.upn, "voucher revoked from the console");
    let notice = Notice::success(tr.tf(
        "The voucher {name} was revoked: it admits nobody any more. The accounts made with it stay as they are.",
        &[("name", &voucher.terms.name)],
    ));
    let listing = Listing {
        notice: Some(notice),
        ..Listing::default()
    };
    page(ctx, state, &granted, listing).await
}

/// `POST /admin/vouchers/sheet` (`code`, `copies`): that many cards, each with the
/// voucher's QR code and code, to print.
#[handler]
pub async fn sheet(
    ctx: &RequestContext,
    Data(state): Data<&AppState>,
    action: Action<CodeForm>,
) -> Response {
    let (granted, form) = match action {
        Action::Granted(granted, form) => (granted, form),
        Action::Refused(answer) => return answer,
    };
    let voucher = match named(state, &form).await {
        Ok(Some(voucher)) => voucher,
        Ok(None) => return response::error(ctx, state, StatusCode::NOT_FOUND),
        Err(err) => return unavailable(ctx, state, &err),
    };
    let tr = &granted.tr;
    let Ok(copies) = Copies::from_field(form.copies.as_deref(), &voucher) else {
        let max = Copies::MAX.to_string();
        let notice = Notice::warning(tr.tf(
            "Enter how many cards the sheet prints, a whole number from 1 to {max}.",
            &[("max", &max)],
        ));
        let listing = Listing {
            notice: Some(notice),
            ..Listing::default()
        };
        return page(ctx, state, &granted, listing).await;
    };
    let link = paths::voucher_link(&state.public_url, &voucher.code.to_string()).to_string();
    let svg = match qr_code(&link) {
        Ok(code) => qr_inline_svg(&code),
        Err(err) => {
            tracing::error!(error = %err, "cannot draw a voucher's QR code");
            return response::error(ctx, state, StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let shown = Sheet {
        voucher: &voucher,
        link: &link,
        svg: &svg,
        copies,
    };
    let content = pages::vouchers::sheet(tr, ctx.links(), &shown);
    let title = tr.t("Voucher sheet");
    granted.page(ctx, state, pages::Section::Vouchers, title, content)
}
