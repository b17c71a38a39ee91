//! `GET /verify/{token}` (read-only) and `POST /verify/{token}` (the confirm button).

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use super::AppState;
use super::error::{query_lang, respond};
use super::pages::verify;
use super::proxy::links;
use crate::signup::{ConfirmError, LinkError, LinkState, ProvisionError};

/// A token is a JWT: three base64url parts. Anything else is refused before any work.
fn plausible(token: &str) -> bool {
    token.len() <= 2048
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn link_status(problem: LinkError) -> StatusCode {
    match problem {
        LinkError::Expired | LinkError::Replaced | LinkError::Used => StatusCode::GONE,
        LinkError::Invalid => StatusCode::NOT_FOUND,
        LinkError::AddressTaken => StatusCode::CONFLICT,
    }
}

#[handler]
pub fn show(req: &Request, Path(token): Path<String>, Data(state): Data<&AppState>) -> Response {
    // An explicit ?lang= wins; otherwise the language the person signed up in.
    let signed_up_in = plausible(&token)
        .then(|| state.signups.link_language(&token))
        .flatten();
    let tr = state.tr(req, query_lang(req).or(signed_up_in).as_deref());
    let outcome = if plausible(&token) {
        state.signups.inspect(&token)
    } else {
        Err(LinkError::Invalid)
    };
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
            let page = verify::confirm(
                &tr,
                &links(req),
                &token,
                &first_name,
                &last_name,
                &username,
                resume,
            );
            respond(
                req,
                state,
                &tr,
                StatusCode::OK,
                tr.t("Confirm your account"),
                page,
            )
        }
        Ok(LinkState::Used) => problem(req, state, &tr, LinkError::Used),
        Err(err) => problem(req, state, &tr, err),
    }
}

fn problem(req: &Request, state: &AppState, tr: &crate::i18n::Tr, err: LinkError) -> Response {
    let page = verify::link_problem(tr, &links(req), err);
    respond(req, state, tr, link_status(err), tr.t("Link problem"), page)
}

#[derive(serde::Deserialize, Default)]
struct ConfirmForm {
    #[serde(default)]
    lang: Option<String>,
}

#[handler]
pub async fn confirm(
    req: &Request,
    Path(token): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Response {
    let form: ConfirmForm = super::signup::read_form(body).await.unwrap_or_default();
    let tr = state.tr(req, form.lang.as_deref().or(query_lang(req).as_deref()));
    if !plausible(&token) {
        return problem(req, state, &tr, LinkError::Invalid);
    }
    match state.signups.confirm(&token).await {
        Ok(result) => respond(
            req,
            state,
            &tr,
            StatusCode::OK,
            tr.t("Your account is ready"),
            verify::created(&tr, &result),
        ),
        Err(ConfirmError::Link(err)) => problem(req, state, &tr, err),
        Err(ConfirmError::Provision(err)) => {
            let busy = matches!(err, ProvisionError::InProgress);
            if !busy {
                tracing::error!(error = %err, "account creation stopped; confirming again resumes");
            }
            let status = if busy {
                StatusCode::CONFLICT
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            respond(
                req,
                state,
                &tr,
                status,
                tr.t("Not finished yet"),
                verify::provisioning_failed(&tr, &links(req), &token, busy),
            )
        }
        Err(ConfirmError::Store(err)) => {
            tracing::error!(error = %err, "store failed while confirming");
            respond(
                req,
                state,
                &tr,
                StatusCode::SERVICE_UNAVAILABLE,
                tr.t("Not finished yet"),
                verify::provisioning_failed(&tr, &links(req), &token, false),
            )
        }
    }
}
