//! `GET /verify/{token}` (read-only) and `POST /verify/{token}` (the confirm button).

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use super::context::RequestContext;
use super::form::{FormError, read_form};
use super::pages::{existing, progress, verify};
use super::paths::plausible_token;
use super::refusal::{self, Refusal};
use super::{AppState, paths, response};
use crate::i18n::{Tr, n_};
use crate::signup::{ConfirmError, Confirmed, LinkError, LinkState, ProvisionError};

#[handler]
pub async fn show(
    req: &Request,
    ctx: &RequestContext,
    Path(token): Path<String>,
    Data(state): Data<&AppState>,
) -> Response {
    let status_view = req
        .uri()
        .query()
        .is_some_and(|query| query.split('&').any(|pair| pair == paths::STATUS_QUERY));
    if status_view {
        return status_page(ctx, state, &token).await;
    }
    link_page(ctx, state, &token, None, false).await
}

/// The status of a confirmed link, always 200 while the link is good, so that HTMX swaps
/// each answer in: waiting, ready (password to show, or delivered) or stopped.
async fn status_page(ctx: &RequestContext, state: &AppState, token: &str) -> Response {
    let tr = link_tr(ctx, state, token, None).await;
    let outcome = inspect(state, token).await;
    let (title, panel) = match outcome {
        Ok(LinkState::Pending { .. }) => return link_page(ctx, state, token, None, false).await,
        Ok(LinkState::Queued {
            username,
            waiting_for_licence,
        }) => queued_panel(ctx, &tr, token, &username, waiting_for_licence),
        Ok(LinkState::PasswordWaiting {
            username,
            pass_minutes,
        }) => (
            tr.t("Your account is ready"),
            progress::password_waiting(&tr, ctx.links(), token, &username, pass_minutes),
        ),
        Ok(LinkState::Used {
            username,
            pass,
            pass_expires_at,
        }) => (
            tr.t("Your account is ready"),
            progress::finished(&tr, &username, &state.sign_in_url, pass, pass_expires_at),
        ),
        Ok(LinkState::Existing { username }) => {
            return existing_page(ctx, state, &tr, &username);
        }
        Ok(LinkState::Unfinished { .. }) => (
            tr.t("Your account could not be created"),
            progress::stopped(&tr, ctx.links(), token, &state.support_email),
        ),
        Err(err) => return problem(ctx, state, &tr, err),
    };
    response::html(ctx, state, &tr, StatusCode::OK, title, panel)
}

/// Where a link stands; a token that cannot be ours is not looked up.
async fn inspect(state: &AppState, token: &str) -> Result<LinkState, LinkError> {
    if plausible_token(token) {
        state.flow.inspect(token).await
    } else {
        Err(LinkError::Invalid)
    }
}

/// The language of a link's pages: one chosen in the request, else the one the person
/// signed up in.
async fn link_tr(
    ctx: &RequestContext,
    state: &AppState,
    token: &str,
    chosen: Option<String>,
) -> Tr {
    let signed_up_in = match plausible_token(token) {
        true => state.flow.link_language(token).await,
        false => None,
    };
    match chosen {
        Some(chosen) => ctx.tr_with(&state.catalogs, Some(&chosen)),
        None => ctx.tr_preferring(&state.catalogs, signed_up_in.as_deref()),
    }
}

/// What the link leads to: the confirm page, or why there is nothing to confirm. `damaged`:
/// a confirm post arrived damaged, so the confirm page says so, with status 400.
async fn link_page(
    ctx: &RequestContext,
    state: &AppState,
    token: &str,
    chosen_lang: Option<String>,
    damaged: bool,
) -> Response {
    let tr = link_tr(ctx, state, token, chosen_lang).await;
    let outcome = inspect(state, token).await;
    let resume = matches!(outcome, Ok(LinkState::Unfinished { .. }));
    match outcome {
        Ok(
            LinkState::Pending {
                first_name,
                last_name,
                username,
            }
            | LinkState::Unfinished {
                first_name,
                last_name,
                username,
            },
        ) => {
            let (status, problem) = if damaged {
                (StatusCode::BAD_REQUEST, Some(tr.t(CONFIRM_DAMAGED)))
            } else {
                (StatusCode::OK, None)
            };
            let page = verify::confirm(
                &tr,
                ctx.links(),
                token,
                &format!("{first_name} {last_name}"),
                &username,
                resume,
                problem,
            );
            response::html(ctx, state, &tr, status, tr.t("Confirm your account"), page)
        }
        // The link in the mail shows the status while the queue works on the account.
        Ok(LinkState::Queued {
            username,
            waiting_for_licence,
        }) => {
            let (title, page) = queued_panel(ctx, &tr, token, &username, waiting_for_licence);
            response::html(ctx, state, &tr, StatusCode::OK, title, page)
        }
        Ok(LinkState::PasswordWaiting {
            username,
            pass_minutes,
        }) => response::html(
            ctx,
            state,
            &tr,
            StatusCode::OK,
            tr.t("Your account is ready"),
            progress::password_waiting(&tr, ctx.links(), token, &username, pass_minutes),
        ),
        Ok(LinkState::Used { .. }) => problem(ctx, state, &tr, LinkError::Used),
        Ok(LinkState::Existing { username }) => existing_page(ctx, state, &tr, &username),
        Err(err) => problem(ctx, state, &tr, err),
    }
}

