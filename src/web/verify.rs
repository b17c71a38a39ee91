//! `GET /verify/{token}` (read-only) and `POST /verify/{token}` (the confirm button).

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use super::AppState;
use super::error::{query_lang, respond};
use super::form::{FormError, read_form};
use super::pages::verify;
use super::proxy::links;
use crate::i18n::n_;
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
    link_page(req, state, &token, query_lang(req), false)
}

/// What the link leads to: the confirm page, or why there is nothing to confirm. `damaged`:
/// a confirm post arrived damaged, so the confirm page says so, with status 400.
fn link_page(
    req: &Request,
    state: &AppState,
    token: &str,
    explicit_lang: Option<String>,
    damaged: bool,
) -> Response {
    // An explicit language wins; otherwise the language the person signed up in.
    let signed_up_in = plausible(token)
        .then(|| state.signups.link_language(token))
        .flatten();
    let tr = state.tr(req, explicit_lang.or(signed_up_in).as_deref());
    let outcome = if plausible(token) {
        state.signups.inspect(token)
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
            let (status, problem) = if damaged {
                (StatusCode::BAD_REQUEST, Some(tr.t(CONFIRM_DAMAGED)))
            } else {
                (StatusCode::OK, None)
            };
            let page = verify::confirm(
                &tr,
                &links(req),
                token,
                &format!("{first_name} {last_name}"),
                &username,
                resume,
                problem,
            );
            respond(req, state, &tr, status, tr.t("Confirm your account"), page)
        }
        Ok(LinkState::Used) => problem(req, state, &tr, LinkError::Used),
        Err(err) => problem(req, state, &tr, err),
    }
}

/// A confirm post with a damaged field (bad `%` escape, not UTF-8): nothing is created.
const CONFIRM_DAMAGED: &str =
    n_("The request arrived damaged, so nothing was done. Please press the button again.");

fn problem(req: &Request, state: &AppState, tr: &crate::i18n::Tr, err: LinkError) -> Response {
    let page = verify::link_problem(tr, &links(req), err);
    respond(req, state, tr, link_status(err), tr.t("Link problem"), page)
}

#[derive(Debug, Default, serde::Deserialize)]
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
    let form: ConfirmForm = match read_form(body).await {
        Ok(form) => form,
        Err(FormError::Damaged(clean)) => {
            return link_page(req, state, &token, clean.lang.or(query_lang(req)), true);
        }
        // `lang` given twice (the front door has read and capped the body already): the
        // language comes from the headers, as it always did.
        Err(FormError::Unreadable(_)) => ConfirmForm::default(),
    };
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
