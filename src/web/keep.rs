//! `GET/POST /keep/{token}`: a re-verification link's page (read-only, so a mail scanner
//! following the link keeps nothing) and its button, which keeps the account
//! (PRODUCT.md §9.4).

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Response, handler};

use super::context::RequestContext;
use super::form::read_form;
use super::pages::keep as page;
use super::paths::plausible_token;
use super::refusal::Refusal;
use super::{AppState, response};
use crate::domain::Day;
use crate::i18n::Tr;
use crate::lifecycle::{Lifecycle, LifecycleError};
use crate::signup::token::ReverifyClaims;
use crate::signup::{KeepLinks, LinkError};
use crate::store::RegistryKey;

/// What the link's page needs: the links to open, and the lifecycle that keeps accounts.
#[derive(Clone, Debug)]
pub struct KeepAccounts {
    pub links: Arc<KeepLinks>,
    pub lifecycle: Lifecycle,
}

/// Why the page cannot keep the account.
enum Problem {
    Link(LinkError),
    /// The store or the lifecycle failed: nothing was kept, the link still works.
    Failed,
}

impl From<LinkError> for Problem {
    fn from(err: LinkError) -> Self {
        Problem::Link(err)
    }
}

impl From<LifecycleError> for Problem {
    fn from(err: LifecycleError) -> Self {
        match err {
            LifecycleError::NoAccount(_) => Problem::Link(LinkError::Unknown),
            err => {
                tracing::error!(error = %err, "a re-verification link could not be answered");
                Problem::Failed
            }
        }
    }
}

/// The link's claims and its account's key.
fn open(state: &AppState, token: &str) -> Result<(ReverifyClaims, RegistryKey), Problem> {
    let keep = state.keep.as_ref().ok_or(LinkError::Invalid)?;
    if !plausible_token(token) {
        return Err(LinkError::Invalid.into());
    }
    let claims = keep.links.open(token, state.flow.now())?;
    let email = RegistryKey::as_recorded(&claims.email);
    Ok((claims, email))
}

fn problem(ctx: &RequestContext, state: &AppState, tr: &Tr, problem: Problem) -> Response {
    match problem {
        Problem::Link(err) => {
            let page = page::link_problem(tr, err, &state.support_email);
            response::html(ctx, state, tr, err.status(), &err.message(tr), page)
        }
        Problem::Failed => response::error(ctx, state, StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// The link's page: the account and the button; changes nothing.
#[handler]
pub async fn show(
    ctx: &RequestContext,
    Path(token): Path<String>,
    Data(state): Data<&AppState>,
) -> Response {
    let tr = ctx.tr();
    match question(state, &token).await {
        Ok((upn, answer_by)) => {
            let date = Day::of(answer_by).to_string();
            let page = page::question(tr, ctx.links(), &token, &upn, &date);
            response::html(
                ctx,
                state,
                tr,
                StatusCode::OK,
                tr.t("Keep your account"),
                page,
            )
        }
        Err(err) => problem(ctx, state, tr, err),
    }
}

/// The open question's account (UPN) and when its answer is due.
async fn question(state: &AppState, token: &str) -> Result<(String, u64), Problem> {
    let (claims, email) = open(state, token)?;
    let lifecycle = &state.keep.as_ref().ok_or(LinkError::Invalid)?.lifecycle;
    let upn = lifecycle
        .open_question(&email, claims.sent_at)
        .await?
        .ok_or(LinkError::Used)?;
    Ok((upn, claims.answer_by))
}

#[derive(Debug, Default, serde::Deserialize)]
struct ButtonForm {
    #[serde(default)]
    lang: Option<String>,
}

/// The link's button: keeps the account, once.
#[handler]
pub async fn answer(
    ctx: &RequestContext,
    Path(token): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Response {
    // A damaged or doubled `lang` only costs the chosen language: the headers decide.
    let form: ButtonForm = read_form(body).await.unwrap_or_default();
    let tr = ctx.tr_with(&state.catalogs, form.lang.as_deref());
    match kept(state, &token).await {
        Ok((upn, until)) => {
            let until = until.map(|at| Day::of(at).to_string());
            let page = page::kept(&tr, &upn, until.as_deref());
            let title = tr.t("Your account is kept");
            response::html(ctx, state, &tr, StatusCode::OK, title, page)
        }
        Err(err) => problem(ctx, state, &tr, err),
    }
}

/// Answers the link's question: the account's UPN, and until when it stays.
async fn kept(state: &AppState, token: &str) -> Result<(String, Option<u64>), Problem> {
    let (claims, email) = open(state, token)?;
    let lifecycle = &state.keep.as_ref().ok_or(LinkError::Invalid)?.lifecycle;
    let upn = lifecycle
        .open_question(&email, claims.sent_at)
        .await?
        .ok_or(LinkError::Used)?;
    if !lifecycle
        .keep(&email, claims.sent_at, state.flow.now())
        .await?
    {
        return Err(LinkError::Used.into());
    }
    Ok((upn, lifecycle.kept_until(&email).await?))
}