/// The mailbox had its account already: nothing was created for this link.
fn existing_page(ctx: &RequestContext, state: &AppState, tr: &Tr, username: &str) -> Response {
    let page = existing::existing_account(
        tr,
        username,
        &state.sign_in_url,
        state.reset_page(ctx.links(), tr.lang()).as_deref(),
        &state.support_email,
        state.passes(),
    );
    let title = tr.t("This address already has an account");
    response::html(ctx, state, tr, StatusCode::OK, title, page)
}

/// A confirm post with a damaged field (bad `%` escape, not UTF-8): nothing is created.
const CONFIRM_DAMAGED: &str =
    n_("The request arrived damaged, so nothing was done. Please press the button again.");

fn problem(ctx: &RequestContext, state: &AppState, tr: &Tr, err: LinkError) -> Response {
    let page = verify::link_problem(tr, ctx.links(), err, state.passes());
    response::html(ctx, state, tr, err.status(), tr.t("Link problem"), page)
}

#[derive(Debug, Default, serde::Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    lang: Option<String>,
    /// Another voucher, typed when the sign-up's own no longer admitted it.
    #[serde(default)]
    voucher: String,
}

#[handler]
pub async fn confirm(
    ctx: &RequestContext,
    Path(token): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Response {
    let form: ConfirmForm = match read_form(body).await {
        Ok(form) => form,
        Err(FormError::Damaged(clean)) => {
            return link_page(ctx, state, &token, clean.lang, true).await;
        }
        // `lang` given twice (the front door has read and capped the body already): the
        // language comes from the headers, as it always did.
        Err(FormError::Unreadable(_)) => ConfirmForm::default(),
    };
    let tr = ctx.tr_with(&state.catalogs, form.lang.as_deref());
    if !plausible_token(&token) {
        return problem(ctx, state, &tr, LinkError::Invalid);
    }
    match state.flow.confirm(&token, &form.voucher).await {
        // Accepted: the queue finishes it, and a mail follows.
        Ok(Confirmed::Queued) => {
            let (username, waiting_for_licence) = match state.flow.inspect(&token).await {
                Ok(LinkState::Queued {
                    username,
                    waiting_for_licence,
                }) => (username, waiting_for_licence),
                _ => (String::new(), false),
            };
            let (title, page) = queued_panel(ctx, &tr, &token, &username, waiting_for_licence);
            response::html(ctx, state, &tr, StatusCode::ACCEPTED, title, page)
        }
        Ok(Confirmed::Ready(result)) if result.existing_account => {
            existing_page(ctx, state, &tr, &result.user_principal_name)
        }
        Ok(Confirmed::Ready(result)) => {
            let reset_page = state.reset_page(ctx.links(), tr.lang());
            let page = verify::created(&tr, &result, &state.sign_in_url, reset_page.as_deref());
            let title = tr.t("Your account is ready");
            response::html(ctx, state, &tr, StatusCode::OK, title, page)
        }
        Err(ConfirmError::Link(err)) => problem(ctx, state, &tr, err),
        Err(err @ ConfirmError::Voucher(_)) => {
            let page = verify::voucher_refused(&tr, ctx.links(), &token, &err.message(&tr));
            let title = tr.t("Your voucher cannot be used");
            let page = response::html(ctx, state, &tr, err.status(), title, page);
            refusal::answered(&err, page)
        }
        // Nothing is lost: confirming again resumes.
        Err(err) => {
            let busy = matches!(err, ConfirmError::Provision(ProvisionError::InProgress));
            let page = verify::provisioning_failed(&tr, ctx.links(), &token, busy);
            let page = response::html(
                ctx,
                state,
                &tr,
                err.status(),
                tr.t("Not finished yet"),
                page,
            );
            refusal::answered(&err, page)
        }
    }
}

/// The title and panel of a queued registration: being created, or waiting for a licence.
fn queued_panel<'t>(
    ctx: &RequestContext,
    tr: &'t Tr,
    token: &str,
    username: &str,
    waiting_for_licence: bool,
) -> (&'t str, maud::Markup) {
    if waiting_for_licence {
        (
            tr.t("Your account is waiting for a licence"),
            progress::waiting_for_licence(tr, ctx.links(), token, username),
        )
    } else {
        (
            tr.t("Your account is being created"),
            progress::waiting(tr, ctx.links(), token, username),
        )
    }
}
